// A 9P2000.L file server over a HostShare: one session (msize, fids) answering T-messages with
// R-messages. Transport-free: the virtio device hands it a copied message and the room its chain
// has for the reply. Every failure, a hostile message included, becomes Rlerror with a Linux errno.
//
// Decisions the protocol leaves to the server:
// - Every guest user acts as the host process's user. Tsetattr's uid/gid (and the gid of new
//   files) are applied only when the host process runs as root, and silently ignored otherwise.
// - Tlock always grants and Tgetlock always answers "unlocked": locks are the guest kernel's own,
//   not shared with other VMs or host processes.
// - No extended attributes: Txattrwalk and Txattrcreate answer EOPNOTSUPP.
// - Tmknod makes regular files only; device nodes, FIFOs and sockets are refused with EPERM.
// - The set-user-ID and set-group-ID bits are dropped from every mode the guest sets, so a guest
//   cannot plant a set-user-ID program on the host (which matters when the host runs as root).

import { constants as fsc, type BigIntStats } from 'node:fs';
import { DirCursor } from './dir-cursor.js';
import { DirectoryRequests, MODE_BITS } from './directory-requests.js';
import { Errno, errnoOf, NinePError } from './errno.js';
import { FidTable, type Fid, type OpenFid } from './fid-table.js';
import { checkName, type HostShare } from './host-share.js';
import { lerror, NinePReader, NinePType as T, NinePWriter, QidType, type Qid } from './messages.js';
import { qidOf, type StatLike } from './qid.js';
import type { VirtioNinePFidState } from './state.js';

/** 9P2000.L open flags (Tlopen, Tlcreate): Linux's generic O_* values. */
export const DotlOpen = {
  ACCMODE: 3,
  WRONLY: 1,
  RDWR: 2,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DSYNC: 0o10000,
  SYNC: 0o4000000,
} as const;

/** Tsetattr valid bits. */
export const SetattrValid = { MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 0x10, MTIME: 0x20, CTIME: 0x40, ATIME_SET: 0x80, MTIME_SET: 0x100 } as const;

/** Rgetattr valid mask: the basic fields (mode through blocks, 9P2000.L P9_GETATTR_BASIC). */
const GETATTR_BASIC = 0x7ffn;
const MAX_WALK_NAMES = 16;
/** Deepest path a fid may name (each request resolves its path one name at a time). */
const MAX_DEPTH = 1024;
const LOCK_SUCCESS = 0;
const LOCK_TYPE_UNLCK = 2;

export interface NinePServerOptions {
  share: HostShare;
  /** Largest msize the server agrees to. */
  maxMsize: number;
  /** Most fids one session may hold (more: EMFILE). */
  maxFids: number;
}

function hostOpenFlags(flags: number): number {
  const access = flags & DotlOpen.ACCMODE;
  if (access === 3) throw new NinePError(Errno.EINVAL, 'open access mode 3 is not valid');
  let host = access === DotlOpen.WRONLY ? fsc.O_WRONLY : access === DotlOpen.RDWR ? fsc.O_RDWR : fsc.O_RDONLY;
  if (flags & DotlOpen.TRUNC) host |= fsc.O_TRUNC;
  if (flags & DotlOpen.APPEND) host |= fsc.O_APPEND;
  if (flags & DotlOpen.DSYNC) host |= fsc.O_DSYNC;
  if (flags & DotlOpen.SYNC) host |= fsc.O_SYNC;
  return host;
}

function opensForWriting(flags: number): boolean {
  return (flags & DotlOpen.ACCMODE) !== 0 || (flags & DotlOpen.TRUNC) !== 0;
}

/** A u64 file offset as a number; EINVAL past 2^53 (no host file gets that large). */
function offsetOf(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new NinePError(Errno.EINVAL, `offset ${value} is too large`);
  return Number(value);
}


