// Self-modifying code: patch sites (a labelled R-type instruction) and stores that replace one
// with another R-type instruction, then FENCE.I. In repeated blocks the patched code has often
// been translated already, so the translation must be dropped. FENCE.I is always there: QEMU
// only sees a change to the code it is running at the end of a translation block.

import type { BlockContext } from './block-context.js';
import { GPRS } from './block-context.js';
import { hex } from './program-layout.js';

const R_TYPE: Array<[string, number, number]> = [
  ['add', 0, 0], ['sub', 0x20, 0], ['sll', 0, 1], ['slt', 0, 2], ['sltu', 0, 3],
  ['xor', 0, 4], ['srl', 0, 5], ['sra', 0x20, 5], ['or', 0, 6], ['and', 0, 7],
];

/** A patch site: a 32-bit R-type instruction at a 4-byte boundary. */
export function patchSite(c: BlockContext, label: string): void {
  c.emit('.balign 4', `${label}:`, '.option push', '.option norvc', `add ${c.gpr()}, ${c.gpr()}, ${c.gpr()}`, '.option pop');
}

/** Overwrites a patch site of this block with a random R-type instruction (never gp or tp). */
export function patchStore(c: BlockContext, sites: readonly string[]): void {
  const r = c.rng;
  const [, funct7, funct3] = r.pick(R_TYPE);
  const reg = () => r.pick(GPRS);
  const insn = (funct7 << 25) | (reg() << 20) | (reg() << 15) | (funct3 << 12) | (reg() << 7) | 0x33;
  const base = c.gpr();
  let value = c.gpr();
  while (value === base) value = c.gpr();
  c.emit(`la ${base}, ${r.pick(sites)}`, `li ${value}, ${hex(insn >>> 0)}`, `sw ${value}, 0(${base})`, 'fence.i');
}
