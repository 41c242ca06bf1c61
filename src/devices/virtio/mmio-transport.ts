// virtio over MMIO, version 2 (virtio 1.2 section 4.2.2): the register window Linux's
// virtio_mmio driver probes, in front of one VirtioDevice model. It owns feature negotiation,
// the status register, the virtqueues' configuration and the (level) interrupt line.

import type { AccessSize, IrqLine, MmioDevice } from '../mmio-device.js';
import type { DescriptorChain } from './descriptor-chain.js';
import type { DmaMemory } from './dma-memory.js';
import { VirtioFeature, VirtioStatus, type VirtioDevice, type VirtioDeviceContext, type VirtioFault } from './virtio-device.js';
import { Virtqueue, VirtqueueError, type VirtqueueState } from './virtqueue.js';

/** Register offsets (4.2.2, table "MMIO Device Register Layout"). */
export const VirtioMmioRegister = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** "virt" in little-endian ASCII. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** "VIRO" in little-endian ASCII: Vireo's vendor ID. */
export const VIREO_VENDOR_ID = 0x4f524956;
/** InterruptStatus bits (4.2.2). */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

export interface VirtioMmioTransportOptions<S> {
  device: VirtioDevice<S>;
  memory: DmaMemory;
  /** The device's interrupt (a PLIC source), level-triggered: high while InterruptStatus != 0. */
  irq: IrqLine;
  /**
   * Receives guest mistakes to log: the first 16 of each kind, then the 32nd, 64th, ... (`count`
   * says which). Every one is counted in `metrics.faults`.
   */
  onFault?: (fault: VirtioFaultReport) => void;
  /** Ring features to offer (default INDIRECT_DESC | EVENT_IDX). */
  ringFeatures?: bigint;
}

/** A fault as the transport reports it: which device, and how many of this kind so far. */
export interface VirtioFaultReport extends VirtioFault {
  device: string;
  count: number;
}

/** Named, versioned transport state; `device` is the model's own state. */
export interface VirtioMmioState<S = unknown> {
  version: 1;
  status: number;
  /** Accepted driver features, as a decimal string (JSON has no 64-bit integers). */
  driverFeatures: string;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  queues: VirtqueueState[];
  device: S;
}

export class VirtioMmioError extends Error {
  override readonly name = 'VirtioMmioError';
  readonly kind = 'virtio-mmio';
  readonly device: string;

  constructor(message: string, device: string, options?: ErrorOptions) {
    super(message, options);
    this.device = device;
  }
}

export interface VirtioMmioMetrics {
  queueNotifies: number;
  interrupts: number;
  /** Guest mistakes by VirtioFault.kind. */
  faults: Record<string, number>;
}

const MASK32 = 0xffff_ffffn;
const TWO_32 = 0x1_0000_0000;
/** Faults of one kind passed to onFault before it hears only of every power-of-two occurrence. */
const FAULT_LOG_BURST = 16;

export class VirtioMmioTransport<S = unknown> implements MmioDevice {
  /** Size of the MMIO window (QEMU virt: 8 slots of 0x1000 from 0x10001000). */
  static readonly WINDOW_SIZE = 0x1000;

  readonly device: VirtioDevice<S>;
  readonly metrics: VirtioMmioMetrics = { queueNotifies: 0, interrupts: 0, faults: {} };
  private readonly memory: DmaMemory;
  private readonly irq: IrqLine;
  private readonly onFault: ((fault: VirtioFaultReport) => void) | undefined;
  private readonly offered: bigint;
  private readonly queues: Virtqueue[];
  /**
   * Per queue, the ring address registers as written: desc, driver, device, each low then high.
   * A number holds 53 bits, so an address rebuilt from the number after a large high word would
   * keep a rounded low word once the high word returns to 0.
   */
  private readonly addressWords: Uint32Array[];
  private status = 0;
  private driverFeatures = 0n;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private irqLevel = false;
  private active = false;

  constructor(options: VirtioMmioTransportOptions<S>) {
    this.device = options.device;
    this.memory = options.memory;
    this.irq = options.irq;
    this.onFault = options.onFault;
    const ring = options.ringFeatures ?? VirtioFeature.INDIRECT_DESC | VirtioFeature.EVENT_IDX;
    this.offered = options.device.deviceFeatures | ring | VirtioFeature.VERSION_1;
    this.queues = options.device.queueMaxSizes.map((n) => new Virtqueue(n));
    this.addressWords = this.queues.map(() => new Uint32Array(6));
  }

