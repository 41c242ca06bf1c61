// Writes a whole-VM snapshot file: preamble, header, RAM chunks, chunk index. The file is built
// under `path + '.tmp'` and renamed into place once synced, so `path` only ever holds a complete
// snapshot (the previous one, or the new one).

import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeIndex, type ChunkEntry } from './chunk-index.js';
import { encodeChunk } from './page-chunk.js';
import { PAGE_SIZE } from './page-chunk-layout.js';
import { encodePreamble } from './snapshot-preamble.js';
import { MAX_RAM_BYTES, RAM_COMPRESSION, encodeHeader } from './snapshot-header.js';
import { SnapshotFileError } from './snapshot-file-error.js';
import { findNonZeroPages } from './zero-page.js';

/** Pages per RAM chunk: 1 MiB of raw pages, enough for deflate to work on, small to keep in flight. */
export const CHUNK_PAGES = 256;

/** Chunks compressed at once: enough to keep the libuv thread pool (4 threads) busy. */
const CHUNKS_IN_FLIGHT = 4;

export interface SnapshotContents {
  /** The VM's configuration, as JSON-compatible data. */
  description: unknown;
  /** The machine's state (harts, devices), as JSON-compatible data. */
  state: unknown;
  /** Guest RAM; its length (a multiple of 4096) is the RAM size. Must not change while writing. */
  ram: Uint8Array;
}

export interface WriteSnapshotOptions {
  /** Called as RAM is written: bytes of non-zero pages done so far, and in all. */
  onProgress?(done: number, total: number): void;
}

export interface WriteSnapshotResult {
  /** Size of the file. */
  bytes: number;
  /** Pages of RAM. */
  pages: number;
  /** Pages stored (all others are zero). */
  nonZeroPages: number;
  /** Time taken, in milliseconds. */
  ms: number;
}

export async function writeSnapshot(path: string, contents: SnapshotContents, options: WriteSnapshotOptions = {}): Promise<WriteSnapshotResult> {
  const started = performance.now();
  const { ram } = contents;
  if (ram.length === 0 || ram.length % PAGE_SIZE !== 0 || ram.length > MAX_RAM_BYTES) {
    throw new SnapshotFileError('bad-argument', `RAM of ${ram.length} bytes cannot be saved: it must be a non-zero multiple of ${PAGE_SIZE} bytes, at most ${MAX_RAM_BYTES}`, { path });
  }
  if (contents.description === undefined || contents.state === undefined) {
    throw new SnapshotFileError('bad-argument', 'a snapshot needs both a VM description and a machine state', { path });
  }
  const pages = ram.length / PAGE_SIZE;
  const nonZero = findNonZeroPages(ram, pages);
  const chunks = Math.ceil(nonZero.length / CHUNK_PAGES);
  const header = encodeHeader({
    description: contents.description,
    state: contents.state,
    ram: { size: ram.length, pageSize: PAGE_SIZE, nonZeroPages: nonZero.length, chunkPages: CHUNK_PAGES, compression: RAM_COMPRESSION, chunks },
  });

  const tmp = `${path}.tmp`;
  const file = await io(() => open(tmp, 'w'), path, `create ${tmp}`);
  try {
    let offset = 0;
    const write = async (bytes: Uint8Array, what: string): Promise<void> => {
      await io(() => writeAll(file, bytes, offset), path, `write the ${what} to ${tmp}`);
      offset += bytes.length;
    };
    // The preamble is written again at the end with the index's place; until then it marks the
    // file unfinished.
    await write(encodePreamble({ headerBytes: header.length, headerCrc: crc32(header), indexOffset: 0, indexBytes: 0, indexCrc: 0 }), 'preamble');
    await write(header, 'header');

    const entries: ChunkEntry[] = [];
    const total = nonZero.length * PAGE_SIZE;
    const inFlight: { chunk: Promise<Uint8Array>; data: Uint32Array }[] = [];
    const writeOldest = async (): Promise<void> => {
      const { chunk, data } = inFlight.shift()!;
      const bytes = await chunk;
      entries.push({ offset, bytes: bytes.length, firstPage: data[0]!, lastPage: data[data.length - 1]!, dataPages: data.length });
      await write(bytes, `RAM chunk ${entries.length - 1}`);
      options.onProgress?.(Math.min(total, entries.length * CHUNK_PAGES * PAGE_SIZE), total);
    };
    try {
      for (let i = 0; i < chunks; i++) {
        const data = nonZero.subarray(i * CHUNK_PAGES, (i + 1) * CHUNK_PAGES);
        inFlight.push({ chunk: encodeChunk(ram, data, new Uint32Array(0)), data });
        if (inFlight.length >= CHUNKS_IN_FLIGHT) await writeOldest();
      }
      while (inFlight.length > 0) await writeOldest();
    } finally {
      // On failure, let the chunks still compressing settle so none rejects unobserved.
      await Promise.allSettled(inFlight.map((f) => f.chunk));
    }

    const index = encodeIndex(entries);
    const indexOffset = offset;
    await write(index, 'chunk index');
    const preamble = encodePreamble({ headerBytes: header.length, headerCrc: crc32(header), indexOffset, indexBytes: index.length, indexCrc: crc32(index) });
    await io(() => writeAll(file, preamble, 0), path, `write the preamble to ${tmp}`);
    await io(() => file.sync(), path, `sync ${tmp}`);
    await closeQuietly(file);
    await io(() => rename(tmp, path), path, `rename ${tmp} to ${path}`);
    await syncDirectory(dirname(path));
    return { bytes: indexOffset + index.length, pages, nonZeroPages: nonZero.length, ms: performance.now() - started };
  } catch (error) {
    await closeQuietly(file);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

async function io<T>(action: () => Promise<T>, path: string, what: string): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw new SnapshotFileError('io', `saving snapshot ${path}: could not ${what} (${(cause as Error).message}); check the directory exists, is writable and has free space`, { path }, { cause });
  }
}

/** Writes all of `bytes` at `position` (a write may take fewer bytes than asked). */
async function writeAll(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw new Error('the write made no progress');
    done += bytesWritten;
  }
}

async function closeQuietly(file: FileHandle): Promise<void> {
  await file.close().catch(() => undefined);
}

/** Makes the rename durable; some filesystems cannot sync a directory, which only weakens that. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (handle === null) return;
  await handle.sync().catch(() => undefined);
  await closeQuietly(handle);
}
