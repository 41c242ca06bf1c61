// Bounded, read-only access to a disk image (or one partition of it) for the boot probe. Every
// read is checked against the window it may touch, and all readers of one probe share a budget,
// so a hostile image that sends a reader in circles ends in a ProbeError, never a hang.

import type { BlockBackend } from '../block-backend.js';
import { ProbeError, type ProbeErrorKind } from './probe-error.js';

/** What one probe may read in all: far more than any real boot partition needs. */
export interface ReadBudget {
  bytes: number;
  reads: number;
}

export const DEFAULT_READ_BUDGET: Readonly<ReadBudget> = { bytes: 256 * 1024 * 1024, reads: 200_000 };

/** The largest single read a structure may ask for (an ext4 block or a FAT cluster is far smaller). */
const MAX_READ = 4 * 1024 * 1024;

export interface DiskReaderOptions {
  /** The image's name in messages. */
  name: string;
  budget?: ReadBudget;
}

export class DiskReader {
  private constructor(
    private readonly backend: BlockBackend,
    readonly name: string,
    /** Where this window starts on the disk, in bytes. */
    readonly base: number,
    /** The window's length in bytes. */
    readonly size: number,
    private readonly budget: ReadBudget,
    /** What a read outside the window means. */
    private readonly fault: ProbeErrorKind,
    /** The partition this window is, if any. */
    readonly partition: number | undefined,
  ) {}

  /** The whole disk; structures read through it are partition tables. */
  static forDisk(backend: BlockBackend, options: DiskReaderOptions): DiskReader {
    return new DiskReader(backend, options.name, 0, backend.size, options.budget ?? { ...DEFAULT_READ_BUDGET }, 'bad-partition-table', undefined);
  }

  /** Partition `number` at [offset, offset + size) of this window; structures read through it are a file system's. */
  partitionWindow(number: number, offset: number, size: number): DiskReader {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > this.size) {
      throw this.error(`partition ${number} (${size} bytes at offset ${offset}) does not fit on the ${this.size}-byte disk`, offset);
    }
    return new DiskReader(this.backend, this.name, this.base + offset, size, this.budget, 'bad-file-system', number);
  }

  /** The `length` bytes at `offset` of this window. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || length > MAX_READ || offset + length > this.size) {
      const why = length > MAX_READ ? `more than any such structure holds` : `outside the ${this.size}-byte ${this.partition === undefined ? 'disk' : 'partition'}`;
      throw this.error(`a structure points at ${length} bytes at offset ${offset}, ${why}`, offset);
    }
    this.budget.bytes -= length;
    this.budget.reads -= 1;
    if (this.budget.bytes < 0 || this.budget.reads < 0) {
      throw new ProbeError('too-much-work', `probing ${this.name} read more than ${DEFAULT_READ_BUDGET.bytes / (1024 * 1024)} MiB or ${DEFAULT_READ_BUDGET.reads} blocks without an answer: its structures are corrupt or loop`, this.context(offset));
    }
    const bytes = new Uint8Array(length);
    await this.backend.read(this.base + offset, bytes);
    return bytes;
  }

  /** A ProbeError of this window's kind (partition table or file system) at `offset`, or of `kind`. */
  error(message: string, offset?: number, kind: ProbeErrorKind = this.fault): ProbeError {
    const where = this.partition === undefined ? this.name : `partition ${this.partition} of ${this.name}`;
    return new ProbeError(kind, `${where}: ${message}`, this.context(offset));
  }

  private context(offset: number | undefined): { disk: string; partition?: number; offset?: number } {
    return { disk: this.name, ...(this.partition !== undefined ? { partition: this.partition } : {}), ...(offset !== undefined ? { offset: this.base + offset } : {}) };
  }
}
