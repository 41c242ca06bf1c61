// One token bucket: tokens flow in at `rate` per second up to `capacity`. A take may leave the
// level below zero (debt), so a request larger than the bucket still passes, and the ones
// after it wait until the debt is paid back: the long-run rate stays exact.

/** Relative slack below which a bucket counts as holding enough (float rounding after a sleep). */
const SLACK = 1e-9;

export class TokenBucket {
  private level: number;
  /** Clock time (ms) at which `level` was right. */
  private at: number;

  /** Starts full: a disk that was idle may burst. */
  constructor(
    private rate: number,
    private capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }

  /** Tokens held at `now` (negative while in debt). */
  levelAt(now: number): number {
    return Math.min(this.capacity, this.level + (this.rate * Math.max(0, now - this.at)) / 1000);
  }

  /**
   * Milliseconds from `now` until a request costing `cost` may pass: until the bucket holds
   * the cost, or is full when the cost is larger than the bucket. 0 when it may pass now.
   */
  delay(cost: number, now: number): number {
    if (cost <= 0) return 0;
    const need = Math.min(cost, this.capacity);
    const short = need - this.levelAt(now);
    return short <= SLACK * Math.max(1, need) ? 0 : (short * 1000) / this.rate;
  }

  take(cost: number, now: number): void {
    this.level = this.levelAt(now) - cost;
    this.at = now;
  }

  /** New rate and size from `now` on; tokens (or debt) held so far are kept, up to the new size. */
  retune(rate: number, capacity: number, now: number): void {
    this.level = Math.min(capacity, this.levelAt(now));
    this.at = now;
    this.rate = rate;
    this.capacity = capacity;
  }
}
