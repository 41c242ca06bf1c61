// A disk still held by the migration source: the destination's board is built around it (its
// size and abilities decide the virtio-blk features the guest already negotiated), and the real
// image replaces it at the handover, before the guest runs here. Nothing may reach it meanwhile.

import { BlockBackendError } from '../../storage/block-backend.js';
import type { DiskFormat, DiskImage } from '../../storage/disk-image.js';
import type { DiskFacts } from './migration-protocol.js';

export function awaitedDisk(path: string, format: DiskFormat, facts: DiskFacts): DiskImage {
  const refuse = async (): Promise<never> => {
    throw new BlockBackendError('closed', `${path} is still held by the migration source`, { path });
  };
  return {
    path,
    format,
    size: facts.size,
    readOnly: facts.readOnly,
    read: refuse,
    write: refuse,
    flush: refuse,
    ...(facts.discard ? { discard: refuse } : {}),
    ...(facts.writeZeroes ? { writeZeroes: refuse } : {}),
    close: async () => {},
  };
}
