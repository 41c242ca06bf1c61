// virtio-console (virtio 1.2 section 5.3) with a single port and no MULTIPORT: receiveq 0
// carries host input to the guest, transmitq 1 carries guest output to a ByteSink. Input waits
// in a bounded host-side buffer until the driver offers receive buffers; output waits in the
// guest's own transmit buffers while the sink is not ready, so the host never copies more.

import { sinkReady, type AccessSize, type ByteSink } from '../../mmio-device.js';
import { readConfigBytes, VirtioDeviceId, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { checkConsoleState, type VirtioConsoleState, type VirtioConsoleStateV1 } from './state.js';

/** Feature bits (5.3.3). */
export const VirtioConsoleFeature = {
  SIZE: 1n << 0n,
  MULTIPORT: 1n << 1n,
  EMERG_WRITE: 1n << 2n,
} as const;

/** Config space offsets (5.3.4). */
export const VirtioConsoleConfig = {
  COLS: 0,
  ROWS: 2,
  MAX_NR_PORTS: 4,
  EMERG_WR: 8,
  SIZE: 12,
} as const;

export const CONSOLE_RECEIVE_QUEUE = 0;
export const CONSOLE_TRANSMIT_QUEUE = 1;

/** Transmit bytes read from guest memory at a time, so a stalled sink costs no large copies. */
const TRANSMIT_SLICE = 4096;

export interface VirtioConsoleOptions {
  /** Receives the bytes the guest writes; while it is not ready, transmit buffers stay in the ring. */
  sink: ByteSink;
  /** Console size to announce (VIRTIO_CONSOLE_F_SIZE); omit for none. */
  size?: { cols: number; rows: number };
  /** Host input held while the guest offers no buffers (default 64 KiB); receive() takes no more. */
  maxPendingInput?: number;
  /** Most bytes taken from one transmit chain (default 64 KiB); the rest is dropped with a fault. */
  maxTransmitChain?: number;
  /** Queue sizes (default 64). */
  queueSize?: number;
}

export class VirtioConsoleDevice implements VirtioDevice<VirtioConsoleState> {
  readonly deviceId = VirtioDeviceId.CONSOLE;
  readonly name = 'virtio-console';
  readonly deviceFeatures: bigint;
  readonly queueMaxSizes: readonly number[];
  private readonly sink: ByteSink;
  private readonly maxPending: number;
  private readonly maxTransmit: number;
  private readonly config = new Uint8Array(VirtioConsoleConfig.SIZE);
  private pending: number[] = [];
  /** Bytes of the transmit chain at the head of the ring already sent; the rest waits for the sink. */
  private transmitOffset = 0;
  private emergencyDropped = 0;
  private context: VirtioDeviceContext | null = null;

  constructor(options: VirtioConsoleOptions) {
    this.sink = options.sink;
    this.sink.onReady?.(() => this.transmit());
    this.maxPending = options.maxPendingInput ?? 64 * 1024;
    this.maxTransmit = options.maxTransmitChain ?? 64 * 1024;
    const q = options.queueSize ?? 64;
    this.queueMaxSizes = [q, q];
    this.deviceFeatures = VirtioConsoleFeature.EMERG_WRITE | (options.size ? VirtioConsoleFeature.SIZE : 0n);
    if (options.size) this.setSize(options.size.cols, options.size.rows);
  }

  /**
   * Host input (keystrokes). Takes as many bytes as the pending buffer has room for and
   * returns that count; the caller offers the rest later. Delivered at once if the guest has
   * receive buffers.
   */
  receive(bytes: ArrayLike<number>): number {
    const taken = Math.min(bytes.length, this.maxPending - this.pending.length);
    for (let i = 0; i < taken; i++) this.pending.push(bytes[i]! & 0xff);
    this.deliver();
    return taken;
  }

  /** Bytes of host input waiting for receive buffers. */
  get pendingInput(): number {
    return this.pending.length;
  }

  /** emerg_wr bytes dropped because the sink was not ready (that register has no flow control). */
  get emergencyWritesDropped(): number {
    return this.emergencyDropped;
  }

  /** Announces a new console size (only if created with `size`): config change interrupt (5.3.4). */
  resize(cols: number, rows: number): void {
    if (!(this.deviceFeatures & VirtioConsoleFeature.SIZE)) return;
    this.setSize(cols, rows);
    this.context?.configChanged();
  }

  readConfig(offset: number, size: AccessSize): number {
    return readConfigBytes(this.config, offset, size);
  }

  /** emerg_wr (5.3.4): a byte written there goes straight out, even before the queues are set up. */
  writeConfig(offset: number, _size: AccessSize, value: number): void {
    if (offset !== VirtioConsoleConfig.EMERG_WR) return;
    if (sinkReady(this.sink)) this.sink.write(value & 0xff);
    else this.emergencyDropped++;
  }

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  /** Pending host input survives a device reset: the user typed it, the next driver gets it. */
  reset(): void {
    this.context = null;
    this.transmitOffset = 0;
  }

  onQueueNotify(queue: number): void {
    if (queue === CONSOLE_RECEIVE_QUEUE) this.deliver();
    else if (queue === CONSOLE_TRANSMIT_QUEUE) this.transmit();
  }

  save(): VirtioConsoleState {
    const view = new DataView(this.config.buffer);
    return {
      version: 2,
      pendingInput: [...this.pending],
      transmitOffset: this.transmitOffset,
      cols: view.getUint16(VirtioConsoleConfig.COLS, true),
      rows: view.getUint16(VirtioConsoleConfig.ROWS, true),
    };
  }

  restore(saved: VirtioConsoleState | VirtioConsoleStateV1): void {
    const state = checkConsoleState(saved, this.maxPending, this.maxTransmit);
    this.pending = state.pendingInput.map((b) => b & 0xff);
    this.transmitOffset = state.transmitOffset;
    if (this.deviceFeatures & VirtioConsoleFeature.SIZE) this.setSize(state.cols, state.rows);
  }

  private setSize(cols: number, rows: number): void {
    const view = new DataView(this.config.buffer);
    view.setUint16(VirtioConsoleConfig.COLS, cols, true);
    view.setUint16(VirtioConsoleConfig.ROWS, rows, true);
  }

  /** Moves pending input into receive buffers while both exist. */
  private deliver(): void {
    const ctx = this.context;
    if (ctx === null || this.pending.length === 0) return;
    const q = CONSOLE_RECEIVE_QUEUE;
    let pushed = false;
    while (this.pending.length > 0) {
      const chain = ctx.pop(q);
      if (chain === null) break;
      const n = Math.min(chain.writableLength, this.pending.length);
      let written = 0;
      if (n === 0) {
        ctx.fault({ kind: 'console-bad-receive-buffer', message: `receive chain ${chain.head} has no device-writable bytes`, queue: q });
      } else if (chain.write(ctx.memory, 0, Uint8Array.from(this.pending.slice(0, n)))) {
        this.pending.splice(0, n);
        written = n;
      } else {
        ctx.fault({ kind: 'console-buffer-outside-ram', message: `receive chain ${chain.head} lies outside guest RAM`, queue: q });
      }
      ctx.pushUsed(q, chain, written);
      pushed = true;
    }
    if (pushed) ctx.notify(q);
  }

  /**
   * Sends transmit chains' bytes to the sink while it is ready. A chain the sink cannot take
   * in full goes back to the ring with its progress noted; the sink's onReady resumes it.
   */
  private transmit(): void {
    const ctx = this.context;
    if (ctx === null) return;
    const q = CONSOLE_TRANSMIT_QUEUE;
    let used = 0;
    while (sinkReady(this.sink)) {
      const chain = ctx.pop(q);
      if (chain === null) break;
      let length = chain.readableLength;
      if (length > this.maxTransmit) {
        if (this.transmitOffset === 0) {
          ctx.fault({ kind: 'console-transmit-too-large', message: `transmit chain ${chain.head} of ${length} bytes cut to ${this.maxTransmit}`, queue: q });
        }
        length = this.maxTransmit;
      }
      let at = Math.min(this.transmitOffset, length);
      while (at < length && sinkReady(this.sink)) {
        const bytes = chain.read(ctx.memory, at, Math.min(TRANSMIT_SLICE, length - at));
        if (bytes === null) {
          ctx.fault({ kind: 'console-buffer-outside-ram', message: `transmit chain ${chain.head} lies outside guest RAM`, queue: q });
          at = length;
          break;
        }
        let sent = 0;
        while (sent < bytes.length && sinkReady(this.sink)) this.sink.write(bytes[sent++]!);
        at += sent;
      }
      if (at < length) {
        // The sink filled up mid-chain: the chain stays in the ring until it has room.
        this.transmitOffset = at;
        ctx.undoPop(q);
        break;
      }
      this.transmitOffset = 0;
      ctx.pushUsed(q, chain, 0);
      used++;
    }
    if (used > 0) ctx.notify(q);
  }
}
