import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FpuError } from './fpu-error.js';
import { FLAG_DZ, FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF, checkRoundingMode, raiseFlags, takeFlags } from './rounding.js';
import { add32 } from './f32.js';
import { add64 } from './f64.js';

test('flag bits follow the fflags layout', () => {
  assert.deepEqual([FLAG_NX, FLAG_UF, FLAG_OF, FLAG_DZ, FLAG_NV], [1, 2, 4, 8, 16]);
});

test('takeFlags returns the accumulated flags and clears them', () => {
  takeFlags();
  raiseFlags(FLAG_NX);
  raiseFlags(FLAG_OF | FLAG_NX);
  assert.equal(takeFlags(), FLAG_NX | FLAG_OF);
  assert.equal(takeFlags(), 0);
});

test('operations OR into the accumulator until it is taken', () => {
  takeFlags();
  add32(0x3f800000, 0x33000001, 0); // 1 + (2^-25 + tiny): inexact
  add32(0x7f800000, 0xff800000, 0); // inf - inf: invalid
  assert.equal(takeFlags(), FLAG_NX | FLAG_NV);
});

test('reserved rounding modes are rejected with a stable kind', () => {
  for (const rm of [5, 6, 7, -1, 1.5]) {
    assert.throws(() => checkRoundingMode(rm, 'add64'), (e: unknown) => e instanceof FpuError && e.kind === 'invalid-rounding-mode' && e.op === 'add64');
    assert.throws(() => add64(0n, 0n, rm), FpuError);
  }
  for (const rm of [0, 1, 2, 3, 4]) checkRoundingMode(rm, 'add64');
});
