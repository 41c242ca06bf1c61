// The one error class of the VM control API: a stable kind, which decides the HTTP status, and
// a message that says what failed and what to do. Also raised when the socket cannot be served.

import { CONFLICT_KINDS } from './vm-controller.js';

export type VmApiErrorKind =
  | 'invalid-json' | 'invalid-body' | 'invalid-query'
  | 'not-found' | 'method-not-allowed'
  | 'invalid-state' | 'operation-running'
  | 'body-too-large' | 'unsupported-media-type'
  | 'internal'
  // Serving the socket (no HTTP status):
  | 'socket-in-use' | 'path-exists' | 'listen-failed';

const STATUS: Record<VmApiErrorKind, number> = {
  'invalid-json': 400, 'invalid-body': 400, 'invalid-query': 400,
  'not-found': 404, 'method-not-allowed': 405,
  'invalid-state': 409, 'operation-running': 409,
  'body-too-large': 413, 'unsupported-media-type': 415,
  internal: 500, 'socket-in-use': 500, 'path-exists': 500, 'listen-failed': 500,
};

export class VmApiError extends Error {
  readonly kind: VmApiErrorKind;
  /** Context: the socket path, the operation id, the field. */
  readonly context: Record<string, unknown>;

  constructor(kind: VmApiErrorKind, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.context = context;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { kind: string; message: string };
}

/**
 * The status and body for anything a handler threw: our own errors by kind, a controller's
 * conflict kinds ('invalid-state', 'no-guest-driver') as 409, anything else 500 with its message (and its kind when it has one).
 */
export function errorResponse(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof VmApiError) return { status: e.status, body: { error: { kind: e.kind, message: e.message } } };
  const error = e instanceof Error ? e : new Error(String(e));
  const declared = (error as Error & { kind?: unknown }).kind;
  const kind = typeof declared === 'string' && declared !== '' ? declared : 'internal';
  // Another API's error class (the host agent's) may say its own status.
  const declaredStatus = (error as Error & { status?: unknown }).status;
  const status = typeof declaredStatus === 'number' && declaredStatus >= 400 && declaredStatus <= 599 ? declaredStatus : CONFLICT_KINDS.has(kind) ? 409 : 500;
  return { status, body: { error: { kind, message: error.message || 'the VM failed without a message' } } };
}
