// The board's timebase: mtime ticks derived from the host's monotonic clock, so guest time
// tracks wall time whether the hart is busy or asleep in WFI. It stands still while the VM is
// paused: a guest never sees the time it spent paused or saved.

import type { TickClock } from '../devices/mmio-device.js';

/** Default ticks per second of mtime and the time CSR (the device tree's timebase-frequency). */
export const TIMEBASE_HZ = 10_000_000;

export class VirtualClockError extends Error {
  readonly kind = 'virtual-clock';
}

export class VirtualClock implements TickClock {
  readonly frequency: number;
  private readonly hostMs: () => number;
  private startMs: number;
  /** Host time when the clock was paused, or null while it runs. */
  private pausedAtMs: number | null = null;

  /** `hostMs` is a monotonic millisecond clock (tests pass a fake one); `frequency` in Hz. */
  constructor(hostMs: () => number = () => performance.now(), frequency = TIMEBASE_HZ) {
    if (!Number.isInteger(frequency) || frequency < 1000 || frequency > 1_000_000_000) {
      throw new VirtualClockError(`timebase ${frequency} Hz is out of range; use a whole number from 1 kHz to 1 GHz`);
    }
    this.hostMs = hostMs;
    this.startMs = hostMs();
    this.frequency = frequency;
  }

  /** Whole ticks the clock has run since it was created. */
  now(): number {
    return Math.floor((((this.pausedAtMs ?? this.hostMs()) - this.startMs) * this.frequency) / 1000);
  }

  /** Stops the clock (the VM is paused); now() keeps its value until resume(). */
  pause(): void {
    this.pausedAtMs ??= this.hostMs();
  }

  resume(): void {
    if (this.pausedAtMs === null) return;
    this.startMs += this.hostMs() - this.pausedAtMs;
    this.pausedAtMs = null;
  }

  /** How many host milliseconds `ticks` timebase ticks last. */
  ticksToMs(ticks: number): number {
    return (ticks * 1000) / this.frequency;
  }
}
