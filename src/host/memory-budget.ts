// The host memory VMs may take: each VM is charged its guest RAM plus its process's own heap and
// code, and a VM is refused when the VMs started would pass the budget.

import { totalmem } from 'node:os';

/** Code, WebAssembly tiers and buffers of a `vireo run` process beyond its guest RAM and heap. */
const PROCESS_OVERHEAD_MIB = 96;

/** The V8 old-space limit given to a VM's process: the board's state and caches, not guest RAM (an ArrayBuffer outside the heap). */
export function heapLimitMiB(ramMiB: number): number {
  return 256 + Math.ceil(ramMiB / 8);
}

/** What starting a VM of `ramMiB` is charged against the budget. */
export function chargeMiB(ramMiB: number): number {
  return ramMiB + heapLimitMiB(ramMiB) + PROCESS_OVERHEAD_MIB;
}

/** The default budget: physical RAM less a reserve for the host (10%, at least 1 GiB). */
export function defaultBudgetMiB(totalBytes = totalmem()): number {
  const total = Math.floor(totalBytes / (1024 * 1024));
  return Math.max(0, total - Math.max(1024, Math.ceil(total / 10)));
}
