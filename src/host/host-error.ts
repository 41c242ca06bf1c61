// The one error class of the host agent: a stable kind, which also decides the HTTP status the
// agent's API answers with, context (vm, path) and a message that says what to do.

export type HostErrorKind =
  | 'invalid-definition' | 'invalid-request'
  | 'not-found' | 'exists'
  | 'invalid-state' | 'over-budget' | 'operation-running'
  | 'unauthorized' | 'upgrade-required'
  | 'corrupt-file' | 'io' | 'spawn-failed' | 'network-failed' | 'vm-failed';

const STATUS: Record<HostErrorKind, number> = {
  'invalid-definition': 400, 'invalid-request': 400,
  'not-found': 404, exists: 409,
  'invalid-state': 409, 'over-budget': 409, 'operation-running': 409,
  unauthorized: 401, 'upgrade-required': 426,
  'corrupt-file': 500, io: 500, 'spawn-failed': 500, 'network-failed': 500, 'vm-failed': 502,
};

export class HostError extends Error {
  readonly kind: HostErrorKind;
  readonly context: Record<string, unknown>;

  constructor(kind: HostErrorKind, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.context = context;
  }

  /** The HTTP status for this error (read by the shared API error mapping). */
  get status(): number {
    return STATUS[this.kind];
  }
}
