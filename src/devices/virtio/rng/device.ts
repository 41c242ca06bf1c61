// virtio-rng, the entropy device (virtio 1.2 section 5.4): fills each device-writable buffer the
// driver offers with bytes from the host's CSPRNG, at most a bounded amount per request so a
// guest cannot make the host produce gigabytes at once.

import { randomFillSync } from 'node:crypto';
import type { AccessSize } from '../../mmio-device.js';
import { VirtioDeviceId, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { checkRngState, type VirtioRngState } from './state.js';

export interface VirtioRngOptions {
  /** Entropy source (default node:crypto randomFillSync); tests substitute a fixed one. */
  fill?: (into: Uint8Array) => void;
  /** Most bytes given per request (default 64 KiB). */
  maxBytesPerRequest?: number;
  /** Queue size (default 64). */
  queueSize?: number;
}

const REQUEST_QUEUE = 0;

export class VirtioRngDevice implements VirtioDevice<VirtioRngState> {
  readonly deviceId = VirtioDeviceId.ENTROPY;
  readonly name = 'virtio-rng';
  readonly deviceFeatures = 0n;
  readonly queueMaxSizes: readonly number[];
  /** Bytes handed to the guest so far. */
  bytesProvided = 0;
  private readonly fill: (into: Uint8Array) => void;
  private readonly maxBytes: number;
  private context: VirtioDeviceContext | null = null;

  constructor(options: VirtioRngOptions = {}) {
    this.fill = options.fill ?? ((into) => randomFillSync(into));
    this.maxBytes = options.maxBytesPerRequest ?? 64 * 1024;
    this.queueMaxSizes = [options.queueSize ?? 64];
  }

  /** No config space (5.4.4). */
  readConfig(_offset: number, _size: AccessSize): number {
    return 0;
  }
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  reset(): void {
    this.context = null;
  }

  onQueueNotify(queue: number): void {
    const ctx = this.context;
    if (ctx === null || queue !== REQUEST_QUEUE) return;
    for (let chain = ctx.pop(queue); chain !== null; chain = ctx.pop(queue)) {
      const length = Math.min(chain.writableLength, this.maxBytes);
      let written = 0;
      if (chain.readableLength > 0 || length === 0) {
        // 5.4.6.1: the driver offers only device-writable buffers.
        ctx.fault({ kind: 'rng-bad-buffer', message: `request ${chain.head} has ${chain.readableLength} device-readable and ${chain.writableLength} device-writable bytes`, queue });
      }
      if (length > 0) {
        const bytes = new Uint8Array(length);
        this.fill(bytes);
        if (chain.write(ctx.memory, 0, bytes)) written = length;
        else ctx.fault({ kind: 'rng-buffer-outside-ram', message: `request ${chain.head}: buffer outside guest RAM`, queue });
      }
      this.bytesProvided += written;
      ctx.pushUsed(queue, chain, written);
    }
    ctx.notify(queue);
  }

  save(): VirtioRngState {
    return { version: 1 };
  }

  restore(state: VirtioRngState): void {
    checkRngState(state);
  }
}
