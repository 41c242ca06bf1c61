// The fids of one 9P session: what each names (a path below the share's root) and, once opened,
// its host descriptor. The table is bounded (a guest cannot make the host hold unbounded state or
// descriptors). Requests hold a reference on the fids they use, so a Tclunk, a Tversion or a
// device reset arriving meanwhile closes the descriptors only when the last such request is done.

import type { FileHandle } from 'node:fs/promises';
import type { DirCursor } from './dir-cursor.js';
import { Errno, NinePError } from './errno.js';

/** What a Tlopen/Tlcreate left open. */
export interface OpenFid {
  /** The 9P2000.L open flags, kept so a restored session can reopen the file. */
  flags: number;
  /** The host descriptor; null after a restore until the fid is used again. */
  handle: FileHandle | null;
  /** Treaddir's position, for directories. */
  cursor: DirCursor | null;
}

export interface Fid {
  readonly id: number;
  /** Names below the share's root ([] is the root). */
  path: string[];
  /** Qid type when the fid was made (QidType). */
  qidType: number;
  open: OpenFid | null;
  refs: number;
  clunked: boolean;
}

export class FidTable {
  private readonly fids = new Map<number, Fid>();

  constructor(readonly maxFids: number) {}

  get size(): number {
    return this.fids.size;
  }

  /** Every live fid (for save and for renames, which move the paths of the fids below them). */
  all(): IterableIterator<Fid> {
    return this.fids.values();
  }

  has(id: number): boolean {
    return this.fids.has(id);
  }

  /** Takes a reference on fid `id`; release() it when the request is done. */
  acquire(id: number): Fid {
    const fid = this.fids.get(id);
    if (fid === undefined) throw new NinePError(Errno.EBADF, `fid ${id} is not in use`);
    fid.refs++;
    return fid;
  }

  release(fid: Fid): void {
    fid.refs--;
    if (fid.clunked && fid.refs === 0) void closeOpen(fid);
  }

  /** Runs `fn` holding a reference on fid `id` (EBADF when unknown). */
  async use<R>(id: number, fn: (fid: Fid) => Promise<R>): Promise<R> {
    const fid = this.acquire(id);
    try {
      return await fn(fid);
    } finally {
      this.release(fid);
    }
  }

  /** Runs `fn` holding references on fids `a` and `b`. */
  async useTwo<R>(a: number, b: number, fn: (a: Fid, b: Fid) => Promise<R>): Promise<R> {
    return this.use(a, (fa) => this.use(b, (fb) => fn(fa, fb)));
  }

  /** Adds a new fid (EBADF when `id` is in use, EMFILE when the table is full). */
  add(id: number, path: string[], qidType: number): Fid {
    if (this.fids.has(id)) throw new NinePError(Errno.EBADF, `fid ${id} is already in use`);
    if (this.fids.size >= this.maxFids) throw new NinePError(Errno.EMFILE, `the session already has ${this.maxFids} fids; clunk some first`);
    const fid: Fid = { id, path, qidType, open: null, refs: 0, clunked: false };
    this.fids.set(id, fid);
    return fid;
  }

  /** Forgets fid `id`; its descriptor closes once no request uses it. EBADF when unknown. */
  clunk(id: number): void {
    const fid = this.fids.get(id);
    if (fid === undefined) throw new NinePError(Errno.EBADF, `fid ${id} is not in use`);
    void this.drop(fid);
  }

  /** Forgets every fid (Tversion, device reset); settles when the unused ones are closed. */
  async clear(): Promise<void> {
    await Promise.all([...this.fids.values()].map((fid) => this.drop(fid)));
  }

  private async drop(fid: Fid): Promise<void> {
    this.fids.delete(fid.id);
    fid.clunked = true;
    if (fid.refs === 0) await closeOpen(fid);
  }
}

async function closeOpen(fid: Fid): Promise<void> {
  const open = fid.open;
  fid.open = null;
  if (open === null) return;
  await open.cursor?.close().catch(() => {});
  await open.handle?.close().catch(() => {});
}
