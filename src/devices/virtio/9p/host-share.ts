// The host directory a 9P device shares, and every host file operation it makes, confined to it.
// Paths are lists of names below the root. They are resolved one name at a time from a freshly
// opened root, each name opened relative to its parent's descriptor (/proc/self/fd/N/name, the
// openat of Node) with O_NOFOLLOW, so a symlink is never followed on the host, however it got
// there (the guest, another VM sharing the directory, a race). Each descriptor opened is then
// checked to really lie inside the root (readlink of /proc/self/fd/N). Linux hosts only.

import { constants as fsc, existsSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Errno, NinePError } from './errno.js';

/** Linux O_PATH (the same on x86-64, arm64 and riscv64; Node does not export it). */
export const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_CREAT, O_EXCL } = fsc;

/** Longest name the share accepts (Linux NAME_MAX). */
export const NAME_MAX = 255;

/** Refuses a guest name that is not one plain directory entry: empty, '.', '..', with '/' or NUL, or too long. */
export function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..') throw new NinePError(Errno.EINVAL, `"${name}" is not a file name`);
  if (name.includes('/') || name.includes('\0')) throw new NinePError(Errno.EINVAL, 'a file name holds "/" or NUL');
  if (Buffer.byteLength(name) > NAME_MAX) throw new NinePError(Errno.ENAMETOOLONG, `a file name is longer than ${NAME_MAX} bytes`);
}

/** The parent of `path` and its last name; the root has neither. */
export function splitPath(path: readonly string[]): { dir: readonly string[]; name: string } {
  const name = path.at(-1);
  if (name === undefined) throw new NinePError(Errno.EBUSY, 'the operation does not apply to the root of the share');
  return { dir: path.slice(0, -1), name };
}

function procPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

export interface ShareTimes {
  /** Seconds since the epoch (fractional), or null to keep the current value. */
  atime: number | null;
  mtime: number | null;
}

export class HostShare {
  /** The root's real path (symlinks resolved once, when the share is set up). */
  readonly root: string;
  readonly readOnly: boolean;
  /** The root's device number (qids use inode numbers as they are on it). */
  readonly rootDev: bigint;

  constructor(root: string, readOnly: boolean) {
    if (!existsSync('/proc/self/fd')) throw new NinePError(Errno.ENOSYS, 'sharing a directory needs a Linux host with /proc mounted');
    let real: string;
    let dev: bigint;
    try {
      real = realpathSync(root);
      const stats = statSync(real, { bigint: true });
      dev = stats.dev;
      if (!stats.isDirectory()) throw new NinePError(Errno.ENOTDIR, `${root} is not a directory`);
    } catch (cause) {
      if (cause instanceof NinePError) throw new NinePError(cause.errno, `cannot share ${root}: it is not a directory; give a directory to share`);
      throw new NinePError(Errno.ENOENT, `cannot share ${root}: ${(cause as Error).message}; give an existing directory`, { cause });
    }
    this.root = real;
    this.rootDev = dev;
    this.readOnly = readOnly;
  }

  /** Throws EROFS on a read-only share. */
  checkWritable(): void {
    if (this.readOnly) throw new NinePError(Errno.EROFS, 'the share is read-only');
  }

