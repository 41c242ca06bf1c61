// Each VM process's CPU use as the host sees it, from /proc: the agent's slice controller reads
// it every period without waking the VM processes (asking each one over its API would cost
// every idle VM two requests a second).

import { cpuSeconds } from './process-info.js';

/** The use reported covers at least this much time, when the meter has seen the process that long. */
const WINDOW_MS = 1000;

interface Sample {
  ms: number;
  seconds: number;
}

export class ProcessCpuMeter {
  private readonly samples = new Map<string, Sample[]>();

  constructor(
    private readonly read: (pid: number) => Promise<number | null> = cpuSeconds,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Percent of one core process `pid` (known as `key`) used over about the last second; null
   * on its first reading (nothing to compare with yet) or when /proc cannot tell.
   */
  async usedPercent(key: string, pid: number): Promise<number | null> {
    const seconds = await this.read(pid);
    if (seconds === null) {
      this.samples.delete(key);
      return null;
    }
    const ms = this.now();
    const list = this.samples.get(key) ?? [];
    list.push({ ms, seconds });
    // Keep the oldest sample at least a window old, so the use spans a whole window.
    while (list.length > 2 && ms - list[1]!.ms >= WINDOW_MS) list.shift();
    this.samples.set(key, list);
    const first = list[0]!;
    if (list.length < 2 || ms <= first.ms) return null;
    return Math.round(((seconds - first.seconds) * 100_000 / (ms - first.ms)) * 10) / 10;
  }

  /** Drops what is kept about `key` (its process ended). */
  forget(key: string): void {
    this.samples.delete(key);
  }

  /** Keeps only the keys in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const key of [...this.samples.keys()]) if (!live.has(key)) this.samples.delete(key);
  }
}
