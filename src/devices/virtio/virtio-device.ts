// What a virtio device model implements, and what its transport gives it. Models never see
// MMIO registers: the transport (virtio-mmio today, perhaps PCI later) owns feature
// negotiation, status, interrupts and the rings, and hands the model a VirtioDeviceContext.

import type { AccessSize } from '../mmio-device.js';
import type { DescriptorChain } from './descriptor-chain.js';
import type { DmaMemory } from './dma-memory.js';

/** Device IDs (virtio 1.2 section 5). */
export const VirtioDeviceId = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
  BALLOON: 5,
  NINE_P: 9,
  INPUT: 18,
} as const;

/** Device status bits (2.1). */
export const VirtioStatus = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** Reserved (device-independent) feature bits (6). */
export const VirtioFeature = {
  INDIRECT_DESC: 1n << 28n,
  EVENT_IDX: 1n << 29n,
  VERSION_1: 1n << 32n,
} as const;

/** A guest mistake worth a log line and a metric: the device answered it with an error status. */
export interface VirtioFault {
  /** Stable, greppable name, e.g. 'blk-request-outside-ram', 'bad-register-access'. */
  kind: string;
  message: string;
  /** Queue involved, when there is one. */
  queue?: number;
}

/**
 * What the transport gives an active device (from activate() until reset()). Every method is
 * safe against a hostile guest: a malformed ring puts the device in DEVICE_NEEDS_RESET, after
 * which pop() returns null and pushes are dropped; nothing here throws.
 */
export interface VirtioDeviceContext {
  /** Guest RAM, bounds-checked. */
  readonly memory: DmaMemory;
  /** The feature bits the driver accepted (FEATURES_OK), including VERSION_1 and ring features. */
  readonly features: bigint;
  /** The next available descriptor chain of `queue`, or null when none (or the queue is not ready, or the device failed). */
  pop(queue: number): DescriptorChain | null;
  /** Puts the chain pop() returned last on `queue` back, to be popped again later. */
  undoPop(queue: number): void;
  /** Returns `chain` to the driver, having written `written` bytes into its device-writable buffers. */
  pushUsed(queue: number, chain: DescriptorChain, written: number): void;
  /** Sends a used-buffer interrupt for `queue` unless the driver suppressed it. Call once after a batch of pushUsed. */
  notify(queue: number): void;
  /** The device changed its config space: bump ConfigGeneration and interrupt the driver. */
  configChanged(): void;
  /** Logs and counts a guest mistake the device handled with an error status. */
  fault(fault: VirtioFault): void;
  /** Unrecoverable guest error: set DEVICE_NEEDS_RESET and stop processing (2.1.2). */
  fail(fault: VirtioFault): void;
}

/** A virtio device model (block, console, entropy, net...). `S` is its save/restore state. */
export interface VirtioDevice<S = unknown> {
  /** Device ID (VirtioDeviceId). */
  readonly deviceId: number;
  /** Short name for logs and metrics, e.g. 'virtio-blk'. */
  readonly name: string;
  /** Device-specific feature bits offered; the transport adds VERSION_1 and the ring features. */
  readonly deviceFeatures: bigint;
  /** One entry per virtqueue: its maximum size (a power of two). */
  readonly queueMaxSizes: readonly number[];
  /** Device-specific config space, little-endian; offsets are relative to its start. Out-of-range reads return 0. */
  readConfig(offset: number, size: AccessSize): number;
  writeConfig(offset: number, size: AccessSize, value: number): void;
  /** Called at FEATURES_OK with the driver's choice; false refuses it (FEATURES_OK then stays clear). Optional. */
  acceptFeatures?(features: bigint): boolean;
  /** DRIVER_OK (or a restore of a running device): the driver is ready; keep `context` until reset(). */
  activate(context: VirtioDeviceContext): void;
  /** The driver notified `queue` (only while active). */
  onQueueNotify(queue: number): void;
  /** Device reset: drop the context and any in-flight state, keep the backend and configuration. */
  reset(): void;
  save(): S;
  restore(state: S): void;
}

/** Reads a little-endian field of `size` bytes from a config image; bytes past the end read as 0. */
export function readConfigBytes(config: Uint8Array, offset: number, size: AccessSize): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + (config[offset + i] ?? 0);
  return value;
}
