// A raw disk image file or a host block device, reached through a file descriptor with positioned reads and writes
// (fs.readSync/writeSync with a position are pread/pwrite). Synchronous: the run loop is
// single-threaded and a request completes before the guest runs again.

import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { blockDeviceSize } from './block-device-size.js';
import { BlockBackendError, SECTOR_SIZE, checkAccess, type BlockBackend } from './block-backend.js';

export interface FileBlockBackendOptions {
  readOnly?: boolean;
}

/** Discard writes zeros in pieces of this size (Node has no fallocate(PUNCH_HOLE)). */
const ZERO_CHUNK = 1 << 20;

export class FileBlockBackend implements BlockBackend {
  readonly path: string;
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number | null;

  private constructor(path: string, fd: number, size: number, readOnly: boolean) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.readOnly = readOnly;
  }

  /**
   * Opens an existing image file or block device; throws BlockBackendError (not-found,
   * not-a-file, bad-size, open-failed). Opening never blocks: a FIFO given by mistake is
   * opened non-blocking and then refused.
   */
  static open(path: string, options: FileBlockBackendOptions = {}): FileBlockBackend {
    const readOnly = options.readOnly ?? false;
    const ctx = { path, op: 'open' as const };
    let fd: number;
    try {
      fd = openSync(path, (readOnly ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NONBLOCK);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new BlockBackendError('not-found', `cannot open disk image ${path}: no such file; create it (e.g. truncate -s 1G ${path}) or fix the path`, ctx, { cause });
      if (code === 'EISDIR') throw new BlockBackendError('not-a-file', `cannot open disk image ${path}: it is a directory; give the path of a raw image file`, ctx, { cause });
      throw new BlockBackendError('open-failed', `cannot open disk image ${path}${readOnly ? '' : ' for writing'}: ${(cause as Error).message}${code === 'EACCES' || code === 'EROFS' ? '; check its permissions or open it read-only' : ''}`, ctx, { cause });
    }
    try {
      const stat = fstatSync(fd);
      let size = stat.size;
      if (stat.isBlockDevice()) {
        const deviceSize = blockDeviceSize(stat.rdev);
        if (deviceSize === null) throw new BlockBackendError('not-a-file', `cannot use block device ${path}: this host does not report its size (Linux sysfs is needed)`, ctx);
        size = deviceSize;
      } else if (!stat.isFile()) {
        const what = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a pipe (FIFO)' : stat.isSocket() ? 'a socket' : 'a character device';
        throw new BlockBackendError('not-a-file', `cannot use ${path} as a disk: it is ${what}; give a raw image file or a block device`, ctx);
      }
      if (size === 0 || size % SECTOR_SIZE !== 0) {
        throw new BlockBackendError('bad-size', `cannot use ${path} as a disk image: its size ${size} is not a positive multiple of ${SECTOR_SIZE} bytes; resize it (truncate -s)`, ctx);
      }
      return new FileBlockBackend(path, fd, size, readOnly);
    } catch (e) {
      closeSync(fd);
      if (e instanceof BlockBackendError) throw e;
      throw new BlockBackendError('open-failed', `cannot inspect disk image ${path}: ${(e as Error).message}`, ctx, { cause: e });
    }
  }

  read(offset: number, into: Uint8Array): void {
    const fd = this.open('read', offset, into.length);
    checkAccess(this, this.path, 'read', offset, into.length);
    let done = 0;
    while (done < into.length) {
      const n = this.io('read', offset + done, into.length - done, () => readSync(fd, into, done, into.length - done, offset + done));
      if (n === 0) {
        throw new BlockBackendError('io', `short read from ${this.path} at offset ${offset + done}: the file shrank below ${this.size} bytes while in use`, { path: this.path, op: 'read', offset, length: into.length });
      }
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    const fd = this.open('write', offset, data.length);
    checkAccess(this, this.path, 'write', offset, data.length);
    let done = 0;
    while (done < data.length) {
      done += this.io('write', offset + done, data.length - done, () => writeSync(fd, data, done, data.length - done, offset + done));
    }
  }

  flush(): void {
    const fd = this.open('flush', 0, 0);
    if (this.readOnly) return;
    this.io('flush', 0, 0, () => fsyncSync(fd));
  }

  discard(offset: number, length: number): void {
    this.open('discard', offset, length);
    checkAccess(this, this.path, 'discard', offset, length);
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK, length));
    for (let at = 0; at < length; at += zeros.length) this.write(offset + at, zeros.subarray(0, Math.min(zeros.length, length - at)));
  }

  /** Closes the file; later accesses throw a 'closed' error. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  private open(op: 'read' | 'write' | 'flush' | 'discard', offset: number, length: number): number {
    if (this.fd === null) throw new BlockBackendError('closed', `cannot ${op} ${this.path}: the disk image was closed`, { path: this.path, op, offset, length });
    return this.fd;
  }

  private io<T>(op: 'read' | 'write' | 'flush', offset: number, length: number, call: () => T): T {
    try {
      return call();
    } catch (cause) {
      throw new BlockBackendError('io', `${op} of ${length} bytes at offset ${offset} of ${this.path} failed: ${(cause as Error).message}`, { path: this.path, op, offset, length }, { cause });
    }
  }
}
