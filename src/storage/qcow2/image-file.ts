// An open image file reached through positioned reads and writes on a FileHandle. Turns fs
// failures into Qcow2Error('io') and tracks the file's end, where new clusters are placed.

import { open, type FileHandle } from 'node:fs/promises';
import { Qcow2Error } from './qcow2-error.js';

export class ImageFile {
  readonly path: string;
  readonly readOnly: boolean;
  /** Bytes in the file, including writes made through this object. */
  size: number;
  private handle: FileHandle | null;

  private constructor(path: string, handle: FileHandle, size: number, readOnly: boolean) {
    this.path = path;
    this.handle = handle;
    this.size = size;
    this.readOnly = readOnly;
  }

  static async open(path: string, readOnly: boolean, create = false): Promise<ImageFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, create ? 'wx+' : readOnly ? 'r' : 'r+');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Qcow2Error('not-found', `cannot open qcow2 image ${path}: no such file; create it or fix the path`, { path, op: 'open' }, { cause });
      if (code === 'EEXIST') throw new Qcow2Error('invalid-argument', `cannot create qcow2 image ${path}: the file exists; remove it or choose another path`, { path, op: 'create' }, { cause });
      throw new Qcow2Error('io', `cannot open qcow2 image ${path}${readOnly ? '' : ' for writing'}: ${(cause as Error).message}`, { path, op: 'open' }, { cause });
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Qcow2Error('invalid-argument', `cannot use ${path} as a qcow2 image: it is not a regular file`, { path, op: 'open' });
      return new ImageFile(path, handle, stat.size, readOnly);
    } catch (e) {
      await handle.close();
      if (e instanceof Qcow2Error) throw e;
      throw new Qcow2Error('io', `cannot inspect ${path}: ${(e as Error).message}`, { path, op: 'open' }, { cause: e });
    }
  }

  /** Reads into `into` from `position`; returns the bytes read (fewer only at the end of the file). */
  async readAt(position: number, into: Uint8Array): Promise<number> {
    const handle = this.live('read', position);
    let done = 0;
    try {
      while (done < into.length) {
        const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (cause) {
      throw new Qcow2Error('io', `reading ${into.length} bytes at ${position} of ${this.path} failed: ${(cause as Error).message}`, { path: this.path, op: 'read', offset: position, length: into.length }, { cause });
    }
    return done;
  }

  /** Reads exactly into.length bytes; a short read means the metadata points past the end of the file. */
  async readExact(position: number, into: Uint8Array, what: string): Promise<void> {
    const n = await this.readAt(position, into);
    if (n !== into.length) {
      throw new Qcow2Error('corrupt', `qcow2 image ${this.path} is corrupt: the ${what} at offset ${position} (${into.length} bytes) lies past the end of the file (${this.size} bytes); check it with qemu-img check`, { path: this.path, op: 'read', offset: position, length: into.length });
    }
  }

  async writeAt(position: number, data: Uint8Array): Promise<void> {
    const handle = this.live('write', position);
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    } catch (cause) {
      throw new Qcow2Error('io', `writing ${data.length} bytes at ${position} of ${this.path} failed: ${(cause as Error).message}; the disk may be full`, { path: this.path, op: 'write', offset: position, length: data.length }, { cause });
    }
    this.size = Math.max(this.size, position + data.length);
  }

  /** fdatasync: every write completed so far is durable when this resolves. */
  async sync(): Promise<void> {
    const handle = this.live('flush', 0);
    try {
      await handle.datasync();
    } catch (cause) {
      throw new Qcow2Error('io', `syncing ${this.path} failed: ${(cause as Error).message}; writes since the last flush may be lost`, { path: this.path, op: 'flush' }, { cause });
    }
  }

  /** Cuts the file to `length` bytes (only ever unreferenced clusters at its end). */
  async truncate(length: number): Promise<void> {
    const handle = this.live('truncate', length);
    try {
      await handle.truncate(length);
    } catch (cause) {
      throw new Qcow2Error('io', `truncating ${this.path} to ${length} bytes failed: ${(cause as Error).message}`, { path: this.path, op: 'truncate', offset: length }, { cause });
    }
    this.size = length;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle) await handle.close();
  }

  private live(op: string, offset: number): FileHandle {
    if (this.handle === null) throw new Qcow2Error('closed', `cannot ${op} ${this.path}: the image was closed`, { path: this.path, op, offset });
    return this.handle;
  }
}
