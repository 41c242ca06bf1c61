// A tiny virtio driver for unit tests: it brings a VirtioMmioTransport up the way Linux's
// virtio_mmio does (reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK) and
// builds split rings by hand in a RamDmaMemory, so tests can also forge hostile rings.

import { RamDmaMemory } from '../ram-dma-memory.js';
import { VirtioMmioRegister as R, VirtioMmioTransport, type VirtioFaultReport } from '../mmio-transport.js';
import { VirtioStatus, type VirtioDevice } from '../virtio-device.js';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../virtqueue.js';

export const TEST_RAM_BASE = 0x8000_0000;

/** A guest buffer to put in a chain: bytes the device reads, or room for `length` bytes it writes. */
export type TestBuffer = { read: Uint8Array } | { write: number };

export interface TestQueue {
  size: number;
  desc: number;
  avail: number;
  used: number;
  availIdx: number;
  usedSeen: number;
  nextDesc: number;
}

export interface UsedElement {
  id: number;
  len: number;
}

/** The chain submit() built: its head and the guest address of each buffer, in order. */
export interface SubmittedChain {
  head: number;
  addrs: number[];
}

export class VirtioTestDriver<S = unknown> {
  readonly memory: RamDmaMemory;
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly transport: VirtioMmioTransport<S>;
  readonly queues: TestQueue[] = [];
  /** The transport's IRQ line as last driven. */
  irqLevel = false;
  /** Every fault the transport reported. */
  readonly faults: VirtioFaultReport[] = [];
  private heap: number;

  /** Puts `device` behind a transport over `ramBytes` of fresh test RAM at TEST_RAM_BASE. */
  constructor(device: VirtioDevice<S>, options: { ramBytes?: number; ringFeatures?: bigint } = {}) {
    this.ram = new Uint8Array(options.ramBytes ?? 4 << 20);
    this.view = new DataView(this.ram.buffer);
    this.memory = new RamDmaMemory({ base: TEST_RAM_BASE, bytes: this.ram });
    this.heap = TEST_RAM_BASE + 0x1000;
    this.transport = new VirtioMmioTransport<S>({
      device,
      memory: this.memory,
      irq: { set: (level) => { this.irqLevel = level; } },
      onFault: (fault) => this.faults.push(fault),
      ...(options.ringFeatures === undefined ? {} : { ringFeatures: options.ringFeatures }),
    });
  }

  /** Kinds of the faults reported so far. */
  faultKinds(): string[] {
    return this.faults.map((f) => f.kind);
  }

  r(offset: number): number {
    return this.transport.read(offset, 4);
  }
  w(offset: number, value: number): void {
    this.transport.write(offset, 4, value);
  }

  /** Offered features as a bigint (DeviceFeaturesSel 1 then 0, as Linux reads them). */
  deviceFeatures(): bigint {
    this.w(R.DEVICE_FEATURES_SEL, 1);
    const hi = BigInt(this.r(R.DEVICE_FEATURES));
    this.w(R.DEVICE_FEATURES_SEL, 0);
    return (hi << 32n) | BigInt(this.r(R.DEVICE_FEATURES));
  }

