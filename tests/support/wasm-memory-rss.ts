// How much of this process's WebAssembly memories (a VM's guest RAM and hart state) is resident,
// from /proc/self/smaps: V8 maps each memory read-write right before a guard region of several
// GiB that is never accessible, which tells those mappings from the rest of the heap.

import { readFileSync } from 'node:fs';

const GUARD_BYTES = 4n << 30n;

/** Resident bytes of every WebAssembly memory in this process. */
export function wasmMemoryRss(): number {
  const mappings = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).map((block) => {
    const [range = '', perms = ''] = block.split(' ', 2);
    const [start = 0n, end = 0n] = range.split('-').map((hex) => BigInt(`0x${hex}`));
    return { start, end, perms, rssKiB: Number(/\nRss:\s+(\d+) kB/.exec(block)?.[1] ?? 0) };
  });
  let kib = 0;
  mappings.forEach((m, i) => {
    const next = mappings[i + 1];
    if (m.perms.startsWith('rw') && next !== undefined && next.start === m.end && next.perms.startsWith('---') && next.end - next.start >= GUARD_BYTES) kib += m.rssKiB;
  });
  return kib * 1024;
}
