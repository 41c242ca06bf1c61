// What an overlay needs of its backing file: its size, positioned reads and close. A raw
// backing file is read directly; a qcow2 one is a read-only Qcow2Image (which fits this shape).

import type { ImageFile } from './image-file.js';

export interface BackingImage {
  readonly size: number;
  /** Fills `into` from `offset`; the range lies within size. */
  read(offset: number, into: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** A raw image file used as a backing file; bytes past its end read as zeros. */
export class RawBackingImage implements BackingImage {
  readonly size: number;
  private readonly file: ImageFile;

  constructor(file: ImageFile) {
    this.file = file;
    this.size = file.size;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    const n = await this.file.readAt(offset, into);
    into.fill(0, n);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
