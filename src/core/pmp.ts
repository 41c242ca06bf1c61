// Physical memory protection: 16 entries, 4-byte grain (Priv. spec 1.12, section 3.7).
// The CSR words live in the hart's state block; the decoded regions are cached here.

import { PMPADDR, PMPCFG, PMP_ENTRIES } from './hart-state.js';
import { Priv } from './privilege.js';

export const enum PmpAccess {
  Read = 1,
  Write = 2,
  Execute = 4,
}

const A_MASK = 0x18;
const A_TOR = 0x08;
const A_NA4 = 0x10;
const LOCK = 0x80;

export class Pmp {
  /** Region bounds [start, end) in bytes per entry; end = 0 when the entry is off. */
  private readonly start = new Float64Array(PMP_ENTRIES);
  private readonly end = new Float64Array(PMP_ENTRIES);
  private readonly cfg = new Uint8Array(PMP_ENTRIES);
  private anyActive = false;

  constructor(private readonly s: Int32Array) {}

  configByte(i: number): number {
    return (this.s[PMPCFG + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff;
  }

  isLocked(i: number): boolean {
    return (this.configByte(i) & LOCK) !== 0;
  }

  /** Writes pmpcfg entry i (WARL: locked entries keep their value; R=0 W=1 becomes W=0). */
  writeConfigByte(i: number, value: number): void {
    if (this.isLocked(i)) return;
    let v = value & 0x9f; // bits 6:5 are reserved, read as zero
    if ((v & 3) === 2) v &= ~2;
    const word = PMPCFG + (i >> 2);
    const shift = (i & 3) * 8;
    this.s[word] = (this.s[word]! & ~(0xff << shift)) | (v << shift);
  }

  /** Writes pmpaddr i unless it or a locked TOR entry above it forbids. */
  writeAddress(i: number, lo: number, hi: number): void {
    if (this.isLocked(i)) return;
    if (i + 1 < PMP_ENTRIES && this.isLocked(i + 1) && (this.configByte(i + 1) & A_MASK) === A_TOR) return;
    this.s[PMPADDR + 2 * i] = lo;
    this.s[PMPADDR + 2 * i + 1] = hi & 0x3fffff; // pmpaddr holds address bits 55:2
  }

  /** Recomputes the cached regions after any PMP CSR write or a restore. */
  refresh(): void {
    this.anyActive = false;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const cfg = this.configByte(i);
      this.cfg[i] = cfg;
      const lo = this.s[PMPADDR + 2 * i]! >>> 0;
      const hi = this.s[PMPADDR + 2 * i + 1]! & 0x3fffff;
      const mode = cfg & A_MASK;
      if (mode === 0) {
        this.start[i] = 0;
        this.end[i] = 0;
        continue;
      }
      this.anyActive = true;
      // pmpaddr holds address bits 55:2; byte addresses stay exact below 2^53.
      if (mode === A_TOR) {
        this.start[i] = i === 0 ? 0 : byteAddress(this.s[PMPADDR + 2 * i - 2]! >>> 0, this.s[PMPADDR + 2 * i - 1]! & 0x3fffff);
        this.end[i] = byteAddress(lo, hi);
      } else if (mode === A_NA4) {
        this.start[i] = byteAddress(lo, hi);
        this.end[i] = this.start[i]! + 4;
      } else {
        // NAPOT: t trailing ones encode a 2^(t+3)-byte region whose base has those bits clear.
        const t = lo === 0xffffffff ? 32 + trailingOnes(hi) : trailingOnes(lo);
        const base = t >= 32
          ? byteAddress(0, t >= 54 ? 0 : hi & ~((1 << (t - 32)) - 1))
          : byteAddress((lo & ~((1 << t) - 1)) >>> 0, hi);
        this.start[i] = base;
        this.end[i] = base + 2 ** (Math.min(t, 54) + 3);
      }
    }
  }

  /** Section 3.7.1: the lowest-numbered entry matching any byte decides; it must cover all bytes. */
  check(paddr: number, size: number, access: PmpAccess, priv: Priv): boolean {
    if (!this.anyActive) return priv === Priv.Machine;
    const last = paddr + size;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const end = this.end[i]!;
      if (end === 0) continue;
      const start = this.start[i]!;
      if (last <= start || paddr >= end) continue;
      if (paddr < start || last > end) return false;
      const cfg = this.cfg[i]!;
      if (priv === Priv.Machine && (cfg & LOCK) === 0) return true;
      return (cfg & access) !== 0;
    }
    return priv === Priv.Machine;
  }

  /** Whether every access of the given kind to the 4 KiB page at `page` passes, so it may be cached. */
  grantsPage(page: number, access: PmpAccess, priv: Priv): boolean {
    return this.check(page, 4096, access, priv);
  }
}

function byteAddress(lo: number, hi: number): number {
  return hi * 17179869184 + lo * 4; // hi * 2^34 + lo * 2^2
}

function trailingOnes(v: number): number {
  return 31 - Math.clz32(~v & (v + 1));
}
