// Each VM process's CPU use as the host sees it, from /proc: the agent's slice controller reads
// it every period without waking the VM processes (asking each one over its API would cost
// every idle VM two requests a second).

import { cpuSeconds } from './process-info.js';
import { UsageWindow } from '../vm/usage-window.js';

/** The use reported covers at least this much time, when the meter has seen the process that long. */
const WINDOW_MS = 1000;

export class ProcessCpuMeter {
  private readonly samples = new Map<string, UsageWindow>();

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
    let window = this.samples.get(key);
    if (window === undefined) this.samples.set(key, (window = new UsageWindow(WINDOW_MS)));
    window.add(ms, seconds);
    const first = window.oldest!;
    if (window.size < 2 || ms <= first.ms) return null;
    return Math.round(((seconds - first.value) * 100_000 / (ms - first.ms)) * 10) / 10;
  }

  /** Keeps only the keys in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const key of [...this.samples.keys()]) if (!live.has(key)) this.samples.delete(key);
  }
}
