// The fixed 48 bytes at the start of a snapshot file (docs/snapshot-format.md, "Preamble"):
// magic, version and flags, then where the header and the chunk index are and their checksums.

import { crc32 } from 'node:zlib';
import { hex } from './page-chunk.js';
import { SnapshotFileError } from './snapshot-file-error.js';

export const SNAPSHOT_MAGIC = 'VIREOSNP';

/** The format version this build writes and the only one it reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;

export const PREAMBLE_BYTES = 48;

/** Flags this build understands: none yet. A file with other bits set needs a newer reader. */
const KNOWN_FLAGS = 0;

export interface Preamble {
  version: number;
  flags: number;
  headerBytes: number;
  headerCrc: number;
  /** 0 while the file is being written: the preamble is filled in last. */
  indexOffset: number;
  indexBytes: number;
  indexCrc: number;
}

export function encodePreamble(p: Omit<Preamble, 'version' | 'flags'>): Buffer {
  const b = Buffer.alloc(PREAMBLE_BYTES);
  b.write(SNAPSHOT_MAGIC, 0, 'latin1');
  b.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(p.headerBytes, 16);
  b.writeUInt32LE(p.headerCrc, 20);
  b.writeBigUInt64LE(BigInt(p.indexOffset), 24);
  b.writeUInt32LE(p.indexBytes, 32);
  b.writeUInt32LE(p.indexCrc, 36);
  // A preamble with its index still unknown gets no checksum, so an unfinished file never passes.
  if (p.indexOffset !== 0) b.writeUInt32LE(crc32(b.subarray(0, 44)), 44);
  return b;
}

/**
 * Checks the preamble in `bytes` (the file's first min(48, size) bytes) in the order that gives
 * the most useful error: magic, version, completeness, checksum.
 */
export function decodePreamble(bytes: Buffer, path: string): Preamble {
  const where = { path, section: 'preamble', offset: 0 };
  const magic = Buffer.from(SNAPSHOT_MAGIC, 'latin1');
  const prefix = bytes.subarray(0, magic.length);
  if (!prefix.equals(magic.subarray(0, prefix.length)) || prefix.length === 0) {
    throw new SnapshotFileError('not-a-snapshot', `${path} is not a Vireo snapshot: it does not start with "${SNAPSHOT_MAGIC}"`, where);
  }
  if (bytes.length < 12) throw truncatedPreamble(path, bytes.length);
  const version = bytes.readUInt32LE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotFileError('unsupported-version', `snapshot ${path} has format version ${version}, but this build of Vireo reads only version ${SNAPSHOT_FORMAT_VERSION}; restore it with the Vireo that wrote it`, where);
  }
  if (bytes.length < PREAMBLE_BYTES) throw truncatedPreamble(path, bytes.length);
  const flags = bytes.readUInt32LE(12);
  const indexOffset = Number(bytes.readBigUInt64LE(24));
  if (indexOffset === 0 && bytes.readUInt32LE(44) === 0) {
    throw new SnapshotFileError('truncated', `snapshot ${path} was never finished (its writer stopped before completing it); take the snapshot again`, where);
  }
  const stored = bytes.readUInt32LE(44);
  const computed = crc32(bytes.subarray(0, 44));
  if (stored !== computed) {
    throw new SnapshotFileError('corrupt', `snapshot ${path}: preamble CRC32 mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}); the file is damaged, use another copy`, where);
  }
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new SnapshotFileError('unsupported-version', `snapshot ${path} uses format flags 0x${hex(flags)} that this build of Vireo does not know; restore it with a newer Vireo`, where);
  }
  return {
    version,
    flags,
    headerBytes: bytes.readUInt32LE(16),
    headerCrc: bytes.readUInt32LE(20),
    indexOffset,
    indexBytes: bytes.readUInt32LE(32),
    indexCrc: bytes.readUInt32LE(36),
  };
}

function truncatedPreamble(path: string, size: number): SnapshotFileError {
  return new SnapshotFileError('truncated', `snapshot ${path} is truncated: ${size} bytes, shorter than its ${PREAMBLE_BYTES}-byte preamble`, { path, section: 'preamble', offset: 0 });
}
