// A physical LUN: a directory on the host with a capacity, carved into thin virtual LUNs (one
// qcow2 image each) listed in a manifest. Accounting: `provisioned` is the sum of virtual sizes,
// bounded by capacity * overcommit ratio; `allocated` is what the images take on the host
// (stat blocks, followed live as open images grow or are cut), bounded by the capacity. A write
// that could pass the capacity is refused with BlockBackendError 'no-space' before its image
// changes (the qcow2 space guard).
//
// One PhysicalLun object per directory: it is the only writer of the manifest and of the images.

import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockBackendError } from '../block-backend.js';
import { Qcow2Error } from '../qcow2/qcow2-error.js';
import { l1EntriesFor } from '../qcow2/qcow2-header.js';
import { Qcow2Image, type Qcow2SpaceGuard } from '../qcow2/qcow2-image.js';
import { SerialQueue } from '../qcow2/serial-queue.js';
import { LunError } from './lun-error.js';
import { syncDirectory } from '../sync-directory.js';
import { MANIFEST_FILE, checkLimits, checkLunName, lunFileName, readManifest, writeManifest, type LunEntry, type LunManifest } from './lun-manifest.js';
import { VirtualLun, type LunHost } from './virtual-lun.js';

export interface PhysicalLunCreateOptions {
  /** Bytes the virtual LUNs' images may take on the host, in total. */
  capacityBytes: number;
  /** Virtual sizes may add up to capacity * this (1, the default: no overcommit). */
  overcommitRatio?: number;
}

export interface CreateLunOptions {
  /** Virtual size in bytes, a multiple of 512. */
  size: number;
  /** log2 of the qcow2 cluster size (16, 64 KiB, by default). */
  clusterBits?: number;
}

export interface VirtualLunInfo extends LunEntry {
  /** Bytes its image takes on the host. */
  allocated: number;
}

export interface PhysicalLunUsage {
  capacityBytes: number;
  overcommitRatio: number;
  /** capacity * overcommit ratio: the most the virtual sizes may add up to. */
  provisionLimit: number;
  /** Sum of the virtual LUNs' virtual sizes. */
  provisioned: number;
  /** Bytes the images take on the host. */
  allocated: number;
  /** capacity - allocated (0 when over). */
  free: number;
}

/** Host bytes of an image when last measured, and its length then (growth since follows the length). */
interface Measure {
  bytes: number;
  length: number;
}

interface Openers {
  writer: VirtualLun | null;
  readers: Set<VirtualLun>;
}

export class PhysicalLun {
  readonly dir: string;
  private manifest: LunManifest;
  /** Manifest changes run one after another. */
  private readonly queue = new SerialQueue();
  private readonly measured = new Map<string, Measure>();
  private readonly opened = new Map<string, Openers>();
  /** Growth reserved by operations in progress. */
  private reserved = 0;
  private readonly host: LunHost;

  private constructor(dir: string, manifest: LunManifest) {
    this.dir = dir;
    this.manifest = manifest;
    this.host = this.makeHost();
  }

  /** Makes `dir` (created if missing) a new, empty physical LUN. */
  static async create(dir: string, options: PhysicalLunCreateOptions): Promise<PhysicalLun> {
    const overcommitRatio = options.overcommitRatio ?? 1;
    checkLimits(dir, options.capacityBytes, overcommitRatio);
    try {
      await mkdir(dir, { recursive: true });
      await stat(join(dir, MANIFEST_FILE));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw new LunError('io', `cannot create a physical LUN in ${dir}: ${(cause as Error).message}`, { dir, op: 'create' }, { cause });
      const manifest: LunManifest = { capacityBytes: options.capacityBytes, overcommitRatio, luns: [] };
      await writeManifest(dir, manifest);
      return new PhysicalLun(dir, manifest);
    }
    throw new LunError('exists', `${dir} is already a physical LUN (it has ${MANIFEST_FILE}); open it with PhysicalLun.open`, { dir, op: 'create' });
  }

  /** Opens the physical LUN in `dir`, reading its manifest and measuring its images. */
  static async open(dir: string): Promise<PhysicalLun> {
    const lun = new PhysicalLun(dir, await readManifest(dir));
    for (const entry of lun.manifest.luns) await lun.measure(entry.name);
    return lun;
  }

  get capacityBytes(): number {
    return this.manifest.capacityBytes;
  }

  get overcommitRatio(): number {
    return this.manifest.overcommitRatio;
  }

  usage(): PhysicalLunUsage {
    const { capacityBytes, overcommitRatio } = this.manifest;
    const allocated = this.allocatedTotal();
    return { capacityBytes, overcommitRatio, provisionLimit: this.provisionLimit(), provisioned: this.provisioned(), allocated, free: Math.max(0, capacityBytes - allocated) };
  }

