// The board's timebase: mtime ticks derived from the host's monotonic clock, so guest time
// tracks wall time whether the hart is busy or asleep in WFI. It stands still while the VM is
// paused: a guest never sees the time it spent paused or saved.

import type { TickClock } from '../devices/mmio-device.js';

/** Default ticks per second of mtime and the time CSR (the device tree's timebase-frequency). */
export const TIMEBASE_HZ = 10_000_000;

export class VirtualClockError extends Error {
  readonly kind = 'virtual-clock';
}

/** Milliseconds on a clock every thread of the process reads alike (performance.now() counts from each thread's own start). */
export const processClockMs = (): number => performance.timeOrigin + performance.now();

const START_MS = 0;
/** Host time when the clock was paused, or NaN while it runs. */
const PAUSED_AT_MS = 1;

export class VirtualClock implements TickClock {
  readonly frequency: number;
  private readonly hostMs: () => number;
  /**
   * START_MS and PAUSED_AT_MS, in memory that harts on other threads can read through their
   * own VirtualClock.attach() (only this one changes them).
   */
  readonly cells: Float64Array;

  /**
   * `hostMs` is a monotonic millisecond clock (tests pass a fake one); `frequency` in Hz.
   * `shared`: keep the cells where other threads can read them (with processClockMs), or,
   * given another clock's cells, be a view of that clock.
   */
  constructor(hostMs: () => number = () => performance.now(), frequency = TIMEBASE_HZ, shared: boolean | Float64Array = false) {
    if (!Number.isInteger(frequency) || frequency < 1000 || frequency > 1_000_000_000) {
      throw new VirtualClockError(`timebase ${frequency} Hz is out of range; use a whole number from 1 kHz to 1 GHz`);
    }
    this.hostMs = hostMs;
    this.frequency = frequency;
    if (shared instanceof Float64Array) {
      this.cells = shared;
      return;
    }
    this.cells = new Float64Array(shared ? new SharedArrayBuffer(16) : new ArrayBuffer(16));
    this.cells[START_MS] = hostMs();
    this.cells[PAUSED_AT_MS] = NaN;
  }

  /** Whole ticks the clock has run since it was created. */
  now(): number {
    const pausedAt = this.cells[PAUSED_AT_MS]!;
    return Math.floor((((pausedAt === pausedAt ? pausedAt : this.hostMs()) - this.cells[START_MS]!) * this.frequency) / 1000);
  }

  /** Stops the clock (the VM is paused); now() keeps its value until resume(). */
  pause(): void {
    if (Number.isNaN(this.cells[PAUSED_AT_MS])) this.cells[PAUSED_AT_MS] = this.hostMs();
  }

  resume(): void {
    const pausedAt = this.cells[PAUSED_AT_MS]!;
    if (Number.isNaN(pausedAt)) return;
    this.cells[START_MS] = this.cells[START_MS]! + this.hostMs() - pausedAt;
    this.cells[PAUSED_AT_MS] = NaN;
  }

  /** How many host milliseconds `ticks` timebase ticks last. */
  ticksToMs(ticks: number): number {
    return (ticks * 1000) / this.frequency;
  }
}
