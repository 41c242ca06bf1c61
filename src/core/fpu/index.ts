// The hart's floating-point library: IEEE 754 binary32/binary64 arithmetic with RISC-V
// rounding modes, exception flags and NaN rules. Pure functions; flags accrue in takeFlags().

export {
  FLAG_DZ, FLAG_NV, FLAG_NX, FLAG_OF, FLAG_UF,
  RM_RDN, RM_RMM, RM_RNE, RM_RTZ, RM_RUP,
  checkRoundingMode, takeFlags,
} from './rounding.js';
export { FpuError } from './fpu-error.js';
export type { FpuErrorKind } from './fpu-error.js';
export { CANONICAL_NAN32, CANONICAL_NAN64 } from './float-format.js';
export { add32, div32, fma32, mul32, sqrt32, sub32 } from './f32.js';
export { add64, div64, fma64, mul64, sqrt64, sub64 } from './f64.js';
export {
  CLASS_NEG_INF, CLASS_NEG_NORMAL, CLASS_NEG_SUBNORMAL, CLASS_NEG_ZERO,
  CLASS_POS_INF, CLASS_POS_NORMAL, CLASS_POS_SUBNORMAL, CLASS_POS_ZERO,
  CLASS_QUIET_NAN, CLASS_SIGNALING_NAN,
  classify32, classify64, eq32, eq64, le32, le64, lt32, lt64, max32, max64, min32, min64,
} from './compare.js';
export {
  f32ToF64, f32ToI32, f32ToI64, f32ToU32, f32ToU64,
  f64ToF32, f64ToI32, f64ToI64, f64ToU32, f64ToU64,
  i32ToF32, i32ToF64, i64ToF32, i64ToF64, u32ToF32, u32ToF64, u64ToF32, u64ToF64,
} from './convert.js';
