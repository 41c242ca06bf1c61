// The board's timebase: mtime ticks derived from the host's monotonic clock, so guest time
// tracks wall time whether the hart is busy or asleep in WFI.

import type { TickClock } from '../devices/mmio-device.js';

/** Ticks per second of mtime and the time CSR (the device tree's timebase-frequency). */
export const TIMEBASE_HZ = 10_000_000;

export class VirtualClock implements TickClock {
  readonly frequency = TIMEBASE_HZ;
  private readonly hostMs: () => number;
  private readonly startMs: number;

  /** `hostMs` is a monotonic millisecond clock; tests pass a fake one. */
  constructor(hostMs: () => number = () => performance.now()) {
    this.hostMs = hostMs;
    this.startMs = hostMs();
  }

  /** Whole ticks since the clock was created. */
  now(): number {
    return Math.floor(((this.hostMs() - this.startMs) * this.frequency) / 1000);
  }

  /** How many host milliseconds `ticks` timebase ticks last. */
  ticksToMs(ticks: number): number {
    return (ticks * 1000) / this.frequency;
  }
}
