import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  f32ToF64, f32ToI32, f32ToI64, f32ToU32, f32ToU64, f64ToF32, f64ToI32, f64ToI64, f64ToU32, f64ToU64,
  i32ToF32, i32ToF64, i64ToF32, i64ToF64, u32ToF32, u32ToF64, u64ToF32, u64ToF64,
} from './convert.js';
import { FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF, RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP, takeFlags } from './rounding.js';

function run<T>(f: () => T): [T, number] {
  takeFlags();
  const r = f();
  return [r, takeFlags()];
}

const f32 = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const f64 = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;

test('fcvt.wu: -0.9 truncates to 0 with NX only, but rounds to -1 (out of range, NV) to nearest', () => {
  assert.deepEqual(run(() => f32ToU32(f32(-0.9), RM_RTZ)), [0, FLAG_NX]);
  assert.deepEqual(run(() => f32ToU32(f32(-0.9), RM_RNE)), [0, FLAG_NV]);
  assert.deepEqual(run(() => f32ToU32(f32(-0.3), RM_RNE)), [0, FLAG_NX]);
  assert.deepEqual(run(() => f64ToU32(f64(-1), RM_RTZ)), [0, FLAG_NV]);
  assert.deepEqual(run(() => f64ToU64(f64(-0), RM_RTZ)), [0n, 0]);
});

test('float-to-integer saturation follows the "Domains of float-to-integer conversions" table', () => {
  const NAN32 = 0x7fc00000;
  const NAN64 = 0x7ff8000000000000n;
  assert.deepEqual(run(() => f32ToI32(NAN32, RM_RNE)), [0x7fffffff, FLAG_NV]);
  assert.deepEqual(run(() => f32ToU32(NAN32, RM_RNE)), [0xffffffff, FLAG_NV]);
  assert.deepEqual(run(() => f64ToI64(NAN64, RM_RNE)), [0x7fffffffffffffffn, FLAG_NV]);
  assert.deepEqual(run(() => f64ToU64(NAN64, RM_RNE)), [0xffffffffffffffffn, FLAG_NV]);
  assert.deepEqual(run(() => f32ToI32(0xff800000, RM_RNE)), [-0x80000000, FLAG_NV]);
  assert.deepEqual(run(() => f32ToU64(0xff800000, RM_RNE)), [0n, FLAG_NV]);
  assert.deepEqual(run(() => f64ToI64(0xfff0000000000000n, RM_RNE)), [0x8000000000000000n, FLAG_NV]);
  assert.deepEqual(run(() => f64ToI32(f64(2147483647.4), RM_RNE)), [0x7fffffff, FLAG_NX]);
  assert.deepEqual(run(() => f64ToI32(f64(2147483647.5), RM_RNE)), [0x7fffffff, FLAG_NV]);
  assert.deepEqual(run(() => f64ToI32(f64(2147483647.5), RM_RTZ)), [0x7fffffff, FLAG_NX]);
  assert.deepEqual(run(() => f64ToI32(f64(-2147483648.5), RM_RTZ)), [-0x80000000, FLAG_NX]);
  assert.deepEqual(run(() => f64ToI32(f64(-2147483648.5), RM_RDN)), [-0x80000000, FLAG_NV]);
  assert.deepEqual(run(() => f64ToU32(f64(4294967295.5), RM_RDN)), [0xffffffff, FLAG_NX]);
  assert.deepEqual(run(() => f64ToU32(f64(4294967295.5), RM_RMM)), [0xffffffff, FLAG_NV]);
  assert.deepEqual(run(() => f32ToI64(0xdf000000, RM_RNE)), [0x8000000000000000n, 0]); // -2^63 fits
  assert.deepEqual(run(() => f32ToI64(0x5f000000, RM_RNE)), [0x7fffffffffffffffn, FLAG_NV]); // 2^63 does not
  assert.deepEqual(run(() => f32ToU64(0x5f7fffff, RM_RNE)), [0xffffff0000000000n, 0]);
  assert.deepEqual(run(() => f32ToI64(f32(-3), RM_RNE)), [0xfffffffffffffffdn, 0]);
});