export class NinePServer {
  readonly maxMsize: number;
  /** The negotiated msize: the largest message either side sends. */
  msize: number;
  private fids: FidTable;
  private readonly share: HostShare;
  private readonly asRoot = process.getuid?.() === 0;
  private readonly directories: DirectoryRequests;

  constructor(options: NinePServerOptions) {
    this.share = options.share;
    this.maxMsize = options.maxMsize;
    this.msize = options.maxMsize;
    this.fids = new FidTable(options.maxFids);
    this.directories = new DirectoryRequests(this.share, (stats) => this.qid(stats), this.asRoot);
  }

  /**
   * Ends the session: every fid is clunked. The returned promise settles when the descriptors of
   * fids no request uses are closed (the others close when their requests finish).
   */
  reset(): Promise<void> {
    this.msize = this.maxMsize;
    const old = this.fids;
    this.fids = new FidTable(old.maxFids);
    return old.clear();
  }

  /** The session for save(): msize and every fid (callers drain requests first). */
  snapshot(): { msize: number; fids: VirtioNinePFidState[] } {
    const fids = [...this.fids.all()].map((fid) => ({ fid: fid.id, path: [...fid.path], qidType: fid.qidType, openFlags: fid.open?.flags ?? null }));
    return { msize: this.msize, fids };
  }

  /** Replaces the session with a saved one; open fids reopen their files when next used. */
  restoreSession(msize: number, fids: readonly VirtioNinePFidState[]): void {
    void this.reset();
    this.msize = msize;
    for (const saved of fids) {
      for (const name of saved.path) checkName(name);
      const fid = this.fids.add(saved.fid, [...saved.path], saved.qidType);
      if (saved.openFlags !== null) fid.open = { flags: saved.openFlags, handle: null, cursor: null };
    }
  }

  /** The R-message for `message` (a whole T-message, header checked by the caller), at most `room` bytes but for Rlerror. */
  async handle(message: Uint8Array, room: number): Promise<Uint8Array> {
    const type = message[4]!;
    const tag = message[5]! | (message[6]! << 8);
    try {
      const w = new NinePWriter(Math.min(room, this.msize));
      // The session's fid table as the request started: a Tversion or reset meanwhile replaces
      // it, and the request's late effects (a fid added by a walk) land in the dead table.
      await this.dispatch(type, new NinePReader(message), w, this.fids);
      return w.finish(type + 1, tag);
    } catch (error) {
      return lerror(tag, errnoOf(error));
    }
  }

  private async dispatch(type: number, r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    switch (type) {
      case T.TVERSION: return this.version(r, w);
      case T.TATTACH: return this.attach(r, w, fids);
      case T.TWALK: return this.walk(r, w, fids);
      case T.TCLUNK: return fids.clunk(r.u32());
      case T.TREMOVE: return this.directories.remove(r, fids);
      case T.TLOPEN: return this.lopen(r, w, fids);
      case T.TLCREATE: return this.lcreate(r, w, fids);
      case T.TREAD: return this.read(r, w, fids);
      case T.TWRITE: return this.write(r, w, fids);
      case T.TREADDIR: return this.readdir(r, w, fids);
      case T.TGETATTR: return this.getattr(r, w, fids);
      case T.TSETATTR: return this.setattr(r, fids);
      case T.TMKDIR: return this.directories.mkdir(r, w, fids);
      case T.TSYMLINK: return this.directories.symlink(r, w, fids);
      case T.TMKNOD: return this.directories.mknod(r, w, fids);
      case T.TREADLINK: return fids.use(r.u32(), async (fid) => void w.str(await this.share.readlink(fid.path)));
      case T.TLINK: return this.directories.link(r, fids);
      case T.TRENAME: return this.directories.rename(r, fids);
      case T.TRENAMEAT: return this.directories.renameat(r, fids);
      case T.TUNLINKAT: return this.directories.unlinkat(r, fids);
      case T.TSTATFS: return this.statfs(r, w, fids);
      case T.TFSYNC: return this.fsync(r, fids);
      case T.TLOCK: return fids.use(r.u32(), async () => void w.u8(LOCK_SUCCESS));
      case T.TGETLOCK: return this.getlock(r, w, fids);
      case T.TFLUSH: return; // the device answers Rflush once the flushed request is done
      default:
        throw new NinePError(Errno.EOPNOTSUPP, `9P message type ${type} is not supported`);
    }
  }