  list(): VirtualLunInfo[] {
    return this.manifest.luns.map((entry) => this.info(entry));
  }

  get(name: string): VirtualLunInfo {
    return this.info(this.entry(name, 'get'));
  }

  /** Changes the capacity or the overcommit ratio; refused when what is already used would not fit. */
  setLimits(limits: { capacityBytes?: number; overcommitRatio?: number }): Promise<void> {
    return this.queue.run(async () => {
      const next = { ...this.manifest, capacityBytes: limits.capacityBytes ?? this.manifest.capacityBytes, overcommitRatio: limits.overcommitRatio ?? this.manifest.overcommitRatio };
      checkLimits(this.dir, next.capacityBytes, next.overcommitRatio);
      const context = { dir: this.dir, op: 'setLimits' };
      if (this.allocatedTotal() > next.capacityBytes) throw new LunError('no-space', `cannot set the capacity of physical LUN ${this.dir} to ${next.capacityBytes} bytes: its images already take ${this.allocatedTotal()}`, context);
      if (this.provisioned() > Math.floor(next.capacityBytes * next.overcommitRatio)) {
        throw new LunError('overcommit', `cannot limit physical LUN ${this.dir} to ${Math.floor(next.capacityBytes * next.overcommitRatio)} provisioned bytes: its virtual LUNs already add up to ${this.provisioned()}`, context);
      }
      await this.save(next);
    });
  }

  /** Creates an empty thin virtual LUN of `options.size` bytes. */
  createLun(name: string, options: CreateLunOptions): Promise<VirtualLunInfo> {
    return this.queue.run(async () => {
      const context = { dir: this.dir, lun: name, op: 'createLun' };
      this.checkNew(name, 'createLun');
      const size = options.size;
      if (!Number.isSafeInteger(size) || size <= 0 || size % 512 !== 0) throw new LunError('invalid-argument', `cannot create virtual LUN "${name}" of ${size} bytes: the size must be a positive multiple of 512`, context);
      this.checkProvision(name, size, 'create');
      const clusterBits = options.clusterBits ?? 16;
      // A new image is a header, a refcount table and block, and the L1 table.
      this.checkRoom(name, (3 + Math.ceil((l1EntriesFor(size, clusterBits) * 8) / 2 ** clusterBits)) * 2 ** clusterBits, 'create');
      await this.makeImage(name, context, (path) => Qcow2Image.create(path, { size, clusterBits }));
      return this.addEntry({ name, uuid: randomUUID(), virtualSize: size, template: false, backing: null, created: new Date().toISOString() });
    });
  }

  /**
   * Creates `newName` as a linked clone of `templateName`: a qcow2 overlay whose backing file is
   * the template's image. The template is marked a template first and opens read-only from then on.
   */
  cloneLun(templateName: string, newName: string): Promise<VirtualLunInfo> {
    return this.queue.run(async () => {
      const context = { dir: this.dir, lun: newName, op: 'cloneLun' };
      const template = this.entry(templateName, 'cloneLun');
      this.checkNew(newName, 'cloneLun');
      if (!template.template && this.opened.get(templateName)?.writer) {
        throw new LunError('busy', `cannot clone virtual LUN "${templateName}": it is open for writing, and a template must not change; close it first`, context);
      }
      this.checkProvision(newName, template.virtualSize, 'create');
      // An empty overlay: header, refcount table and block, L1 table, in 64 KiB clusters.
      this.checkRoom(newName, 4 * 2 ** 16, 'create');
      if (!template.template) {
        await this.save({ ...this.manifest, luns: this.manifest.luns.map((l) => (l === template ? { ...l, template: true } : l)) });
      }
      await this.makeImage(newName, context, (path) => Qcow2Image.create(path, { backingFile: lunFileName(templateName), backingFormat: 'qcow2', size: template.virtualSize }));
      return this.addEntry({ name: newName, uuid: randomUUID(), virtualSize: template.virtualSize, template: false, backing: templateName, created: new Date().toISOString() });
    });
  }

