// The VM generation ID: 16 bytes that change whenever copies of one VM go their own ways (a
// fork, a restore from a shared snapshot), so each guest kernel reseeds its random number
// generator at once. Devicetree binding "microsoft,vmgenid" (Linux bindings/rng/microsoft,vmgenid.yaml).

import { randomBytes } from 'node:crypto';
import type { AccessSize, IrqLine, MmioDevice } from './mmio-device.js';

/** Length of the ID in bytes (the VMGenID specification's 128-bit GUID). */
export const VM_GENERATION_ID_BYTES = 16;

export interface VmGenerationIdOptions {
  /** The change notification (a PLIC source on the virt board). */
  irq: IrqLine;
  /** The first ID; 16 random bytes when absent. */
  id?: Uint8Array;
}

/** Named, versioned state for save/restore. */
export interface VmGenerationIdState {
  version: 1;
  /** The 16 bytes in window order, as 32 lowercase hex digits. */
  id: string;
  /** A change the guest has not read yet: the interrupt line is high. */
  notifying: boolean;
}

export class VmGenerationIdError extends Error {
  readonly kind = 'vm-generation-id';
}

const HEX_ID = /^[0-9a-f]{32}$/i;

/**
 * The ID sits at the start of a 4 KiB window, bytes as stored; the rest reads zero. Linux's
 * vmgenid driver maps the window, copies the 16 bytes at probe and again on each interrupt, and
 * reseeds when they differ; it has no register to acknowledge the interrupt.
 *
 * Signalling: change() raises the line and the guest's next read of the ID lowers it. A pulse
 * would not do: while the source is in service (claimed, handler running) the PLIC gateway drops
 * new requests, so a change landing after the handler's copy would go unnoticed. A level held
 * until the read survives that (the gateway pends it again at completion), and cannot storm,
 * since the handler's own read lowers it before it completes.
 */
export class VmGenerationId implements MmioDevice {
  /** Size of the MMIO window. */
  static readonly WINDOW_SIZE = 0x1000;

  private readonly irq: IrqLine;
  private current: Uint8Array;
  private notifying = false;
  /** Guest writes to the read-only window (a guest mistake: ignored, counted). */
  ignoredWrites = 0;

  constructor(options: VmGenerationIdOptions) {
    this.irq = options.irq;
    this.current = options.id === undefined ? randomId() : checkedId(options.id);
    this.irq.set(false);
  }

  /** A copy of the current ID. */
  get id(): Uint8Array {
    return this.current.slice();
  }

  /** True while a change waits for the guest to read the ID (the interrupt line is high). */
  get pending(): boolean {
    return this.notifying;
  }

  /**
   * Starts a new generation: sets `newId` (16 random bytes when absent) and raises the
   * interrupt until the guest reads the ID. Throws VmGenerationIdError for an ID not 16 bytes long.
   */
  change(newId?: Uint8Array): void {
    this.current = newId === undefined ? randomId() : checkedId(newId);
    this.notifying = true;
    this.irq.set(true);
  }

  /** A reboot stays in the same generation: the ID is kept, a pending notification dropped (the new kernel reads the ID at probe). */
  reset(): void {
    this.lower();
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = (value << 8) | this.byteAt(offset + i);
    this.noticeRead(offset, size);
    return value >>> 0;
  }

  /** The two words in one access, so an 8-byte copy sees one generation. */
  read64(offset: number): readonly [number, number] {
    const lo = this.read(offset, 4);
    const hi = this.read(offset + 4, 4);
    return [lo, hi];
  }

  write(_offset: number, _size: AccessSize, _value: number): void {
    this.ignoredWrites++;
  }

  write64(_offset: number, _lo: number, _hi: number): void {
    this.ignoredWrites++;
  }

  save(): VmGenerationIdState {
    return { version: 1, id: Buffer.from(this.current).toString('hex'), notifying: this.notifying };
  }

  /** Throws VmGenerationIdError for a state this build cannot read; the device is then unchanged. */
  restore(state: VmGenerationIdState): void {
    if (typeof state !== 'object' || state === null) {
      throw new VmGenerationIdError('cannot restore VM generation ID state: it is not an object (corrupt snapshot?)');
    }
    if (state.version !== 1) {
      throw new VmGenerationIdError(`cannot restore VM generation ID state version ${String(state.version)}; this build reads version 1`);
    }
    if (typeof state.id !== 'string' || !HEX_ID.test(state.id)) {
      throw new VmGenerationIdError('cannot restore VM generation ID state: id must be 32 hex digits (corrupt snapshot?)');
    }
    if (typeof state.notifying !== 'boolean') {
      throw new VmGenerationIdError('cannot restore VM generation ID state: notifying must be true or false (corrupt snapshot?)');
    }
    this.current = new Uint8Array(Buffer.from(state.id, 'hex'));
    this.notifying = state.notifying;
    // Drive the line whatever it was before: the PLIC may have been restored separately.
    this.irq.set(this.notifying);
  }

  private byteAt(offset: number): number {
    return offset >= 0 && offset < VM_GENERATION_ID_BYTES ? this.current[offset]! : 0;
  }

  /** A read touching the ID is the guest taking the notification. */
  private noticeRead(offset: number, size: number): void {
    if (this.notifying && offset < VM_GENERATION_ID_BYTES && offset + size > 0) this.lower();
  }

  private lower(): void {
    this.notifying = false;
    this.irq.set(false);
  }
}

function randomId(): Uint8Array {
  return new Uint8Array(randomBytes(VM_GENERATION_ID_BYTES));
}

function checkedId(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== VM_GENERATION_ID_BYTES) {
    throw new VmGenerationIdError(`a VM generation ID is ${VM_GENERATION_ID_BYTES} bytes, got ${id instanceof Uint8Array ? id.length : typeof id}; pass 16 bytes or none for a random one`);
  }
  return id.slice();
}
