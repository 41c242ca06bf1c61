// The ext2/3/4 superblock (kernel Documentation/filesystems/ext4/super.rst): 1024 bytes at byte
// 1024 of the file system; the fields the probe needs to find inodes and directory blocks.

import type { DiskReader } from './disk-reader.js';

export const EXT4_MAGIC = 0xef53;
const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_EXTENTS = 0x40;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_FLEX_BG = 0x200;
const INCOMPAT_ENCRYPT = 0x10000;
const COMPAT_HAS_JOURNAL = 0x4;

export interface Ext4Superblock {
  type: 'ext2' | 'ext3' | 'ext4';
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  /** Bytes per group descriptor: 32, or s_desc_size with the 64bit feature. */
  descriptorSize: number;
  /** Directory entries carry a file type byte, and name_len is one byte. */
  fileType: boolean;
}

/** Whether the window holds an ext2/3/4 superblock (by its magic). */
export async function hasExt4Magic(part: DiskReader): Promise<boolean> {
  if (part.size < 2048) return false;
  const bytes = await part.read(1024 + 0x38, 2);
  return (bytes[0]! | (bytes[1]! << 8)) === EXT4_MAGIC;
}

/** Reads and checks the superblock; throws 'bad-file-system' naming the field at fault. */
export async function readExt4Superblock(part: DiskReader): Promise<Ext4Superblock> {
  const sb = await part.read(1024, 1024);
  const view = new DataView(sb.buffer);
  const u32 = (at: number) => view.getUint32(at, true);
  const u16 = (at: number) => view.getUint16(at, true);
  const bad = (why: string) => part.error(`the ext superblock is not valid: ${why}`, 1024);
  if (u16(0x38) !== EXT4_MAGIC) throw bad('no 0xEF53 magic');
  const logBlockSize = u32(0x18);
  if (logBlockSize > 6) throw bad(`s_log_block_size is ${logBlockSize} (blocks of 1 KiB to 64 KiB only)`);
  const blockSize = 1024 << logBlockSize;
  const compat = u32(0x5c);
  const incompat = u32(0x60);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const revision = u32(0x4c);
  const inodeSize = revision >= 1 ? u16(0x58) : 128;
  const descriptorSize = is64 ? u16(0xfe) : 32;
  const blocksCount = u32(0x4) + (is64 ? u32(0x150) * 2 ** 32 : 0);
  const sb2: Ext4Superblock = {
    type: (incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG)) !== 0 ? 'ext4' : (compat & COMPAT_HAS_JOURNAL) !== 0 ? 'ext3' : 'ext2',
    blockSize,
    blocksCount,
    inodesCount: u32(0x0),
    firstDataBlock: u32(0x14),
    blocksPerGroup: u32(0x20),
    inodesPerGroup: u32(0x28),
    inodeSize,
    descriptorSize,
    fileType: (incompat & INCOMPAT_FILETYPE) !== 0,
  };
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) throw bad(`s_inode_size is ${inodeSize}`);
  if (descriptorSize < 32 || descriptorSize > 1024 || (descriptorSize & (descriptorSize - 1)) !== 0) throw bad(`s_desc_size is ${descriptorSize}`);
  if (sb2.blocksPerGroup === 0 || sb2.inodesPerGroup === 0 || sb2.blocksPerGroup > 8 * blockSize) throw bad(`${sb2.blocksPerGroup} blocks and ${sb2.inodesPerGroup} inodes per group`);
  if (blocksCount === 0 || blocksCount * blockSize > part.size) throw bad(`${blocksCount} blocks of ${blockSize} bytes do not fit in the ${part.size}-byte partition`);
  if (sb2.firstDataBlock >= blocksCount) throw bad(`s_first_data_block ${sb2.firstDataBlock} is past the last block`);
  const groups = Math.ceil((blocksCount - sb2.firstDataBlock) / sb2.blocksPerGroup);
  if (sb2.inodesCount > groups * sb2.inodesPerGroup || sb2.inodesCount < 11) throw bad(`s_inodes_count ${sb2.inodesCount} does not fit ${groups} groups of ${sb2.inodesPerGroup}`);
  // Features whose layout the probe does not read: say so rather than misread.
  if (incompat & INCOMPAT_META_BG) throw part.error('the ext file system uses meta_bg, which the probe does not read', 1024, 'unsupported');
  if (incompat & INCOMPAT_ENCRYPT) throw part.error('the ext file system is encrypted', 1024, 'unsupported');
  return sb2;
}
