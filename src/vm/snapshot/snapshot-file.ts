// The whole-VM snapshot file format (docs/snapshot-format.md): one import for writers, readers,
// and live migration's page chunks.

export { writeSnapshot, CHUNK_PAGES, type SnapshotContents, type WriteSnapshotOptions, type WriteSnapshotResult } from './write-snapshot.js';
export { openSnapshot, SnapshotReader, type OpenSnapshotOptions, type ReadRamOptions, type ReadRamResult } from './open-snapshot.js';
export { encodePages, decodePages, type DecodedPages } from './page-chunk.js';
export { MAX_CHUNK_PAGES, PAGE_SIZE } from './page-chunk-layout.js';
export { SNAPSHOT_FORMAT_VERSION, SNAPSHOT_MAGIC } from './snapshot-preamble.js';
export { MAX_HEADER_BYTES, MAX_RAM_BYTES } from './snapshot-header.js';
export type { ChunkEntry } from './chunk-index.js';
export { SnapshotFileError, type SnapshotFileErrorKind, type SnapshotFileErrorContext } from './snapshot-file-error.js';
