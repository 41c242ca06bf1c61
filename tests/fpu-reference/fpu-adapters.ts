// Every public operation and its exact bigint path as one shape, bigint bit patterns in and
// out, so tests can run the same vectors through both. Used only by tests.

import type { VectorInput } from './vector-inputs.js';
import * as fpu from '../../src/core/fpu/index.js';
import { F32, F64 } from '../../src/core/fpu/float-format.js';
import type { FloatFormat } from '../../src/core/fpu/float-format.js';
import { addExact, divExact, fmaExact, mulExact, sqrtExact, subExact } from '../../src/core/fpu/exact-arithmetic.js';
import { INT32, INT64, UINT32, UINT64, convertFormatExact, floatToIntExact, intToFloatExact } from '../../src/core/fpu/exact-conversion.js';
import type { IntRange } from '../../src/core/fpu/exact-conversion.js';

export type Impl = (v: VectorInput) => bigint;

const n = Number;
const b32 = (x: number): bigint => BigInt(x >>> 0);

/** The public API, adapted to bigint bit patterns in and out. */
export const PUBLIC: Record<string, Impl> = {
  add32: (v) => b32(fpu.add32(n(v.a), n(v.b), v.rm)),
  sub32: (v) => b32(fpu.sub32(n(v.a), n(v.b), v.rm)),
  mul32: (v) => b32(fpu.mul32(n(v.a), n(v.b), v.rm)),
  div32: (v) => b32(fpu.div32(n(v.a), n(v.b), v.rm)),
  sqrt32: (v) => b32(fpu.sqrt32(n(v.a), v.rm)),
  fma32: (v) => b32(fpu.fma32(n(v.a), n(v.b), n(v.c), v.rm)),
  min32: (v) => b32(fpu.min32(n(v.a), n(v.b))),
  max32: (v) => b32(fpu.max32(n(v.a), n(v.b))),
  eq32: (v) => BigInt(fpu.eq32(n(v.a), n(v.b))),
  lt32: (v) => BigInt(fpu.lt32(n(v.a), n(v.b))),
  le32: (v) => BigInt(fpu.le32(n(v.a), n(v.b))),
  classify32: (v) => BigInt(fpu.classify32(n(v.a))),
  f32ToI32: (v) => b32(fpu.f32ToI32(n(v.a), v.rm)),
  f32ToU32: (v) => b32(fpu.f32ToU32(n(v.a), v.rm)),
  f32ToI64: (v) => fpu.f32ToI64(n(v.a), v.rm),
  f32ToU64: (v) => fpu.f32ToU64(n(v.a), v.rm),
  i32ToF32: (v) => b32(fpu.i32ToF32(n(v.a), v.rm)),
  u32ToF32: (v) => b32(fpu.u32ToF32(n(v.a), v.rm)),
  i64ToF32: (v) => b32(fpu.i64ToF32(v.a, v.rm)),
  u64ToF32: (v) => b32(fpu.u64ToF32(v.a, v.rm)),
  add64: (v) => fpu.add64(v.a, v.b, v.rm),
  sub64: (v) => fpu.sub64(v.a, v.b, v.rm),
  mul64: (v) => fpu.mul64(v.a, v.b, v.rm),
  div64: (v) => fpu.div64(v.a, v.b, v.rm),
  sqrt64: (v) => fpu.sqrt64(v.a, v.rm),
  fma64: (v) => fpu.fma64(v.a, v.b, v.c, v.rm),
  min64: (v) => fpu.min64(v.a, v.b),
  max64: (v) => fpu.max64(v.a, v.b),
  eq64: (v) => BigInt(fpu.eq64(v.a, v.b)),
  lt64: (v) => BigInt(fpu.lt64(v.a, v.b)),
  le64: (v) => BigInt(fpu.le64(v.a, v.b)),
  classify64: (v) => BigInt(fpu.classify64(v.a)),
  f64ToI32: (v) => b32(fpu.f64ToI32(v.a, v.rm)),
  f64ToU32: (v) => b32(fpu.f64ToU32(v.a, v.rm)),
  f64ToI64: (v) => fpu.f64ToI64(v.a, v.rm),
  f64ToU64: (v) => fpu.f64ToU64(v.a, v.rm),
  i32ToF64: (v) => fpu.i32ToF64(n(v.a), v.rm),
  u32ToF64: (v) => fpu.u32ToF64(n(v.a), v.rm),
  i64ToF64: (v) => fpu.i64ToF64(v.a, v.rm),
  u64ToF64: (v) => fpu.u64ToF64(v.a, v.rm),
  f32ToF64: (v) => fpu.f32ToF64(n(v.a)),
  f64ToF32: (v) => b32(fpu.f64ToF32(v.a, v.rm)),
};

const toInt = (fmt: FloatFormat, range: IntRange, width: 32 | 64): Impl => (v) =>
  BigInt.asUintN(width, floatToIntExact(fmt, v.a, range, v.rm));

/** The exact bigint path for the operations that have one. */
export const EXACT: Record<string, Impl> = {
  add32: (v) => addExact(F32, v.a, v.b, v.rm),
  sub32: (v) => subExact(F32, v.a, v.b, v.rm),
  mul32: (v) => mulExact(F32, v.a, v.b, v.rm),
  div32: (v) => divExact(F32, v.a, v.b, v.rm),
  sqrt32: (v) => sqrtExact(F32, v.a, v.rm),
  fma32: (v) => fmaExact(F32, v.a, v.b, v.c, v.rm),
  add64: (v) => addExact(F64, v.a, v.b, v.rm),
  sub64: (v) => subExact(F64, v.a, v.b, v.rm),
  mul64: (v) => mulExact(F64, v.a, v.b, v.rm),
  div64: (v) => divExact(F64, v.a, v.b, v.rm),
  sqrt64: (v) => sqrtExact(F64, v.a, v.rm),
  fma64: (v) => fmaExact(F64, v.a, v.b, v.c, v.rm),
  f32ToI32: toInt(F32, INT32, 32),
  f32ToU32: toInt(F32, UINT32, 32),
  f32ToI64: toInt(F32, INT64, 64),
  f32ToU64: toInt(F32, UINT64, 64),
  f64ToI32: toInt(F64, INT32, 32),
  f64ToU32: toInt(F64, UINT32, 32),
  f64ToI64: toInt(F64, INT64, 64),
  f64ToU64: toInt(F64, UINT64, 64),
  i32ToF32: (v) => intToFloatExact(F32, BigInt.asIntN(32, v.a), v.rm),
  u32ToF32: (v) => intToFloatExact(F32, v.a, v.rm),
  i64ToF32: (v) => intToFloatExact(F32, BigInt.asIntN(64, v.a), v.rm),
  u64ToF32: (v) => intToFloatExact(F32, v.a, v.rm),
  i32ToF64: (v) => intToFloatExact(F64, BigInt.asIntN(32, v.a), v.rm),
  u32ToF64: (v) => intToFloatExact(F64, v.a, v.rm),
  i64ToF64: (v) => intToFloatExact(F64, BigInt.asIntN(64, v.a), v.rm),
  u64ToF64: (v) => intToFloatExact(F64, v.a, v.rm),
  f32ToF64: (v) => convertFormatExact(F32, F64, v.a, v.rm),
  f64ToF32: (v) => convertFormatExact(F64, F32, v.a, v.rm),
};
