// The 9P2000.L requests that change the namespace: mkdir, symlink, mknod, link, rename,
// renameat, unlinkat and remove. Names are checked and paths resolved by HostShare; after a
// rename, the fids at or below the old path are moved to the new one.

import { constants as fsc } from 'node:fs';
import { Errno, NinePError } from './errno.js';
import type { FidTable } from './fid-table.js';
import { splitPath, type HostShare } from './host-share.js';
import { QidType, type NinePReader, type NinePWriter, type Qid } from './messages.js';
import type { StatLike } from './qid.js';

/** Permission and sticky bits a guest may set: never set-user-ID or set-group-ID on the host. */
export const MODE_BITS = 0o1777;
const AT_REMOVEDIR = 0x200;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((name, i) => path[i] === name);
}

export class DirectoryRequests {
  constructor(
    private readonly share: HostShare,
    private readonly qid: (stats: StatLike) => Qid,
    /** Apply the guest's gid to new files (only a root host process can). */
    private readonly asRoot: boolean,
  ) {}

  /** Stats the new node `name` in `dir` for the reply's qid. */
  private async created(w: NinePWriter, dir: readonly string[], name: string, gid: number): Promise<void> {
    const path = [...dir, name];
    if (this.asRoot) await this.share.chown(path, -1, gid).catch(() => {});
    w.qid(this.qid(await this.share.stat(path)));
  }

  async mkdir(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const name = r.str();
    const mode = r.u32();
    const gid = r.u32();
    await fids.use(id, async (dir) => {
      await this.share.mkdir(dir.path, name, mode & MODE_BITS);
      await this.created(w, dir.path, name, gid);
    });
  }

  async symlink(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const name = r.str();
    const target = r.str();
    const gid = r.u32();
    if (target.includes('\0')) throw new NinePError(Errno.EINVAL, 'a symlink target holds NUL');
    await fids.use(id, async (dir) => {
      await this.share.symlink(dir.path, name, target);
      await this.created(w, dir.path, name, gid);
    });
  }

  async mknod(r: NinePReader, w: NinePWriter, fids: FidTable): Promise<void> {
    const id = r.u32();
    const name = r.str();
    const mode = r.u32();
    r.u32(); // major
    r.u32(); // minor
    const gid = r.u32();
    await fids.use(id, async (dir) => {
      this.share.checkWritable();
      const format = mode & S_IFMT;
      if (format !== S_IFREG && format !== 0) throw new NinePError(Errno.EPERM, 'the share holds no device nodes, FIFOs or sockets');
      await (await this.share.create(dir.path, name, fsc.O_RDONLY, mode & MODE_BITS)).close();
      await this.created(w, dir.path, name, gid);
    });
  }

  async link(r: NinePReader, fids: FidTable): Promise<void> {
    const dirId = r.u32();
    const id = r.u32();
    const name = r.str();
    await fids.useTwo(dirId, id, (dir, fid) => this.share.link(fid.path, dir.path, name));
  }

  /** After a rename, fids at or below `from` name the same files at `to`. */
  private moved(fids: FidTable, from: readonly string[], to: readonly string[]): void {
    for (const fid of fids.all()) if (startsWith(fid.path, from)) fid.path = [...to, ...fid.path.slice(from.length)];
  }

  async rename(r: NinePReader, fids: FidTable): Promise<void> {
    const id = r.u32();
    const dirId = r.u32();
    const name = r.str();
    await fids.useTwo(id, dirId, async (fid, dir) => {
      const from = fid.path;
      const source = splitPath(from);
      const to = [...dir.path, name];
      await this.share.rename(source.dir, source.name, dir.path, name);
      this.moved(fids, from, to);
    });
  }

  async renameat(r: NinePReader, fids: FidTable): Promise<void> {
    const oldDirId = r.u32();
    const oldName = r.str();
    const newDirId = r.u32();
    const newName = r.str();
    await fids.useTwo(oldDirId, newDirId, async (oldDir, newDir) => {
      const from = [...oldDir.path, oldName];
      const to = [...newDir.path, newName];
      await this.share.rename(oldDir.path, oldName, newDir.path, newName);
      this.moved(fids, from, to);
    });
  }

  async unlinkat(r: NinePReader, fids: FidTable): Promise<void> {
    const id = r.u32();
    const name = r.str();
    const flags = r.u32();
    await fids.use(id, (dir) => this.share.unlink(dir.path, name, (flags & AT_REMOVEDIR) !== 0));
  }

  /** Tremove removes the file and clunks the fid, even when the removal fails. */
  async remove(r: NinePReader, fids: FidTable): Promise<void> {
    const id = r.u32();
    try {
      await fids.use(id, async (fid) => {
        const { dir, name } = splitPath(fid.path);
        this.share.checkWritable();
        await this.share.unlink(dir, name, fid.qidType === QidType.DIR);
      });
    } finally {
      if (fids.has(id)) fids.clunk(id);
    }
  }
}