  /** Deletes a virtual LUN and its image; refused while it is open or while clones depend on it. */
  deleteLun(name: string): Promise<void> {
    return this.queue.run(async () => {
      const entry = this.entry(name, 'deleteLun');
      const context = { dir: this.dir, lun: name, op: 'deleteLun' };
      if (this.opened.has(name)) throw new LunError('busy', `cannot delete virtual LUN "${name}": it is open; close it first`, context);
      const clones = this.manifest.luns.filter((l) => l.backing === name).map((l) => l.name);
      if (clones.length > 0) throw new LunError('in-use', `cannot delete template "${name}": the linked clones ${clones.join(', ')} read through it; delete them first`, context);
      // Manifest first: a crash in between leaves an unlisted image file, never a listed LUN without one.
      await this.save({ ...this.manifest, luns: this.manifest.luns.filter((l) => l !== entry) });
      this.measured.delete(name);
      try {
        await rm(this.imagePath(name), { force: true });
        await syncDirectory(this.dir);
      } catch (cause) {
        throw new LunError('io', `virtual LUN "${name}" is deleted from the manifest, but removing its image ${this.imagePath(name)} failed: ${(cause as Error).message}; remove the file by hand`, context, { cause });
      }
    });
  }

  /**
   * Opens virtual LUN `name` as a disk. One writer, or any number of readers, at a time; a
   * template opens read-only only.
   */
  openLun(name: string, options: { readOnly?: boolean } = {}): Promise<VirtualLun> {
    return this.queue.run(async () => {
      const entry = this.entry(name, 'openLun');
      const readOnly = options.readOnly ?? false;
      const context = { dir: this.dir, lun: name, op: 'openLun' };
      if (entry.template && !readOnly) throw new LunError('read-only', `virtual LUN "${name}" is a template (linked clones read through it): open it read-only, or clone it and use the clone`, context);
      const openers = this.opened.get(name);
      if (openers?.writer) throw new LunError('busy', `virtual LUN "${name}" is already open for writing; close it first`, context);
      if (openers && !readOnly) throw new LunError('busy', `cannot open virtual LUN "${name}" for writing: it is open read-only ${openers.readers.size} time(s); close those first`, context);
      await this.measure(name);
      const space: Qcow2SpaceGuard = {
        reserve: (bytes) => this.reserve(name, bytes),
        release: (bytes) => {
          this.reserved -= bytes;
        },
      };
      let image: Qcow2Image;
      try {
        image = await Qcow2Image.open(this.imagePath(name), readOnly ? { readOnly } : { space });
      } catch (e) {
        if (!(e instanceof Qcow2Error)) throw e;
        throw new LunError(e.kind === 'not-found' ? 'not-found' : 'io', `cannot open virtual LUN "${name}": ${e.message}`, context, { cause: e });
      }
      const lun = new VirtualLun(this.host, entry, image);
      const record = openers ?? { writer: null, readers: new Set<VirtualLun>() };
      if (readOnly) record.readers.add(lun);
      else record.writer = lun;
      this.opened.set(name, record);
      return lun;
    });
  }

