// A minimal device model for transport and queue tests: it copies each chain's readable bytes
// into its writable buffers and records what it saw.

import type { AccessSize } from '../../mmio-device.js';
import type { DescriptorChain } from '../descriptor-chain.js';
import { readConfigBytes, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';

export interface EchoState {
  version: 1;
  handled: number;
}

export class EchoDevice implements VirtioDevice<EchoState> {
  readonly deviceId = 0x3f;
  readonly name = 'echo';
  readonly deviceFeatures = 1n << 0n;
  readonly queueMaxSizes: readonly number[];
  readonly config = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
  readonly chains: DescriptorChain[] = [];
  context: VirtioDeviceContext | null = null;
  activations = 0;
  resets = 0;
  handled = 0;
  configWrites: Array<[number, number, number]> = [];

  constructor(queueMaxSizes: readonly number[] = [8]) {
    this.queueMaxSizes = queueMaxSizes;
  }

  readConfig(offset: number, size: AccessSize): number {
    return readConfigBytes(this.config, offset, size);
  }
  writeConfig(offset: number, size: AccessSize, value: number): void {
    this.configWrites.push([offset, size, value]);
  }
  activate(context: VirtioDeviceContext): void {
    this.context = context;
    this.activations++;
  }
  reset(): void {
    this.context = null;
    this.resets++;
  }
  onQueueNotify(queue: number): void {
    const ctx = this.context!;
    for (let chain = ctx.pop(queue); chain !== null; chain = ctx.pop(queue)) {
      this.chains.push(chain);
      const data = chain.read(ctx.memory, 0, Math.min(chain.readableLength, chain.writableLength));
      const ok = data !== null && chain.write(ctx.memory, 0, data);
      if (!ok) ctx.fault({ kind: 'echo-bad-buffer', message: 'buffer outside RAM', queue });
      this.handled++;
      ctx.pushUsed(queue, chain, ok ? data.length : 0);
    }
    ctx.notify(queue);
  }
  save(): EchoState {
    return { version: 1, handled: this.handled };
  }
  restore(state: EchoState): void {
    this.handled = state.handled;
  }
}
