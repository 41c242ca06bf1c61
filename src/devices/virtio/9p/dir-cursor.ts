// Reads a directory for Treaddir. An entry's offset is its position in the listing plus one
// ("." is 1, ".." 2, then the host's entries in getdents order), so the offset the guest sends
// back continues the same open stream; any other offset re-reads the directory from the start
// and skips, which finds the same entries while the directory is unchanged.

import type { Dir, Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Qid } from './messages.js';
import { qidOf, type StatLike } from './qid.js';

export interface DirEntry {
  name: string;
  qid: Qid;
  /** DT_* type (the S_IFMT bits of the mode, shifted). */
  type: number;
  /** The offset that continues after this entry. */
  offset: number;
}

export class DirCursor {
  /** Entries consumed so far (the offset of the next one). */
  private position = 0;
  private dir: Dir | null = null;
  private pending: DirEntry | null = null;
  /** Treaddirs on one fid run one after the other (a guest may send them at once). */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `handle` is the open directory (it stays open while the cursor lives); `parentStat` gives ".."
   * (the directory itself at the root of the share).
   */
  constructor(
    private readonly handle: FileHandle,
    private readonly parentStat: () => Promise<StatLike>,
    private readonly rootDev: bigint,
  ) {}

  /** Runs `fn` after every earlier exclusive() call on this cursor has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Moves to `offset`; false when the directory has fewer entries. */
  async seek(offset: number): Promise<boolean> {
    if (offset === this.position) return true;
    if (offset < this.position) await this.rewind();
    while (this.position < offset) {
      if ((await this.peek()) === null) return false;
      this.advance();
    }
    return true;
  }

  /** The entry at the current position, without consuming it; null at the end. */
  async peek(): Promise<DirEntry | null> {
    while (this.pending === null) {
      const offset = this.position + 1;
      if (this.position === 0) this.pending = this.entry('.', await this.handle.stat({ bigint: true }), offset);
      else if (this.position === 1) this.pending = this.entry('..', await this.parentStat(), offset);
      else {
        this.dir ??= await fs.opendir(`/proc/self/fd/${this.handle.fd}`);
        const dirent: Dirent | null = await this.dir.read();
        if (dirent === null) return null;
        try {
          const stats = await fs.lstat(`/proc/self/fd/${this.handle.fd}/${dirent.name}`, { bigint: true });
          this.pending = this.entry(dirent.name, stats, offset);
        } catch {
          // Removed since getdents listed it: skip it, as getdents itself would have.
          continue;
        }
      }
    }
    return this.pending;
  }

  advance(): void {
    if (this.pending === null) return;
    this.pending = null;
    this.position++;
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.rewind());
  }

  private async rewind(): Promise<void> {
    const dir = this.dir;
    this.dir = null;
    this.pending = null;
    this.position = 0;
    if (dir !== null) await dir.close().catch(() => {});
  }

  private entry(name: string, stats: StatLike, offset: number): DirEntry {
    return { name, qid: qidOf(stats, this.rootDev), type: Number((stats.mode >> 12n) & 0xfn), offset };
  }
}
