// The one error class of the master's API, and the RFC 9457 problem details every error
// response carries: a stable `kind` decides the status; `detail` says what failed and what to do.

import { z } from '@hono/zod-openapi';

export type MasterApiErrorKind =
  | 'invalid-request' | 'unauthenticated' | 'csrf-failed' | 'forbidden' | 'not-found'
  | 'method-not-allowed' | 'conflict' | 'version-conflict' | 'precondition-required'
  | 'payload-too-large' | 'too-many-requests' | 'upgrade-required' | 'unavailable' | 'internal';

const STATUS: Record<MasterApiErrorKind, number> = {
  'invalid-request': 400, unauthenticated: 401, 'csrf-failed': 403, forbidden: 403, 'not-found': 404,
  'method-not-allowed': 405, conflict: 409, 'version-conflict': 412, 'precondition-required': 428,
  'payload-too-large': 413, 'too-many-requests': 429, 'upgrade-required': 426, unavailable: 503, internal: 500,
};

const TITLE: Record<MasterApiErrorKind, string> = {
  'invalid-request': 'The request is not valid', unauthenticated: 'Authentication is required',
  'csrf-failed': 'The request lacks a valid CSRF token', forbidden: 'Not allowed',
  'not-found': 'No such resource', 'method-not-allowed': 'Method not allowed', conflict: 'Conflict',
  'version-conflict': 'The resource changed since it was read', 'precondition-required': 'If-Match is required',
  'payload-too-large': 'The request body is too large', 'too-many-requests': 'Too many requests',
  'upgrade-required': 'A WebSocket upgrade is required',
  unavailable: 'Temporarily unavailable', internal: 'Internal error',
};

export class MasterApiError extends Error {
  readonly kind: MasterApiErrorKind;
  /** Extension members of the problem: the field, the resource id, retry-after seconds. */
  readonly context: Record<string, unknown>;

  constructor(kind: MasterApiErrorKind, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.context = context;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

export const PROBLEM_SCHEMA = z.object({
  type: z.string().openapi({ description: 'urn:vireo:problem:KIND' }),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  kind: z.string().openapi({ description: 'The stable error kind programs test' }),
}).passthrough().openapi('Problem');

export type Problem = z.infer<typeof PROBLEM_SCHEMA>;

/** The problem for anything thrown: our errors by kind, errors of other modules by their `kind` when it maps, else 500. */
export function problemFor(e: unknown, instance: string): Problem {
  const error = e instanceof MasterApiError ? e : translate(e);
  return {
    type: `urn:vireo:problem:${error.kind}`,
    title: TITLE[error.kind],
    status: error.status,
    detail: error.message,
    instance,
    kind: error.kind,
    ...error.context,
  };
}

/** Errors of the store and the security modules, by their kinds. */
const FOREIGN_KINDS: Record<string, MasterApiErrorKind> = {
  'not-found': 'not-found', conflict: 'conflict', 'version-conflict': 'version-conflict',
  invalid: 'invalid-request', unavailable: 'unavailable',
};

function translate(e: unknown): MasterApiError {
  const error = e instanceof Error ? e : new Error(String(e));
  const kind = (error as Error & { kind?: unknown }).kind;
  const mapped = typeof kind === 'string' ? FOREIGN_KINDS[kind] : undefined;
  if (mapped !== undefined) {
    const context = (error as Error & { context?: unknown }).context;
    return new MasterApiError(mapped, error.message, typeof context === 'object' && context !== null ? { ...context } : {});
  }
  return new MasterApiError('internal', 'the master failed; its log has the details', {}, { cause: error });
}