  private qid(stats: StatLike): Qid {
    return qidOf(stats, this.share.rootDev);
  }

  private version(r: NinePReader, w: NinePWriter): void {
    const msize = r.u32();
    const version = r.str();
    void this.reset();
    if (msize < 4096) throw new NinePError(Errno.EINVAL, `msize ${msize} is below the 4096 bytes this server needs`);
    this.msize = Math.min(msize, this.maxMsize);
    w.u32(this.msize).str(version.startsWith('9P2000.L') ? '9P2000.L' : 'unknown');
  }

  private async attach(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    r.u32(); // afid: no authentication
    r.str(); // uname
    const aname = r.str();
    if (aname !== '' && aname !== '/') throw new NinePError(Errno.ENOENT, `attach name "${aname}": only the share's root can be attached`);
    const stats = await this.share.stat([]);
    fids.add(id, [], QidType.DIR);
    w.qid(this.qid(stats));
  }

  private async walk(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const newId = r.u32();
    const count = r.u16();
    if (count > MAX_WALK_NAMES) throw new NinePError(Errno.EINVAL, `a walk of ${count} names (at most ${MAX_WALK_NAMES})`);
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(r.str());
    await fids.use(id, async (fid) => {
      if (newId !== id && fids.has(newId)) throw new NinePError(Errno.EBADF, `fid ${newId} is already in use`);
      if (newId === id && fid.open !== null && count > 0) throw new NinePError(Errno.EINVAL, 'an open fid cannot walk');
      const path = [...fid.path];
      let type = fid.qidType;
      const qids = [];
      for (const [i, name] of names.entries()) {
        try {
          if (type !== QidType.DIR) throw new NinePError(Errno.ENOTDIR, 'walk through a non-directory');
          // ".." at the root stays there, like a chroot; it never reaches the host's "..".
          if (name === '..') path.pop();
          else if (name !== '.') {
            checkName(name);
            if (path.length >= MAX_DEPTH) throw new NinePError(Errno.ENAMETOOLONG, `paths deeper than ${MAX_DEPTH} names are not served`);
            path.push(name);
          }
          const qid = this.qid(await this.share.stat(path));
          qids.push(qid);
          type = qid.type;
        } catch (error) {
          if (i === 0) throw error;
          break;
        }
      }
      if (qids.length === count) {
        if (newId === id) {
          fid.path = path;
          fid.qidType = type;
        } else fids.add(newId, path, type);
      }
      w.u16(qids.length);
      for (const qid of qids) w.qid(qid);
    });
  }

  /** The fid's open state, reopening the host file after a restore. */
  private async opened(fid: Fid): Promise<OpenFid> {
    const open = fid.open;
    if (open === null) throw new NinePError(Errno.EBADF, `fid ${fid.id} is not open`);
    if (open.handle === null) {
      const directory = fid.qidType === QidType.DIR;
      const handle = await this.share.open(fid.path, directory ? fsc.O_RDONLY | fsc.O_DIRECTORY : hostOpenFlags(open.flags & ~DotlOpen.TRUNC));
      if (open.handle !== null || fid.open !== open) {
        // Another request reopened it meanwhile, or the fid was clunked: keep one descriptor.
        await handle.close();
        if (fid.open !== open) throw new NinePError(Errno.EBADF, `fid ${fid.id} was clunked`);
      } else {
        open.handle = handle;
        if (directory) open.cursor = this.cursorFor(fid.path, open);
      }
    }
    return open;
  }

