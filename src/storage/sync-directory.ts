// Durability of directory entries: a rename, creation or removal reaches the disk only once
// the directory itself is synced.

import { open } from 'node:fs/promises';

/** Makes a rename, creation or removal in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
