// RAM restored on demand: the guest starts at once, and a page comes in from the snapshot file
// the first time the hart or a device touches it (its whole chunk, read and decompressed on
// this thread while the guest waits), while the rest streams in behind, in the background, on
// the thread pool. A chunk is applied once: a page the guest already wrote is never overwritten.

import { RamFillError, type GuestMemory, type RamPager } from '../core/guest-memory.js';
import { applyPages } from './snapshot/page-chunk.js';
import type { LoadedChunk, SnapshotReader } from './snapshot/open-snapshot.js';

const PAGE = 4096;

export class LazyRam implements RamPager {
  /** Per RAM page: 1 while the chunk whose range holds it has not been applied. */
  private readonly pending: Uint8Array;
  private readonly applied: Uint8Array;
  private left: number;
  private readonly finished: Promise<void>;
  private finish!: () => void;
  private fail!: (e: Error) => void;
  private stopped = false;
  /** Chunks loaded by a guest's access rather than in the background. */
  faults = 0;

  constructor(private readonly reader: SnapshotReader, private readonly memory: GuestMemory) {
    this.pending = new Uint8Array(memory.ramSize / PAGE);
    this.applied = new Uint8Array(reader.chunks.length);
    for (const chunk of reader.chunks) this.pending.fill(1, chunk.firstPage, chunk.lastPage + 1);
    this.left = reader.chunks.length;
    this.finished = new Promise((resolve, reject) => ((this.finish = resolve), (this.fail = reject)));
    // A failure is reported by complete(); the guest's own faults throw where they happen.
    this.finished.catch(() => {});
    if (this.left === 0) this.finish();
    else memory.pager = this;
  }

  /** Starts streaming the chunks no access has needed yet. */
  start(): void {
    void this.stream().catch((e: Error) => this.stopWith(e));
  }

  /** Resolves once every page is in (a save or a migration needs all of RAM). */
  complete(): Promise<void> {
    return this.finished;
  }

  /** Stops the background reads (the VM ends); pages not yet read stay zero. */
  stop(): void {
    this.stopped = true;
    if (this.memory.pager === this) this.memory.pager = null;
  }

  ensure(offset: number, length: number): void {
    const first = (offset - this.memory.ramOffset) / PAGE;
    const from = Math.max(0, Math.floor(first));
    const to = Math.min(this.pending.length - 1, Math.floor((offset + Math.max(length, 1) - 1 - this.memory.ramOffset) / PAGE));
    for (let page = from; page <= to; page++) {
      if (this.pending[page] === 0) continue;
      const chunk = this.reader.findChunk(page);
      this.faults++;
      let loaded: LoadedChunk;
      try {
        loaded = this.reader.loadChunkSync(chunk);
      } catch (cause) {
        throw new RamFillError(`the guest's RAM could not be read from ${this.reader.path}: ${(cause as Error).message}`, { cause });
      }
      this.apply(chunk, loaded);
    }
  }

  private async stream(): Promise<void> {
    for (let i = 0; i < this.applied.length && !this.stopped; i++) {
      if (this.applied[i]) continue;
      const loaded = await this.reader.loadChunk(i);
      // The guest may have needed it meanwhile, and written to it since: applied once only.
      if (!this.applied[i] && !this.stopped) this.apply(i, loaded);
    }
  }

  private apply(chunk: number, loaded: LoadedChunk): void {
    const ram = this.memory.u8.subarray(this.memory.ramOffset, this.memory.ramOffset + this.memory.ramSize);
    applyPages(loaded.parsed, loaded.pages, ram);
    const entry = this.reader.chunks[chunk]!;
    this.pending.fill(0, entry.firstPage, entry.lastPage + 1);
    this.applied[chunk] = 1;
    if (--this.left === 0) {
      if (this.memory.pager === this) this.memory.pager = null;
      this.finish();
    }
  }

  private stopWith(error: Error): void {
    this.stop();
    this.fail(error);
  }
}
