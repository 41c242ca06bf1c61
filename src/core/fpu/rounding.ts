// Rounding-mode numbers and exception-flag bits as RISC-V encodes them in frm and fflags
// (unpriv. spec 11.2, tables "Rounding mode encoding" and "Accrued exception flag encoding"),
// plus the flag accumulator every operation ORs into.

import { FpuError } from './fpu-error.js';

/** Round to nearest, ties to even. */
export const RM_RNE = 0;
/** Round towards zero. */
export const RM_RTZ = 1;
/** Round down (towards -infinity). */
export const RM_RDN = 2;
/** Round up (towards +infinity). */
export const RM_RUP = 3;
/** Round to nearest, ties to max magnitude. */
export const RM_RMM = 4;

/** Inexact. */
export const FLAG_NX = 1;
/** Underflow (tininess detected after rounding). */
export const FLAG_UF = 2;
/** Overflow. */
export const FLAG_OF = 4;
/** Divide by zero. */
export const FLAG_DZ = 8;
/** Invalid operation. */
export const FLAG_NV = 16;

// A module-level accumulator instead of result objects keeps the hot path allocation-free.
let accrued = 0;

/** ORs exception flags into the accumulator. */
export function raiseFlags(flags: number): void {
  accrued |= flags;
}

/** Returns the flags accumulated since the last call and clears them. */
export function takeFlags(): number {
  const flags = accrued;
  accrued = 0;
  return flags;
}

/** Throws unless rm is one of the five static rounding modes (0..4). */
export function checkRoundingMode(rm: number, op: string): void {
  if (!(rm >= RM_RNE && rm <= RM_RMM && (rm | 0) === rm)) {
    throw new FpuError(
      'invalid-rounding-mode',
      op,
      `${op}: rounding mode ${rm} is not RNE/RTZ/RDN/RUP/RMM (0..4); resolve DYN from frm and ` +
        'raise an illegal-instruction trap for reserved modes before calling the FPU',
    );
  }
}
