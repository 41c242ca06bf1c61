// The board's virtio devices: each model behind a virtio-mmio transport in the next free slot
// (0x10001000 + 0x1000 * n, PLIC source 1 + n), in the order disks, network, entropy, console,
// shared directories, power button, balloon.

import type { GuestMemory } from '../core/guest-memory.js';
import type { ByteSink } from '../devices/mmio-device.js';
import type { DmaMemory } from '../devices/virtio/dma-memory.js';
import { RamDmaMemory } from '../devices/virtio/ram-dma-memory.js';
import { VirtioMmioTransport } from '../devices/virtio/mmio-transport.js';
import type { VirtioDevice } from '../devices/virtio/virtio-device.js';
import { VirtioBlockDevice, type RequestThrottle } from '../devices/virtio/block/device.js';
import { VirtioNet, type VirtioNetBackend } from '../devices/virtio/net/device.js';
import { VirtioRngDevice } from '../devices/virtio/rng/device.js';
import { VirtioConsoleDevice } from '../devices/virtio/console/device.js';
import { VirtioNinePDevice } from '../devices/virtio/9p/device.js';
import { VirtioInputDevice } from '../devices/virtio/input/device.js';
import { VirtioBalloonDevice, type FreePageSink } from '../devices/virtio/balloon/device.js';
import type { BlockBackend } from '../storage/block-backend.js';
import type { Bus } from './bus.js';
import type { Plic } from '../devices/plic.js';
import { VIRTIO_IRQ, VIRTIO_SLOTS, virtioSlot, type Region } from './layout.js';
import { RateLimitedLog } from './rate-limited-log.js';

export interface DiskConfig {
  backend: BlockBackend;
  /** Reported to the guest (virtio-blk GET_ID, 20 bytes at most). */
  serial?: string;
  /** I/O limits applied to the disk's requests. */
  throttle?: RequestThrottle;
}

export interface NicConfig {
  /** Where the NIC's frames go: a port of a virtual switch; onReceive lets a frame wake the board. */
  port: VirtioNetBackend & { onReceive?(listener: () => void): unknown };
  /** A unicast MAC address, 6 bytes. */
  mac: ArrayLike<number>;
}

export interface ShareConfig {
  /** The host directory; the guest sees nothing outside it. */
  root: string;
  /** The mount tag the guest names it by (mount -t 9p -o trans=virtio TAG DIR). */
  tag: string;
  readOnly?: boolean;
}

export interface VirtioConfig {
  disks?: readonly DiskConfig[];
  nics?: readonly NicConfig[];
  /** A virtio-rng device fed by the host's CSPRNG (default true). */
  entropy?: boolean;
  /** A virtio-console (hvc0) whose output goes here. */
  console?: ByteSink;
  /** Host directories shared over virtio-9p. */
  shares?: readonly ShareConfig[];
  /** A virtio-input power button the host presses to ask the guest to shut down (default true). */
  powerButton?: boolean;
  /** A virtio-balloon for free page reporting, whose pages go to the constructor's `freePages` (default false). */
  balloon?: boolean;
}

export class VirtioBoardError extends Error {
  readonly kind = 'virtio-board';
}

/** Guest RAM as devices reach it; DMA forgets instructions decoded from the pages it overwrites. */
export function ramDma(memory: GuestMemory): RamDmaMemory {
  return new RamDmaMemory({
    base: memory.ramBase,
    bytes: memory.u8.subarray(memory.ramOffset, memory.ramOffset + memory.ramSize),
    beforeAccess: (paddr, length) => memory.pager?.ensure(memory.ramOffset + (paddr - memory.ramBase), length),
    onWrite: (paddr, length) => {
      const offset = memory.ramOffset + (paddr - memory.ramBase);
      memory.decodeCache.drop(offset, length);
      memory.dirtyLog.mark(offset, length);
    },
  });
}

/** The virtio side of a board: transports, their models, and what the run loop polls. */
export class VirtioDevices {
  readonly transports: VirtioMmioTransport[] = [];
  readonly slots: Array<Region & { irq: number }> = [];
  readonly nics: VirtioNet[] = [];
  /** The disks, in the order given (/dev/vda first). */
  readonly disks: VirtioBlockDevice[] = [];
  readonly shares: VirtioNinePDevice[] = [];
  readonly console: VirtioConsoleDevice | null = null;
  readonly powerButton: VirtioInputDevice | null = null;
  readonly balloon: VirtioBalloonDevice | null = null;
  /** The device model in each slot (virtio-blk, virtio-net, ...), as machine states name them. */
  readonly deviceNames: string[] = [];

