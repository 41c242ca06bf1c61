// Grows an image's virtual disk (raw: the file is extended with a hole; qcow2: the L1 table
// grows if needed). Shrinking is refused: it would drop the guest's data.

import { openImage } from './image-format.js';

/** Grows the image at `path` to `newSize` bytes; returns the old size. */
export async function resizeImage(path: string, newSize: number): Promise<number> {
  const image = await openImage(path, { writable: true });
  try {
    const old = image.size;
    await image.resize(newSize);
    await image.flush();
    return old;
  } finally {
    await image.close();
  }
}
