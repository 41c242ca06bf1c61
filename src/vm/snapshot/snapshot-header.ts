// The snapshot header (docs/snapshot-format.md, "Header"): JSON with the VM's description, its
// machine state and the shape of the RAM section, checked field by field when read.

import { MAX_CHUNK_PAGES, PAGE_SIZE } from './page-chunk-layout.js';
import { SnapshotFileError } from './snapshot-file-error.js';

/** The largest header this build reads: device and hart state is a few MiB at most. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** The largest guest RAM a snapshot may declare (1 TiB): beyond it the file is crafted or damaged. */
export const MAX_RAM_BYTES = 2 ** 40;

export const RAM_COMPRESSION = 'deflate-raw';

export interface RamLayout {
  /** Guest RAM in bytes, a multiple of pageSize. */
  size: number;
  pageSize: number;
  /** Pages stored in the file; all others are zero. */
  nonZeroPages: number;
  /** The most pages any one chunk holds. */
  chunkPages: number;
  compression: typeof RAM_COMPRESSION;
  /** Number of chunks, hence of 24-byte entries in the chunk index. */
  chunks: number;
}

export interface SnapshotHeader {
  description: unknown;
  state: unknown;
  ram: RamLayout;
}

export function encodeHeader(header: SnapshotHeader): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(header);
  } catch (cause) {
    throw new SnapshotFileError('bad-argument', `the VM description or state cannot be written as JSON (${(cause as Error).message}); give plain data (BigInt and cycles are not allowed)`, {}, { cause });
  }
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.length > MAX_HEADER_BYTES) {
    throw new SnapshotFileError('bad-argument', `the VM description and state take ${bytes.length} bytes as JSON, more than the ${MAX_HEADER_BYTES} a snapshot header may hold`);
  }
  return bytes;
}

/** Parses and checks header JSON already verified against its checksum. */
export function decodeHeader(bytes: Uint8Array, path: string, offset: number): SnapshotHeader {
  const where = { path, section: 'header', offset };
  const bad = (what: string): SnapshotFileError =>
    new SnapshotFileError('bad-header', `snapshot ${path}: header ${what}; the file was not written by a compatible Vireo and cannot be restored`, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SnapshotFileError('bad-header', `snapshot ${path}: header is not valid JSON (${(cause as Error).message}); the file cannot be restored`, where, { cause });
  }
  if (!isRecord(parsed)) throw bad('is not a JSON object');
  if (!('description' in parsed) || parsed.description === undefined) throw bad('has no "description"');
  if (!('state' in parsed) || parsed.state === undefined) throw bad('has no "state"');
  const ram = parsed.ram;
  if (!isRecord(ram)) throw bad('has no "ram" object');
  const int = (name: string, min: number, max: number): number => {
    const value = ram[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw bad(`field ram.${name} is ${JSON.stringify(value) ?? 'missing'}, not an integer from ${min} to ${max}`);
    }
    return value;
  };
  const pageSize = int('pageSize', PAGE_SIZE, PAGE_SIZE);
  const size = int('size', pageSize, MAX_RAM_BYTES);
  if (size % pageSize !== 0) throw bad(`field ram.size ${size} is not a multiple of the page size ${pageSize}`);
  const nonZeroPages = int('nonZeroPages', 0, size / pageSize);
  const chunkPages = int('chunkPages', 1, MAX_CHUNK_PAGES);
  const chunks = int('chunks', nonZeroPages === 0 ? 0 : Math.ceil(nonZeroPages / chunkPages), nonZeroPages);
  if (ram.compression !== RAM_COMPRESSION) throw bad(`field ram.compression is ${JSON.stringify(ram.compression) ?? 'missing'}, not "${RAM_COMPRESSION}"`);
  return { description: parsed.description, state: parsed.state, ram: { size, pageSize, nonZeroPages, chunkPages, compression: RAM_COMPRESSION, chunks } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
