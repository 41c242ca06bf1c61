// JSON files the agent keeps: written atomically (a temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the old version or the new one, never half of either.

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HostError } from './host-error.js';
import { syncDirectory } from '../storage/sync-directory.js';

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(value, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (e) {
    await rm(tmp, { force: true });
    throw new HostError('io', `cannot write ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/** The parsed file; undefined when it does not exist; a HostError 'corrupt-file' when it is not JSON. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HostError('io', `cannot read ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HostError('corrupt-file', `${path} is not valid JSON (${(e as Error).message}); fix or remove it`, { path }, { cause: e });
  }
}
