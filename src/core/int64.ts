// 64-bit arithmetic on int32 halves, shared by the interpreter's hot paths.

/**
 * The high word of a 64-bit value (hi:lo) plus a sign-extended 32-bit immediate, given the
 * low word of the sum: the carry is out of the unsigned low-word addition.
 */
export function highOfSum(hi: number, lo: number, imm: number, sumLo: number): number {
  return (hi + (imm >> 31) + ((sumLo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
}
