// A raw disk image file or a host block device, reached through a file descriptor with positioned
// reads and writes (fs.read/write with a position are pread/pwrite, run on libuv's thread pool,
// so several requests are in flight while the guest runs).

import { close, closeSync, constants, fdatasync, fstatSync, fsync, ftruncate, openSync, read, write } from 'node:fs';
import { blockDeviceSize } from './block-device-size.js';
import { BlockBackendError, SECTOR_SIZE, checkAccess, checkResize, type BlockBackend } from './block-backend.js';

type BlockOp = 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes' | 'resize';

export interface FileBlockBackendOptions {
  readOnly?: boolean;
  /**
   * Refuse writes that would put this 4-byte big-endian magic at offset 0. A raw image whose
   * format was guessed from its header must never be made to look like another format by its
   * guest: opened again, it would be read as that format, backing file and all.
   */
  refuseMagic?: number;
}

/** Discard writes zeros in pieces of this size (Node has no fallocate(PUNCH_HOLE)). */
const ZERO_CHUNK = 1 << 20;

export class FileBlockBackend implements BlockBackend {
  readonly path: string;
  readonly readOnly: boolean;
  private fd: number | null;
  private bytes: number;
  private readonly blockDevice: boolean;
  private refuseMagic: number | undefined;

  private constructor(path: string, fd: number, size: number, readOnly: boolean, blockDevice: boolean) {
    this.path = path;
    this.fd = fd;
    this.bytes = size;
    this.readOnly = readOnly;
    this.blockDevice = blockDevice;
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
      const backend = new FileBlockBackend(path, fd, size, readOnly, stat.isBlockDevice());
      backend.refuseMagic = options.refuseMagic;
      return backend;
    } catch (e) {
      closeSync(fd);
      if (e instanceof BlockBackendError) throw e;
      throw new BlockBackendError('open-failed', `cannot inspect disk image ${path}: ${(e as Error).message}`, ctx, { cause: e });
    }
  }

  get size(): number {
    return this.bytes;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    const fd = this.open('read', offset, into.length);
    checkAccess(this, this.path, 'read', offset, into.length);
    let done = 0;
    while (done < into.length) {
      const n = await this.io('read', offset + done, into.length - done, (cb) => read(fd, into, done, into.length - done, offset + done, cb));
      if (n === 0) {
        throw new BlockBackendError('io', `short read from ${this.path} at offset ${offset + done}: the file shrank below ${this.size} bytes while in use`, { path: this.path, op: 'read', offset, length: into.length });
      }
      done += n;
    }
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    const fd = this.open('write', offset, data.length);
    checkAccess(this, this.path, 'write', offset, data.length);
    if (offset === 0 && this.refuseMagic !== undefined && data.length >= 4 && new DataView(data.buffer, data.byteOffset, 4).getUint32(0) === this.refuseMagic) {
      throw new BlockBackendError('io', `refused a write that would turn the raw image ${this.path} into another format's header; name the format (format=raw) to allow it`, { path: this.path, op: 'write', offset, length: data.length });
    }
    let done = 0;
    while (done < data.length) {
      done += await this.io('write', offset + done, data.length - done, (cb) => write(fd, data, done, data.length - done, offset + done, cb));
    }
  }

  async flush(): Promise<void> {
    const fd = this.open('flush', 0, 0);
    if (this.readOnly) return;
    // The size never changes between resizes (which sync themselves), so the data is all there is to sync.
    await this.io('flush', 0, 0, (cb) => fdatasync(fd, (err) => cb(err, 0)));
  }

  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length, 'discard');
  }

  async writeZeroes(offset: number, length: number, op: 'discard' | 'write-zeroes' = 'write-zeroes'): Promise<void> {
    this.open(op, offset, length);
    checkAccess(this, this.path, op, offset, length);
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK, length));
    for (let at = 0; at < length; at += zeros.length) await this.write(offset + at, zeros.subarray(0, Math.min(zeros.length, length - at)));
  }

  async resize(newSize: number): Promise<void> {
    const fd = this.open('resize', newSize, 0);
    checkResize(this, this.path, newSize);
    if (this.blockDevice) throw new BlockBackendError('out-of-range', `cannot resize ${this.path}: it is a block device; grow the device itself`, { path: this.path, op: 'resize', offset: newSize });
    await this.io('resize', newSize, 0, (cb) => ftruncate(fd, newSize, (err) => cb(err, 0)));
    await this.io('resize', newSize, 0, (cb) => fsync(fd, (err) => cb(err, 0)));
    this.bytes = newSize;
  }

  /** Closes the file; later accesses reject with a 'closed' error. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    await new Promise<void>((resolve) => close(fd, () => resolve()));
  }

  private open(op: BlockOp, offset: number, length: number): number {
    if (this.fd === null) throw new BlockBackendError('closed', `cannot ${op} ${this.path}: the disk image was closed`, { path: this.path, op, offset, length });
    return this.fd;
  }

  private io(op: BlockOp, offset: number, length: number, call: (cb: (err: NodeJS.ErrnoException | null, n: number) => void) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      call((cause, n) => {
        if (cause) reject(new BlockBackendError('io', `${op} of ${length} bytes at offset ${offset} of ${this.path} failed: ${cause.message}`, { path: this.path, op, offset, length }, { cause }));
        else resolve(n);
      });
    });
  }
}