  /**
   * Linux's probe sequence (virtio 1.2 section 3.1.1). `accept` filters the offered features
   * (default: take all). Queue sizes default to each queue's maximum. Returns the status read back.
   */
  init(options: { accept?: (offered: bigint) => bigint; queueSizes?: number[]; driverOk?: boolean } = {}): number {
    this.w(R.STATUS, 0);
    this.w(R.STATUS, VirtioStatus.ACKNOWLEDGE);
    this.w(R.STATUS, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
    const features = (options.accept ?? ((f) => f))(this.deviceFeatures());
    this.w(R.DRIVER_FEATURES_SEL, 1);
    this.w(R.DRIVER_FEATURES, Number(features >> 32n));
    this.w(R.DRIVER_FEATURES_SEL, 0);
    this.w(R.DRIVER_FEATURES, Number(features & 0xffff_ffffn));
    this.w(R.STATUS, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
    if (!(this.r(R.STATUS) & VirtioStatus.FEATURES_OK)) return this.r(R.STATUS);
    this.queues.length = 0;
    for (let q = 0; ; q++) {
      this.w(R.QUEUE_SEL, q);
      const max = this.r(R.QUEUE_NUM_MAX);
      if (max === 0) break;
      this.setupQueue(q, options.queueSizes?.[q] ?? max);
    }
    if (options.driverOk !== false) this.w(R.STATUS, this.r(R.STATUS) | VirtioStatus.DRIVER_OK);
    return this.r(R.STATUS);
  }

  /** Allocates and programs queue `q` (QueueSel must already select it). */
  setupQueue(q: number, size: number): void {
    const { desc, avail, used } = this.layoutQueue(q, size);
    this.w(R.QUEUE_NUM, size);
    this.w(R.QUEUE_DESC_LOW, desc);
    this.w(R.QUEUE_DESC_HIGH, 0);
    this.w(R.QUEUE_DRIVER_LOW, avail);
    this.w(R.QUEUE_DRIVER_HIGH, 0);
    this.w(R.QUEUE_DEVICE_LOW, used);
    this.w(R.QUEUE_DEVICE_HIGH, 0);
    this.w(R.QUEUE_READY, 1);
  }

  /** Allocates rings for queue `q` in test RAM without telling the transport (for Virtqueue tests). */
  layoutQueue(q: number, size: number): TestQueue {
    const desc = this.alloc(16 * size, 16);
    const avail = this.alloc(6 + 2 * size, 2);
    const used = this.alloc(6 + 8 * size, 4);
    const tq = { size, desc, avail, used, availIdx: 0, usedSeen: 0, nextDesc: 0 };
    this.queues[q] = tq;
    return tq;
  }

  /** Zeroed guest memory from a bump allocator. */
  alloc(length: number, align = 8): number {
    this.heap = Math.ceil(this.heap / align) * align;
    const at = this.heap;
    this.heap += length;
    if (this.heap > TEST_RAM_BASE + this.ram.length) throw new Error('test RAM exhausted');
    this.ram.fill(0, at - TEST_RAM_BASE, this.heap - TEST_RAM_BASE);
    return at;
  }

  bytes(paddr: number, length: number): Uint8Array {
    return this.ram.slice(paddr - TEST_RAM_BASE, paddr - TEST_RAM_BASE + length);
  }

  put(paddr: number, data: Uint8Array): void {
    this.ram.set(data, paddr - TEST_RAM_BASE);
  }

  /** Writes descriptor `index` of a table at `table`. `addr` may exceed 2^32. */
  writeDesc(table: number, index: number, addr: number, len: number, flags: number, next: number): void {
    const at = table - TEST_RAM_BASE + 16 * index;
    this.view.setUint32(at, addr % 0x1_0000_0000, true);
    this.view.setUint32(at + 4, Math.floor(addr / 0x1_0000_0000), true);
    this.view.setUint32(at + 8, len, true);
    this.view.setUint16(at + 12, flags, true);
    this.view.setUint16(at + 14, next, true);
  }

  /** Puts `head` in the avail ring and bumps avail idx (no notify). */
  publish(q: number, head: number): void {
    const tq = this.queues[q]!;
    this.view.setUint16(tq.avail - TEST_RAM_BASE + 4 + 2 * (tq.availIdx % tq.size), head, true);
    tq.availIdx = (tq.availIdx + 1) & 0xffff;
    this.view.setUint16(tq.avail - TEST_RAM_BASE + 2, tq.availIdx, true);
  }

  /** Builds a chain from `buffers` (in guest memory from the allocator), publishes it, and notifies unless told not to. */
  submit(q: number, buffers: TestBuffer[], options: { indirect?: boolean; notify?: boolean } = {}): SubmittedChain {
    const tq = this.queues[q]!;
    const addrs = buffers.map((b) => {
      if ('read' in b) {
        const at = this.alloc(b.read.length);
        this.put(at, b.read);
        return at;
      }
      return this.alloc(b.write);
    });
    const flagsOf = (i: number) => ('write' in buffers[i]! ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < buffers.length ? VIRTQ_DESC_F_NEXT : 0);
    const lenOf = (i: number) => { const b = buffers[i]!; return 'read' in b ? b.read.length : b.write; };
    let head: number;
    if (options.indirect) {
      const table = this.alloc(16 * buffers.length, 16);
      buffers.forEach((_, i) => this.writeDesc(table, i, addrs[i]!, lenOf(i), flagsOf(i), i + 1));
      head = this.takeDesc(q);
      this.writeDesc(tq.desc, head, table, 16 * buffers.length, VIRTQ_DESC_F_INDIRECT, 0);
    } else {
      const ids = buffers.map(() => this.takeDesc(q));
      head = ids[0]!;
      buffers.forEach((_, i) => this.writeDesc(tq.desc, ids[i]!, addrs[i]!, lenOf(i), flagsOf(i), ids[i + 1] ?? 0));
    }
    this.publish(q, head);
    if (options.notify !== false) this.w(R.QUEUE_NOTIFY, q);
    return { head, addrs };
  }

  /** Next free descriptor index (round robin; tests keep fewer than `size` chains in flight). */
  takeDesc(q: number): number {
    const tq = this.queues[q]!;
    const id = tq.nextDesc;
    tq.nextDesc = (tq.nextDesc + 1) % tq.size;
    return id;
  }

  usedIdx(q: number): number {
    return this.view.getUint16(this.queues[q]!.used - TEST_RAM_BASE + 2, true);
  }

  /** Used elements added since the last call. */
  takeUsed(q: number): UsedElement[] {
    const tq = this.queues[q]!;
    const out: UsedElement[] = [];
    const idx = this.usedIdx(q);
    while (tq.usedSeen !== idx) {
      const at = tq.used - TEST_RAM_BASE + 4 + 8 * (tq.usedSeen % tq.size);
      out.push({ id: this.view.getUint32(at, true), len: this.view.getUint32(at + 4, true) });
      tq.usedSeen = (tq.usedSeen + 1) & 0xffff;
    }
    return out;
  }

  /** Reads and acknowledges InterruptStatus, as Linux's vm_interrupt does. */
  ackInterrupt(): number {
    const status = this.r(R.INTERRUPT_STATUS);
    this.w(R.INTERRUPT_ACK, status);
    return status;
  }
}
