// Files the master must never leave half-written (its key, its TLS key): written and synced
// under a temporary name with their final mode, then moved into place in one step.

import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';

/**
 * Writes `data` to `path` with `mode`. With `replace` false an existing file is kept (two
 * writers racing end up with one file, the first) and the answer is false; otherwise true.
 */
export async function writeFileAtomically(path: string, data: string | Uint8Array, mode: number, replace: boolean): Promise<boolean> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', mode);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    if (replace) {
      await rename(temporary, path);
      return true;
    }
    await link(temporary, path);
    return true;
  } catch (error) {
    if (!replace && (error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => {});
  }
}