  private cursorFor(path: readonly string[], open: OpenFid): DirCursor {
    const parent = path.slice(0, Math.max(0, path.length - 1));
    return new DirCursor(open.handle!, () => this.share.stat(parent), this.share.rootDev);
  }

  private async lopen(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const flags = r.u32();
    await fids.use(id, async (fid) => {
      if (fid.open !== null) throw new NinePError(Errno.EINVAL, `fid ${id} is already open`);
      const directory = fid.qidType === QidType.DIR;
      if (directory && (flags & DotlOpen.ACCMODE) !== 0) throw new NinePError(Errno.EISDIR, 'a directory opens read-only');
      if (opensForWriting(flags)) this.share.checkWritable();
      const handle = await this.share.open(fid.path, directory ? fsc.O_RDONLY | fsc.O_DIRECTORY : hostOpenFlags(flags));
      if (fid.open !== null) {
        await handle.close();
        throw new NinePError(Errno.EINVAL, `fid ${id} is already open`);
      }
      const open: OpenFid = { flags, handle, cursor: null };
      if (directory) open.cursor = this.cursorFor(fid.path, open);
      fid.open = open;
      w.qid(this.qid(await handle.stat({ bigint: true }))).u32(0);
    });
  }

  private async lcreate(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const name = r.str();
    const flags = r.u32();
    const mode = r.u32();
    const gid = r.u32();
    await fids.use(id, async (fid) => {
      if (fid.open !== null) throw new NinePError(Errno.EINVAL, `fid ${id} is open; create needs an unopened directory fid`);
      if (fid.qidType !== QidType.DIR) throw new NinePError(Errno.ENOTDIR, 'create in a non-directory');
      const path = [...fid.path, name];
      const handle = await this.share.create(fid.path, name, hostOpenFlags(flags), mode & MODE_BITS);
      if (fid.open !== null) {
        await handle.close();
        throw new NinePError(Errno.EINVAL, `fid ${id} is already open`);
      }
      fid.path = path;
      fid.qidType = QidType.FILE;
      fid.open = { flags, handle, cursor: null };
      if (this.asRoot) await handle.chown(-1, gid).catch(() => {});
      w.qid(this.qid(await handle.stat({ bigint: true }))).u32(0);
    });
  }

  private async read(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const offset = offsetOf(r.u64());
    const count = r.u32();
    await fids.use(id, async (fid) => {
      const open = await this.opened(fid);
      if (open.cursor !== null) throw new NinePError(Errno.EISDIR, 'read of a directory; use readdir');
      const countAt = w.length;
      const n = Math.max(0, Math.min(count, w.room - 4));
      w.u32(0);
      const into = w.slot(n);
      const { bytesRead } = await open.handle!.read(into, 0, n, offset);
      w.shrink(n - bytesRead);
      w.setU32At(countAt, bytesRead);
    });
  }

  private async write(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const offset = offsetOf(r.u64());
    const data = r.bytes(r.u32());
    await fids.use(id, async (fid) => {
      const open = await this.opened(fid);
      if ((open.flags & DotlOpen.ACCMODE) === 0 || open.cursor !== null) throw new NinePError(Errno.EBADF, `fid ${id} is not open for writing`);
      const { bytesWritten } = await open.handle!.write(data, 0, data.length, offset);
      w.u32(bytesWritten);
    });
  }

