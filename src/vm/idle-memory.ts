// An idle VM gives back the host memory its busy time left behind: once the guest has run next
// to nothing for a few periods in a row, the translations of its busy time (a boot's worth of
// machine code and V8's metadata for it) and its decoded instructions are dropped, V8 collects
// them, and the C heap's free pages go back to the host. The code the idle guest still runs is
// decoded again, and translated again as it gets hot. Once per idle spell: the guest must get
// busy again before the next trim.

export interface IdleMemoryOptions {
  /** Instructions the guest has retired so far (all harts). */
  instructions(): number;
  /** Drops what the idle guest does not need; false when there was nothing to drop. */
  trim(): boolean;
  /** Called every period of an idle spell once it is long enough (before trim, which comes once per spell). */
  idle?(): void;
  /** Called for every period that was not idle. */
  busy?(): void;
  /** Default 10 s. */
  periodMs?: number;
  /** Periods in a row the guest must be idle (default 3). */
  idlePeriods?: number;
  /** Fewer instructions than this in a period count as idle (default 10 million: 1 MIPS). */
  idleInstructions?: number;
}

export class IdleMemory {
  /** Times the memory was trimmed. */
  trims = 0;
  private readonly periodMs: number;
  private readonly idlePeriods: number;
  private readonly idleInstructions: number;
  private last: number;
  private idleSpell = 0;
  private armed = true;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: IdleMemoryOptions) {
    this.periodMs = options.periodMs ?? 10_000;
    this.idlePeriods = options.idlePeriods ?? 3;
    this.idleInstructions = options.idleInstructions ?? 10_000_000;
    this.last = options.instructions();
  }

  /** Starts watching; the timer does not keep the process up. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One period: counts the idle spell, trims once when it is long enough. */
  tick(): void {
    const now = this.options.instructions();
    const ran = now - this.last;
    this.last = now;
    if (ran >= this.idleInstructions) {
      this.idleSpell = 0;
      this.armed = true;
      this.options.busy?.();
      return;
    }
    this.idleSpell++;
    if (this.idleSpell >= this.idlePeriods) this.options.idle?.();
    if (this.armed && this.idleSpell >= this.idlePeriods) {
      this.armed = false;
      if (this.options.trim()) this.trims++;
    }
  }
}
