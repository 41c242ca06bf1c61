// The Goldfish RTC ("google,goldfish-rtc"), as Linux's rtc-goldfish driver uses it: a 64-bit
// count of nanoseconds since the Unix epoch with one alarm. Register map from Android's goldfish
// virtual hardware notes; guest time is the host wall clock plus an offset the guest may set.

import type { AccessSize, IrqLine, MmioDevice } from './mmio-device.js';

/** Register offsets; every register is 32 bits wide. */
export const enum GoldfishRtcRegister {
  /** Read: low word of the current time; latches the high word for TIME_HIGH. Write: sets the time. */
  TIME_LOW = 0x00,
  TIME_HIGH = 0x04,
  /** Write: low word of the alarm, and arms it. */
  ALARM_LOW = 0x08,
  /** Write: high word of the alarm; it is armed by the ALARM_LOW write that follows. */
  ALARM_HIGH = 0x0c,
  IRQ_ENABLED = 0x10,
  /** Write: disarms the alarm. */
  CLEAR_ALARM = 0x14,
  /** Read: 1 while an alarm is armed. */
  ALARM_STATUS = 0x18,
  /** Write: lowers the interrupt raised by a fired alarm. */
  CLEAR_INTERRUPT = 0x1c,
}

/** The host's wall clock. */
export interface WallClock {
  /** Nanoseconds since the Unix epoch. */
  nowNs(): bigint;
}

export interface GoldfishRtcOptions {
  clock: WallClock;
  /** The alarm interrupt, level-triggered (a PLIC source on the virt board). */
  irq: IrqLine;
}

/** Named, versioned state for save/restore. 64-bit values are decimal strings (exact). */
export interface GoldfishRtcState {
  version: 1;
  /**
   * Guest time minus host wall-clock time, in ns. Kept instead of the time itself so that the
   * RTC goes on telling the time while a snapshot sits on disk, as a battery-backed RTC keeps
   * running while its machine is off.
   */
  offsetNs: string;
  alarmNs: string;
  alarmArmed: boolean;
  irqEnabled: boolean;
  /** A fired alarm not yet cleared by CLEAR_INTERRUPT. */
  irqPending: boolean;
  /** The high word latched by the last TIME_LOW read (or set by a TIME_HIGH write). */
  timeHigh: number;
  /** A TIME_HIGH write is waiting for the TIME_LOW write that completes it. */
  timeHighWritten: boolean;
}

export class GoldfishRtcError extends Error {
  readonly kind = 'goldfish-rtc';
}

const LOW_MASK = 0xffffffffn;
const u64 = (value: bigint): bigint => BigInt.asUintN(64, value);
const low = (value: bigint): number => Number(value & LOW_MASK);
const high = (value: bigint): number => Number(value >> 32n);

export class GoldfishRtc implements MmioDevice {
  /** Size of the MMIO window. */
  static readonly WINDOW_SIZE = 0x1000;

  private readonly clock: WallClock;
  private readonly irq: IrqLine;
  private offsetNs = 0n;
  private alarmNs = 0n;
  private alarmArmed = false;
  private irqEnabled = false;
  private irqPending = false;
  private timeHigh = 0;
  private timeHighWritten = false;
  private irqLevel = false;

  constructor(options: GoldfishRtcOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.irq.set(false);
  }

  /** Power-on state: guest time equal to host wall-clock time, no alarm, interrupt disabled and low. */
  reset(): void {
    this.offsetNs = 0n;
    this.alarmNs = 0n;
    this.alarmArmed = false;
    this.irqEnabled = false;
    this.irqPending = false;
    this.timeHigh = 0;
    this.timeHighWritten = false;
    this.irqLevel = false;
    this.irq.set(false);
  }

  /** The guest's current time in ns since the Unix epoch, modulo 2^64. */
  nowNs(): bigint {
    return u64(this.clock.nowNs() + this.offsetNs);
  }

  /** Fires the alarm if its time has come; the board calls it between run slices. */
  update(): void {
    if (this.alarmArmed && this.nowNs() >= this.alarmNs) {
      // The alarm is one-shot: it disarms as it fires (ALARM_STATUS reads 0 again).
      this.alarmArmed = false;
      this.irqPending = true;
      this.updateIrq();
    }
  }

