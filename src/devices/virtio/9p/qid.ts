// Qids from host file status: the inode is the path (mixed with the device number when a mount
// inside the share puts another file system there), the version changes with mtime and size, as a
// cache hint for the guest.

import { QidType, type Qid } from './messages.js';

/** The fields of fs.BigIntStats a qid and Rgetattr use. */
export interface StatLike {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  size: bigint;
  mtimeNs: bigint;
}

const S_IFMT = 0o170000n;
const S_IFDIR = 0o040000n;
const S_IFLNK = 0o120000n;

/** The qid of a file; `rootDev` is the device of the share's root, whose inodes are used as they are. */
export function qidOf(stats: StatLike, rootDev: bigint): Qid {
  const format = stats.mode & S_IFMT;
  const type = format === S_IFDIR ? QidType.DIR : format === S_IFLNK ? QidType.SYMLINK : QidType.FILE;
  const version = Number(BigInt.asUintN(32, stats.mtimeNs ^ (stats.size << 8n)));
  const path = stats.dev === rootDev ? stats.ino : BigInt.asUintN(64, stats.ino ^ (stats.dev << 48n));
  return { type, version, path };
}
