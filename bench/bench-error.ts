// The one error class of the benchmark runner: what failed, as a stable kind, and what to do.

export type BenchErrorKind = 'usage' | 'toolchain-missing' | 'compile-failed' | 'qemu-failed' | 'vm-failed' | 'bad-image' | 'wrong-result' | 'no-ksm';

export class BenchError extends Error {
  constructor(
    readonly kind: BenchErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BenchError';
  }
}
