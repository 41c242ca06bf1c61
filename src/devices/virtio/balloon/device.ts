// virtio-balloon (virtio 1.2 section 5.5), for free page reporting: the guest hands back ranges
// of RAM it keeps free, and the host discards them, so an idle guest costs the host only what
// it uses. The balloon never asks to grow (num_pages stays 0), but a driver that inflates it
// anyway has those pages discarded too.

import type { AccessSize } from '../../mmio-device.js';
import type { DescriptorChain, GuestBuffer } from '../descriptor-chain.js';
import { VirtioDeviceId, readConfigBytes, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { checkBalloonState, zeroCounters, type BalloonCounters, type VirtioBalloonState } from './state.js';

/** Device feature bits (5.5.3). Neither STATS_VQ (1) nor FREE_PAGE_HINT (3) is offered. */
export const BalloonFeature = {
  DEFLATE_ON_OOM: 1n << 2n,
  REPORTING: 1n << 5n,
} as const;

/**
 * Queue indices. Only queues of negotiated features exist and the ones after an absent queue
 * move down (Linux's virtio_find_vqs skips absent queues without using an index): with neither
 * statsq nor free_page_vq offered, reporting_vq is index 2.
 */
export const BalloonQueue = { INFLATE: 0, DEFLATE: 1, REPORTING: 2 } as const;

/** The balloon's unit: 4 KiB, whatever the guest's page size (5.5.6). */
export const BALLOON_PAGE = 4096;

/** Where the pages the guest gives up go: the board discards them from guest RAM. */
export interface FreePageSink {
  /**
   * Discards [paddr, paddr + length) of guest RAM (4 KiB aligned): the range reads as zero
   * afterwards, or keeps its bytes when the host cannot discard. Returns the bytes given back
   * to the host, or -1 (and nothing done) when any byte is outside RAM.
   */
  discard(paddr: number, length: number): number;
}

export interface VirtioBalloonOptions {
  sink: FreePageSink;
  /** Size of each queue (default 128; Linux needs at least 32 on reporting_vq). */
  queueSize?: number;
  /** Most PFNs one inflate or deflate request may carry (default 1024; Linux sends up to 256). */
  maxPfnsPerRequest?: number;
}

const CONFIG_ACTUAL = 4;
const CONFIG_BYTES = 8;

export class VirtioBalloonDevice implements VirtioDevice<VirtioBalloonState> {
  readonly deviceId = VirtioDeviceId.BALLOON;
  readonly name = 'virtio-balloon';
  readonly deviceFeatures = BalloonFeature.REPORTING | BalloonFeature.DEFLATE_ON_OOM;
  readonly queueMaxSizes: readonly number[];
  counters: BalloonCounters = zeroCounters();
  private actual = 0;
  private readonly sink: FreePageSink;
  private readonly maxPfns: number;
  private context: VirtioDeviceContext | null = null;

  constructor(options: VirtioBalloonOptions) {
    this.sink = options.sink;
    const size = options.queueSize ?? 128;
    this.queueMaxSizes = [size, size, size];
    this.maxPfns = options.maxPfnsPerRequest ?? 1024;
  }

  /** The balloon size the driver reports, in 4 KiB pages. */
  get actualPages(): number {
    return this.actual;
  }

  /** 5.5.4: le32 num_pages (what the device asks for, 0 here), le32 actual (the driver's). */
  readConfig(offset: number, size: AccessSize): number {
    const config = new Uint8Array(CONFIG_BYTES);
    new DataView(config.buffer).setUint32(CONFIG_ACTUAL, this.actual, true);
    return readConfigBytes(config, offset, size);
  }

  writeConfig(offset: number, size: AccessSize, value: number): void {
    // Only `actual` is the driver's to write; a partial write changes the bytes it covers.
    if (offset < CONFIG_ACTUAL || offset + size > CONFIG_BYTES) return;
    const bytes = new Uint8Array(4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.actual, true);
    for (let i = 0; i < size; i++) bytes[offset - CONFIG_ACTUAL + i] = Math.floor(value / 256 ** i) & 0xff;
    this.actual = view.getUint32(0, true);
  }

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  reset(): void {
    this.context = null;
    this.actual = 0;
  }

  onQueueNotify(queue: number): void {
    const ctx = this.context;
    if (ctx === null) return;
    for (let chain = ctx.pop(queue); chain !== null; chain = ctx.pop(queue)) {
      if (queue === BalloonQueue.REPORTING) this.report(ctx, chain);
      else if (queue === BalloonQueue.INFLATE || queue === BalloonQueue.DEFLATE) this.pfns(ctx, queue, chain);
      ctx.pushUsed(queue, chain, 0);
    }
    ctx.notify(queue);
  }

  /** 5.5.6.7: each buffer of a report is a free range; the device reads none of its bytes. */
  private report(ctx: VirtioDeviceContext, chain: DescriptorChain): void {
    // Linux adds them as device-writable buffers; either kind names a range.
    for (const range of [...chain.readable, ...chain.writable]) {
      if (range.len === 0 || range.addr % BALLOON_PAGE !== 0 || range.len % BALLOON_PAGE !== 0) {
        this.fault(ctx, 'balloon-report-unaligned', `reported range 0x${range.addr.toString(16)}+0x${range.len.toString(16)} is not whole 4 KiB pages`, BalloonQueue.REPORTING);
        continue;
      }
      const given = this.sink.discard(range.addr, range.len);
      if (given < 0) {
        this.fault(ctx, 'balloon-report-outside-ram', `reported range 0x${range.addr.toString(16)}+0x${range.len.toString(16)} is outside guest RAM`, BalloonQueue.REPORTING);
        continue;
      }
      this.counters.reportedBytes += range.len;
      this.counters.discardedBytes += given;
    }
  }

  /** 5.5.6: an inflate or deflate request is an array of le32 4 KiB page numbers. */
  private pfns(ctx: VirtioDeviceContext, queue: number, chain: DescriptorChain): void {
    const length = chain.readableLength;
    if (length % 4 !== 0 || length / 4 > this.maxPfns) {
      this.fault(ctx, 'balloon-bad-pfn-array', `a ${length}-byte page array (at most ${this.maxPfns} le32 page numbers)`, queue);
      return;
    }
    const bytes = chain.read(ctx.memory, 0, length);
    if (bytes === null) {
      this.fault(ctx, 'balloon-pfn-array-outside-ram', 'the page array is outside guest RAM', queue);
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pages: number[] = [];
    for (let at = 0; at < length; at += 4) pages.push(view.getUint32(at, true));
    if (queue === BalloonQueue.DEFLATE) {
      // The pages come back as they are (zero if discarded): nothing to do but count them.
      this.counters.deflatedPages += pages.length;
      return;
    }
    let outside = 0;
    for (const run of pageRuns(pages)) {
      const given = this.sink.discard(run.addr, run.len);
      if (given < 0) {
        outside += run.len / BALLOON_PAGE;
        continue;
      }
      this.counters.inflatedPages += run.len / BALLOON_PAGE;
      this.counters.discardedBytes += given;
    }
    if (outside > 0) this.fault(ctx, 'balloon-pfn-outside-ram', `${outside} inflated pages are outside guest RAM`, queue);
  }

  private fault(ctx: VirtioDeviceContext, kind: string, message: string, queue: number): void {
    this.counters.faults++;
    ctx.fault({ kind, message, queue });
  }

  save(): VirtioBalloonState {
    return { version: 1, actual: this.actual, counters: { ...this.counters } };
  }

  restore(state: VirtioBalloonState): void {
    const checked = checkBalloonState(state);
    this.actual = checked.actual;
    this.counters = { ...checked.counters };
  }
}

/** Page numbers as ranges of consecutive pages (Linux sends one run per guest page larger than 4 KiB). */
function pageRuns(pages: readonly number[]): GuestBuffer[] {
  const runs: { addr: number; len: number }[] = [];
  for (const pfn of pages) {
    const addr = pfn * BALLOON_PAGE;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.addr + last.len === addr) last.len += BALLOON_PAGE;
    else runs.push({ addr, len: BALLOON_PAGE });
  }
  return runs;
}
