// A qcow2 image as a disk: the BlockBackend a virtio-blk device uses, with the qcow2 layer's
// errors turned into BlockBackendError so devices and front ends handle one error type.

import { BlockBackendError, type BlockBackend, type BlockBackendErrorKind } from './block-backend.js';
import { Qcow2Error, type Qcow2ErrorKind } from './qcow2/qcow2-error.js';
import type { Qcow2Image } from './qcow2/qcow2-image.js';

type Op = 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes' | 'resize';

const KINDS: Partial<Record<Qcow2ErrorKind, BlockBackendErrorKind>> = {
  'read-only': 'read-only',
  'out-of-range': 'out-of-range',
  'invalid-argument': 'out-of-range',
  closed: 'closed',
};

export class Qcow2BlockBackend implements BlockBackend {
  readonly image: Qcow2Image;

  constructor(image: Qcow2Image) {
    this.image = image;
  }

  get size(): number {
    return this.image.size;
  }

  get readOnly(): boolean {
    return this.image.readOnly;
  }

  read(offset: number, into: Uint8Array): Promise<void> {
    return this.call('read', offset, into.length, () => this.image.read(offset, into));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.call('write', offset, data.length, () => this.image.write(offset, data));
  }

  flush(): Promise<void> {
    return this.call('flush', 0, 0, () => this.image.flush());
  }

  discard(offset: number, length: number): Promise<void> {
    return this.call('discard', offset, length, () => this.image.discard(offset, length));
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    return this.call('write-zeroes', offset, length, () => this.image.writeZeroes(offset, length));
  }

  resize(newSize: number): Promise<void> {
    return this.call('resize', newSize, 0, () => this.image.resize(newSize));
  }

  close(): Promise<void> {
    return this.image.close();
  }

  private async call(op: Op, offset: number, length: number, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      if (!(e instanceof Qcow2Error)) throw e;
      throw new BlockBackendError(KINDS[e.kind] ?? 'io', e.message, { path: this.image.path, op, offset, length }, { cause: e });
    }
  }
}
