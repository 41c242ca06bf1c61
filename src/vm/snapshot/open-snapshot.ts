// Opens a whole-VM snapshot file: reads and checks its preamble, header and chunk index (never
// the RAM section), then reads RAM chunks on demand, several at once.

import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { INDEX_ENTRY_BYTES, decodeIndex, type ChunkEntry } from './chunk-index.js';
import { applyPages, hex, inflatePages, inflatePagesSync, parsePageChunk, type ParsedChunk } from './page-chunk.js';
import { PREAMBLE_BYTES, decodePreamble } from './snapshot-preamble.js';
import { MAX_HEADER_BYTES, MAX_RAM_BYTES, decodeHeader, type SnapshotHeader } from './snapshot-header.js';
import { SnapshotFileError, type SnapshotFileErrorContext } from './snapshot-file-error.js';

/** Chunks read and decompressed at once: enough to keep the libuv thread pool busy. */
const CHUNKS_IN_FLIGHT = 4;

export interface OpenSnapshotOptions {
  /** Refuse a snapshot whose RAM is larger than this (bytes); defaults to 1 TiB. */
  maxRamSize?: number;
}

export interface ReadRamOptions {
  /** Called as RAM is read: bytes of stored pages done so far, and in all. */
  onProgress?(done: number, total: number): void;
}

export interface ReadRamResult {
  /** Pages written into the target. */
  pages: number;
  ms: number;
}

export async function openSnapshot(path: string, options: OpenSnapshotOptions = {}): Promise<SnapshotReader> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'there is no such file' : (cause as Error).message;
    throw new SnapshotFileError('io', `cannot open snapshot ${path}: ${what}; check the path`, { path }, { cause });
  }
  try {
    return await readMetadata(file, path, options.maxRamSize ?? MAX_RAM_BYTES);
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}

async function readMetadata(file: FileHandle, path: string, maxRamSize: number): Promise<SnapshotReader> {
  const size = (await readIo(() => file.stat(), path)).size;
  const preamble = decodePreamble(await readAt(file, path, 0, Math.min(size, PREAMBLE_BYTES), 'preamble'), path);
  const headerEnd = PREAMBLE_BYTES + preamble.headerBytes;
  const indexEnd = preamble.indexOffset + preamble.indexBytes;
  const bad = (section: string, what: string): SnapshotFileError =>
    new SnapshotFileError('bad-header', `snapshot ${path}: ${what}; the file was not written by a compatible Vireo and cannot be restored`, { path, section, offset: 0 });
  if (preamble.headerBytes > MAX_HEADER_BYTES) throw bad('preamble', `header of ${preamble.headerBytes} bytes, more than the ${MAX_HEADER_BYTES} this build reads`);
  if (preamble.indexOffset < headerEnd) throw bad('preamble', `chunk index at byte ${preamble.indexOffset}, inside the header (which ends at byte ${headerEnd})`);
  if (indexEnd > size) {
    throw new SnapshotFileError('truncated', `snapshot ${path} is truncated: it has ${size} bytes but its parts run to byte ${indexEnd}; use a complete copy`, { path, section: 'preamble', offset: 0 });
  }
  if (indexEnd < size) {
    throw new SnapshotFileError('corrupt', `snapshot ${path} has ${size - indexEnd} unexpected bytes after its end (byte ${indexEnd}); the file is damaged, use another copy`, { path, section: 'index', offset: indexEnd });
  }

  const headerBytes = await readAt(file, path, PREAMBLE_BYTES, preamble.headerBytes, 'header');
  checkCrc(headerBytes, preamble.headerCrc, { path, section: 'header', offset: PREAMBLE_BYTES });
  const header = decodeHeader(headerBytes, path, PREAMBLE_BYTES);
  if (header.ram.size > maxRamSize) throw bad('header', `RAM of ${header.ram.size} bytes, more than the ${maxRamSize} allowed here`);
  if (preamble.indexBytes !== header.ram.chunks * INDEX_ENTRY_BYTES) {
    throw bad('preamble', `chunk index of ${preamble.indexBytes} bytes, but ${header.ram.chunks} chunks need ${header.ram.chunks * INDEX_ENTRY_BYTES}`);
  }
  const indexBytes = await readAt(file, path, preamble.indexOffset, preamble.indexBytes, 'chunk index');
  checkCrc(indexBytes, preamble.indexCrc, { path, section: 'chunk index', offset: preamble.indexOffset });
  const chunks = decodeIndex(indexBytes, header.ram, headerEnd, preamble.indexOffset, path, preamble.indexOffset);
  return new SnapshotReader(file, path, preamble.version, header, chunks);
}

