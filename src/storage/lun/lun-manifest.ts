// The physical LUN's manifest: a versioned JSON file in its directory recording the capacity,
// the overcommit limit and the virtual LUNs. It is replaced atomically (temporary file, fsync,
// rename, fsync of the directory), so a crash leaves either the old or the new manifest.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LunError } from './lun-error.js';
import { syncDirectory } from '../sync-directory.js';

export const MANIFEST_FILE = 'vireo-lun.json';
const FORMAT = 'vireo-physical-lun';
const VERSION = 1;
const MAX_NAME_LENGTH = 64;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LunEntry {
  name: string;
  uuid: string;
  /** The size the guest sees, in bytes. */
  virtualSize: number;
  /** A template is read-only; linked clones use it as their backing file. */
  template: boolean;
  /** The template this LUN is a linked clone of, or null. */
  backing: string | null;
  /** ISO 8601 creation time. */
  created: string;
}

export interface LunManifest {
  capacityBytes: number;
  overcommitRatio: number;
  luns: LunEntry[];
}

/** Throws 'invalid-name' unless `name` is a safe virtual LUN name (it becomes a file name). */
export function checkLunName(dir: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name) || name.includes('..')) {
    throw new LunError('invalid-name', `"${String(name)}" is not a valid virtual LUN name: use 1..${MAX_NAME_LENGTH} letters, digits, '.', '_' or '-', starting with a letter or digit, without ".."`, { dir, lun: String(name) });
  }
}

/** The image file of virtual LUN `name`. */
export function lunFileName(name: string): string {
  return `${name}.qcow2`;
}

/** Throws 'invalid-argument' unless the capacity and ratio are usable. */
export function checkLimits(dir: string, capacityBytes: number, overcommitRatio: number): void {
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0) {
    throw new LunError('invalid-argument', `physical LUN ${dir}: capacity ${capacityBytes} must be a positive whole number of bytes`, { dir });
  }
  if (typeof overcommitRatio !== 'number' || !Number.isFinite(overcommitRatio) || overcommitRatio <= 0) {
    throw new LunError('invalid-argument', `physical LUN ${dir}: overcommit ratio ${overcommitRatio} must be a positive number (1 means no overcommit)`, { dir });
  }
}

export async function readManifest(dir: string): Promise<LunManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LunError('not-found', `${dir} is not a physical LUN: it has no ${MANIFEST_FILE}; create one with PhysicalLun.create`, { dir, op: 'open' }, { cause });
    }
    throw new LunError('io', `cannot read the manifest ${path}: ${(cause as Error).message}`, { dir, op: 'open' }, { cause });
  }
  const bad = (what: string, cause?: unknown): LunError =>
    new LunError('bad-manifest', `the physical LUN manifest ${path} is damaged: ${what}; restore it from a backup (the images *.qcow2 beside it are untouched)`, { dir, op: 'open' }, cause === undefined ? undefined : { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw bad(`it is not valid JSON (${(cause as Error).message})`, cause);
  }
  if (!isObject(json) || json['format'] !== FORMAT) throw bad(`it does not say "format": "${FORMAT}"`);
  if (json['version'] !== VERSION) {
    throw new LunError('bad-manifest', `the physical LUN manifest ${path} has version ${String(json['version'])}, and this Vireo reads version ${VERSION}; use a newer Vireo`, { dir, op: 'open' });
  }
  const capacityBytes = json['capacityBytes'];
  const overcommitRatio = json['overcommitRatio'];
  if (typeof capacityBytes !== 'number' || typeof overcommitRatio !== 'number') throw bad('capacityBytes or overcommitRatio is missing');
  try {
    checkLimits(dir, capacityBytes, overcommitRatio);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const list = json['luns'];
  if (!Array.isArray(list)) throw bad('"luns" is not a list');
  const luns: LunEntry[] = [];
  for (const [i, raw] of list.entries()) {
    if (!isObject(raw)) throw bad(`virtual LUN entry ${i} is not an object`);
    const { name, uuid, virtualSize, template, backing, created } = raw;
    if (typeof name !== 'string' || typeof uuid !== 'string' || !UUID.test(uuid) || typeof virtualSize !== 'number' || !Number.isSafeInteger(virtualSize) || virtualSize < 0
      || typeof template !== 'boolean' || (backing !== null && typeof backing !== 'string') || typeof created !== 'string' || Number.isNaN(Date.parse(created))) {
      throw bad(`virtual LUN entry ${i} lacks a valid name, uuid, virtualSize, template, backing or created field`);
    }
    try {
      checkLunName(dir, name);
      if (backing !== null) checkLunName(dir, backing);
    } catch (e) {
      throw bad(`virtual LUN entry ${i}: ${(e as Error).message}`);
    }
    if (luns.some((l) => l.name === name)) throw bad(`virtual LUN "${name}" is listed twice`);
    luns.push({ name, uuid, virtualSize, template, backing, created });
  }
  for (const lun of luns) {
    if (lun.backing !== null && !luns.some((l) => l.name === lun.backing && l.template)) throw bad(`virtual LUN "${lun.name}" is a clone of "${lun.backing}", which is not a template in the manifest`);
  }
  return { capacityBytes, overcommitRatio, luns };
}

/** Replaces the manifest atomically and durably. */
export async function writeManifest(dir: string, manifest: LunManifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const temporary = `${path}.tmp`;
  const text = `${JSON.stringify({ format: FORMAT, version: VERSION, ...manifest }, null, 2)}\n`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncDirectory(dir);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new LunError('io', `cannot write the manifest ${path}: ${(cause as Error).message}; the previous manifest is still in place`, { dir, op: 'write-manifest' }, { cause });
  }
}


function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
