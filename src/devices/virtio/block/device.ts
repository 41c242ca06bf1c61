// virtio-blk (virtio 1.2 section 5.2): one request queue over a BlockBackend. Requests are
// started when the driver notifies and complete later, each with a used-buffer interrupt, while
// the guest runs on: up to MAX_IN_FLIGHT at once, a flush only after every write that completed
// before it was made, an optional rate limit in front of the backend. The config space
// advertises the disk's size and the limits request.ts enforces.

import type { AccessSize } from '../../mmio-device.js';
import { SECTOR_SIZE, type BlockBackend } from '../../../storage/block-backend.js';
import { readConfigBytes, VirtioDeviceId, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { executeBlockRequest, VIRTIO_BLK_ID_BYTES, type BlockOp, type BlockRequestContext, type BlockRequestLimits } from './request.js';
import type { DescriptorChain } from '../descriptor-chain.js';
import { checkBlockState, VirtioBlockError, type VirtioBlockState } from './state.js';

/** Feature bits (5.2.3). */
export const VirtioBlkFeature = {
  SIZE_MAX: 1n << 1n,
  SEG_MAX: 1n << 2n,
  GEOMETRY: 1n << 4n,
  RO: 1n << 5n,
  BLK_SIZE: 1n << 6n,
  FLUSH: 1n << 9n,
  TOPOLOGY: 1n << 10n,
  CONFIG_WCE: 1n << 11n,
  MQ: 1n << 12n,
  DISCARD: 1n << 13n,
  WRITE_ZEROES: 1n << 14n,
} as const;

/** Config space offsets (5.2.4, struct virtio_blk_config). */
export const VirtioBlkConfig = {
  CAPACITY: 0,
  SIZE_MAX: 8,
  SEG_MAX: 12,
  BLK_SIZE: 20,
  NUM_QUEUES: 34,
  MAX_DISCARD_SECTORS: 36,
  MAX_DISCARD_SEG: 40,
  DISCARD_SECTOR_ALIGNMENT: 44,
  MAX_WRITE_ZEROES_SECTORS: 48,
  MAX_WRITE_ZEROES_SEG: 52,
  WRITE_ZEROES_MAY_UNMAP: 56,
  SIZE: 64,
} as const;

export interface VirtioBlockOptions {
  backend: BlockBackend;
  /** GET_ID answer, at most 20 ASCII bytes (default "vireo-disk"); Linux shows it as /sys/block/vdX/serial. */
  serial?: string;
  /** Request queue size (default 256). */
  queueSize?: number;
  /** Largest data segment (size_max, default 1 MiB). */
  sizeMax?: number;
  /** Rate limits in front of the backend (I/O QoS); requests wait in order, they never fail for it. */
  throttle?: RequestThrottle;
  /** Called when a request completes, so a run loop sleeping in WFI wakes for the interrupt. */
  onComplete?: () => void;
}

/** What the device needs of a rate limiter: a promise that resolves when the request may start. */
export interface RequestThrottle {
  admit(kind: 'read' | 'write' | 'other', bytes: number): Promise<void>;
}

export interface VirtioBlockStats {
  reads: number;
  writes: number;
  flushes: number;
  discards: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  /** Requests the device holds now (waiting for the throttle, an earlier write or the backend). */
  inFlight: number;
  /** Most requests held at once. */
  peakInFlight: number;
}

const REQUEST_QUEUE = 0;
/** Requests started at once; more wait in the ring. Each holds at most 1 MiB of host memory. */
const MAX_IN_FLIGHT = 32;
/** Per discard or write-zeroes segment: 4 MiB, so one request costs bounded time on a zero-writing backend. */
const MAX_DISCARD_SECTORS = 8192;
const MAX_DISCARD_SEGMENTS = 32;

export class VirtioBlockDevice implements VirtioDevice<VirtioBlockState> {
  readonly deviceId = VirtioDeviceId.BLOCK;
  readonly name = 'virtio-blk';
  readonly deviceFeatures: bigint;
  readonly queueMaxSizes: readonly number[];
  readonly stats: VirtioBlockStats = { reads: 0, writes: 0, flushes: 0, discards: 0, bytesRead: 0, bytesWritten: 0, errors: 0, inFlight: 0, peakInFlight: 0 };
  private backend: BlockBackend;
  private readonly serial: Uint8Array;
  private readonly config = new Uint8Array(VirtioBlkConfig.SIZE);
  private readonly limits: BlockRequestLimits;
  private context: VirtioDeviceContext | null = null;
  /** Bumped on reset: requests of an older generation are abandoned. */
  private generation = 0;
  /** Requests started and not finished, of any generation. */
  private readonly running = new Set<Promise<void>>();
  /** Requests still running from before the last reset: new ones wait for them, so an old write cannot land after a new one. */
  private stale = 0;
  private pumpScheduled = false;
  private readonly throttle: RequestThrottle | null;
  private readonly onComplete: () => void;

  constructor(options: VirtioBlockOptions) {
    const { backend } = options;
    const queueSize = options.queueSize ?? 256;
    const sizeMax = options.sizeMax ?? 1 << 20;
    if (backend.size % SECTOR_SIZE !== 0) throw new VirtioBlockError(`disk size ${backend.size} is not a multiple of ${SECTOR_SIZE} bytes`);
    if (queueSize < 4) throw new VirtioBlockError(`request queue size ${queueSize} is too small (at least 4: header, data, status)`);
    const serial = new TextEncoder().encode(options.serial ?? 'vireo-disk');
    if (serial.length > VIRTIO_BLK_ID_BYTES) throw new VirtioBlockError(`disk serial "${options.serial}" is longer than ${VIRTIO_BLK_ID_BYTES} bytes`);
    this.backend = backend;
    this.throttle = options.throttle ?? null;
    this.onComplete = options.onComplete ?? (() => {});
    this.serial = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.serial.set(serial);
    this.queueMaxSizes = [queueSize];
    // A chain holds the header and the status besides the data (QEMU uses the same rule).
    const segMax = queueSize - 2;
    this.limits = {
      maxDataBytes: segMax * sizeMax,
      maxDiscardSectors: MAX_DISCARD_SECTORS,
      maxDiscardSegments: MAX_DISCARD_SEGMENTS,
      maxWriteZeroesSectors: MAX_DISCARD_SECTORS,
      maxWriteZeroesSegments: MAX_DISCARD_SEGMENTS,
    };
    const F = VirtioBlkFeature;
    let features = F.SIZE_MAX | F.SEG_MAX | F.BLK_SIZE | F.FLUSH;
    if (backend.readOnly) features |= F.RO;
    else {
      features |= F.WRITE_ZEROES;
      if (backend.discard) features |= F.DISCARD;
    }
    this.deviceFeatures = features;

    const view = new DataView(this.config.buffer);
    const C = VirtioBlkConfig;
    this.writeCapacity();
    view.setUint32(C.SIZE_MAX, sizeMax, true);
    view.setUint32(C.SEG_MAX, segMax, true);
    view.setUint32(C.BLK_SIZE, SECTOR_SIZE, true);
    view.setUint16(C.NUM_QUEUES, 1, true);
    view.setUint32(C.MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS, true);
    view.setUint32(C.MAX_DISCARD_SEG, MAX_DISCARD_SEGMENTS, true);
    view.setUint32(C.DISCARD_SECTOR_ALIGNMENT, 8, true); // 4 KiB, the guest's page and ext4's block
    view.setUint32(C.MAX_WRITE_ZEROES_SECTORS, MAX_DISCARD_SECTORS, true);
    view.setUint32(C.MAX_WRITE_ZEROES_SEG, MAX_DISCARD_SEGMENTS, true);
    this.config[C.WRITE_ZEROES_MAY_UNMAP] = backend.discard ? 1 : 0;
  }

  /** Disk size in 512-byte sectors. */
  get capacity(): number {
    return this.backend.size / SECTOR_SIZE;
  }

  readConfig(offset: number, size: AccessSize): number {
    return readConfigBytes(this.config, offset, size);
  }

  /** The config space is read-only without CONFIG_WCE (not offered): writes are ignored. */
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  /** Abandons the requests in flight: they finish on the backend but touch neither guest memory nor the rings. */
  reset(): void {
    this.context = null;
    this.generation++;
    this.stale = this.running.size;
  }

  onQueueNotify(queue: number): void {
    if (queue === REQUEST_QUEUE) this.pump();
  }

  /** Requests the device holds now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves once no request is in flight (before a save, a snapshot or closing the disk). */
  async drain(): Promise<void> {
    while (this.running.size > 0 || this.pumpScheduled) {
      if (this.running.size > 0) await Promise.allSettled([...this.running]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Pumps again from a task of its own, not from the completion's microtask: a hostile driver
   * can lay its avail index over the used ring, so that every completion makes one more request
   * available, and a pump chained to completions would never hand the event loop back.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Puts another backend of the same size and access behind the disk, with nothing in flight:
   * a snapshot freezes the image the VM wrote so far and the VM carries on in an overlay over it.
   */
  replaceBackend(backend: BlockBackend): void {
    if (this.running.size > 0) throw new VirtioBlockError(`cannot replace the backend of virtio-blk with ${this.running.size} requests in flight; drain the device first`);
    if (backend.size !== this.backend.size || backend.readOnly !== this.backend.readOnly) {
      throw new VirtioBlockError(`the new backend (${backend.size} bytes${backend.readOnly ? ', read-only' : ''}) does not match the disk (${this.backend.size} bytes${this.backend.readOnly ? ', read-only' : ''})`);
    }
    this.backend = backend;
  }

  /** Grows the disk while the guest runs, then tells the driver (config change interrupt). */
  async resize(newSize: number): Promise<void> {
    if (!this.backend.resize) throw new VirtioBlockError(`this disk cannot be resized online`);
    await this.backend.resize(newSize);
    this.writeCapacity();
    this.context?.configChanged();
  }

  private writeCapacity(): void {
    new DataView(this.config.buffer).setBigUint64(VirtioBlkConfig.CAPACITY, BigInt(this.backend.size / SECTOR_SIZE), true);
  }

  /** Starts available requests while there is room; requests of a reset device are waited out first. */
  private pump(): void {
    const ctx = this.context;
    if (ctx === null || this.stale > 0) return;
    while (this.running.size < MAX_IN_FLIGHT) {
      const chain = ctx.pop(REQUEST_QUEUE);
      if (chain === null) return;
      this.start(ctx, chain);
    }
  }

  private start(ctx: VirtioDeviceContext, chain: DescriptorChain): void {
    const generation = this.generation;
    const live = () => this.generation === generation && this.context === ctx;
    // A flush covers the writes that completed before it, so the requests running now finish first.
    const earlier = [...this.running];
    const requestContext: BlockRequestContext = {
      memory: ctx.memory,
      live,
      admit: async (op: BlockOp, bytes: number) => {
        if (op === 'flush') await Promise.allSettled(earlier);
        await this.throttle?.admit(op === 'read' ? 'read' : op === 'write' ? 'write' : 'other', bytes);
      },
      backend: this.backend,
      serial: this.serial,
      limits: this.limits,
      discard: (this.deviceFeatures & VirtioBlkFeature.DISCARD) !== 0n,
      writeZeroes: (this.deviceFeatures & VirtioBlkFeature.WRITE_ZEROES) !== 0n,
    };
    const request = (async () => {
      const outcome = await executeBlockRequest(chain, requestContext);
      if (outcome === null || !live()) return;
      this.count(outcome.op, outcome.bytes, outcome.fault === undefined);
      if (outcome.fault) ctx.fault({ ...outcome.fault, queue: REQUEST_QUEUE });
      ctx.pushUsed(REQUEST_QUEUE, chain, outcome.written);
      ctx.notify(REQUEST_QUEUE);
    })();
    const tracked: Promise<void> = request.catch((e: unknown) => {
      if (live()) ctx.fault({ kind: 'blk-internal-error', message: `request ${chain.head} failed inside the device: ${String(e)}`, queue: REQUEST_QUEUE });
    }).finally(() => {
      this.running.delete(tracked);
      this.stats.inFlight = this.running.size;
      if (generation !== this.generation) --this.stale;
      this.schedulePump();
      this.onComplete();
    });
    this.running.add(tracked);
    this.stats.inFlight = this.running.size;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.running.size);
  }

  /** The device's state; call drain() first: requests in flight cannot be saved. */
  save(): VirtioBlockState {
    if (this.running.size > 0) throw new VirtioBlockError(`cannot save virtio-blk with ${this.running.size} requests in flight; drain the device first`);
    return { version: 1, capacity: this.capacity, readOnly: this.backend.readOnly, serial: new TextDecoder().decode(this.serial).replace(/\0+$/, '') };
  }

  restore(state: VirtioBlockState): void {
    checkBlockState(state, { capacity: this.capacity, readOnly: this.backend.readOnly });
  }

  private count(op: string, bytes: number, ok: boolean): void {
    const s = this.stats;
    if (!ok) {
      s.errors++;
      return;
    }
    if (op === 'read') {
      s.reads++;
      s.bytesRead += bytes;
    } else if (op === 'write') {
      s.writes++;
      s.bytesWritten += bytes;
    } else if (op === 'flush') s.flushes++;
    else if (op === 'discard' || op === 'write-zeroes') s.discards++;
  }
}
