// Error-free transformations on doubles (Knuth TwoSum, Dekker/Veltkamp product) that let the
// fast paths tell exact host results from rounded ones.

/** The rounding error of s = a + b, i.e. (a + b) - s exactly, when nothing overflows. */
export function sumError(a: number, b: number, s: number): number {
  const bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

const SPLITTER = 134217729; // 2^27 + 1 splits a double into two 26-bit halves

/**
 * The rounding error of p = a * b, i.e. a*b - p exactly. Exact only when a, b and p lie
 * within about 2^+-960, so that no split overflows and no partial product underflows.
 */
export function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Whether x is a non-zero finite double with 2^-960 <= |x| <= 2^960. */
export function inSafeRange(x: number): boolean {
  const m = Math.abs(x);
  return m >= SAFE_MIN && m <= SAFE_MAX;
}

const SAFE_MIN = 2 ** -960;
const SAFE_MAX = 2 ** 960;
