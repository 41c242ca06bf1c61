// Where an ext2/3/4 inode's data lives (kernel Documentation/filesystems/ext4/blockmap.rst and
// ifork.rst): an extent tree, or the old direct/indirect block map, both rooted in i_block.
// Yields the physical block of each logical block in order, 0 for a hole.

import type { ProbeError } from './probe-error.js';

export interface BlockSource {
  blockSize: number;
  blocksCount: number;
  readBlock(block: number): Promise<Uint8Array>;
  fail(message: string): ProbeError;
}

const EXTENT_MAGIC = 0xf30a;
/** ext4 never builds a tree deeper than this (ext4_extent_header.eh_depth). */
const MAX_DEPTH = 5;
/** Longer initialized extents have the high bit set in ee_len: they are uninitialized (read as zeros). */
const INIT_MAX_LEN = 32768;

interface Extent {
  logical: number;
  physical: number;
  length: number;
}

function checkBlock(source: BlockSource, block: number, what: string): number {
  if (block >= source.blocksCount) throw source.fail(`${what} points at block ${block}, past the last block ${source.blocksCount - 1}`);
  return block;
}

/** The leaf extents under one node, in logical order; `depth` is what the parent says the node's depth must be. */
async function collectExtents(source: BlockSource, node: Uint8Array, depth: number | undefined, out: Extent[]): Promise<void> {
  const view = new DataView(node.buffer, node.byteOffset, node.byteLength);
  const entries = view.getUint16(2, true);
  const max = view.getUint16(4, true);
  const nodeDepth = view.getUint16(6, true);
  if (view.getUint16(0, true) !== EXTENT_MAGIC) throw source.fail('an extent tree node lacks its 0xF30A magic');
  if (entries > max || 12 + max * 12 > node.length) throw source.fail(`an extent tree node claims ${entries} of ${max} entries in ${node.length} bytes`);
  if (nodeDepth > MAX_DEPTH || (depth !== undefined && nodeDepth !== depth)) throw source.fail(`an extent tree node has depth ${nodeDepth} where ${depth ?? `at most ${MAX_DEPTH}`} is expected (a loop or a corrupt tree)`);
  for (let i = 0; i < entries; i++) {
    const at = 12 + 12 * i;
    const logical = view.getUint32(at, true);
    if (nodeDepth === 0) {
      const raw = view.getUint16(at + 4, true);
      const length = raw > INIT_MAX_LEN ? raw - INIT_MAX_LEN : raw;
      const physical = view.getUint16(at + 6, true) * 2 ** 32 + view.getUint32(at + 8, true);
      // Uninitialized extents read as zeros, like holes.
      if (raw <= INIT_MAX_LEN) checkBlock(source, physical + length - 1, 'an extent');
      out.push({ logical, physical: raw > INIT_MAX_LEN ? 0 : physical, length });
    } else {
      const child = view.getUint16(at + 8, true) * 2 ** 32 + view.getUint32(at + 4, true);
      await collectExtents(source, await source.readBlock(checkBlock(source, child, 'an extent index')), nodeDepth - 1, out);
    }
  }
}

async function* extentBlocks(source: BlockSource, iBlock: Uint8Array, blockCount: number): AsyncGenerator<number> {
  const extents: Extent[] = [];
  await collectExtents(source, iBlock, undefined, extents);
  extents.sort((a, b) => a.logical - b.logical);
  let next = 0;
  for (const extent of extents) {
    if (extent.logical < next) throw source.fail(`extents overlap at logical block ${extent.logical}`);
    for (; next < extent.logical && next < blockCount; next++) yield 0;
    for (let i = 0; i < extent.length && next < blockCount; i++, next++) yield extent.physical === 0 ? 0 : extent.physical + i;
    if (next >= blockCount) return;
  }
  for (; next < blockCount; next++) yield 0;
}

/** The entries of an indirect block at `level` (1: data blocks; 2, 3: further indirect blocks). */
async function* indirectBlocks(source: BlockSource, block: number, level: number, limit: { left: number }): AsyncGenerator<number> {
  const perBlock = source.blockSize / 4;
  if (block === 0) {
    // A hole covering every block below this one.
    for (let i = 0; i < perBlock ** level && limit.left > 0; i++, limit.left--) yield 0;
    return;
  }
  const bytes = await source.readBlock(checkBlock(source, block, 'an indirect block'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < perBlock && limit.left > 0; i++) {
    const entry = view.getUint32(4 * i, true);
    if (level === 1) {
      if (entry !== 0) checkBlock(source, entry, 'a block map entry');
      limit.left--;
      yield entry;
    } else {
      yield* indirectBlocks(source, entry, level - 1, limit);
    }
  }
}

async function* mappedBlocks(source: BlockSource, iBlock: Uint8Array, blockCount: number): AsyncGenerator<number> {
  const view = new DataView(iBlock.buffer, iBlock.byteOffset, iBlock.byteLength);
  const limit = { left: blockCount };
  for (let i = 0; i < 12 && limit.left > 0; i++, limit.left--) {
    const entry = view.getUint32(4 * i, true);
    if (entry !== 0) checkBlock(source, entry, 'a block map entry');
    yield entry;
  }
  for (let level = 1; level <= 3 && limit.left > 0; level++) yield* indirectBlocks(source, view.getUint32(4 * (11 + level), true), level, limit);
}

/** The physical block of each of the first `blockCount` logical blocks of an inode (0: a hole). */
export function inodeBlocks(source: BlockSource, iBlock: Uint8Array, usesExtents: boolean, blockCount: number): AsyncGenerator<number> {
  return usesExtents ? extentBlocks(source, iBlock, blockCount) : mappedBlocks(source, iBlock, blockCount);
}
