// Writes (and reads back) cpio archives in the "newc" format, the one the Linux kernel
// unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
// a 110-byte ASCII header of "070701" and 13 eight-digit hex fields, the NUL-terminated
// name, then the data, each padded to a multiple of 4 bytes; "TRAILER!!!" ends it.
// Written here so building an initrd needs no host tool and no root (device nodes included).

import { ImageError } from './image-error.js';

const MAGIC = '070701';
const HEADER_SIZE = 110;
const TRAILER = 'TRAILER!!!';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

interface CpioCommon {
  /** Path inside the archive, relative ("bin/busybox"); a leading "/" is dropped. */
  path: string;
  /** Permission bits (the type bits come from `type`). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; 0 by default so the same inputs give the same bytes. */
  mtime?: number;
}

export type CpioEntry = CpioCommon &
  (
    | { type: 'dir' }
    | { type: 'file'; data: Uint8Array }
    | { type: 'symlink'; target: string }
    | { type: 'char' | 'block'; major: number; minor: number }
  );

const DEFAULT_MODE: Record<CpioEntry['type'], number> = { dir: 0o755, file: 0o644, symlink: 0o777, char: 0o600, block: 0o600 };
const TYPE_BITS: Record<CpioEntry['type'], number> = { dir: S_IFDIR, file: S_IFREG, symlink: S_IFLNK, char: S_IFCHR, block: S_IFBLK };

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function archivePath(path: string): string {
  const name = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!name || name.split('/').some((part) => part === '' || part === '..')) {
    throw new ImageError('bad-archive', `cpio entry name "${path}" is empty or leaves the archive; use a relative path without ".."`, { path });
  }
  return name;
}

function hex8(value: number, field: string, path: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ImageError('bad-archive', `cpio field ${field} of "${path}" is ${value}; newc holds 0..0xffffffff`, { path });
  }
  return value.toString(16).padStart(8, '0');
}

/** Serializes `entries` in order, then the trailer. Parents should come before their children. */
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  const push = (chunk: Buffer): void => {
    chunks.push(chunk);
    offset += chunk.length;
  };
  const record = (name: string, fields: number[], data: Uint8Array): void => {
    const header = MAGIC + fields.map((value, i) => hex8(value, `#${i}`, name)).join('');
    push(Buffer.from(header + name + '\0', 'latin1'));
    push(Buffer.alloc(pad4(offset)));
    push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    push(Buffer.alloc(pad4(offset)));
  };
  let ino = 1;
  for (const entry of entries) {
    const name = archivePath(entry.path);
    const data = entry.type === 'file' ? entry.data : entry.type === 'symlink' ? Buffer.from(entry.target, 'utf8') : new Uint8Array(0);
    const mode = TYPE_BITS[entry.type] | ((entry.mode ?? DEFAULT_MODE[entry.type]) & 0o7777);
    const device = entry.type === 'char' || entry.type === 'block' ? [entry.major, entry.minor] : [0, 0];
    const nameSize = Buffer.byteLength(name, 'utf8') + 1;
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    record(name, [ino++, mode, entry.uid ?? 0, entry.gid ?? 0, entry.type === 'dir' ? 2 : 1, entry.mtime ?? 0, data.length, 0, 0, device[0]!, device[1]!, nameSize, 0], data);
  }
  record(TRAILER, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, TRAILER.length + 1, 0], new Uint8Array(0));
  return Buffer.concat(chunks, offset);
}

/** Parses a newc archive back into entries (up to the trailer). */
export function readCpioNewc(archive: Uint8Array): CpioEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: CpioEntry[] = [];
  let offset = 0;
  for (;;) {
    if (offset + HEADER_SIZE > buf.length || buf.toString('latin1', offset, offset + 6) !== MAGIC) {
      throw new ImageError('bad-archive', `no newc cpio header at offset ${offset}; the archive is truncated or not in newc format`);
    }
    const field = (i: number): number => parseInt(buf.toString('latin1', offset + 6 + i * 8, offset + 14 + i * 8), 16);
    const [mode, uid, gid, mtime, size, rdevMajor, rdevMinor, nameSize] = [field(1), field(2), field(3), field(5), field(6), field(9), field(10), field(11)];
    const nameStart = offset + HEADER_SIZE;
    const name = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + pad4(nameStart + nameSize);
    if (dataStart + size > buf.length) throw new ImageError('bad-archive', `cpio entry "${name}" runs past the end of the archive`, { path: name });
    const data = buf.subarray(dataStart, dataStart + size);
    offset = dataStart + size + pad4(dataStart + size);
    if (name === TRAILER) return entries;
    const common = { path: name, mode: mode & 0o7777, uid, gid, mtime };
    switch (mode & S_IFMT) {
      case S_IFDIR: entries.push({ ...common, type: 'dir' }); break;
      case S_IFREG: entries.push({ ...common, type: 'file', data: Uint8Array.from(data) }); break;
      case S_IFLNK: entries.push({ ...common, type: 'symlink', target: data.toString('utf8') }); break;
      case S_IFCHR: entries.push({ ...common, type: 'char', major: rdevMajor, minor: rdevMinor }); break;
      case S_IFBLK: entries.push({ ...common, type: 'block', major: rdevMajor, minor: rdevMinor }); break;
      default: throw new ImageError('bad-archive', `cpio entry "${name}" has unsupported file type ${(mode & S_IFMT).toString(8)}`, { path: name });
    }
  }
}