  read(offset: number, size: AccessSize): number {
    if (offset >= VirtioMmioRegister.CONFIG) return this.device.readConfig(offset - VirtioMmioRegister.CONFIG, size);
    // 4.2.2.2: control registers are 32-bit, aligned.
    if (size !== 4 || offset % 4 !== 0) {
      this.recordFault({ kind: 'bad-register-access', message: `${size}-byte read at register offset 0x${offset.toString(16)}` });
      return 0;
    }
    const R = VirtioMmioRegister;
    const vq = this.queues[this.queueSel];
    switch (offset) {
      case R.MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
      case R.VERSION: return 2;
      case R.DEVICE_ID: return this.device.deviceId;
      case R.VENDOR_ID: return VIREO_VENDOR_ID;
      case R.DEVICE_FEATURES: return this.deviceFeaturesSel < 2 ? Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & MASK32) : 0;
      case R.QUEUE_NUM_MAX: return vq === undefined ? 0 : vq.maxSize;
      case R.QUEUE_READY: return vq?.ready ? 1 : 0;
      case R.INTERRUPT_STATUS: return this.interruptStatus;
      case R.STATUS: return this.status;
      // No shared memory regions: a length of all ones means "none" (4.2.2).
      case R.SHM_LEN_LOW: case R.SHM_LEN_HIGH: case R.SHM_BASE_LOW: case R.SHM_BASE_HIGH: return 0xffff_ffff;
      case R.CONFIG_GENERATION: return this.configGeneration;
      default: return 0; // write-only or reserved registers read as zero
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset >= VirtioMmioRegister.CONFIG) {
      this.device.writeConfig(offset - VirtioMmioRegister.CONFIG, size, value);
      return;
    }
    if (size !== 4 || offset % 4 !== 0) {
      this.recordFault({ kind: 'bad-register-access', message: `${size}-byte write at register offset 0x${offset.toString(16)}` });
      return;
    }
    const v = value >>> 0;
    const R = VirtioMmioRegister;
    switch (offset) {
      case R.DEVICE_FEATURES_SEL: this.deviceFeaturesSel = v; return;
      case R.DRIVER_FEATURES_SEL: this.driverFeaturesSel = v; return;
      case R.DRIVER_FEATURES: this.writeDriverFeatures(v); return;
      case R.QUEUE_SEL: this.queueSel = v; return;
      case R.QUEUE_NUM: this.writeQueueField((vq) => { vq.size = v; }); return;
      case R.QUEUE_DESC_LOW: this.writeQueueAddress(0, v); return;
      case R.QUEUE_DESC_HIGH: this.writeQueueAddress(1, v); return;
      case R.QUEUE_DRIVER_LOW: this.writeQueueAddress(2, v); return;
      case R.QUEUE_DRIVER_HIGH: this.writeQueueAddress(3, v); return;
      case R.QUEUE_DEVICE_LOW: this.writeQueueAddress(4, v); return;
      case R.QUEUE_DEVICE_HIGH: this.writeQueueAddress(5, v); return;
      case R.QUEUE_READY: this.writeQueueReady(v); return;
      case R.QUEUE_NOTIFY: this.queueNotify(v); return;
      case R.INTERRUPT_ACK: this.interruptStatus &= ~v; this.updateIrq(); return;
      case R.STATUS: this.writeStatus(v & 0xff); return;
      case R.SHM_SEL: return;
      default:
        this.recordFault({ kind: 'bad-register-access', message: `write of 0x${v.toString(16)} to read-only or reserved register 0x${offset.toString(16)}` });
    }
  }

  /** Device reset (Status written 0, or the board resetting): back to the power-on state. */
  reset(): void {
    this.device.reset();
    this.active = false;
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.interruptStatus = 0;
    for (const vq of this.queues) vq.reset();
    for (const words of this.addressWords) words.fill(0);
    this.updateIrq();
  }

  save(): VirtioMmioState<S> {
    return {
      version: 1,
      status: this.status,
      driverFeatures: this.driverFeatures.toString(),
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => q.save()),
      device: this.device.save(),
    };
  }

  restore(state: VirtioMmioState<S>): void {
    const name = this.device.name;
    if (state.version !== 1) throw new VirtioMmioError(`cannot restore ${name} transport state version ${String(state.version)}; this build reads version 1`, name);
    if (state.queues.length !== this.queues.length) {
      throw new VirtioMmioError(`cannot restore ${name}: the snapshot has ${state.queues.length} queues, this device ${this.queues.length}`, name);
    }
    let features: bigint;
    try {
      features = BigInt(state.driverFeatures);
    } catch (cause) {
      throw new VirtioMmioError(`cannot restore ${name}: driver features "${state.driverFeatures}" are not an integer (corrupt snapshot?)`, name, { cause });
    }
    this.device.reset();
    this.active = false;
    this.status = state.status & 0xff;
    this.driverFeatures = features;
    this.deviceFeaturesSel = state.deviceFeaturesSel >>> 0;
    this.driverFeaturesSel = state.driverFeaturesSel >>> 0;
    this.queueSel = state.queueSel >>> 0;
    this.interruptStatus = state.interruptStatus & 3;
    this.configGeneration = state.configGeneration >>> 0;
    this.queues.forEach((q, i) => {
      q.restore(state.queues[i]!);
      const words = this.addressWords[i]!;
      [q.descAddr, q.driverAddr, q.deviceAddr].forEach((addr, n) => {
        words[2 * n] = addr % TWO_32;
        words[2 * n + 1] = Math.floor(addr / TWO_32);
      });
      this.applyRingFeatures(q);
    });
    this.device.restore(state.device);
    if (this.status & VirtioStatus.DRIVER_OK && !(this.status & VirtioStatus.DEVICE_NEEDS_RESET)) this.activate(false);
    // Drive the line to the restored level whatever it was before.
    this.irqLevel = this.interruptStatus !== 0;
    this.irq.set(this.irqLevel);
  }

  private writeDriverFeatures(v: number): void {
    // 3.1.1: features are fixed once FEATURES_OK is set.
    if (this.status & VirtioStatus.FEATURES_OK) {
      this.recordFault({ kind: 'bad-register-access', message: 'DriverFeatures written after FEATURES_OK' });
      return;
    }
    if (this.driverFeaturesSel > 1) return;
    const shift = BigInt(32 * this.driverFeaturesSel);
    this.driverFeatures = (this.driverFeatures & ~(MASK32 << shift)) | (BigInt(v) << shift);
  }

  /** Queue registers may change only while the selected queue is disabled (4.2.2.3.2). */
  private writeQueueField(apply: (vq: Virtqueue) => void): void {
    const vq = this.queues[this.queueSel];
    if (vq === undefined || vq.ready) {
      this.recordFault({ kind: 'bad-register-access', message: `queue register written for ${vq ? 'enabled' : 'missing'} queue ${this.queueSel}` });
      return;
    }
    apply(vq);
  }

  /** One half of a ring address: `word` indexes addressWords (desc, driver, device; low then high). */
  private writeQueueAddress(word: number, v: number): void {
    this.writeQueueField((vq) => {
      const words = this.addressWords[this.queueSel]!;
      words[word] = v;
      const pair = word & ~1;
      const addr = words[pair + 1]! * TWO_32 + words[pair]!;
      if (pair === 0) vq.descAddr = addr;
      else if (pair === 2) vq.driverAddr = addr;
      else vq.deviceAddr = addr;
    });
  }

  private writeQueueReady(v: number): void {
    const vq = this.queues[this.queueSel];
    if (vq === undefined) {
      this.recordFault({ kind: 'bad-register-access', message: `QueueReady written for missing queue ${this.queueSel}` });
      return;
    }
    if ((v & 1) === 0) {
      vq.disable();
      return;
    }
    if (vq.ready) return;
    try {
      this.applyRingFeatures(vq);
      vq.enable(this.memory);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.fail({ kind: `virtqueue-${e.reason}`, message: e.message, queue: this.queueSel });
    }
  }

  private queueNotify(index: number): void {
    this.metrics.queueNotifies++;
    const vq = this.queues[index];
    if (vq === undefined || !vq.ready) {
      this.recordFault({ kind: 'bad-queue-notify', message: `notify for ${vq ? 'disabled' : 'missing'} queue ${index}`, queue: index });
      return;
    }
    // 2.1.2 / 3.1.1: a device consumes buffers only after DRIVER_OK and not once it has failed.
    if (!this.active) return;
    this.device.onQueueNotify(index);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const S = VirtioStatus;
    const added = v & ~this.status;
    let next = (v & ~S.DEVICE_NEEDS_RESET) | (this.status & S.DEVICE_NEEDS_RESET);
    if (added & S.FEATURES_OK && !this.featuresAcceptable()) next &= ~S.FEATURES_OK;
    if (added & S.DRIVER_OK && !(next & S.FEATURES_OK)) {
      this.recordFault({ kind: 'bad-status', message: 'DRIVER_OK set without FEATURES_OK' });
      next &= ~S.DRIVER_OK;
    }
    this.status = next;
    if (added & S.FEATURES_OK && next & S.FEATURES_OK) for (const q of this.queues) this.applyRingFeatures(q);
    if (next & S.DRIVER_OK && !this.active && !(next & S.DEVICE_NEEDS_RESET)) this.activate(true);
  }

  /** 6.1: the driver accepts VERSION_1 and only features that were offered; the model may refuse more. */
  private featuresAcceptable(): boolean {
    const f = this.driverFeatures;
    let ok = true;
    let why = '';
    if ((f & ~this.offered) !== 0n) [ok, why] = [false, `features 0x${(f & ~this.offered).toString(16)} were never offered`];
    else if ((f & VirtioFeature.VERSION_1) === 0n) [ok, why] = [false, 'VIRTIO_F_VERSION_1 not accepted (a legacy driver?)'];
    else if (this.device.acceptFeatures && !this.device.acceptFeatures(f)) [ok, why] = [false, `the device refuses features 0x${f.toString(16)}`];
    if (!ok) this.recordFault({ kind: 'features-refused', message: why });
    return ok;
  }

  private applyRingFeatures(vq: Virtqueue): void {
    vq.indirect = (this.driverFeatures & VirtioFeature.INDIRECT_DESC) !== 0n;
    vq.eventIdx = (this.driverFeatures & VirtioFeature.EVENT_IDX) !== 0n;
  }

  /** DRIVER_OK: hand the device its context, then let it look at buffers queued before now. */
  private activate(kick: boolean): void {
    this.active = true;
    this.device.activate(this.createContext());
    if (kick) this.queues.forEach((q, i) => q.ready && this.active && this.device.onQueueNotify(i));
  }

  /** The context handed to the device; every ring operation is a no-op while the device is inactive or failed. */
  private createContext(): VirtioDeviceContext {
    return {
      memory: this.memory,
      features: this.driverFeatures,
      pop: (q) => this.guard(q, null, (vq) => vq.pop(this.memory)),
      undoPop: (q) => this.guard(q, undefined, (vq) => vq.undoPop()),
      pushUsed: (q, chain: DescriptorChain, written) => this.guard(q, undefined, (vq) => vq.pushUsed(this.memory, chain.head, written)),
      notify: (q) =>
        this.guard(q, undefined, (vq) => {
          if (vq.needsInterrupt(this.memory)) this.raise(VIRTIO_MMIO_INT_VRING);
        }),
      configChanged: () => {
        this.configGeneration = (this.configGeneration + 1) >>> 0;
        if (this.status & VirtioStatus.DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
      },
      fault: (fault) => this.recordFault(fault),
      fail: (fault) => this.fail(fault),
    };
  }

  /** Runs a ring operation on queue `q`; a VirtqueueError fails the device instead of escaping. */
  private guard<T>(q: number, fallback: T, op: (vq: Virtqueue) => T): T {
    const vq = this.queues[q];
    if (!this.active || vq === undefined) return fallback;
    try {
      return op(vq);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.fail({ kind: `virtqueue-${e.reason}`, message: e.message, queue: q });
      return fallback;
    }
  }

  /** 2.1.2: DEVICE_NEEDS_RESET, a config-change interrupt if the driver is running, and no more processing. */
  private fail(fault: VirtioFault): void {
    this.recordFault(fault);
    if (this.status & VirtioStatus.DEVICE_NEEDS_RESET) return;
    this.status |= VirtioStatus.DEVICE_NEEDS_RESET;
    // The model keeps its state until the driver resets the device; its context goes quiet now.
    this.active = false;
    if (this.status & VirtioStatus.DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  /** Counts every fault; logs the first few of each kind, then only at powers of two, so a guest cannot flood the log. */
  private recordFault(fault: VirtioFault): void {
    const n = (this.metrics.faults[fault.kind] ?? 0) + 1;
    this.metrics.faults[fault.kind] = n;
    if (n <= FAULT_LOG_BURST || (n & (n - 1)) === 0) this.onFault?.({ ...fault, device: this.device.name, count: n });
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.metrics.interrupts++;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
