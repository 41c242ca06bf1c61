// The JSON messages of the migration stream (page chunks travel in the snapshot file's encoding).

import type { MachineState } from '../../machine/machine-state.js';
import type { VmDescription } from '../vm-description.js';

export const MIGRATION_PROTOCOL_VERSION = 1;

/** What a destination must know of each disk to build the board before the disks are handed over. */
export interface DiskFacts {
  size: number;
  readOnly: boolean;
  discard: boolean;
  writeZeroes: boolean;
}

export interface HelloMessage {
  version: number;
  description: VmDescription;
  ramSize: number;
  disks: DiskFacts[];
}

export interface FinalMessage {
  state: MachineState;
  /** The description at the handover (disk paths may have moved to overlays since the hello). */
  description: VmDescription;
}

/** Checks a hello from an untrusted peer; returns why it is unusable, or null. */
export function helloProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'the hello is not an object';
  const hello = value as Partial<HelloMessage>;
  if (hello.version !== MIGRATION_PROTOCOL_VERSION) return `the source speaks migration protocol ${String(hello.version)}, this build ${MIGRATION_PROTOCOL_VERSION}`;
  if (!Array.isArray(hello.disks) || !hello.disks.every((d) => Number.isSafeInteger(d?.size) && d.size >= 0 && d.size % 512 === 0 && typeof d.readOnly === 'boolean')) {
    return 'the disk facts are malformed';
  }
  if (!Number.isSafeInteger(hello.ramSize)) return 'the RAM size is malformed';
  return null;
}
