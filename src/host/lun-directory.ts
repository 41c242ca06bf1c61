// Where the agent's physical LUNs may live, and opening one: a directory that holds a LUN's
// manifest is adopted as it is; an empty or missing one becomes a new LUN. Storage errors
// become the agent's, with the status its API answers.

import { mkdir, readdir, realpath, rmdir, statfs } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { LunError, type LunErrorKind } from '../storage/lun/lun-error.js';
import { MANIFEST_FILE } from '../storage/lun/lun-manifest.js';
import { PhysicalLun } from '../storage/lun/physical-lun.js';
import { HostError, type HostErrorKind } from './host-error.js';
import type { LunListEntry } from './lun-list-file.js';

/** Thin disks may promise this many times the space a new physical LUN has, unless told otherwise. */
export const DEFAULT_OVERCOMMIT = 4;

const KINDS: Record<LunErrorKind, HostErrorKind> = {
  'invalid-name': 'invalid-request', 'invalid-argument': 'invalid-request', 'bad-manifest': 'invalid-request',
  exists: 'exists', 'not-found': 'not-found',
  overcommit: 'over-budget', 'no-space': 'over-budget',
  busy: 'invalid-state', 'in-use': 'invalid-state', 'read-only': 'invalid-state',
  io: 'io',
};

/** The agent's error for a failed storage operation `what`. */
export function storageError(e: unknown, what: string): HostError {
  if (e instanceof HostError) return e;
  const kind = e instanceof LunError ? KINDS[e.kind] : 'io';
  return new HostError(kind, `cannot ${what}: ${(e as Error).message}`, {}, { cause: e });
}

/**
 * The normalized directory for a new physical LUN at `path`: absolute, not another LUN's
 * (409 'exists'), neither inside nor around another LUN's, and outside the data directory.
 */
export async function checkNewLunPath(dataDir: string, path: string, taken: readonly LunListEntry[]): Promise<string> {
  if (!isAbsolute(path)) throw new HostError('invalid-request', `the LUN path ${path} is not absolute; give the directory's absolute path`, { path });
  const dir = resolve(path);
  const real = await canonical(dir);
  for (const other of taken) {
    const otherReal = await canonical(other.path);
    if (real === otherReal) throw new HostError('exists', `${path} is already physical LUN ${other.name} of this agent`, { path });
    if (within(real, otherReal) || within(otherReal, real)) {
      throw new HostError('invalid-request', `${path} would nest with physical LUN ${other.name} (${other.path}); choose a directory apart from it`, { path });
    }
  }
  const data = await canonical(dataDir);
  if (real === data || within(real, data)) throw new HostError('invalid-request', `${path} is inside the agent's data directory ${dataDir}, which is the agent's own; choose a directory outside it`, { path });
  return dir;
}

/**
 * Opens the physical LUN in `dir`, or makes one there if `dir` is missing or empty, with
 * `capacityBytes` (default: the free space of its file system) and `overcommitRatio`.
 */
export async function openOrCreateLun(dir: string, limits: { capacityBytes?: number | undefined; overcommitRatio?: number | undefined }): Promise<PhysicalLun> {
  let entries: string[] | null = null;
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new HostError(code === 'ENOTDIR' ? 'invalid-request' : 'io', `cannot use ${dir} as a physical LUN: ${(e as Error).message}`, { path: dir }, { cause: e });
  }
  if (entries?.includes(MANIFEST_FILE)) {
    try {
      return await PhysicalLun.open(dir);
    } catch (e) {
      throw storageError(e, `open the physical LUN in ${dir}`);
    }
  }
  if (entries !== null && entries.length > 0) {
    throw new HostError('invalid-request', `${dir} is neither a physical LUN (it has no ${MANIFEST_FILE}) nor empty; give a LUN's directory, an empty one or a new one`, { path: dir });
  }
  try {
    if (entries === null) await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HostError('invalid-request', `cannot make the directory ${dir}: ${(e as Error).message}`, { path: dir }, { cause: e });
  }
  try {
    return await PhysicalLun.create(dir, { capacityBytes: limits.capacityBytes ?? await freeSpaceBytes(dir), overcommitRatio: limits.overcommitRatio ?? DEFAULT_OVERCOMMIT });
  } catch (e) {
    // A directory made here for the LUN goes again; an empty one given stays as it was.
    if (entries === null) await rmdir(dir).catch(() => {});
    throw storageError(e, `create a physical LUN in ${dir}`);
  }
}

/** The free space of the file system `dir` is on, in whole sectors, at least 1 GiB. */
async function freeSpaceBytes(dir: string): Promise<number> {
  const space = await statfs(dir);
  return Math.max(1024 * 1024 * 1024, Math.floor((space.bavail * space.bsize) / 512) * 512);
}

/** `path` with its existing part's symbolic links resolved, so two names of one directory compare equal. */
async function canonical(path: string): Promise<string> {
  const rest: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) return resolve(path);
      rest.push(basename(at));
      at = dirname(at);
    }
  }
}

function within(child: string, parent: string): boolean {
  return child.startsWith(parent.endsWith(sep) ? parent : `${parent}${sep}`);
}
