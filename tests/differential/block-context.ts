// What an instruction generator needs to know while it writes one block of random code: the
// PRNG, the privilege the block runs in, the mstatus trap bits set for it, and label and
// register helpers shared by every generator.

import type { Prng } from './prng.js';

export type Privilege = 'M' | 'S' | 'U';

/** Registers generated code may write: everything but x0, gp (save area) and tp (exit flag). */
export const GPRS = [1, 2, ...Array.from({ length: 27 }, (_, i) => i + 5)] as const;

export class BlockContext {
  readonly lines: string[] = [];
  private pending: Array<{ label: string; after: number }> = [];

  constructor(
    readonly rng: Prng,
    readonly mode: Privilege,
    /** mstatus.TSR / TVM / TW as set for this block (generated code never changes them). */
    readonly trapBits: { tsr: boolean; tvm: boolean; tw: boolean },
    /** satp values S-mode code may switch between (each keeps the code mapped). */
    readonly satpChoices: readonly bigint[],
    private readonly labels: { next: number },
    /** M-mode with MPRV set: loads and stores are translated, so they use virtual addresses. */
    readonly mprv = false,
  ) {}

  /** Whether data accesses use physical addresses (M-mode without MPRV). */
  get physicalData(): boolean {
    return this.mode === 'M' && !this.mprv;
  }

  emit(...lines: string[]): void {
    for (const l of lines) this.lines.push(/^[.\w]+:/.test(l) ? l : `        ${l}`);
  }

  /** A fresh local label. */
  label(): string {
    return `.Lg${this.labels.next++}`;
  }

  /** A label that will be placed after `items` more generated items (a forward target). */
  forwardLabel(items: number): string {
    const label = this.label();
    this.pending.push({ label, after: items });
    return label;
  }

  /** Called after each item: places the forward labels that are due. */
  endItem(): void {
    for (const p of this.pending) p.after--;
    for (const p of this.pending.filter((q) => q.after <= 0)) this.lines.push(`${p.label}:`);
    this.pending = this.pending.filter((p) => p.after > 0);
  }

  /** Places every outstanding forward label (end of block: no branch leaves it). */
  flushLabels(): void {
    for (const p of this.pending) this.lines.push(`${p.label}:`);
    this.pending = [];
  }

  gpr(): string {
    return `x${this.rng.pick(GPRS)}`;
  }

  /** A register usable in the 3-bit fields of compressed instructions (x8-x15). */
  cgpr(): string {
    return `x${this.rng.range(8, 15)}`;
  }

  fpr(): string {
    return `f${this.rng.int(32)}`;
  }

  cfpr(): string {
    return `f${this.rng.range(8, 15)}`;
  }
}

/** Integer values that find edge cases in arithmetic, shifts and comparisons. */
export function interestingInt(rng: Prng): bigint {
  switch (rng.int(14)) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return -1n;
    case 3: return 0x7fff_ffff_ffff_ffffn;
    case 4: return -0x8000_0000_0000_0000n;
    case 5: return 0xffff_ffffn;
    case 6: return 0x8000_0000n;
    case 7: return 0x7fff_ffffn;
    case 8: return -0x8000_0000n;
    case 9: return BigInt(rng.range(-64, 64));
    case 10: return BigInt(rng.next32());
    case 11: return 1n << BigInt(rng.int(64));
    default: return BigInt.asIntN(64, rng.next64());
  }
}

export function imm12(rng: Prng): number {
  return rng.chance(0.5) ? rng.range(-16, 16) : rng.range(-2048, 2047);
}
