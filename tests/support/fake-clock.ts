// A clock for code that takes `{ now(), sleep(ms) }` or `{ now(), setTimeout, clearTimeout }`:
// time moves only when a test advances it, so rate limits and timeouts are tested exactly and without waiting.

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Lets every pending promise callback run (setImmediate comes after all microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock {
  private time = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** As the global setTimeout: `fn` runs once `ms` have passed, unless cleared first. */
  setTimeout(fn: () => void, ms: number): object {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve: fn };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Sleeps not yet over. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its own time, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.timers.reduce<Timer | null>((a, t) => (a === null || t.at < a.at || (t.at === a.at && t.seq < a.seq) ? t : a), null);
      if (next === null || next.at > end) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.at);
      next.resolve();
    }
    this.time = end;
    await settle();
  }
}
