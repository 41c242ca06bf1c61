// Page chunks: a self-describing, checksummed, compressed set of guest pages. A snapshot file's
// RAM section is a run of them, and live migration sends them over TCP in rounds, so a chunk can
// also say "these pages are now zero" (the destination may hold an older non-zero copy).

import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, deflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  ChunkField,
  MAX_CHUNK_PAGES,
  PAGE_SIZE,
  chunkBytes,
} from './page-chunk-layout.js';
import { SnapshotFileError, type SnapshotFileErrorContext } from './snapshot-file-error.js';
import { isZeroPage, wordView } from './zero-page.js';

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw);

// A fast level: RAM snapshots are written while the VM is paused, and level 1 already gains most
// of what deflate can on memory images.
const DEFLATE_OPTIONS = { level: 1, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

/** What one chunk held. */
export interface DecodedPages {
  /** Pages whose bytes were written. */
  dataPages: number;
  /** Pages that were cleared to zero. */
  zeroPages: number;
}

/** A chunk whose header, checksum and page lists have been checked, not yet decompressed. */
export interface ParsedChunk {
  /** Pages stored in the chunk, strictly ascending, in the order of the compressed data. */
  data: Uint32Array;
  /** Pages to clear, strictly ascending, none among `data`. */
  zeros: Uint32Array;
  compressed: Uint8Array;
}

/**
 * Encodes the pages of `ram` named by `pageIndices` (any order; repeats are ignored) as one
 * chunk: pages that are all zero go in its zero list, the others are stored compressed. The
 * pages are read before this returns its promise, so the caller may change `ram` meanwhile (a
 * running guest during live migration) and the chunk still holds each page as it was then.
 * Refuses (rejects with `bad-argument`) pages outside `ram` and more than MAX_CHUNK_PAGES pages.
 */
export async function encodePages(ram: Uint8Array, pageIndices: Iterable<number>): Promise<Uint8Array> {
  const ramPages = Math.floor(ram.length / PAGE_SIZE);
  const pages = [...new Set(pageIndices)].sort((a, b) => a - b);
  if (pages.length > MAX_CHUNK_PAGES) {
    throw new SnapshotFileError('bad-argument', `a page chunk holds at most ${MAX_CHUNK_PAGES} pages, but ${pages.length} were given; split them into several chunks`);
  }
  const words = wordView(ram);
  const data: number[] = [];
  const zeros: number[] = [];
  for (const page of pages) {
    if (!Number.isInteger(page) || page < 0 || page >= ramPages) {
      throw new SnapshotFileError('bad-argument', `page ${page} is not a page of this RAM (it has ${ramPages} pages of ${PAGE_SIZE} bytes)`);
    }
    (isZeroPage(ram, page, words) ? zeros : data).push(page);
  }
  return encodeChunk(ram, Uint32Array.from(data), Uint32Array.from(zeros));
}

/**
 * Encodes a chunk from page lists the caller has already classified: `data` (ascending) is stored
 * from `ram`, `zeros` (ascending) is only named. Copies the pages synchronously.
 */
export function encodeChunk(ram: Uint8Array, data: Uint32Array, zeros: Uint32Array): Promise<Uint8Array> {
  const raw = Buffer.allocUnsafe(data.length * PAGE_SIZE);
  for (let i = 0; i < data.length; i++) {
    const start = data[i]! * PAGE_SIZE;
    raw.set(ram.subarray(start, start + PAGE_SIZE), i * PAGE_SIZE);
  }
  const compressing = data.length === 0 ? Promise.resolve(Buffer.alloc(0)) : deflateRawAsync(raw, DEFLATE_OPTIONS);
  return compressing.then((compressed) => {
    const chunk = Buffer.allocUnsafe(chunkBytes(data.length, zeros.length, compressed.length));
    chunk.writeUInt32LE(CHUNK_MAGIC, ChunkField.magic);
    chunk.writeUInt32LE(PAGE_SIZE, ChunkField.pageSize);
    chunk.writeUInt32LE(data.length, ChunkField.dataPages);
    chunk.writeUInt32LE(zeros.length, ChunkField.zeroPages);
    chunk.writeUInt32LE(compressed.length, ChunkField.compressedBytes);
    let at = CHUNK_HEADER_BYTES;
    for (const page of data) at = chunk.writeUInt32LE(page, at);
    for (const page of zeros) at = chunk.writeUInt32LE(page, at);
    chunk.set(compressed, at);
    chunk.writeUInt32LE(crc32(chunk.subarray(ChunkField.crc32 + 4)), ChunkField.crc32);
    return chunk;
  });
}

/**
 * Checks a chunk, then writes its pages into `ram`: stored pages get their bytes, zeroed pages
 * are cleared. Nothing is written unless the whole chunk checks out; a chunk that is damaged,
 * names a page outside `ram`, or does not decompress to exactly its pages is refused.
 */
export async function decodePages(chunk: Uint8Array, ram: Uint8Array): Promise<DecodedPages> {
  const where: SnapshotFileErrorContext = { section: 'page chunk' };
  const parsed = parsePageChunk(chunk, Math.floor(ram.length / PAGE_SIZE), where);
  const pages = await inflatePages(parsed, where);
  return applyPages(parsed, pages, ram);
}

/** Where an error was found, for messages: "snapshot x.snap, chunk 3 at byte 4096" or "page chunk". */
export function describe(where: SnapshotFileErrorContext): string {
  const section = where.section ?? 'data';
  if (where.path === undefined) return section;
  return `snapshot ${where.path}, ${section}${where.offset === undefined ? '' : ` at byte ${where.offset}`}`;
}

const DAMAGED = 'the data was damaged on disk or in transit; use another copy (or send it again)';

/** Reads and checks a chunk's header, checksum and page lists against a RAM of `ramPages` pages. */
export function parsePageChunk(chunk: Uint8Array, ramPages: number, where: SnapshotFileErrorContext): ParsedChunk {
  const at = describe(where);
  if (chunk.length < CHUNK_HEADER_BYTES) {
    throw new SnapshotFileError('truncated', `${at}: ${chunk.length} bytes, shorter than a page chunk's ${CHUNK_HEADER_BYTES}-byte header; ${DAMAGED}`, where);
  }
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const u32 = (offset: number): number => view.getUint32(offset, true);
  if (u32(ChunkField.magic) !== CHUNK_MAGIC) {
    throw new SnapshotFileError('corrupt', `${at}: does not start with the page chunk magic "VPGC"; ${DAMAGED}`, where);
  }
  const dataCount = u32(ChunkField.dataPages);
  const zeroCount = u32(ChunkField.zeroPages);
  const compressedBytes = u32(ChunkField.compressedBytes);
  const declared = chunkBytes(dataCount, zeroCount, compressedBytes);
  if (declared > chunk.length) {
    throw new SnapshotFileError('truncated', `${at}: declares ${declared} bytes but has ${chunk.length}; ${DAMAGED}`, where);
  }
  if (declared < chunk.length) {
    throw new SnapshotFileError('corrupt', `${at}: has ${chunk.length - declared} bytes past its declared end; ${DAMAGED}`, where);
  }
  const stored = u32(ChunkField.crc32);
  const computed = crc32(chunk.subarray(ChunkField.crc32 + 4));
  if (stored !== computed) {
    throw new SnapshotFileError('corrupt', `${at}: CRC32 mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}); ${DAMAGED}`, where);
  }
  // The checksum holds, so what follows is what the writer meant: a bad value is a bad writer
  // (or a crafted chunk), not damage.
  const pageSize = u32(ChunkField.pageSize);
  if (pageSize !== PAGE_SIZE) throw badHeader(at, `page size ${pageSize}, but only ${PAGE_SIZE} is supported`, where);
  if (dataCount + zeroCount > MAX_CHUNK_PAGES) throw badHeader(at, `${dataCount + zeroCount} pages, more than the ${MAX_CHUNK_PAGES} a chunk may hold`, where);
  if (dataCount === 0 && compressedBytes !== 0) throw badHeader(at, `no stored pages but ${compressedBytes} bytes of compressed data`, where);
  const data = readPageList(view, CHUNK_HEADER_BYTES, dataCount, ramPages, at, where);
  const zeros = readPageList(view, CHUNK_HEADER_BYTES + 4 * dataCount, zeroCount, ramPages, at, where);
  for (let i = 0, j = 0; i < data.length && j < zeros.length; ) {
    if (data[i] === zeros[j]) throw badHeader(at, `page ${data[i]} is both stored and zeroed`, where);
    if (data[i]! < zeros[j]!) i++;
    else j++;
  }
  const compressedStart = chunk.length - compressedBytes;
  return { data, zeros, compressed: chunk.subarray(compressedStart) };
}

/** Decompresses a parsed chunk's stored pages: exactly `data.length` pages, or an error. */
export async function inflatePages(parsed: ParsedChunk, where: SnapshotFileErrorContext): Promise<Uint8Array> {
  // The bound keeps a crafted stream (deflate expands up to about 1000x) from allocating more
  // than the pages it declares.
  const expected = parsed.data.length * PAGE_SIZE;
  if (expected === 0) return new Uint8Array(0);
  let pages: Buffer;
  try {
    pages = await inflateRawAsync(parsed.compressed, { maxOutputLength: expected });
  } catch (cause) {
    throw undecodable(where, cause);
  }
  return checkInflated(pages, parsed, where);
}

/** inflatePages on this thread: for a page a running guest waits for. */
export function inflatePagesSync(parsed: ParsedChunk, where: SnapshotFileErrorContext): Uint8Array {
  const expected = parsed.data.length * PAGE_SIZE;
  if (expected === 0) return new Uint8Array(0);
  let pages: Buffer;
  try {
    pages = inflateRawSync(parsed.compressed, { maxOutputLength: expected });
  } catch (cause) {
    throw undecodable(where, cause);
  }
  return checkInflated(pages, parsed, where);
}

function undecodable(where: SnapshotFileErrorContext, cause: unknown): SnapshotFileError {
  return new SnapshotFileError('corrupt', `${describe(where)}: compressed pages do not decode (${(cause as Error).message}); ${DAMAGED}`, where, { cause });
}

function checkInflated(pages: Buffer, parsed: ParsedChunk, where: SnapshotFileErrorContext): Uint8Array {
  const expected = parsed.data.length * PAGE_SIZE;
  if (pages.length !== expected) {
    throw new SnapshotFileError('corrupt', `${describe(where)}: compressed pages decode to ${pages.length} bytes, not the ${expected} of its ${parsed.data.length} pages; ${DAMAGED}`, where);
  }
  return pages;
}

/** Writes decompressed pages and clears zeroed pages in `ram`. */
export function applyPages(parsed: ParsedChunk, pages: Uint8Array, ram: Uint8Array): DecodedPages {
  for (let i = 0; i < parsed.data.length; i++) {
    ram.set(pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), parsed.data[i]! * PAGE_SIZE);
  }
  for (const page of parsed.zeros) ram.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  return { dataPages: parsed.data.length, zeroPages: parsed.zeros.length };
}

function readPageList(view: DataView, offset: number, count: number, ramPages: number, at: string, where: SnapshotFileErrorContext): Uint32Array {
  const list = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const page = view.getUint32(offset + 4 * i, true);
    if (page >= ramPages) throw badHeader(at, `names page ${page}, past the end of RAM (${ramPages} pages)`, where);
    if (i > 0 && page <= list[i - 1]!) throw badHeader(at, `page list is not strictly ascending (${list[i - 1]} then ${page})`, where);
    list[i] = page;
  }
  return list;
}

function badHeader(at: string, what: string, where: SnapshotFileErrorContext): SnapshotFileError {
  return new SnapshotFileError('bad-header', `${at}: ${what}; it was not written by a compatible Vireo and cannot be restored`, where);
}

export function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
