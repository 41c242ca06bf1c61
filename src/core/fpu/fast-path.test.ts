// The host-double fast paths (round-to-nearest-even) against the exact bigint path on many
// more inputs than the host reference runs: result bits and flags must agree exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng, vectorInputs } from '../../../tests/fpu-reference/vector-inputs.js';
import { takeFlags } from './rounding.js';
import { EXACT, PUBLIC } from '../../../tests/fpu-reference/fpu-adapters.js';

const inputs = vectorInputs({ seed: 0xfa57_0001, randomPerOp: 20000, roundingModes: [0] }).filter((v) => EXACT[v.op]);
const ops = [...new Set(inputs.map((v) => v.op))];

for (const op of ops) {
  test(`${op}: fast path agrees with the exact path`, () => {
    const fast = PUBLIC[op]!;
    const exact = EXACT[op]!;
    const bad: string[] = [];
    takeFlags();
    for (const v of inputs) {
      if (v.op !== op) continue;
      const r1 = fast(v);
      const f1 = takeFlags();
      const r2 = exact(v);
      const f2 = takeFlags();
      if ((r1 !== r2 || f1 !== f2) && bad.length < 10) {
        bad.push(`a=${v.a.toString(16)} b=${v.b.toString(16)} c=${v.c.toString(16)}: ` +
          `fast ${r1.toString(16)}/${f1}, exact ${r2.toString(16)}/${f2}`);
      }
    }
    assert.deepEqual(bad, []);
  });
}

// Fused multiply-add results that land on or next to a rounding midpoint: c plus a product of
// a few ulps of c, with short or long significands. These are where a doubly rounded fast
// path would go wrong.
function nearMidpointFma(width: 32 | 64, count: number, seed: number): { a: bigint; b: bigint; c: bigint }[] {
  const rng = new Prng(seed);
  const t = width === 32 ? 23 : 52;
  const bias = width === 32 ? 127 : 1023;
  const pack = (sign: number, exp: number, frac: bigint): bigint =>
    (BigInt(sign) << BigInt(width - 1)) | (BigInt(exp) << BigInt(t)) | frac;
  const frac = (): bigint => {
    const f = rng.bits(t);
    const keep = rng.pick([0, 1, 2, 3, t >> 1, t - 1, t]);
    return f & (((1n << BigInt(keep)) - 1n) << BigInt(t - keep));
  };
  const out: { a: bigint; b: bigint; c: bigint }[] = [];
  // 1 + 2^-j or 1 - 2^-j (as 2^-1 * 1.11..1): products like (1 + 2^-j)(1 - 2^-j) fall just
  // short of a short value, which is what makes a midpoint ambiguous after a first rounding.
  const nearOne = (j: number, minus: boolean): [bigint, number] =>
    minus ? [(1n << BigInt(t)) - (1n << BigInt(t - j + 1)), -1] : [1n << BigInt(t - j), 0];
  for (let i = 0; i < count; i++) {
    const ec = bias - 40 + rng.below(80);
    let eb = bias - 2 + rng.below(5);
    // a * b is about ulp(c) * 2^k for k in [-4, 2].
    let ea = ec - t + bias - eb + rng.below(7) - 4;
    let fa = frac();
    let fb = frac();
    if (rng.chance(0.5)) {
      const j = (t >> 1) - 1 + rng.below((t >> 1) + 1);
      let adj: number;
      [fa, adj] = nearOne(j, rng.chance(0.5));
      ea += adj;
      [fb, adj] = nearOne(rng.chance(0.5) ? j : t + 2 - j - rng.below(3), rng.chance(0.5));
      eb += adj;
    }
    out.push({ a: pack(rng.below(2), ea, fa), b: pack(rng.below(2), eb, fb), c: pack(rng.below(2), ec, frac()) });
  }
  return out;
}

for (const width of [32, 64] as const) {
  test(`fma${width}: fast path agrees with the exact path next to rounding midpoints`, () => {
    const fast = PUBLIC[`fma${width}`]!;
    const exact = EXACT[`fma${width}`]!;
    const bad: string[] = [];
    takeFlags();
    for (const { a, b, c } of nearMidpointFma(width, 100000, 0x600d + width)) {
      const v = { op: `fma${width}`, rm: 0, a, b, c };
      const r1 = fast(v);
      const f1 = takeFlags();
      const r2 = exact(v);
      const f2 = takeFlags();
      if ((r1 !== r2 || f1 !== f2) && bad.length < 10) {
        bad.push(`a=${a.toString(16)} b=${b.toString(16)} c=${c.toString(16)}: fast ${r1.toString(16)}/${f1}, exact ${r2.toString(16)}/${f2}`);
      }
    }
    assert.deepEqual(bad, []);
  });
}