  /** Closes every virtual LUN still open. */
  async close(): Promise<void> {
    const all = [...this.opened.values()].flatMap((o) => [...(o.writer ? [o.writer] : []), ...o.readers]);
    for (const lun of all) await lun.close();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** What the virtual LUNs call back into. */
  private makeHost(): LunHost {
    return {
      dir: this.dir,
      resize: (name, newSize, apply) => this.queue.run(async () => {
        const entry = this.entry(name, 'resize');
        this.checkProvision(name, newSize - entry.virtualSize, 'grow');
        await this.setVirtualSize(name, newSize);
        try {
          await apply();
        } catch (e) {
          await this.setVirtualSize(name, entry.virtualSize);
          throw e;
        }
      }),
      sizeChanged: (name, size) => this.queue.run(() => this.setVirtualSize(name, size)),
      allocated: (name) => this.allocatedOf(name),
      closed: async (lun) => {
        const openers = this.opened.get(lun.name);
        if (openers === undefined) return;
        // Measured while still registered, so the accounting never shows a stale size meanwhile.
        if (openers.writer === lun) await this.measure(lun.name);
        if (openers.writer === lun) openers.writer = null;
        openers.readers.delete(lun);
        if (openers.writer === null && openers.readers.size === 0) this.opened.delete(lun.name);
      },
    };
  }

  private reserve(name: string, bytes: number): void {
    const allocated = this.allocatedTotal();
    if (allocated + this.reserved + bytes > this.manifest.capacityBytes) {
      throw new BlockBackendError('no-space', `virtual LUN "${name}" cannot grow: physical LUN ${this.dir} is full (${allocated} of ${this.manifest.capacityBytes} bytes taken, up to ${bytes} more needed); discard unused data in the guest, delete snapshots or virtual LUNs, or raise the capacity`, { path: this.imagePath(name) });
    }
    this.reserved += bytes;
  }

  private info(entry: LunEntry): VirtualLunInfo {
    return { ...entry, allocated: this.allocatedOf(entry.name) };
  }

  private allocatedOf(name: string): number {
    const measure = this.measured.get(name);
    if (measure === undefined) return 0;
    const writer = this.opened.get(name)?.writer;
    // An open image grows by appending and shrinks by truncation: its length tracks the change.
    return writer ? Math.max(0, measure.bytes + writer.fileSize - measure.length) : measure.bytes;
  }

  private allocatedTotal(): number {
    return this.manifest.luns.reduce((sum, l) => sum + this.allocatedOf(l.name), 0);
  }

  private provisioned(): number {
    return this.manifest.luns.reduce((sum, l) => sum + l.virtualSize, 0);
  }

  private provisionLimit(): number {
    return Math.floor(this.manifest.capacityBytes * this.manifest.overcommitRatio);
  }

  private async measure(name: string): Promise<void> {
    try {
      const s = await stat(this.imagePath(name));
      this.measured.set(name, { bytes: s.blocks * 512, length: s.size });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw new LunError('io', `cannot measure virtual LUN "${name}": ${(cause as Error).message}`, { dir: this.dir, lun: name }, { cause });
      this.measured.set(name, { bytes: 0, length: 0 });
    }
  }

  private entry(name: string, op: string): LunEntry {
    checkLunName(this.dir, name);
    const entry = this.manifest.luns.find((l) => l.name === name);
    if (entry === undefined) {
      throw new LunError('not-found', `physical LUN ${this.dir} has no virtual LUN "${name}" (it has: ${this.manifest.luns.map((l) => l.name).join(', ') || 'none'})`, { dir: this.dir, lun: name, op });
    }
    return entry;
  }

  private checkNew(name: string, op: string): void {
    checkLunName(this.dir, name);
    if (this.manifest.luns.some((l) => l.name === name)) throw new LunError('exists', `physical LUN ${this.dir} already has a virtual LUN "${name}"; choose another name or delete it first`, { dir: this.dir, lun: name, op });
  }

  /** Refuses to add `bytes` of virtual size past capacity * overcommit ratio. */
  private checkProvision(name: string, bytes: number, op: string): void {
    const limit = this.provisionLimit();
    if (bytes > 0 && this.provisioned() + bytes > limit) {
      throw new LunError('overcommit', `cannot ${op} virtual LUN "${name}": ${bytes} more provisioned bytes would make ${this.provisioned() + bytes}, past the limit of ${limit} (capacity ${this.manifest.capacityBytes} x overcommit ratio ${this.manifest.overcommitRatio}); delete or shrink virtual LUNs, or raise the capacity or ratio`, { dir: this.dir, lun: name, op });
    }
  }

  private checkRoom(name: string, bytes: number, op: string): void {
    const allocated = this.allocatedTotal() + this.reserved;
    if (allocated + bytes > this.manifest.capacityBytes) {
      throw new LunError('no-space', `cannot ${op} virtual LUN "${name}": physical LUN ${this.dir} has ${Math.max(0, this.manifest.capacityBytes - allocated)} bytes free and a new image needs about ${bytes}`, { dir: this.dir, lun: name, op });
    }
  }

  /** Creates the image file of a new LUN (closed again); an existing file is never overwritten. */
  private async makeImage(name: string, context: { dir: string; lun: string; op: string }, create: (path: string) => Promise<Qcow2Image>): Promise<void> {
    try {
      await (await create(this.imagePath(name))).close();
    } catch (e) {
      if (!(e instanceof Qcow2Error)) throw e;
      if (e.kind === 'invalid-argument' && e.op === 'create' && /exists/.test(e.message)) {
        throw new LunError('exists', `cannot create virtual LUN "${name}": ${this.imagePath(name)} exists but is not in the manifest (left by an interrupted operation?); remove it or choose another name`, context, { cause: e });
      }
      throw new LunError(e.kind === 'invalid-argument' ? 'invalid-argument' : 'io', `cannot create virtual LUN "${name}": ${e.message}`, context, { cause: e });
    }
  }

  /** Lists a new LUN whose image exists; removes the image if the manifest cannot be written. */
  private async addEntry(entry: LunEntry): Promise<VirtualLunInfo> {
    try {
      await this.save({ ...this.manifest, luns: [...this.manifest.luns, entry] });
    } catch (e) {
      await rm(this.imagePath(entry.name), { force: true });
      throw e;
    }
    await this.measure(entry.name);
    return this.info(entry);
  }

  private async setVirtualSize(name: string, size: number): Promise<void> {
    await this.save({ ...this.manifest, luns: this.manifest.luns.map((l) => (l.name === name ? { ...l, virtualSize: size } : l)) });
  }

  private async save(next: LunManifest): Promise<void> {
    await writeManifest(this.dir, next);
    this.manifest = next;
  }

  private imagePath(name: string): string {
    return join(this.dir, lunFileName(name));
  }
}
