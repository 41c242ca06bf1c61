// A read-only ext2/3/4 file system inside one partition, enough to look paths up: superblock,
// group descriptors, inodes (extents or block maps) and directories. Every block number is
// checked against the file system, and all reads share the probe's budget.

import type { DiskReader } from './disk-reader.js';
import { inodeBlocks, type BlockSource } from './ext4-block-map.js';
import { ext4DirEntries } from './ext4-directory.js';
import { readExt4Superblock, type Ext4Superblock } from './ext4-superblock.js';
import { pathComponents, type EntryKind, type FileSystem } from './file-system.js';
import type { ProbeError } from './probe-error.js';

const ROOT_INODE = 2;
const EXTENTS_FL = 0x80000;
const INLINE_DATA_FL = 0x10000000;
/** Directories bigger than this are not boot directories; stop rather than read them all. */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

interface Inode {
  mode: number;
  size: number;
  flags: number;
  iBlock: Uint8Array;
}

function kindOf(mode: number): EntryKind {
  switch (mode & 0xf000) {
    case 0x8000: return 'file';
    case 0x4000: return 'directory';
    case 0xa000: return 'symlink';
    default: return 'other';
  }
}

export class Ext4Volume implements FileSystem {
  readonly caseInsensitive = false;
  private readonly source: BlockSource;

  private constructor(private readonly part: DiskReader, private readonly sb: Ext4Superblock) {
    this.source = {
      blockSize: sb.blockSize,
      blocksCount: sb.blocksCount,
      readBlock: (block) => part.read(block * sb.blockSize, sb.blockSize),
      fail: (message) => this.fail(message),
    };
  }

  static async open(part: DiskReader): Promise<Ext4Volume> {
    return new Ext4Volume(part, await readExt4Superblock(part));
  }

  get type(): string {
    return this.sb.type;
  }

  async lookup(path: string): Promise<EntryKind | undefined> {
    let inode = await this.readInode(ROOT_INODE);
    for (const name of pathComponents(path)) {
      if (kindOf(inode.mode) !== 'directory') return undefined;
      const found = await this.find(inode, name);
      if (found === undefined) return undefined;
      inode = await this.readInode(found);
    }
    return kindOf(inode.mode);
  }

  private fail(message: string): ProbeError {
    return this.part.error(`the ${this.sb.type} file system is corrupt: ${message}`);
  }

  private async readInode(number: number): Promise<Inode> {
    const { sb } = this;
    if (number < 1 || number > sb.inodesCount) throw this.fail(`a directory names inode ${number}, outside 1-${sb.inodesCount}`);
    const group = Math.floor((number - 1) / sb.inodesPerGroup);
    const index = (number - 1) % sb.inodesPerGroup;
    // The descriptor table starts in the block after the superblock's: block 2 with 1 KiB blocks, else block 1.
    const tableAt = (sb.firstDataBlock + 1) * sb.blockSize + group * sb.descriptorSize;
    const desc = new DataView((await this.part.read(tableAt, sb.descriptorSize)).buffer);
    const inodeTable = desc.getUint32(0x8, true) + (sb.descriptorSize >= 64 ? desc.getUint32(0x28, true) * 2 ** 32 : 0);
    const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
    if (inodeTable === 0 || inodeTable + tableBlocks > sb.blocksCount) throw this.fail(`group ${group}'s inode table is at block ${inodeTable}, outside the file system`);
    const raw = await this.part.read(inodeTable * sb.blockSize + index * sb.inodeSize, 128);
    const view = new DataView(raw.buffer);
    return {
      mode: view.getUint16(0x0, true),
      size: view.getUint32(0x4, true) + view.getUint32(0x6c, true) * 2 ** 32,
      flags: view.getUint32(0x20, true),
      iBlock: raw.slice(0x28, 0x28 + 60),
    };
  }

  /** The inode number of `name` in directory `dir`, if there. */
  private async find(dir: Inode, name: string): Promise<number | undefined> {
    if (dir.flags & INLINE_DATA_FL) throw this.part.error('a directory keeps its entries inline in its inode, which the probe does not read', undefined, 'unsupported');
    if (dir.size > MAX_DIRECTORY_BYTES) throw this.fail(`a directory claims ${dir.size} bytes`);
    const blockCount = Math.ceil(dir.size / this.sb.blockSize);
    for await (const block of inodeBlocks(this.source, dir.iBlock, (dir.flags & EXTENTS_FL) !== 0, blockCount)) {
      if (block === 0) continue;
      const entries = ext4DirEntries(await this.source.readBlock(block), this.sb.fileType, (message) => this.fail(message));
      const match = entries.find((entry) => entry.name === name);
      if (match) return match.inode;
    }
    return undefined;
  }
}
