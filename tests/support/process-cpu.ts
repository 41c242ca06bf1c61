// A process's CPU use read from /proc (user + system time), for tests and benchmarks that
// measure a VM process from outside, as the host sees it.

import { readFileSync } from 'node:fs';
import { cpuSecondsOfStat } from '../../src/host/process-info.js';

/** Seconds of CPU process `pid` has used (all its threads). */
export function processCpuSeconds(pid: number): number {
  return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Percent of one core `pid` used over the next `ms`. */
export async function measureCpuPercent(pid: number, ms: number): Promise<number> {
  const before = processCpuSeconds(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((processCpuSeconds(pid) - before) * 100_000) / (performance.now() - started);
}
