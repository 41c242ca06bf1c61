// Readings of a growing counter (CPU time), kept so that the oldest spans about one window:
// the counter's rate over about the last window, from as few readings as that takes.

export interface Reading {
  ms: number;
  value: number;
}

export class UsageWindow {
  private readonly readings: Reading[] = [];

  constructor(private readonly windowMs: number) {}

  /** Adds a reading taken at `ms`; readings older than needed to span the window go. */
  add(ms: number, value: number): void {
    this.readings.push({ ms, value });
    // Keep the oldest reading at least a window old, so the rate spans a whole window.
    while (this.readings.length > 2 && ms - this.readings[1]!.ms >= this.windowMs) this.readings.shift();
  }

  /** The oldest reading kept (undefined before the first). */
  get oldest(): Reading | undefined {
    return this.readings[0];
  }

  get size(): number {
    return this.readings.length;
  }
}
