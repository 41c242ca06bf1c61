// The host-target interface of bare-metal test programs (the `tohost`/`fromhost` mailboxes in
// the program's own RAM): many test suites end by writing their result there instead of
// using a test finisher. The board polls the mailbox between run slices.
//
// A request is a 64-bit word: device in bits 63:56, command in 55:48, payload in 47:0.
// Device 0 command 0 is a system call: payload bit 0 set means exit with code payload >> 1;
// otherwise the payload points at eight 64-bit words: the call number and its arguments.
// Device 1 command 1 writes the payload's low byte to the console.

import { sinkReady, type ByteSink } from './mmio-device.js';
import type { DmaMemory } from './virtio/dma-memory.js';

export type HtifEvent = { kind: 'exit'; code: number };

const SYS_WRITE = 64n;
const SYS_EXIT = 93n;
const PAYLOAD = (1n << 48n) - 1n;
/** Longest console write honoured at once; a guest cannot make the host copy more. */
const MAX_WRITE = 1 << 20;

export class Htif {
  constructor(
    private readonly memory: DmaMemory,
    private readonly tohost: number,
    private readonly fromhost: number | undefined,
    private readonly console: ByteSink,
  ) {}

  /** Handles a pending request, if any; returns an exit request when the program ends. */
  poll(): HtifEvent | null {
    const request = this.read64(this.tohost);
    if (request === 0n) return null;
    const device = Number(request >> 56n);
    const command = Number((request >> 48n) & 0xffn);
    const payload = request & PAYLOAD;
    // Console output waits in tohost while the console is backed up, holding the program back.
    const exiting = device === 0 && command === 0 && (payload & 1n) === 1n;
    if (!exiting && !sinkReady(this.console)) return null;
    this.write64(this.tohost, 0n);
    if (device === 0 && command === 0) {
      if ((payload & 1n) === 1n) return { kind: 'exit', code: Number(payload >> 1n) };
      const result = this.systemCall(payload);
      if (result !== null) return result;
      this.reply(device, command, 1n);
    } else if (device === 1 && command === 1) {
      this.console.write(Number(payload & 0xffn));
      this.reply(device, command, 0n);
    }
    return null;
  }

  private systemCall(args: bigint): HtifEvent | null {
    const at = Number(args);
    const call = this.read64(at);
    if (call === SYS_EXIT) return { kind: 'exit', code: Number(this.read64(at + 8) & 0xffn) };
    if (call === SYS_WRITE) {
      const buffer = Number(this.read64(at + 16));
      const length = Math.min(Number(this.read64(at + 24)), MAX_WRITE);
      // Like write(2), a backed-up console takes part of the buffer and the count says how much.
      let written = 0;
      for (const byte of this.memory.read(buffer, length) ?? []) {
        if (!sinkReady(this.console)) break;
        this.console.write(byte);
        written++;
      }
      this.write64(at, BigInt(written));
    }
    return null;
  }

  private reply(device: number, command: number, value: bigint): void {
    if (this.fromhost === undefined) return;
    this.write64(this.fromhost, (BigInt(device) << 56n) | (BigInt(command) << 48n) | value);
  }

  /** A 64-bit word of the program's RAM; outside RAM reads as 0 and writes are dropped. */
  private read64(paddr: number): bigint {
    const bytes = this.memory.read(paddr, 8);
    return bytes === null ? 0n : new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }

  private write64(paddr: number, value: bigint): void {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    this.memory.write(paddr, bytes);
  }
}