test('float-to-integer rounding in each mode, ties included', () => {
  const modes = [RM_RNE, RM_RTZ, RM_RDN, RM_RUP, RM_RMM];
  const expect: [number, number[]][] = [
    [2.5, [2, 2, 2, 3, 3]],
    [3.5, [4, 3, 3, 4, 4]],
    [-2.5, [-2, -2, -3, -2, -3]],
    [-0.5, [0, 0, -1, 0, -1]],
    [1.25, [1, 1, 1, 2, 1]],
    [-1.75, [-2, -1, -2, -1, -2]],
  ];
  for (const [x, want] of expect) {
    for (let i = 0; i < modes.length; i++) {
      assert.deepEqual(run(() => f64ToI32(f64(x), modes[i]!)), [want[i], FLAG_NX], `${x} rm ${modes[i]}`);
      assert.deepEqual(run(() => f32ToI64(f32(x), modes[i]!)), [BigInt.asUintN(64, BigInt(want[i]!)), FLAG_NX]);
    }
  }
});

test('integer-to-float conversions round per mode', () => {
  // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
  assert.deepEqual(run(() => i32ToF32(0x1000001, RM_RNE)), [0x4b800000, FLAG_NX]);
  assert.deepEqual(run(() => i32ToF32(0x1000001, RM_RMM)), [0x4b800001, FLAG_NX]);
  assert.deepEqual(run(() => i32ToF32(-0x1000001, RM_RUP)), [0xcb800000, FLAG_NX]);
  assert.deepEqual(run(() => i32ToF32(-0x80000000, RM_RNE)), [0xcf000000, 0]);
  assert.deepEqual(run(() => u32ToF32(0xffffffff, RM_RNE)), [0x4f800000, FLAG_NX]);
  assert.deepEqual(run(() => u32ToF32(0xffffffff, RM_RTZ)), [0x4f7fffff, FLAG_NX]);
  assert.deepEqual(run(() => u32ToF64(0xffffffff, RM_RNE)), [0x41efffffffe00000n, 0]);
  assert.deepEqual(run(() => i32ToF64(-1, RM_RNE)), [0xbff0000000000000n, 0]);
  assert.deepEqual(run(() => i64ToF64(0xffffffffffffffffn, RM_RNE)), [0xbff0000000000000n, 0]);
  assert.deepEqual(run(() => u64ToF64(0xffffffffffffffffn, RM_RNE)), [0x43f0000000000000n, FLAG_NX]);
  assert.deepEqual(run(() => u64ToF64(0xffffffffffffffffn, RM_RDN)), [0x43efffffffffffffn, FLAG_NX]);
  assert.deepEqual(run(() => i64ToF64((1n << 53n) + 1n, RM_RMM)), [0x4340000000000001n, FLAG_NX]);
  assert.deepEqual(run(() => i64ToF64(-(1n << 63n), RM_RNE)), [0xc3e0000000000000n, 0]);
  assert.deepEqual(run(() => u64ToF32(0xffffffffffffffffn, RM_RTZ)), [0x5f7fffff, FLAG_NX]);
  // 2^53 + 2^29 + 1 is just above a binary32 tie; rounding through a double first would lose the 1.
  assert.deepEqual(run(() => i64ToF32((1n << 53n) + (1n << 29n) + 1n, RM_RNE)), [0x5a000001, FLAG_NX]);
  assert.deepEqual(run(() => i64ToF32(0n, RM_RDN)), [0, 0]);
});

test('f32 <-> f64: NaNs become canonical, sNaN raises NV (unpriv. spec 12.5)', () => {
  assert.deepEqual(run(() => f32ToF64(0xff800001)), [0x7ff8000000000000n, FLAG_NV]);
  assert.deepEqual(run(() => f32ToF64(0xffc00001)), [0x7ff8000000000000n, 0]);
  assert.deepEqual(run(() => f32ToF64(1)), [0x36a0000000000000n, 0]);
  assert.deepEqual(run(() => f64ToF32(0x7ff0000000000001n, RM_RNE)), [0x7fc00000, FLAG_NV]);
  assert.deepEqual(run(() => f64ToF32(0xfff8000000000001n, RM_RNE)), [0x7fc00000, 0]);
  assert.deepEqual(run(() => f64ToF32(0x7fefffffffffffffn, RM_RNE)), [0x7f800000, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => f64ToF32(0x7fefffffffffffffn, RM_RTZ)), [0x7f7fffff, FLAG_OF | FLAG_NX]);
  assert.deepEqual(run(() => f64ToF32(0x3690000000000000n, RM_RNE)), [0, FLAG_UF | FLAG_NX]); // 2^-150: tie to zero
  assert.deepEqual(run(() => f64ToF32(0x3690000000000000n, RM_RMM)), [1, FLAG_UF | FLAG_NX]);
  assert.deepEqual(run(() => f64ToF32(0x3ff0000010000000n, RM_RNE)), [0x3f800000, FLAG_NX]); // 1 + 2^-24
  assert.deepEqual(run(() => f64ToF32(0x8000000000000000n, RM_RUP)), [0x80000000, 0]);
});