  /** Nanoseconds until the armed alarm fires (0 when it is due), or Infinity when none is armed. */
  nsUntilAlarm(): number {
    if (!this.alarmArmed) return Infinity;
    const now = this.nowNs();
    return this.alarmNs > now ? Number(this.alarmNs - now) : 0;
  }

  read(offset: number, size: AccessSize): number {
    // The driver uses 32-bit accesses only; anything else reads as zero.
    if (size !== 4) return 0;
    switch (offset) {
      case GoldfishRtcRegister.TIME_LOW: {
        const now = this.nowNs();
        this.timeHigh = high(now);
        return low(now);
      }
      case GoldfishRtcRegister.TIME_HIGH:
        return this.timeHigh;
      case GoldfishRtcRegister.ALARM_LOW:
        return low(this.alarmNs);
      case GoldfishRtcRegister.ALARM_HIGH:
        return high(this.alarmNs);
      case GoldfishRtcRegister.IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case GoldfishRtcRegister.ALARM_STATUS:
        return this.alarmArmed ? 1 : 0;
      default:
        return 0;
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4) return;
    const word = value >>> 0;
    switch (offset) {
      case GoldfishRtcRegister.TIME_HIGH:
        // Takes effect at once, and is remembered so that the TIME_LOW write that follows (Linux
        // writes high, then low) completes exactly this value even if the low word carried meanwhile.
        this.setTime((BigInt(word) << 32n) | BigInt(low(this.nowNs())));
        this.timeHigh = word;
        this.timeHighWritten = true;
        return;
      case GoldfishRtcRegister.TIME_LOW: {
        const hi = this.timeHighWritten ? this.timeHigh : high(this.nowNs());
        this.setTime((BigInt(hi) << 32n) | BigInt(word));
        this.timeHigh = hi;
        this.timeHighWritten = false;
        return;
      }
      case GoldfishRtcRegister.ALARM_LOW:
        this.alarmNs = (this.alarmNs & ~LOW_MASK) | BigInt(word);
        this.alarmArmed = true;
        // An alarm set in the past fires at once.
        this.update();
        return;
      case GoldfishRtcRegister.ALARM_HIGH:
        this.alarmNs = (BigInt(word) << 32n) | (this.alarmNs & LOW_MASK);
        return;
      case GoldfishRtcRegister.IRQ_ENABLED:
        this.irqEnabled = (word & 1) !== 0;
        this.updateIrq();
        return;
      case GoldfishRtcRegister.CLEAR_ALARM:
        this.alarmArmed = false;
        return;
      case GoldfishRtcRegister.CLEAR_INTERRUPT:
        this.irqPending = false;
        this.updateIrq();
        return;
      default:
        // ALARM_STATUS is read-only; the rest of the window is unimplemented.
        return;
    }
  }

  save(): GoldfishRtcState {
    return {
      version: 1,
      offsetNs: this.offsetNs.toString(),
      alarmNs: this.alarmNs.toString(),
      alarmArmed: this.alarmArmed,
      irqEnabled: this.irqEnabled,
      irqPending: this.irqPending,
      timeHigh: this.timeHigh,
      timeHighWritten: this.timeHighWritten,
    };
  }

  restore(state: GoldfishRtcState): void {
    if (state.version !== 1) {
      throw new GoldfishRtcError(`cannot restore Goldfish RTC state version ${String(state.version)}; this build reads version 1`);
    }
    let offsetNs: bigint;
    let alarmNs: bigint;
    try {
      offsetNs = BigInt(state.offsetNs);
      alarmNs = u64(BigInt(state.alarmNs));
    } catch (cause) {
      throw new GoldfishRtcError('cannot restore Goldfish RTC state: offsetNs or alarmNs is not an integer (corrupt snapshot?)', { cause });
    }
    this.offsetNs = offsetNs;
    this.alarmNs = alarmNs;
    this.alarmArmed = state.alarmArmed;
    this.irqEnabled = state.irqEnabled;
    this.irqPending = state.irqPending;
    this.timeHigh = state.timeHigh >>> 0;
    this.timeHighWritten = state.timeHighWritten;
    // Drive the line whatever it was before, then let an alarm that came due while saved fire.
    this.irqLevel = this.irqPending && this.irqEnabled;
    this.irq.set(this.irqLevel);
    this.update();
  }

  /** Sets the guest time; an armed alarm the new time has reached fires at once. */
  private setTime(timeNs: bigint): void {
    this.offsetNs = timeNs - this.clock.nowNs();
    this.update();
  }

  private updateIrq(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