/** A chunk's page lists and its decompressed pages. */
export interface LoadedChunk {
  parsed: ParsedChunk;
  pages: Uint8Array;
}

/** An open snapshot file: its metadata, and its RAM on demand. */
export class SnapshotReader {
  readonly description: unknown;
  readonly state: unknown;
  /** Guest RAM in bytes. */
  readonly ramSize: number;
  readonly pageSize: number;
  /** Pages stored in the file; every other page of RAM is zero. */
  readonly nonZeroPages: number;
  /** Where each RAM chunk is and which pages it covers, for restoring pages lazily. */
  readonly chunks: readonly ChunkEntry[];
  private closed = false;

  constructor(
    private readonly file: FileHandle,
    readonly path: string,
    readonly version: number,
    header: SnapshotHeader,
    chunks: ChunkEntry[],
  ) {
    this.description = header.description;
    this.state = header.state;
    this.ramSize = header.ram.size;
    this.pageSize = header.ram.pageSize;
    this.nonZeroPages = header.ram.nonZeroPages;
    this.chunks = chunks;
  }

  /**
   * Writes every stored page into `target` (at least ramSize bytes, already zeroed: zero pages are
   * not written). Chunks are read and decompressed several at a time; on an error the others stop.
   */
  async readRam(target: Uint8Array, options: ReadRamOptions = {}): Promise<ReadRamResult> {
    const started = performance.now();
    this.checkTarget(target);
    const total = this.nonZeroPages * this.pageSize;
    let done = 0;
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < this.chunks.length) {
        const i = next++;
        try {
          // Awaited first: `done += await ...` would read `done` before the other workers add to it.
          const pages = await this.readChunk(i, target);
          done += pages * this.pageSize;
        } catch (error) {
          failed = true;
          throw error;
        }
        options.onProgress?.(done, total);
      }
    };
    const results = await Promise.allSettled(Array.from({ length: CHUNKS_IN_FLIGHT }, worker));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    return { pages: this.nonZeroPages, ms: performance.now() - started };
  }

  /**
   * The chunk whose page range holds `page`, or -1 when no chunk does and the page is zero: with
   * readChunk, a restorer can fault pages in on demand instead of reading all of RAM first.
   */
  findChunk(page: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const entry = this.chunks[mid]!;
      if (page < entry.firstPage) hi = mid - 1;
      else if (page > entry.lastPage) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Reads chunk `i` of `chunks` into `target`; returns the pages it stored. */
  async readChunk(i: number, target: Uint8Array): Promise<number> {
    this.checkTarget(target);
    const { parsed, pages } = await this.loadChunk(i);
    applyPages(parsed, pages, target);
    return parsed.data.length;
  }

  /** Chunk `i` read, checked against the index and decompressed, for applyPages. */
  async loadChunk(i: number): Promise<LoadedChunk> {
    const { entry, where } = this.entry(i);
    const parsed = this.parse(i, await readAt(this.file, this.path, entry.offset, entry.bytes, `chunk ${i}`), where);
    return { parsed, pages: await inflatePages(parsed, where) };
  }

  /** loadChunk on this thread, for a page a running guest waits for (a lazy restore's fault). */
  loadChunkSync(i: number): LoadedChunk {
    const { entry, where } = this.entry(i);
    const parsed = this.parse(i, readAtSync(this.file.fd, this.path, entry.offset, entry.bytes, `chunk ${i}`), where);
    return { parsed, pages: inflatePagesSync(parsed, where) };
  }

  private entry(i: number): { entry: ChunkEntry; where: SnapshotFileErrorContext } {
    if (this.closed) throw new SnapshotFileError('bad-argument', `snapshot ${this.path} is closed; open it again to read its RAM`, { path: this.path });
    const entry = this.chunks[i];
    if (entry === undefined) throw new SnapshotFileError('bad-argument', `snapshot ${this.path} has ${this.chunks.length} RAM chunks; there is no chunk ${i}`, { path: this.path });
    return { entry, where: { path: this.path, section: `chunk ${i}`, offset: entry.offset } };
  }

  private parse(i: number, bytes: Uint8Array, where: SnapshotFileErrorContext): ParsedChunk {
    const entry = this.chunks[i]!;
    const parsed = parsePageChunk(bytes, this.ramSize / this.pageSize, where);
    const last = Math.max(parsed.data[parsed.data.length - 1] ?? 0, parsed.zeros[parsed.zeros.length - 1] ?? 0);
    const first = Math.min(parsed.data[0] ?? Infinity, parsed.zeros[0] ?? Infinity);
    if (parsed.data.length !== entry.dataPages || first < entry.firstPage || last > entry.lastPage) {
      throw new SnapshotFileError('bad-header', `snapshot ${this.path}: chunk ${i} holds ${parsed.data.length} pages from ${first} to ${last}, but the index says ${entry.dataPages} pages from ${entry.firstPage} to ${entry.lastPage}; the file cannot be restored`, where);
    }
    return parsed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  private checkTarget(target: Uint8Array): void {
    if (this.closed) throw new SnapshotFileError('bad-argument', `snapshot ${this.path} is closed; open it again to read its RAM`, { path: this.path });
    if (target.length < this.ramSize) {
      throw new SnapshotFileError('bad-argument', `cannot read snapshot ${this.path}'s ${this.ramSize} bytes of RAM into ${target.length} bytes`, { path: this.path });
    }
  }
}

function checkCrc(bytes: Uint8Array, stored: number, where: SnapshotFileErrorContext): void {
  const computed = crc32(bytes);
  if (computed !== stored) {
    throw new SnapshotFileError('corrupt', `snapshot ${where.path}: ${where.section} CRC32 mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}); the file is damaged, use another copy`, where);
  }
}

/** readAt on this thread. */
function readAtSync(fd: number, path: string, position: number, length: number, section: string): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, done, length - done, position + done);
    } catch (cause) {
      throw new SnapshotFileError('io', `cannot read snapshot ${path}: ${(cause as Error).message}`, { path, section, offset: position }, { cause });
    }
    if (bytesRead === 0) {
      throw new SnapshotFileError('truncated', `snapshot ${path} is truncated: the ${section} at byte ${position} needs ${length} bytes but the file ends after ${done}; use a complete copy`, { path, section, offset: position });
    }
    done += bytesRead;
  }
  return buffer;
}

/** Reads exactly `length` bytes at `position`; a file that ends first is truncated. */
async function readAt(file: FileHandle, path: string, position: number, length: number, section: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await readIo(() => file.read(buffer, done, length - done, position + done), path);
    if (bytesRead === 0) {
      throw new SnapshotFileError('truncated', `snapshot ${path} is truncated: the ${section} at byte ${position} needs ${length} bytes but the file ends after ${done}; use a complete copy`, { path, section, offset: position });
    }
    done += bytesRead;
  }
  return buffer;
}

async function readIo<T>(action: () => Promise<T>, path: string): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw new SnapshotFileError('io', `cannot read snapshot ${path} (${(cause as Error).message})`, { path }, { cause });
  }
}
