import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divide, divideWord, mul, mulh, result } from './muldiv.js';

// Edge values and a seeded random sample, checked against BigInt arithmetic.
const EDGES = [0n, 1n, 2n, 3n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x123456789abcdef0n, 0x8000000000000001n];

function* samples(): Generator<bigint> {
  yield* EDGES;
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 300; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    // Mix small and large magnitudes so both the fast and the exact paths run.
    yield i % 3 === 0 ? x & 0xffffn : i % 3 === 1 ? BigInt.asUintN(64, BigInt.asIntN(32, x & 0xffffffffn)) : x;
  }
}

const lo = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
const got = (): bigint => BigInt.asUintN(64, (BigInt(result.hi) << 32n) | BigInt(result.lo >>> 0));
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

const values = [...samples()];

test('mul and mulh/mulhu/mulhsu match 128-bit products', () => {
  for (const a of values) {
    for (const b of values.slice(0, 60)) {
      mul(lo(a), hi(a), lo(b), hi(b));
      assert.equal(got(), u64(a * b), `mul ${a} ${b}`);
      mulh(lo(a), hi(a), lo(b), hi(b), false, false);
      assert.equal(got(), u64((a * b) >> 64n), `mulhu ${a} ${b}`);
      mulh(lo(a), hi(a), lo(b), hi(b), true, true);
      assert.equal(got(), u64((s64(a) * s64(b)) >> 64n), `mulh ${a} ${b}`);
      mulh(lo(a), hi(a), lo(b), hi(b), true, false);
      assert.equal(got(), u64((s64(a) * b) >> 64n), `mulhsu ${a} ${b}`);
    }
  }
});

test('div/divu/rem/remu follow the M extension, including /0 and overflow', () => {
  for (const a of values) {
    for (const b of values.slice(0, 60)) {
      const sa = s64(a);
      const sb = s64(b);
      divide(lo(a), hi(a), lo(b), hi(b), false, false);
      assert.equal(got(), b === 0n ? u64(-1n) : a / b, `divu ${a} ${b}`);
      divide(lo(a), hi(a), lo(b), hi(b), false, true);
      assert.equal(got(), b === 0n ? a : a % b, `remu ${a} ${b}`);
      const overflow = sa === -(1n << 63n) && sb === -1n;
      divide(lo(a), hi(a), lo(b), hi(b), true, false);
      assert.equal(got(), b === 0n ? u64(-1n) : overflow ? a : u64(sa / sb), `div ${a} ${b}`);
      divide(lo(a), hi(a), lo(b), hi(b), true, true);
      assert.equal(got(), b === 0n ? a : overflow ? 0n : u64(sa % sb), `rem ${a} ${b}`);
    }
  }
});

test('32-bit divides sign-extend and handle /0 and overflow', () => {
  assert.equal(divideWord(7, 0, true, false), -1);
  assert.equal(divideWord(7, 0, true, true), 7);
  assert.equal(divideWord(0x80000000 | 0, -1, true, false), 0x80000000 | 0);
  assert.equal(divideWord(0x80000000 | 0, -1, true, true), 0);
  assert.equal(divideWord(-7, 2, true, false), -3);
  assert.equal(divideWord(-7, 2, true, true), -1);
  assert.equal(divideWord(-1, 2, false, false), 0x7fffffff);
  assert.equal(divideWord(-1, 0, false, false), -1);
  assert.equal(divideWord(-2, -1, false, true), -2);
});
