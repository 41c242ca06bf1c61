// Builds disk images the way a distribution's image tools do, with Debian's own tools and no
// root or loop devices: each partition's file system as a file of its own (mkfs.ext4 -d, or
// mkfs.vfat and mtools), a GPT or MBR written by sfdisk, and the partitions copied in.

import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FileBlockBackend } from '../../src/storage/file-block-backend.js';
import { DiskReader } from '../../src/storage/probe/disk-reader.js';

/** A file's contents, or a host file to copy. */
export type DiskFile = string | Uint8Array | { source: string };
export type DiskFiles = Record<string, DiskFile>;

export const GPT_TYPES = { esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' } as const;

export interface DiskPartition {
  /** A file system image from makeExt4 or makeFat, or a size for an empty partition. */
  image?: string;
  sizeMiB?: number;
  /** GPT type GUID, or MBR type byte as hex ("83", "ef"). */
  type: string;
  /** GPT LegacyBIOSBootable attribute, or the MBR boot flag. */
  bootable?: boolean;
}

const MiB = 1024 * 1024;

export function run(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  if (result.error || result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.error?.message ?? ''}${result.stderr}`);
  return result.stdout;
}

/** Whether the host has the tools these images need (fdisk, e2fsprogs, dosfstools, mtools). */
export function bootDiskToolsMissing(): string[] {
  return ['sfdisk', 'mkfs.ext4', 'mkfs.vfat', 'mmd', 'mcopy'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
}

function writeFile(path: string, file: DiskFile): void {
  mkdirSync(dirname(path), { recursive: true });
  if (typeof file === 'object' && 'source' in file) copyFileSync(file.source, path);
  else writeFileSync(path, file);
}

/** An ext4 (or, with `type`, ext2/ext3) file system of `sizeMiB` holding `files`. */
export function makeExt4(work: string, name: string, files: DiskFiles, sizeMiB: number, extraArgs: readonly string[] = []): string {
  const stage = join(work, `${name}.d`);
  mkdirSync(stage, { recursive: true });
  for (const [path, file] of Object.entries(files)) writeFile(join(stage, path), file);
  const image = join(work, `${name}.img`);
  run('mkfs.ext4', ['-q', '-F', ...extraArgs, '-d', stage, image, `${sizeMiB}M`]);
  return image;
}

/** A FAT file system of `sizeMiB` (mkfs.vfat picks FAT12/16/32 unless `fatBits` says) holding `files`. */
export function makeFat(work: string, name: string, files: DiskFiles, sizeMiB: number, fatBits?: 12 | 16 | 32): string {
  const image = join(work, `${name}.img`);
  run('mkfs.vfat', ['-C', ...(fatBits ? ['-F', String(fatBits)] : []), '-n', name.slice(0, 11).toUpperCase(), image, String(sizeMiB * 1024)]);
  // One recursive mcopy of a staged tree: a call per file costs seconds for a few hundred files.
  const stage = join(work, `${name}.d`);
  mkdirSync(stage, { recursive: true });
  for (const [path, file] of Object.entries(files)) writeFile(join(stage, path), file);
  const top = readdirSync(stage).map((entry) => join(stage, entry));
  if (top.length > 0) run('mcopy', ['-s', '-o', '-i', image, ...top, '::/']);
  return image;
}

/** A disk image at `path` with a GPT (or MBR) and `partitions` laid out from 1 MiB on. */
export function assembleDisk(path: string, partitions: readonly DiskPartition[], scheme: 'gpt' | 'mbr' = 'gpt'): string {
  const sizes = partitions.map((p) => Math.ceil((p.image ? statSync(p.image).size : (p.sizeMiB ?? 1) * MiB) / MiB));
  const total = 1 + sizes.reduce((a, b) => a + b, 0) + 1; // 1 MiB in front, and room for the backup GPT
  writeFileSync(path, '');
  run('truncate', ['-s', `${total}M`, path]);
  let start = 1;
  const lines = partitions.map((p, i) => {
    const line = `start=${start * 2048}, size=${sizes[i]! * 2048}, type=${p.type}${p.bootable ? (scheme === 'gpt' ? ', attrs="LegacyBIOSBootable"' : ', bootable') : ''}`;
    start += sizes[i]!;
    return line;
  });
  run('sfdisk', ['-q', path], `label: ${scheme === 'gpt' ? 'gpt' : 'dos'}\n${lines.join('\n')}\n`);
  const fd = openSync(path, 'r+');
  try {
    start = 1;
    partitions.forEach((p, i) => {
      if (p.image) writeSync(fd, readFileSync(p.image), 0, undefined, start * MiB);
      start += sizes[i]!;
    });
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Overwrites `bytes` at `offset` of a file: how tests corrupt an image on purpose. */
export function patchFile(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Runs `use` on an image file opened read-only as a probe's DiskReader, and closes it. */
export async function withDiskReader<T>(path: string, use: (disk: DiskReader) => Promise<T>): Promise<T> {
  const backend = FileBlockBackend.open(path, { readOnly: true });
  try {
    return await use(DiskReader.forDisk(backend, { name: path }));
  } finally {
    await backend.close();
  }
}
