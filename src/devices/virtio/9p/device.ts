// virtio-9p, the 9P transport (device ID 9 in virtio 1.2 section 5; the spec defines no more of it,
// so the feature bit and config layout follow Linux's uapi virtio_9p.h): shares a host directory with the guest
// over 9P2000.L. One request queue; each chain holds a T-message in its readable part and room for
// the R-message in its writable part. Requests run asynchronously on the host (node:fs/promises):
// a chain is popped, its message copied, and the reply written and pushed when the file operation
// finishes, so a slow disk never stalls the guest and many requests are in flight at once. A reset
// bumps a generation counter: replies of requests started before it are dropped, never written.
//
// Guest: `mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt` (modules 9p, 9pnet_virtio).

import type { AccessSize } from '../../mmio-device.js';
import type { DescriptorChain } from '../descriptor-chain.js';
import { readConfigBytes, VirtioDeviceId, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { Errno } from './errno.js';
import { HostShare } from './host-share.js';
import { HEADER_SIZE, IO_HEADER_SIZE, lerror, NinePType } from './messages.js';
import { NinePServer } from './nine-p-server.js';
import { checkNinePState, VirtioNinePError, type VirtioNinePState } from './state.js';

/** Feature bits. */
export const VirtioNinePFeature = {
  /** The config space holds the mount tag. */
  MOUNT_TAG: 1n << 0n,
} as const;

export interface VirtioNinePOptions {
  /** The host directory to share. */
  root: string;
  /** The mount tag the guest names the share by (1 to 255 bytes, no NUL). */
  tag: string;
  /** Refuse every change with EROFS (default false). */
  readOnly?: boolean;
  /** Request queue size (default 128). */
  queueSize?: number;
  /** Largest msize agreed to (default 512 KiB). */
  maxMsize?: number;
  /** Most fids a guest may hold (default 4096; more: EMFILE). */
  maxFids?: number;
}

export interface VirtioNinePStats {
  requests: number;
  /** Requests answered with Rlerror. */
  errors: number;
  /** Replies dropped because the device was reset while their request ran. */
  dropped: number;
}

const REQUEST_QUEUE = 0;
const MAX_TAG_BYTES = 255;

export class VirtioNinePDevice implements VirtioDevice<VirtioNinePState> {
  readonly deviceId = VirtioDeviceId.NINE_P;
  readonly name = 'virtio-9p';
  readonly deviceFeatures = VirtioNinePFeature.MOUNT_TAG;
  readonly queueMaxSizes: readonly number[];
  readonly tag: string;
  readonly readOnly: boolean;
  readonly stats: VirtioNinePStats = { requests: 0, errors: 0, dropped: 0 };
  private readonly config: Uint8Array;
  private readonly server: NinePServer;
  private readonly maxFids: number;
  private context: VirtioDeviceContext | null = null;
  /** Bumped by reset and restore: a request that finishes under another generation is dropped. */
  private generation = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly completionListeners: Array<() => void> = [];
  /** The completion of the latest request with each tag, for Tflush. */
  private readonly byTag = new Map<number, Promise<void>>();

  constructor(options: VirtioNinePOptions) {
    const tag = new TextEncoder().encode(options.tag);
    if (tag.length === 0 || tag.length > MAX_TAG_BYTES || options.tag.includes('\0')) {
      throw new VirtioNinePError(`mount tag "${options.tag}" must be 1 to ${MAX_TAG_BYTES} bytes without NUL`);
    }
    const queueSize = options.queueSize ?? 128;
    if (queueSize < 2 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) throw new VirtioNinePError(`queue size ${queueSize} must be a power of two from 2 to 32768`);
    const maxMsize = options.maxMsize ?? 512 * 1024;
    if (maxMsize < 8192 || maxMsize > 16 << 20) throw new VirtioNinePError(`maxMsize ${maxMsize} must be from 8 KiB to 16 MiB`);
    this.maxFids = options.maxFids ?? 4096;
    this.tag = options.tag;
    this.readOnly = options.readOnly ?? false;
    this.queueMaxSizes = [queueSize];
    let share: HostShare;
    try {
      share = new HostShare(options.root, this.readOnly);
    } catch (cause) {
      throw new VirtioNinePError(`virtio-9p: ${(cause as Error).message}`, { cause });
    }
    this.server = new NinePServer({ share, maxMsize, maxFids: this.maxFids });
    // struct virtio_9p_config: le16 tag_len, then the tag (not NUL-terminated).
    this.config = new Uint8Array(2 + tag.length);
    this.config[0] = tag.length & 0xff;
    this.config[1] = tag.length >> 8;
    this.config.set(tag, 2);
  }

  /** Requests started and not yet answered (or dropped). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Resolves when no request is in flight (before save()). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Calls `listener` after each reply pushed from an asynchronous completion, so a board whose
   * guest sleeps in WFI wakes to take the interrupt (as a NIC's onReceive does).
   */
  onCompletion(listener: () => void): void {
    this.completionListeners.push(listener);
  }

  readConfig(offset: number, size: AccessSize): number {
    return readConfigBytes(this.config, offset, size);
  }

  /** The config space is read-only. */
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  reset(): void {
    this.context = null;
    this.generation++;
    this.byTag.clear();
    void this.server.reset();
  }

  /** Detaches the share (VM shutdown): waits for requests in flight, then closes every host descriptor. */
  async close(): Promise<void> {
    this.reset();
    await this.drain();
    await this.server.reset();
  }

  onQueueNotify(queue: number): void {
    const ctx = this.context;
    if (ctx === null || queue !== REQUEST_QUEUE) return;
    for (let chain = ctx.pop(queue); chain !== null; chain = ctx.pop(queue)) this.start(ctx, chain);
  }

  save(): VirtioNinePState {
    if (this.pending.size > 0) throw new VirtioNinePError(`cannot save virtio-9p with ${this.pending.size} requests in flight; await device.drain() first`);
    const { msize, fids } = this.server.snapshot();
    return { version: 1, tag: this.tag, readOnly: this.readOnly, msize, fids };
  }

  restore(state: VirtioNinePState): void {
    checkNinePState(state, { tag: this.tag, readOnly: this.readOnly, maxMsize: this.server.maxMsize, maxFids: this.maxFids });
    this.generation++;
    this.byTag.clear();
    try {
      this.server.restoreSession(state.msize, state.fids);
    } catch (cause) {
      void this.server.reset();
      throw new VirtioNinePError(`cannot restore virtio-9p: ${(cause as Error).message}`, { cause });
    }
  }

  /** Copies the chain's T-message and starts answering it; bad framing is answered at once. */
  private start(ctx: VirtioDeviceContext, chain: DescriptorChain): void {
    this.stats.requests++;
    const room = Math.min(chain.writableLength, 0x7fff_ffff);
    const header = chain.readableLength >= HEADER_SIZE ? chain.read(ctx.memory, 0, HEADER_SIZE) : null;
    if (header === null) {
      this.answerAtOnce(ctx, chain, null, `request ${chain.head} has no readable 9P header (${chain.readableLength} readable bytes, or outside RAM)`);
      return;
    }
    const view = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
    const size = view.getUint32(0, true);
    const type = header[4]!;
    const tag = view.getUint16(5, true);
    if (size < HEADER_SIZE || size > chain.readableLength) {
      this.answerAtOnce(ctx, chain, tag, `request ${chain.head} declares ${size} bytes in ${chain.readableLength} readable bytes`);
      return;
    }
    if (size > this.server.msize) {
      this.answerAtOnce(ctx, chain, tag, `request ${chain.head} has ${size} bytes, over msize ${this.server.msize}`, Errno.EMSGSIZE);
      return;
    }
    const message = chain.read(ctx.memory, 0, size);
    if (message === null) {
      this.answerAtOnce(ctx, chain, tag, `request ${chain.head}: buffer outside guest RAM`);
      return;
    }
    const generation = this.generation;
    const work = type === NinePType.TFLUSH ? this.flush(message) : this.server.handle(message, room);
    const done = work.then(
      (reply) => this.complete(generation, ctx, chain, reply),
      () => this.complete(generation, ctx, chain, lerror(tag, Errno.EIO)),
    );
    this.pending.add(done);
    this.byTag.set(tag, done);
    void done.finally(() => {
      this.pending.delete(done);
      if (this.byTag.get(tag) === done) this.byTag.delete(tag);
    });
  }

  /** Tflush: Rflush once the flushed request has been answered (file operations are not cancelled). */
  private async flush(message: Uint8Array): Promise<Uint8Array> {
    const tag = message[5]! | (message[6]! << 8);
    if (message.length < HEADER_SIZE + 2) return lerror(tag, Errno.EPROTO);
    const oldTag = message[7]! | (message[8]! << 8);
    await this.byTag.get(oldTag);
    return Uint8Array.of(HEADER_SIZE, 0, 0, 0, NinePType.TFLUSH + 1, tag & 0xff, tag >> 8);
  }

  /** A guest framing mistake: a fault, and Rlerror when the tag is known and the chain has room. */
  private answerAtOnce(ctx: VirtioDeviceContext, chain: DescriptorChain, tag: number | null, message: string, errno: number = Errno.EPROTO): void {
    ctx.fault({ kind: '9p-bad-request', message, queue: REQUEST_QUEUE });
    let written = 0;
    if (tag !== null && chain.writableLength >= IO_HEADER_SIZE) {
      const reply = lerror(tag, errno);
      if (chain.write(ctx.memory, 0, reply)) written = reply.length;
    }
    this.stats.errors++;
    ctx.pushUsed(REQUEST_QUEUE, chain, written);
    ctx.notify(REQUEST_QUEUE);
  }

  private complete(generation: number, ctx: VirtioDeviceContext, chain: DescriptorChain, reply: Uint8Array): void {
    if (generation !== this.generation || ctx !== this.context) {
      this.stats.dropped++;
      return;
    }
    if (reply[4] === NinePType.RLERROR) this.stats.errors++;
    let written = 0;
    if (reply.length > chain.writableLength) {
      ctx.fault({ kind: '9p-reply-too-big', message: `request ${chain.head}: a ${reply.length}-byte reply does not fit ${chain.writableLength} writable bytes`, queue: REQUEST_QUEUE });
    } else if (!chain.write(ctx.memory, 0, reply)) {
      ctx.fault({ kind: '9p-buffer-outside-ram', message: `request ${chain.head}: reply buffer outside guest RAM`, queue: REQUEST_QUEUE });
    } else written = reply.length;
    ctx.pushUsed(REQUEST_QUEUE, chain, written);
    ctx.notify(REQUEST_QUEUE);
    for (const listener of this.completionListeners) listener();
  }
}