  /**
   * `wake` is called when a device finishes work on its own (a disk request), so a sleeping run
   * loop takes the interrupt. `freePages` takes what the balloon is given (by default it is ignored).
   */
  constructor(dma: DmaMemory, bus: Bus, plic: Plic, config: VirtioConfig, log: (line: string) => void, private readonly wake: () => void = () => {}, freePages: FreePageSink = { discard: () => 0 }) {
    const models: VirtioDevice[] = [];
    for (const disk of config.disks ?? []) {
      const block = new VirtioBlockDevice({
        backend: disk.backend,
        onComplete: wake,
        ...(disk.serial !== undefined ? { serial: disk.serial } : {}),
        ...(disk.throttle ? { throttle: disk.throttle } : {}),
      });
      this.disks.push(block);
      models.push(block);
    }
    for (const nic of config.nics ?? []) {
      const net = new VirtioNet({ mac: nic.mac, backend: nic.port });
      this.nics.push(net);
      models.push(net);
    }
    if (config.entropy ?? true) models.push(new VirtioRngDevice({}));
    if (config.console) {
      const console = new VirtioConsoleDevice({ sink: config.console });
      this.console = console;
      models.push(console);
    }
    for (const share of config.shares ?? []) {
      const device = new VirtioNinePDevice({ root: share.root, tag: share.tag, ...(share.readOnly ? { readOnly: true } : {}) });
      device.onCompletion(wake);
      this.shares.push(device);
      models.push(device);
    }
    // Last, so adding them moved no other device's slot or interrupt.
    if (config.powerButton ?? true) {
      this.powerButton = new VirtioInputDevice();
      models.push(this.powerButton);
    }
    if (config.balloon) {
      this.balloon = new VirtioBalloonDevice({ sink: freePages });
      models.push(this.balloon);
    }
    if (models.length > VIRTIO_SLOTS) {
      throw new VirtioBoardError(`the board has ${VIRTIO_SLOTS} virtio slots but ${models.length} devices were asked for; attach fewer disks or NICs`);
    }
    // A guest can fault a device millions of times a second: a few lines per device and kind.
    const faults = new RateLimitedLog(log);
    models.forEach((device, n) => {
      const region = virtioSlot(n);
      const irq = VIRTIO_IRQ + n;
      const where = `${device.name}@${region.base.toString(16)}`;
      const transport = new VirtioMmioTransport({
        device,
        memory: dma,
        irq: plic.source(irq),
        onFault: (fault) => faults.line(`${where}: ${fault.kind}`, `${where}: ${fault.kind}: ${fault.message}`),
      });
      bus.map(region.base, VirtioMmioTransport.WINDOW_SIZE, transport, `virtio-mmio@${region.base.toString(16)}`);
      this.transports.push(transport);
      this.deviceNames.push(device.name);
      this.slots.push({ ...region, irq });
    });
  }

  /** Between run slices: move network frames in both directions. */
  poll(): void {
    for (const nic of this.nics) nic.poll();
  }

  /**
   * Presses the power button: 'pressed', or why not ('no-button' on a board without one,
   * 'no-guest-driver' when the guest never set its driver up, 'busy' when presses are still queued).
   */
  pressPowerButton(): 'pressed' | 'no-button' | 'no-guest-driver' | 'busy' {
    const button = this.powerButton;
    if (button === null) return 'no-button';
    if (!button.driverReady) return 'no-guest-driver';
    if (!button.press()) return 'busy';
    // The used-buffer interrupt must reach a hart sleeping in WFI.
    this.wake();
    return 'pressed';
  }

  reset(): void {
    for (const transport of this.transports) transport.reset();
  }

  /** Disk and share requests started and not yet completed. */
  get inFlight(): number {
    // Read between every run slice: no array is built for it.
    let n = 0;
    for (const disk of this.disks) n += disk.inFlight;
    for (const share of this.shares) n += share.inFlight;
    return n;
  }

  /** Resolves once no disk or share has a request in flight. */
  async drain(): Promise<void> {
    await Promise.all([...this.disks, ...this.shares].map((device) => device.drain()));
  }

  /** Closes the shares' host descriptors (disks belong to whoever opened their backends). */
  async close(): Promise<void> {
    await Promise.all(this.shares.map((share) => share.close()));
  }
}