  /**
   * Opens `path` with `flags` (O_NOFOLLOW is always added): every name but the last must be a
   * directory that is not a symlink. The caller closes the handle.
   */
  async open(path: readonly string[], flags: number, mode?: number): Promise<FileHandle> {
    for (const name of path) checkName(name);
    let handle = await fs.open(this.root, O_PATH | O_DIRECTORY);
    try {
      await this.verify(handle);
      for (let i = 0; i < path.length; i++) {
        const last = i === path.length - 1;
        const next = await fs.open(`${procPath(handle)}/${path[i]!}`, last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW, mode);
        await handle.close();
        handle = next;
      }
      if (path.length === 0 && flags !== (O_PATH | O_DIRECTORY)) {
        // The root itself with other flags: reopen the descriptor we hold (not the path again).
        const next = await fs.open(procPath(handle), flags & ~O_NOFOLLOW);
        await handle.close();
        handle = next;
      }
      await this.verify(handle);
      return handle;
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  }

  /** Fails unless the file behind `handle` lies inside the root (it may have been moved out by someone else). */
  private async verify(handle: FileHandle): Promise<void> {
    const real = await fs.readlink(procPath(handle));
    const inside = real === this.root || real.startsWith(this.root === '/' ? '/' : `${this.root}/`);
    if (!inside) throw new NinePError(Errno.EACCES, `a path of the share resolved to ${real}, outside ${this.root}`);
  }

  /** Runs `fn` with a /proc path naming the node at `path` itself (not following it if it is a symlink). */
  async withNode<T>(path: readonly string[], fn: (node: string, handle: FileHandle) => Promise<T>): Promise<T> {
    const handle = await this.open(path, O_PATH);
    try {
      return await fn(procPath(handle), handle);
    } finally {
      await handle.close();
    }
  }

  /** Runs `fn` with a path naming entry `name` of directory `dir`: the last name is looked up by the call itself. */
  async withEntry<T>(dir: readonly string[], name: string, fn: (entry: string) => Promise<T>): Promise<T> {
    checkName(name);
    const handle = await this.open(dir, O_PATH | O_DIRECTORY);
    try {
      return await fn(`${procPath(handle)}/${name}`);
    } finally {
      await handle.close();
    }
  }

  async stat(path: readonly string[]): Promise<BigIntStats> {
    return this.withNode(path, (_node, handle) => handle.stat({ bigint: true }));
  }

  /** Creates and opens a new regular file (never an existing one, never through a symlink) with exactly `mode` (the guest applied its umask; the host's does not apply). */
  async create(dir: readonly string[], name: string, flags: number, mode: number): Promise<FileHandle> {
    this.checkWritable();
    return this.withEntry(dir, name, async (entry) => {
      const handle = await fs.open(entry, flags | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        await this.verify(handle);
        await handle.chmod(mode);
        return handle;
      } catch (error) {
        await handle.close();
        throw error;
      }
    });
  }

  /** A new directory with exactly `mode`, as create(). */
  async mkdir(dir: readonly string[], name: string, mode: number): Promise<void> {
    this.checkWritable();
    await this.withEntry(dir, name, (entry) => fs.mkdir(entry, { mode }));
    await this.chmod([...dir, name], mode);
  }

  /** Stores `target` as the link text; the host never follows it (the guest resolves it). */
  async symlink(dir: readonly string[], name: string, target: string): Promise<void> {
    this.checkWritable();
    await this.withEntry(dir, name, (entry) => fs.symlink(target, entry));
  }

  async readlink(path: readonly string[]): Promise<Buffer> {
    const { dir, name } = splitPath(path);
    return this.withEntry(dir, name, (entry) => fs.readlink(entry, { encoding: 'buffer' }));
  }

  async unlink(dir: readonly string[], name: string, directory: boolean): Promise<void> {
    this.checkWritable();
    await this.withEntry(dir, name, (entry) => (directory ? fs.rmdir(entry) : fs.unlink(entry)));
  }

  async rename(fromDir: readonly string[], fromName: string, toDir: readonly string[], toName: string): Promise<void> {
    this.checkWritable();
    await this.withEntry(fromDir, fromName, (from) => this.withEntry(toDir, toName, (to) => fs.rename(from, to)));
  }

  /** A hard link to the node at `target` (link(2) does not follow a symlink on Linux: the link itself is linked). */
  async link(target: readonly string[], dir: readonly string[], name: string): Promise<void> {
    this.checkWritable();
    const source = splitPath(target);
    await this.withEntry(source.dir, source.name, (from) => this.withEntry(dir, name, (to) => fs.link(from, to)));
  }

  /** chmod through the descriptor (on a symlink the host answers EOPNOTSUPP). */
  async chmod(path: readonly string[], mode: number): Promise<void> {
    this.checkWritable();
    await this.withNode(path, (node) => fs.chmod(node, mode));
  }

  /** chown of the node itself, never of what a symlink points at. */
  async chown(path: readonly string[], uid: number, gid: number): Promise<void> {
    this.checkWritable();
    await this.withNode(path, (node) => fs.chown(node, uid, gid));
  }

  async truncate(path: readonly string[], size: number): Promise<void> {
    this.checkWritable();
    await this.withNode(path, async (node, handle) => {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new NinePError(Errno.EISDIR, 'cannot truncate a directory');
      if (!stats.isFile()) throw new NinePError(Errno.EINVAL, 'only regular files can be truncated');
      await fs.truncate(node, size);
    });
  }

  async setTimes(path: readonly string[], times: ShareTimes): Promise<void> {
    this.checkWritable();
    await this.withNode(path, async (node, handle) => {
      const stats = await handle.stat();
      const atime = times.atime ?? stats.atimeMs / 1000;
      const mtime = times.mtime ?? stats.mtimeMs / 1000;
      if (stats.isSymbolicLink()) {
        const { dir, name } = splitPath(path);
        await this.withEntry(dir, name, (entry) => fs.lutimes(entry, atime, mtime));
      } else await fs.utimes(node, atime, mtime);
    });
  }

  async statfs(): Promise<{ type: bigint; bsize: bigint; blocks: bigint; bfree: bigint; bavail: bigint; files: bigint; ffree: bigint }> {
    return fs.statfs(this.root, { bigint: true });
  }
}
