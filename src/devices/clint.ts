// The SiFive CLINT (core-local interruptor): per-hart software interrupt (msip) and timer
// compare (mtimecmp) registers plus the shared mtime counter. Register map from the SiFive
// FU540-C000 manual, chapter 9 (msip 0x0 + 4*hart, mtimecmp 0x4000 + 8*hart, mtime 0xbff8),
// the same layout as RISC-V ACLINT's MSWI + MTIMER.

import type { AccessSize, IrqLine, MmioDevice, TickClock } from './mmio-device.js';

const MSIP_BASE = 0x0000;
const MTIMECMP_BASE = 0x4000;
const MTIME = 0xbff8;
const TWO_32 = 4294967296;
const TWO_64 = TWO_32 * TWO_32;
/** Largest hart count whose registers fit the map (mtimecmp would run into mtime). */
const MAX_HARTS = 4095;

export interface ClintOptions {
  harts: number;
  /** The free-running counter behind mtime, in timebase ticks. */
  clock: TickClock;
  /** Per hart: drives mip.MSIP. */
  msip: readonly IrqLine[];
  /** Per hart: drives mip.MTIP. */
  mtip: readonly IrqLine[];
}

/** Named, versioned state for save/restore. 64-bit values are decimal strings (exact). */
export interface ClintState {
  version: 1;
  msip: number[];
  mtimecmp: string[];
  mtime: string;
}

export class ClintError extends Error {
  readonly kind = 'clint';
}

export class Clint implements MmioDevice {
  /** Size of the MMIO window. */
  static readonly WINDOW_SIZE = 0x10000;

  readonly harts: number;
  private readonly clock: TickClock;
  private readonly msipLines: readonly IrqLine[];
  private readonly mtipLines: readonly IrqLine[];
  private readonly msip: Uint8Array;
  /** mtimecmp halves, kept as 32-bit words so all 64 bits are exact. */
  private readonly cmpLo: Uint32Array;
  private readonly cmpHi: Uint32Array;
  private readonly mtipLevel: boolean[];
  /** mtime = clock + offset; software may write mtime (Priv. spec 3.2.1). */
  private timeOffset = 0;
  /** mtime at the last update(), to see it wrap in between. */
  private lastUpdate = 0;

  constructor(options: ClintOptions) {
    const { harts, clock, msip, mtip } = options;
    if (!Number.isInteger(harts) || harts < 1 || harts > MAX_HARTS) {
      throw new ClintError(`CLINT hart count ${harts} is out of range; use 1 to ${MAX_HARTS}`);
    }
    if (msip.length !== harts || mtip.length !== harts) {
      throw new ClintError(`CLINT needs one msip and one mtip line per hart (${harts}), got ${msip.length} and ${mtip.length}`);
    }
    this.harts = harts;
    this.clock = clock;
    this.msipLines = msip;
    this.mtipLines = mtip;
    this.msip = new Uint8Array(harts);
    this.cmpLo = new Uint32Array(harts);
    this.cmpHi = new Uint32Array(harts);
    this.mtipLevel = new Array<boolean>(harts).fill(false);
    this.reset();
  }

  /**
   * Power-on state: msip clear, mtime counting from zero, and mtimecmp at its maximum so no
   * timer interrupt is pending until software programs it (the reset value is unspecified).
   */
  reset(): void {
    this.timeOffset = -this.clock.now();
    this.lastUpdate = 0;
    this.msip.fill(0);
    this.cmpLo.fill(0xffffffff);
    this.cmpHi.fill(0xffffffff);
    for (let h = 0; h < this.harts; h++) {
      this.msipLines[h]!.set(false);
      this.mtipLevel[h] = false;
      this.mtipLines[h]!.set(false);
    }
  }

  /** The current mtime in ticks (exact below 2^53, about 28 years at 10 MHz). */
  mtime(): number {
    const t = this.clock.now() + this.timeOffset;
    // Priv. spec 3.2.1: mtime is a 64-bit counter; one written near its top wraps to zero.
    return t >= TWO_64 ? t % TWO_64 : t;
  }

