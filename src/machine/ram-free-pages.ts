// Where the balloon's free pages go on the board: out of guest RAM and back to the host, with
// the bookkeeping of a DMA write (the range now reads as zero): decoded instructions from it
// are dropped (other harts' go stale until their next FENCE.I) and migration's dirty log
// sends it again.

import type { GuestMemory } from '../core/guest-memory.js';
import { RamDiscard } from '../core/ram-discard.js';
import type { FreePageSink } from '../devices/virtio/balloon/device.js';

/**
 * A FreePageSink over `memory`. Without the native addon, or when the host refuses a discard,
 * the pages keep their bytes (which a free page may) and the reason is logged once.
 */
export function ramFreePages(memory: GuestMemory, log: (line: string) => void): FreePageSink {
  let discarder: RamDiscard | null = null;
  const giveUp = (e: unknown): void => {
    discarder = null;
    log(`virtio-balloon: free guest pages stay in host memory: ${(e as Error).message}`);
  };
  try {
    discarder = RamDiscard.load();
  } catch (e) {
    giveUp(e);
  }
  return {
    discard(paddr, length) {
      if (!Number.isSafeInteger(paddr) || !Number.isSafeInteger(length) || length < 0 || !memory.containsRam(paddr, length)) return -1;
      if (discarder === null) return 0;
      const offset = memory.ramOffset + (paddr - memory.ramBase);
      // A lazy restore fills the range first, so it cannot later bring back stale bytes.
      memory.pager?.ensure(offset, length);
      let given = 0;
      try {
        given = discarder.discard(memory.u8, offset, length);
      } catch (e) {
        giveUp(e);
        return 0;
      }
      memory.decodeCache.drop(offset, length);
      memory.dirtyLog.mark(offset, length);
      return given;
    },
  };
}