  private async readdir(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const offset = r.u64();
    const count = r.u32();
    await fids.use(id, async (fid) => {
      const open = await this.opened(fid);
      const cursor = open.cursor;
      if (cursor === null) throw new NinePError(Errno.ENOTDIR, `fid ${id} is not an open directory`);
      const countAt = w.length;
      w.u32(0);
      const limit = Math.min(count, w.room);
      let used = 0;
      await cursor.exclusive(async () => {
        if (offset > BigInt(Number.MAX_SAFE_INTEGER) || !(await cursor.seek(Number(offset)))) return;
        for (let entry = await cursor.peek(); entry !== null; entry = await cursor.peek()) {
          const size = 13 + 8 + 1 + 2 + Buffer.byteLength(entry.name);
          if (used + size > limit) break;
          w.qid(entry.qid).u64(entry.offset).u8(entry.type).str(entry.name);
          used += size;
          cursor.advance();
        }
      });
      w.setU32At(countAt, used);
    });
  }

  private async getattr(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    await fids.use(r.u32(), async (fid) => {
      // An open file answers for itself (it may have been renamed or unlinked since).
      const handle = fid.open?.handle;
      const s: BigIntStats = handle ? await handle.stat({ bigint: true }) : await this.share.stat(fid.path);
      const ns = 1_000_000_000n;
      w.u64(GETATTR_BASIC).qid(this.qid(s)).u32(Number(s.mode)).u32(Number(s.uid)).u32(Number(s.gid));
      w.u64(s.nlink).u64(s.rdev).u64(s.size).u64(s.blksize).u64(s.blocks);
      for (const t of [s.atimeNs, s.mtimeNs, s.ctimeNs, s.birthtimeNs]) w.u64(t / ns).u64(t % ns);
      w.u64(0).u64(0); // gen, data_version
    });
  }

  private async setattr(r: NinePReader, fids: FidTable): Promise<void> {
    const id = r.u32();
    const valid = r.u32();
    const mode = r.u32();
    const uid = r.u32();
    const gid = r.u32();
    const size = r.u64();
    const atime = Number(r.u64()) + Number(r.u64()) / 1e9;
    const mtime = Number(r.u64()) + Number(r.u64()) / 1e9;
    const V = SetattrValid;
    await fids.use(id, async (fid) => {
      if ((valid & (V.MODE | V.UID | V.GID | V.SIZE | V.ATIME | V.MTIME)) === 0) return;
      this.share.checkWritable();
      if (valid & V.MODE) await this.share.chmod(fid.path, mode & MODE_BITS);
      if (valid & (V.UID | V.GID) && this.asRoot) {
        await this.share.chown(fid.path, valid & V.UID ? uid : -1, valid & V.GID ? gid : -1);
      }
      if (valid & V.SIZE) {
        const open = fid.open;
        if (open?.handle && (open.flags & DotlOpen.ACCMODE) !== 0) await open.handle.truncate(offsetOf(size));
        else await this.share.truncate(fid.path, offsetOf(size));
      }
      if (valid & (V.ATIME | V.MTIME)) {
        const now = Date.now() / 1000;
        await this.share.setTimes(fid.path, {
          atime: valid & V.ATIME ? (valid & V.ATIME_SET ? atime : now) : null,
          mtime: valid & V.MTIME ? (valid & V.MTIME_SET ? mtime : now) : null,
        });
      }
    });
  }

  private async statfs(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    await fids.use(r.u32(), async () => {
      const s = await this.share.statfs();
      w.u32(Number(BigInt.asUintN(32, s.type))).u32(Number(s.bsize));
      w.u64(s.blocks).u64(s.bfree).u64(s.bavail).u64(s.files).u64(s.ffree).u64(0).u32(255);
    });
  }

  private async fsync(r: NinePReader, fids: FidTable): Promise<void> {
    const id = r.u32();
    const datasync = r.u32();
    await fids.use(id, async (fid) => {
      const handle = (await this.opened(fid)).handle!;
      await (datasync !== 0 ? handle.datasync() : handle.sync());
    });
  }

  private async getlock(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    r.u8(); // type
    const start = r.u64();
    const length = r.u64();
    const procId = r.u32();
    const clientId = r.str();
    await fids.use(id, async () => void w.u8(LOCK_TYPE_UNLCK).u64(start).u64(length).u32(procId).str(clientId));
  }
}
