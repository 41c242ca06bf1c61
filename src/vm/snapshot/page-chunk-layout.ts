// The byte layout of a page chunk (docs/snapshot-format.md, "Page chunk"): the unit in which
// guest RAM is stored in a snapshot file and sent by live migration.

/** Guest pages are 4 KiB (Sv39/Sv48 base pages). */
export const PAGE_SIZE = 4096;

/** "VPGC": a page chunk. */
export const CHUNK_MAGIC = 0x43475056;

export const CHUNK_HEADER_BYTES = 24;

/**
 * At most this many pages (stored plus zeroed) in one chunk, so decoding one allocates at most
 * 16 MiB whatever a hostile chunk claims. Callers with more pages send more chunks.
 */
export const MAX_CHUNK_PAGES = 4096;

/** Offsets of the chunk header's little-endian u32 fields. */
export const ChunkField = {
  magic: 0,
  crc32: 4, // CRC32 of every byte after this field
  pageSize: 8,
  dataPages: 12,
  zeroPages: 16,
  compressedBytes: 20,
} as const;

/** Total bytes of a chunk with these counts. */
export function chunkBytes(dataPages: number, zeroPages: number, compressedBytes: number): number {
  return CHUNK_HEADER_BYTES + 4 * (dataPages + zeroPages) + compressedBytes;
}

/**
 * An upper bound on the bytes of a chunk of `pages` pages: deflate's stored blocks add 5 bytes
 * per 64 KiB at worst, so incompressible pages grow by well under 1%.
 */
export function maxChunkBytes(pages: number): number {
  const raw = pages * PAGE_SIZE;
  return chunkBytes(pages, 0, raw + Math.ceil(raw / 1024) + 64);
}
