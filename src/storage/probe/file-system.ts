// What the boot probe asks of a file system: its type, and what (if anything) is at a path.

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface FileSystem {
  /** As reported: 'ext2', 'ext3', 'ext4', 'FAT12', 'FAT16', 'FAT32'. */
  readonly type: string;
  /** Whether names match regardless of case (FAT), as U-Boot matches them. */
  readonly caseInsensitive: boolean;
  /** What is at an absolute path ('/extlinux/extlinux.conf'), or undefined when nothing is. Throws ProbeError for corrupt structures. */
  lookup(path: string): Promise<EntryKind | undefined>;
}

/** The components of an absolute path, without empty ones. */
export function pathComponents(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}
