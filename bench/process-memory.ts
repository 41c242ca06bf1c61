// A process's memory as the host counts it, from /proc/PID/smaps_rollup: RSS, and PSS, which
// counts pages shared between processes (the node binary of many VMs) once in all.

import { readFileSync } from 'node:fs';

/** A field of /proc/PID/smaps_rollup ('Pss', 'Rss') in bytes. */
export function memoryOf(pid: number, field: 'Pss' | 'Rss'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'mu').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
}
