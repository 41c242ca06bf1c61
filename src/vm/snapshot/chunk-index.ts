// The chunk index at the end of a snapshot file (docs/snapshot-format.md, "Chunk index"): where
// each RAM chunk is and which pages it covers, so a reader finds every chunk without scanning.

import { CHUNK_HEADER_BYTES, maxChunkBytes } from './page-chunk-layout.js';
import type { RamLayout } from './snapshot-header.js';
import { SnapshotFileError } from './snapshot-file-error.js';

export const INDEX_ENTRY_BYTES = 24;

export interface ChunkEntry {
  /** Byte offset of the chunk in the file. */
  offset: number;
  bytes: number;
  /** Lowest and highest page the chunk names. */
  firstPage: number;
  lastPage: number;
  /** Pages stored in the chunk. */
  dataPages: number;
}

export function encodeIndex(entries: readonly ChunkEntry[]): Buffer {
  const b = Buffer.alloc(entries.length * INDEX_ENTRY_BYTES);
  entries.forEach((e, i) => {
    const at = i * INDEX_ENTRY_BYTES;
    b.writeBigUInt64LE(BigInt(e.offset), at);
    b.writeUInt32LE(e.bytes, at + 8);
    b.writeUInt32LE(e.firstPage, at + 12);
    b.writeUInt32LE(e.lastPage, at + 16);
    b.writeUInt32LE(e.dataPages, at + 20);
  });
  return b;
}

/**
 * Parses an index already verified against its checksum and checks that its chunks tile the RAM
 * section exactly (`ramStart` to `ramEnd`, in order, no gaps or overlaps), cover ascending,
 * disjoint page ranges inside RAM, and hold `ram.nonZeroPages` pages in all.
 */
export function decodeIndex(bytes: Buffer, ram: RamLayout, ramStart: number, ramEnd: number, path: string, offset: number): ChunkEntry[] {
  const fail = (what: string, at: number): SnapshotFileError =>
    new SnapshotFileError('bad-header', `snapshot ${path}: chunk index ${what}; the file was not written by a compatible Vireo and cannot be restored`, { path, section: 'index', offset: at });
  const bad = (i: number, what: string): SnapshotFileError => fail(`entry ${i} ${what}`, offset + i * INDEX_ENTRY_BYTES);
  const ramPages = ram.size / ram.pageSize;
  const maxBytes = maxChunkBytes(ram.chunkPages);
  const entries: ChunkEntry[] = [];
  let nextOffset = ramStart;
  let nextPage = 0;
  let pages = 0;
  for (let i = 0; i < ram.chunks; i++) {
    const at = i * INDEX_ENTRY_BYTES;
    const e: ChunkEntry = {
      offset: Number(bytes.readBigUInt64LE(at)),
      bytes: bytes.readUInt32LE(at + 8),
      firstPage: bytes.readUInt32LE(at + 12),
      lastPage: bytes.readUInt32LE(at + 16),
      dataPages: bytes.readUInt32LE(at + 20),
    };
    if (e.offset !== nextOffset) throw bad(i, `puts the chunk at byte ${e.offset}, but it must start at byte ${nextOffset} (chunks are stored back to back)`);
    if (e.bytes < CHUNK_HEADER_BYTES || e.bytes > maxBytes) throw bad(i, `gives the chunk ${e.bytes} bytes, not from ${CHUNK_HEADER_BYTES} to ${maxBytes}`);
    if (e.offset + e.bytes > ramEnd) throw bad(i, `runs to byte ${e.offset + e.bytes}, past the end of the RAM section at byte ${ramEnd}`);
    if (e.firstPage < nextPage) throw bad(i, `starts at page ${e.firstPage}, overlapping the chunk before it (which ends before page ${nextPage})`);
    if (e.lastPage < e.firstPage || e.lastPage >= ramPages) throw bad(i, `covers pages ${e.firstPage} to ${e.lastPage}, outside RAM's ${ramPages} pages`);
    if (e.dataPages < 1 || e.dataPages > ram.chunkPages || e.dataPages > e.lastPage - e.firstPage + 1) {
      throw bad(i, `says the chunk stores ${e.dataPages} pages, not from 1 to ${Math.min(ram.chunkPages, e.lastPage - e.firstPage + 1)}`);
    }
    nextOffset = e.offset + e.bytes;
    nextPage = e.lastPage + 1;
    pages += e.dataPages;
    entries.push(e);
  }
  if (nextOffset !== ramEnd) throw fail(`leaves bytes ${nextOffset} to ${ramEnd} of the RAM section to no chunk`, offset);
  if (pages !== ram.nonZeroPages) throw fail(`counts ${pages} stored pages but the header says ${ram.nonZeroPages}`, offset);
  return entries;
}
