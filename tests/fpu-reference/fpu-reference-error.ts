// The one error class of the reference-vector generator.

export type FpuReferenceErrorKind = 'source-missing' | 'compiler-missing' | 'compile-failed' | 'run-failed';

export class FpuReferenceError extends Error {
  override readonly name = 'FpuReferenceError';
  readonly kind: FpuReferenceErrorKind;
  readonly path: string;

  constructor(kind: FpuReferenceErrorKind, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.path = path;
  }
}
