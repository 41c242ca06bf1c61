// Linear ext2/3/4 directory blocks (kernel Documentation/filesystems/ext4/directory.rst). Hash
// tree (htree) directories read the same way: their index blocks look like one empty entry.

import type { ProbeError } from './probe-error.js';

export interface Ext4DirEntry {
  inode: number;
  name: string;
}

/** The live entries of one directory block; throws (via `fail`) for an entry that does not fit. */
export function ext4DirEntries(block: Uint8Array, fileType: boolean, fail: (message: string) => ProbeError): Ext4DirEntry[] {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const entries: Ext4DirEntry[] = [];
  for (let at = 0; at < block.length; ) {
    if (at + 8 > block.length) throw fail(`a directory entry at byte ${at} of a block runs past its end`);
    const inode = view.getUint32(at, true);
    const recLen = view.getUint16(at + 4, true);
    // ext4_dir_entry_2 has a one-byte name_len and a file type; without the filetype feature, name_len is 16 bits.
    const nameLen = fileType ? block[at + 6]! : view.getUint16(at + 6, true);
    if (recLen < 8 || recLen % 4 !== 0 || at + recLen > block.length || 8 + nameLen > recLen) {
      throw fail(`a directory entry at byte ${at} of a block has rec_len ${recLen} and name_len ${nameLen}`);
    }
    if (inode !== 0) entries.push({ inode, name: Buffer.from(block.subarray(at + 8, at + 8 + nameLen)).toString('utf8') });
    at += recLen;
  }
  return entries;
}
