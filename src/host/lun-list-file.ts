// The physical LUNs added through the agent's API (name and directory), kept in
// DIR/physical-luns.json and written atomically, so the agent opens them again when it restarts.

import { isAbsolute } from 'node:path';
import { HostError } from './host-error.js';
import { readJson, writeJsonAtomic } from './json-file.js';
import { VM_NAME_PATTERN } from './vm-definition.js';

const VERSION = 1;
const NAME = new RegExp(VM_NAME_PATTERN, 'u');

export interface LunListEntry {
  name: string;
  /** The LUN's directory, absolute. */
  path: string;
}

/** The list; empty when the file does not exist yet; 'corrupt-file' when it is damaged (never taken for empty). */
export async function readLunList(path: string): Promise<LunListEntry[]> {
  const value = await readJson(path);
  if (value === undefined) return [];
  const bad = (what: string): HostError => new HostError('corrupt-file', `${path} is damaged: ${what}; fix it (it lists the physical LUNs added with POST /luns) or remove it and add them again`, { path });
  const file = value as { version?: unknown; luns?: unknown };
  if (typeof file !== 'object' || file === null || file.version !== VERSION || !Array.isArray(file.luns)) throw bad(`it is not {"version": ${VERSION}, "luns": [...]}`);
  const entries: LunListEntry[] = [];
  for (const [i, raw] of (file.luns as unknown[]).entries()) {
    const { name, path: dir } = (raw ?? {}) as { name?: unknown; path?: unknown };
    if (typeof name !== 'string' || !NAME.test(name) || typeof dir !== 'string' || !isAbsolute(dir)) throw bad(`entry ${i} lacks a valid name or absolute path`);
    if (entries.some((e) => e.name === name)) throw bad(`the LUN ${name} is listed twice`);
    entries.push({ name, path: dir });
  }
  return entries;
}

export function writeLunList(path: string, entries: readonly LunListEntry[]): Promise<void> {
  const luns = [...entries].sort((a, b) => a.name.localeCompare(b.name)).map(({ name, path: dir }) => ({ name, path: dir }));
  return writeJsonAtomic(path, { version: VERSION, luns });
}
