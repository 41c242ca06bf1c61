// What `vireo disk info` reports about an image: format, sizes, qcow2 details, the backing
// chain and the snapshots. Reads headers only (never opens an image for writing), so it also
// describes images that are dirty, marked corrupt, or whose backing file is missing.

import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MAX_BACKING_DEPTH } from '../qcow2/backing-chain.js';
import { ImageFile } from '../qcow2/image-file.js';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, MAX_CLUSTER_BITS, MIN_CLUSTER_BITS, type Qcow2Header, parseQcow2Header } from '../qcow2/qcow2-header.js';
import { readSnapshotTable } from '../qcow2/snapshot-table.js';
import { type ImageFormat, detectImageFormat, isImageFormat } from './image-format.js';
import { ImageOpsError, fsError } from './image-ops-error.js';

export interface ImageSnapshotInfo {
  id: string;
  name: string;
  /** The virtual size when the snapshot was taken. */
  virtualSize: number;
  /** When it was taken, ISO 8601. */
  date: string;
}

export interface BackingChainEntry {
  /** The backing file's path, resolved against the directory of the image that names it. */
  filename: string;
  format: ImageFormat | null;
  virtualSize: number | null;
  /** Why the entry could not be read (missing file, loop, ...); format and size are null then. */
  error?: string;
}

export interface ImageInfo {
  filename: string;
  format: ImageFormat;
  virtualSize: number;
  /** The file's length in bytes. */
  fileSize: number;
  /** Bytes the file takes on the host's disk (holes do not count). */
  actualSize: number;
  /** qcow2: 2 or 3; null for raw. */
  version: number | null;
  clusterSize: number | null;
  /** The backing file name as stored in the image, or null. */
  backingFile: string | null;
  backingFormat: ImageFormat | null;
  /** Every image under this one, nearest first. */
  backingChain: BackingChainEntry[];
  snapshots: ImageSnapshotInfo[];
  /** qcow2 dirty bit: refcounts not written back (lazy refcounts); needs a repair before writing. */
  dirty: boolean;
  /** qcow2 corrupt bit: QEMU found corruption; the image may be opened read-only only. */
  corrupt: boolean;
}

/** Describes the image at `path`, of `format` (detected from its header when absent). */
export async function imageInfo(path: string, options: { format?: ImageFormat } = {}): Promise<ImageInfo> {
  const format = options.format ?? (await detectImageFormat(path));
  let st;
  try {
    st = await stat(path);
  } catch (cause) {
    throw fsError(cause, path, 'inspect');
  }
  const base = { filename: path, format, virtualSize: st.size, fileSize: st.size, actualSize: st.blocks * 512 };
  if (format === 'raw') {
    return { ...base, version: null, clusterSize: null, backingFile: null, backingFormat: null, backingChain: [], snapshots: [], dirty: false, corrupt: false };
  }
  const file = await ImageFile.open(path, true);
  try {
    const header = await readHeader(file);
    const snapshots = header.nbSnapshots === 0 ? [] : (await readSnapshotTable(file, header.snapshotsOffset, header.nbSnapshots, header.clusterBits)).entries.map((s) => ({
      id: s.id, name: s.name, virtualSize: s.diskSize ?? header.size, date: new Date(s.dateSec * 1000 + Math.floor(s.dateNsec / 1e6)).toISOString(),
    }));
    const backingChain = header.backingFile === null ? [] : await backingChainOf(path, header.backingFile, header.backingFormat);
    return {
      ...base, virtualSize: header.size, version: header.version, clusterSize: 2 ** header.clusterBits,
      backingFile: header.backingFile, backingFormat: header.backingFormat !== null && isImageFormat(header.backingFormat) ? header.backingFormat : (backingChain[0]?.format ?? null),
      backingChain, snapshots, dirty: (header.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n, corrupt: (header.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n,
    };
  } finally {
    await file.close();
  }
}

/** Reads and checks the header cluster of an open qcow2 file. */
export async function readHeader(file: ImageFile): Promise<Qcow2Header> {
  const first = new Uint8Array(Math.min(file.size, 24));
  await file.readAt(0, first);
  const bits = first.length === 24 ? new DataView(first.buffer).getUint32(20) : MIN_CLUSTER_BITS;
  const headerBytes = new Uint8Array(Math.min(file.size, 2 ** (bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? bits : MIN_CLUSTER_BITS)));
  await file.readAt(0, headerBytes);
  return parseQcow2Header(headerBytes, file.size, file.path);
}

/** Opens the header of `path` and returns it (the image must be qcow2). */
export async function readQcow2Header(path: string): Promise<Qcow2Header> {
  const file = await ImageFile.open(path, true);
  try {
    return await readHeader(file);
  } finally {
    await file.close();
  }
}

/** The path a backing file name stored in the image at `imagePath` refers to. */
export function resolveBacking(imagePath: string, name: string): string {
  return isAbsolute(name) ? name : resolve(dirname(imagePath), name);
}

async function backingChainOf(path: string, name: string, format: string | null): Promise<BackingChainEntry[]> {
  const chain: BackingChainEntry[] = [];
  const seen = new Set<string>([await realpath(path)]);
  let image = path;
  let next: { name: string; format: string | null } | null = { name, format };
  while (next !== null) {
    const filename = resolveBacking(image, next.name);
    const entry: BackingChainEntry = { filename, format: null, virtualSize: null };
    chain.push(entry);
    try {
      const real = await realpath(filename).catch((cause: unknown) => { throw fsError(cause, filename, 'open backing file'); });
      if (seen.has(real)) throw new ImageOpsError('not-an-image', `the backing chain loops back to ${real}`, filename);
      if (chain.length > MAX_BACKING_DEPTH) throw new ImageOpsError('not-an-image', `the backing chain is deeper than ${MAX_BACKING_DEPTH} images`, filename);
      seen.add(real);
      const detected = next.format !== null && isImageFormat(next.format) ? next.format : await detectImageFormat(filename);
      entry.format = detected;
      if (detected === 'raw') {
        entry.virtualSize = (await stat(filename)).size;
        next = null;
      } else {
        const header = await readQcow2Header(filename);
        entry.virtualSize = header.size;
        next = header.backingFile === null ? null : { name: header.backingFile, format: header.backingFormat };
      }
    } catch (e) {
      entry.format = null;
      entry.virtualSize = null;
      entry.error = (e as Error).message;
      next = null;
    }
    image = filename;
  }
  return chain;
}
