// The board's physical address space outside RAM: a sorted list of device windows. The hart
// reaches devices only through this (core's SystemBus); unmapped accesses answer "nothing
// here" and the hart turns them into access faults.

import type { SystemBus } from '../core/system-bus.js';
import type { AccessSize, MmioDevice } from '../devices/mmio-device.js';

export class BusError extends Error {
  readonly kind = 'bus';
  readonly device: string;
  readonly base: number;
  readonly size: number;

  constructor(message: string, context: { device: string; base: number; size: number }, options?: ErrorOptions) {
    super(message, options);
    this.device = context.device;
    this.base = context.base;
    this.size = context.size;
  }
}

/** One device window. */
export interface BusMapping {
  readonly base: number;
  readonly size: number;
  readonly end: number;
  readonly device: MmioDevice;
  readonly name: string;
}

/** Largest physical address the bus accepts (Sv48 allows 56-bit physical addresses; numbers stay exact). */
const MAX_ADDRESS = 2 ** 53;

const hex = (n: number) => `0x${n.toString(16)}`;

export class Bus implements SystemBus {
  private mappings: BusMapping[] = [];
  /** The mapping that answered last: consecutive accesses usually hit the same device. */
  private last: BusMapping | null = null;
  /** Accesses nothing answered (each becomes an access fault in the guest). */
  unmappedReads = 0;
  unmappedWrites = 0;

  /** Maps `device` at [base, base+size). Throws BusError when the window is invalid or overlaps another. */
  map(base: number, size: number, device: MmioDevice, name: string): void {
    const context = { device: name, base, size };
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < 0 || size <= 0 || base + size > MAX_ADDRESS) {
      throw new BusError(`cannot map ${name} at ${hex(base)} size ${size}: base and size must be non-negative integers, size > 0, inside the physical address space`, context);
    }
    const end = base + size;
    const clash = this.mappings.find((m) => base < m.end && m.base < end);
    if (clash) {
      throw new BusError(
        `cannot map ${name} at ${hex(base)}-${hex(end - 1)}: it overlaps ${clash.name} at ${hex(clash.base)}-${hex(clash.end - 1)}; move one of them in the memory map (layout.ts)`,
        context,
      );
    }
    this.mappings.push({ base, size, end, device, name });
    this.mappings.sort((a, b) => a.base - b.base);
  }

  /** The windows in address order (for the device tree and diagnostics). */
  list(): readonly BusMapping[] {
    return this.mappings;
  }

  read(paddr: number, size: AccessSize): number {
    const m = this.find(paddr, size);
    if (m === null) {
      this.unmappedReads++;
      return -1;
    }
    return m.device.read(paddr - m.base, size);
  }

  write(paddr: number, size: AccessSize, value: number): boolean {
    const m = this.find(paddr, size);
    if (m === null) {
      this.unmappedWrites++;
      return false;
    }
    m.device.write(paddr - m.base, size, value);
    return true;
  }

  read64(paddr: number): readonly [number, number] | null {
    const m = this.find(paddr, 8);
    if (m === null) {
      this.unmappedReads++;
      return null;
    }
    const offset = paddr - m.base;
    return m.device.read64?.(offset) ?? [m.device.read(offset, 4), m.device.read(offset + 4, 4)];
  }

  write64(paddr: number, lo: number, hi: number): boolean {
    const m = this.find(paddr, 8);
    if (m === null) {
      this.unmappedWrites++;
      return false;
    }
    const offset = paddr - m.base;
    if (m.device.write64) m.device.write64(offset, lo, hi);
    else {
      m.device.write(offset, 4, lo);
      m.device.write(offset + 4, 4, hi);
    }
    return true;
  }

  /** The window holding the whole access; an access running past a window's end finds nothing. */
  private find(paddr: number, size: number): BusMapping | null {
    const last = this.last;
    if (last !== null && paddr >= last.base && paddr + size <= last.end) return last;
    const list = this.mappings;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = list[mid]!;
      if (paddr < m.base) hi = mid - 1;
      else if (paddr >= m.end) lo = mid + 1;
      else {
        if (paddr + size > m.end) return null;
        this.last = m;
        return m;
      }
    }
    return null;
  }
}
