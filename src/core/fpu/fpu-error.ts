// The one error class of the floating-point library. Guest code cannot reach it: the hart
// resolves frm (DYN) and rejects reserved rounding modes as illegal instructions first.

export type FpuErrorKind = 'invalid-rounding-mode';

export class FpuError extends Error {
  override readonly name = 'FpuError';
  readonly kind: FpuErrorKind;
  readonly op: string;

  constructor(kind: FpuErrorKind, op: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.op = op;
  }
}
