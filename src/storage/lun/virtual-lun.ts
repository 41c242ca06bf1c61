// A virtual LUN: a thin qcow2 image inside a physical LUN, used as a disk (BlockBackend).
// Space is taken on first write, reads fall through to a read-only backing chain (a template for
// a linked clone), and the physical LUN refuses growth past its capacity with 'no-space' before
// the image changes. Data-path failures are BlockBackendError; snapshot management fails with
// LunError.

import { BlockBackendError, checkResize, type BlockBackend } from '../block-backend.js';
import { Qcow2BlockBackend } from '../qcow2-block-backend.js';
import { Qcow2Error, type Qcow2ErrorKind } from '../qcow2/qcow2-error.js';
import type { Qcow2Image, Qcow2SnapshotInfo } from '../qcow2/qcow2-image.js';
import { LunError, type LunErrorKind } from './lun-error.js';
import type { LunEntry } from './lun-manifest.js';

/** What a virtual LUN asks of the physical LUN that holds it. */
export interface LunHost {
  readonly dir: string;
  /** Checks the overcommit limit, records `newSize`, runs `apply`, and restores the record if it fails. */
  resize(name: string, newSize: number, apply: () => Promise<void>): Promise<void>;
  /** Records a virtual size that changed by itself (a revert to a snapshot taken before a resize). */
  sizeChanged(name: string, size: number): Promise<void>;
  /** Bytes the LUN's image takes on the host now. */
  allocated(name: string): number;
  closed(lun: VirtualLun): Promise<void>;
}

const SNAPSHOT_KINDS: Partial<Record<Qcow2ErrorKind, LunErrorKind>> = {
  'not-found': 'not-found',
  'invalid-argument': 'invalid-argument',
  'too-large': 'invalid-argument',
  'read-only': 'read-only',
  closed: 'busy',
};

export class VirtualLun implements BlockBackend {
  readonly name: string;
  readonly uuid: string;
  /** True for a template: linked clones read through it, so it never changes. */
  readonly template: boolean;
  /** The template this LUN is a linked clone of, or null. */
  readonly backing: string | null;
  private readonly image: Qcow2Image;
  private readonly backend: Qcow2BlockBackend;
  private readonly host: LunHost;
  private closing: Promise<void> | null = null;

  /** Made by PhysicalLun.openLun. */
  constructor(host: LunHost, entry: LunEntry, image: Qcow2Image) {
    this.host = host;
    this.name = entry.name;
    this.uuid = entry.uuid;
    this.template = entry.template;
    this.backing = entry.backing;
    this.image = image;
    this.backend = new Qcow2BlockBackend(image);
  }

  get size(): number {
    return this.image.size;
  }

  get readOnly(): boolean {
    return this.image.readOnly;
  }

  /** The image file. */
  get path(): string {
    return this.image.path;
  }

  /** Length of the image file (PhysicalLun's accounting follows it while the LUN is open). */
  get fileSize(): number {
    return this.image.fileSize;
  }

  /** Bytes the image takes on the host. */
  get allocated(): number {
    return this.host.allocated(this.name);
  }

  read(offset: number, into: Uint8Array): Promise<void> {
    return this.backend.read(offset, into);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.backend.write(offset, data);
  }

  /** Durable on return: qcow2 syncs each new cluster's data before the L2 entry naming it, and syncs again here. */
  flush(): Promise<void> {
    return this.backend.flush();
  }

  /** Frees whole clusters (they are reused, and cut from the file when they are at its end). */
  discard(offset: number, length: number): Promise<void> {
    return this.backend.discard(offset, length);
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    return this.backend.writeZeroes(offset, length);
  }

  /** Grows the disk while in use; the physical LUN refuses it past its overcommit limit. */
  async resize(newSize: number): Promise<void> {
    checkResize(this, this.path, newSize);
    if (newSize === this.size) return;
    try {
      await this.host.resize(this.name, newSize, () => this.backend.resize(newSize));
    } catch (e) {
      if (e instanceof LunError) {
        throw new BlockBackendError(e.kind === 'overcommit' ? 'no-space' : 'io', e.message, { path: this.path, op: 'resize', offset: newSize }, { cause: e });
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.backend.close();
      } catch (e) {
        if (!(e instanceof Qcow2Error)) throw e;
        throw new BlockBackendError('io', e.message, { path: this.path }, { cause: e });
      } finally {
        await this.host.closed(this);
      }
    })();
    return this.closing;
  }

  // ---- snapshots (internal qcow2 snapshots of this LUN) -------------------------------------

  listSnapshots(): Qcow2SnapshotInfo[] {
    return this.image.listSnapshots();
  }

  createSnapshot(name: string): Promise<void> {
    return this.manage('createSnapshot', () => this.image.createSnapshot(name));
  }

  /** Makes the disk read as it did when the snapshot was taken (its size too). */
  revertSnapshot(name: string): Promise<void> {
    return this.manage('revertSnapshot', async () => {
      const before = this.image.size;
      await this.image.revertSnapshot(name);
      if (this.image.size !== before) await this.host.sizeChanged(this.name, this.image.size);
    });
  }

  deleteSnapshot(name: string): Promise<void> {
    return this.manage('deleteSnapshot', () => this.image.deleteSnapshot(name));
  }

  private async manage(op: string, body: () => Promise<void>): Promise<void> {
    const context = { dir: this.host.dir, lun: this.name, op };
    if (this.template) throw new LunError('read-only', `cannot ${op} of virtual LUN "${this.name}": it is a template, which linked clones read through; clone it and change the clone`, context);
    try {
      await body();
    } catch (e) {
      if (e instanceof LunError) throw e;
      if (e instanceof Qcow2Error) throw new LunError(SNAPSHOT_KINDS[e.kind] ?? 'io', `${op} of virtual LUN "${this.name}" failed: ${e.message}`, context, { cause: e });
      if (e instanceof BlockBackendError && e.kind === 'no-space') throw new LunError('no-space', e.message, context, { cause: e });
      throw e;
    }
  }
}
