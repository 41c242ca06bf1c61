// The one error class of the master's database layer. Both dialects' errors become the same
// kinds, so the API maps them to one HTTP status each whatever database sits underneath.

export type StoreErrorKind = 'not-found' | 'conflict' | 'version-conflict' | 'invalid' | 'unavailable';

export interface StoreErrorContext {
  /** What was asked for: 'data center', 'virtual machine', ... */
  entity?: string;
  id?: string;
  /** The column a uniqueness conflict is about (e.g. 'name'). */
  field?: string;
  expectedVersion?: number;
  actualVersion?: number;
  [key: string]: unknown;
}

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  readonly context: StoreErrorContext;

  constructor(kind: StoreErrorKind, message: string, context: StoreErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.kind = kind;
    this.context = context;
  }
}
