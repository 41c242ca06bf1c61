// Random F and D instructions over edge-case operands (zeros, subnormals, infinities, quiet
// and signalling NaNs, integer limits, unboxed singles) in every rounding mode, static or
// dynamic. fflags is part of the compared state (fcsr), so every exception flag is checked.

import type { BlockContext } from './block-context.js';
import type { Prng } from './prng.js';
import { hex } from './program-layout.js';

const DOUBLES = [
  0x0000_0000_0000_0000n, 0x8000_0000_0000_0000n, 0x3ff0_0000_0000_0000n, 0xbff0_0000_0000_0000n,
  0x3fe0_0000_0000_0000n, 0x3ff8_0000_0000_0000n, 0x4008_0000_0000_0000n,
  0x0000_0000_0000_0001n, 0x000f_ffff_ffff_ffffn, 0x0010_0000_0000_0000n, 0x7fef_ffff_ffff_ffffn,
  0x7ff0_0000_0000_0000n, 0xfff0_0000_0000_0000n, 0x7ff8_0000_0000_0000n, 0x7ff0_0000_0000_0001n,
  0xfff8_0000_0000_1234n, 0x7ff4_0000_0000_0000n,
  0x43e0_0000_0000_0000n, 0xc3e0_0000_0000_0000n, 0x43f0_0000_0000_0000n, 0x41e0_0000_0000_0000n,
  0xc1e0_0000_0020_0000n, 0x41df_ffff_ffc0_0000n, 0x4340_0000_0000_0001n, 0x3fb9_9999_9999_999an,
  0x4009_21fb_5444_2d18n, 0x3ca0_0000_0000_0000n, 0xbfe0_0000_0000_0001n,
];

const SINGLES = [
  0x0000_0000, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x3f00_0000, 0x4040_0000,
  0x0000_0001, 0x007f_ffff, 0x0080_0000, 0x7f7f_ffff, 0x7f80_0000, 0xff80_0000,
  0x7fc0_0000, 0x7f80_0001, 0xffc0_1234, 0x7fa0_0000, 0x4f00_0000, 0xcf00_0000, 0x5f80_0000,
  0x4eff_ffff, 0x3dcc_cccd, 0x4049_0fdb, 0x3380_0000, 0xbeff_ffff,
];

const ROUNDING = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'dyn'];

/** A 64-bit FP register image: a double, a NaN-boxed single, or (rarely) an unboxed single. */
export function interestingFloatBits(r: Prng): bigint {
  switch (r.int(8)) {
    case 0:
    case 1:
    case 2:
      return r.pick(DOUBLES);
    case 3:
      return r.next64();
    case 4:
    case 5:
      return 0xffff_ffff_0000_0000n | BigInt(r.pick(SINGLES));
    case 6:
      return 0xffff_ffff_0000_0000n | BigInt(r.next32());
    default:
      // Not NaN-boxed: single-precision operations must read it as the canonical NaN.
      return (BigInt(r.next32()) << 32n) | BigInt(r.pick(SINGLES));
  }
}

export function floatSetup(c: BlockContext): void {
  const t = c.gpr();
  c.emit(`li ${t}, ${hex(interestingFloatBits(c.rng))}`, `fmv.d.x ${c.fpr()}, ${t}`);
}

export function floatArithmetic(c: BlockContext): void {
  const r = c.rng;
  const p = r.pick(['s', 'd']);
  const rm = r.pick(ROUNDING);
  const f = () => c.fpr();
  switch (r.int(7)) {
    case 0:
    case 1:
      c.emit(`${r.pick(['fadd', 'fsub', 'fmul', 'fdiv'])}.${p} ${f()}, ${f()}, ${f()}, ${rm}`);
      break;
    case 2:
      c.emit(`fsqrt.${p} ${f()}, ${f()}, ${rm}`);
      break;
    case 3:
      c.emit(`${r.pick(['fmin', 'fmax'])}.${p} ${f()}, ${f()}, ${f()}`);
      break;
    case 4:
      c.emit(`${r.pick(['fsgnj', 'fsgnjn', 'fsgnjx'])}.${p} ${f()}, ${f()}, ${f()}`);
      break;
    default:
      c.emit(`${r.pick(['fmadd', 'fmsub', 'fnmadd', 'fnmsub'])}.${p} ${f()}, ${f()}, ${f()}, ${f()}, ${rm}`);
  }
}

export function floatConvertCompare(c: BlockContext): void {
  const r = c.rng;
  const p = r.pick(['s', 'd']);
  const rm = r.pick(ROUNDING);
  switch (r.int(7)) {
    case 0:
      c.emit(`${r.pick(['feq', 'flt', 'fle'])}.${p} ${c.gpr()}, ${c.fpr()}, ${c.fpr()}`);
      break;
    case 1:
      c.emit(`fclass.${p} ${c.gpr()}, ${c.fpr()}`);
      break;
    case 2:
      c.emit(`fcvt.${r.pick(['w', 'wu', 'l', 'lu'])}.${p} ${c.gpr()}, ${c.fpr()}, ${rm}`);
      break;
    case 3: {
      // int32 to double is exact: that form takes no rounding mode.
      const from = r.pick(['w', 'wu', 'l', 'lu']);
      const exact = p === 'd' && (from === 'w' || from === 'wu');
      c.emit(`fcvt.${p}.${from} ${c.fpr()}, ${c.gpr()}${exact ? '' : `, ${rm}`}`);
      break;
    }
    case 4:
      c.emit(p === 's' ? `fcvt.s.d ${c.fpr()}, ${c.fpr()}, ${rm}` : `fcvt.d.s ${c.fpr()}, ${c.fpr()}`);
      break;
    case 5:
      c.emit(`${r.pick(['fmv.x.w', 'fmv.x.d'])} ${c.gpr()}, ${c.fpr()}`);
      break;
    default:
      c.emit(`${r.pick(['fmv.w.x', 'fmv.d.x'])} ${c.fpr()}, ${c.gpr()}`);
  }
}
