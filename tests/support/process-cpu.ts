// A process's CPU use read from /proc (user + system time), for tests and benchmarks that
// measure a VM process from outside, as the host sees it.

import { readFileSync } from 'node:fs';

/** Seconds of CPU process `pid` has used (all its threads). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: state.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  // Linux reports them in USER_HZ, which is 100 on every architecture.
  return ticks / 100;
}

/** Percent of one core `pid` used over the next `ms`. */
export async function measureCpuPercent(pid: number, ms: number): Promise<number> {
  const before = processCpuSeconds(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((processCpuSeconds(pid) - before) * 100_000) / (performance.now() - started);
}