  /**
   * Re-evaluates MTIP for every hart against the advancing mtime; the board calls it between run
   * slices. When mtime wrapped since the last call, a compare value it passed on the way up is
   * reported for this slice, as the comparator would have raised MTIP before the wrap.
   */
  update(): void {
    const now = this.mtime();
    const wrapped = now < this.lastUpdate;
    for (let h = 0; h < this.harts; h++) {
      const cmp = this.mtimecmp(h);
      this.setMtip(h, now >= cmp || (wrapped && cmp >= this.lastUpdate));
    }
    this.lastUpdate = now;
  }

  /**
   * The earliest mtimecmp still in the future, in mtime ticks, or Infinity when no timer is
   * armed (none due within 2^53 ticks, as after reset).
   */
  nextDeadline(): number {
    const now = this.mtime();
    let next = Infinity;
    for (let h = 0; h < this.harts; h++) {
      const cmp = this.mtimecmp(h);
      // Measured from now: a guest that set mtime high arms timers beyond 2^53 that are due soon.
      if (cmp > now && cmp < next && cmp - now <= Number.MAX_SAFE_INTEGER) next = cmp;
    }
    return next;
  }

  read(offset: number, size: AccessSize): number {
    const reg = this.locate(offset, size);
    if (reg === null) return 0;
    const { kind, hart, byte } = reg;
    if (kind === 'msip') return readLane(this.msip[hart]!, 0, byte, size);
    if (kind === 'mtimecmp') return readLane(this.cmpLo[hart]!, this.cmpHi[hart]!, byte, size);
    const now = this.mtime();
    return readLane(now % TWO_32, Math.floor(now / TWO_32), byte, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const reg = this.locate(offset, size);
    if (reg === null) return;
    const { kind, hart, byte } = reg;
    if (kind === 'msip') {
      // Only bit 0 is implemented; the rest read as zero.
      const bit = writeLane(this.msip[hart]!, 0, byte, size, value)[0] & 1;
      this.msip[hart] = bit;
      this.msipLines[hart]!.set(bit === 1);
    } else if (kind === 'mtimecmp') {
      const [lo, hi] = writeLane(this.cmpLo[hart]!, this.cmpHi[hart]!, byte, size, value);
      this.cmpLo[hart] = lo;
      this.cmpHi[hart] = hi;
      // A 64-bit write arrives as low word then high word; each half takes effect at once,
      // as on hardware, so software follows the Priv. spec 3.2.1 sequence to avoid spurious interrupts.
      this.setMtip(hart, this.mtime() >= this.mtimecmp(hart));
    } else {
      const now = this.mtime();
      const [lo, hi] = writeLane(now % TWO_32, Math.floor(now / TWO_32), byte, size, value);
      this.timeOffset = hi * TWO_32 + lo - this.clock.now();
      this.lastUpdate = this.mtime(); // set, not wrapped
      this.update();
    }
  }

  /** mtime in one piece: its two halves from one reading of the clock, so a carry cannot tear them. */
  read64(offset: number): readonly [number, number] {
    if (offset !== MTIME) return [this.read(offset, 4), this.read(offset + 4, 4)];
    const now = this.mtime();
    return [now % TWO_32, Math.floor(now / TWO_32)];
  }

  /** mtime and mtimecmp in one piece: no half-written value is ever compared. */
  write64(offset: number, lo: number, hi: number): void {
    const reg = this.locate(offset, 4);
    if (reg?.kind === 'mtime') {
      this.timeOffset = (hi >>> 0) * TWO_32 + (lo >>> 0) - this.clock.now();
      this.lastUpdate = this.mtime(); // set, not wrapped
      this.update();
    } else if (reg?.kind === 'mtimecmp' && reg.byte === 0) {
      this.cmpLo[reg.hart] = lo >>> 0;
      this.cmpHi[reg.hart] = hi >>> 0;
      this.setMtip(reg.hart, this.mtime() >= this.mtimecmp(reg.hart));
    } else {
      this.write(offset, 4, lo);
      this.write(offset + 4, 4, hi);
    }
  }

  save(): ClintState {
    return {
      version: 1,
      msip: [...this.msip],
      mtimecmp: Array.from({ length: this.harts }, (_, h) => ((BigInt(this.cmpHi[h]!) << 32n) | BigInt(this.cmpLo[h]!)).toString()),
      mtime: String(this.mtime()),
    };
  }

  restore(state: ClintState): void {
    if (state.version !== 1) {
      throw new ClintError(`cannot restore CLINT state version ${String(state.version)}; this build reads version 1`);
    }
    if (state.msip.length !== this.harts || state.mtimecmp.length !== this.harts) {
      throw new ClintError(`cannot restore CLINT state for ${state.msip.length} harts into a CLINT with ${this.harts}`);
    }
    for (let h = 0; h < this.harts; h++) {
      const cmp = BigInt.asUintN(64, BigInt(state.mtimecmp[h]!));
      this.cmpLo[h] = Number(cmp & 0xffffffffn);
      this.cmpHi[h] = Number(cmp >> 32n);
      this.msip[h] = state.msip[h]! & 1;
      this.msipLines[h]!.set(this.msip[h] === 1);
    }
    this.timeOffset = Number(state.mtime) - this.clock.now();
    this.lastUpdate = this.mtime();
    this.update();
  }

  private mtimecmp(hart: number): number {
    return this.cmpHi[hart]! * TWO_32 + this.cmpLo[hart]!;
  }

  private setMtip(hart: number, level: boolean): void {
    if (this.mtipLevel[hart] !== level) {
      this.mtipLevel[hart] = level;
      this.mtipLines[hart]!.set(level);
    }
  }

  /** Which register an access hits, and at which byte within it; null for holes and accesses straddling registers. */
  private locate(offset: number, size: AccessSize): { kind: 'msip' | 'mtimecmp' | 'mtime'; hart: number; byte: number } | null {
    if (offset >= MSIP_BASE && offset < MSIP_BASE + 4 * this.harts) {
      const byte = offset & 3;
      return byte + size <= 4 ? { kind: 'msip', hart: (offset - MSIP_BASE) >> 2, byte } : null;
    }
    if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8 * this.harts) {
      const byte = offset & 7;
      return byte + size <= 8 ? { kind: 'mtimecmp', hart: (offset - MTIMECMP_BASE) >> 3, byte } : null;
    }
    if (offset >= MTIME && offset < MTIME + 8) {
      const byte = offset - MTIME;
      return byte + size <= 8 ? { kind: 'mtime', hart: 0, byte } : null;
    }
    return null;
  }
}

/** Bytes [byte, byte+size) of the 64-bit little-endian value hi:lo; accesses crossing the halves read 0. */
function readLane(lo: number, hi: number, byte: number, size: AccessSize): number {
  let word: number;
  if (byte + size <= 4) word = lo;
  else if (byte >= 4) {
    word = hi;
    byte -= 4;
  } else return 0;
  if (size === 4) return word >>> 0;
  return (word >>> (8 * byte)) & (size === 1 ? 0xff : 0xffff);
}

/** hi:lo with bytes [byte, byte+size) replaced from value; accesses crossing the halves change nothing. */
function writeLane(lo: number, hi: number, byte: number, size: AccessSize, value: number): [number, number] {
  const merge = (word: number, at: number): number => {
    if (size === 4) return value >>> 0;
    const mask = (size === 1 ? 0xff : 0xffff) << (8 * at);
    return ((word & ~mask) | ((value << (8 * at)) & mask)) >>> 0;
  };
  if (byte + size <= 4) return [merge(lo, byte), hi];
  if (byte >= 4) return [lo, merge(hi, byte - 4)];
  return [lo, hi];
}
