// virtio-net (virtio 1.2 section 5.1): one receive queue (0) and one transmit queue (1), a MAC
// and link status in config space, no offloads. Frames go to and come from an injected
// backend (a switch port); received frames are delivered when the board calls poll().

import type { AccessSize } from '../../mmio-device.js';
import type { DescriptorChain } from '../descriptor-chain.js';
import { VirtioDeviceId, readConfigBytes } from '../virtio-device.js';
import type { VirtioDevice, VirtioDeviceContext } from '../virtio-device.js';
import { VIRTIO_NET_HDR_BYTES, VIRTIO_NET_HDR_GSO_NONE, VirtioNetHdrFlag, decodeNetHeader, receiveHeader } from './header.js';
import { checkVirtioNetState, macFromText, macToText } from './state.js';
import type { VirtioNetState } from './state.js';

/** Feature bits (5.1.3) this device offers. */
export const VirtioNetFeature = {
  MAC: 1n << 5n,
  STATUS: 1n << 16n,
} as const;

/** config.status bits (5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;

export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;

/** Largest frame (no FCS) the device passes: 1514 bytes, plus 4 for an 802.1Q tag. */
export const VIRTIO_NET_MAX_FRAME = 1518;
/** A frame is at least an Ethernet header. */
const MIN_FRAME = 14;
const CONFIG_BYTES = 8;

/**
 * Where the device's frames go and come from. A `SwitchPort` of src/net provides it; the
 * device declares only what it uses so that it stays independent of the host's network.
 */
export interface VirtioNetBackend {
  /** Takes a frame the guest transmitted (copying it); false when dropped. */
  send(frame: Uint8Array): boolean;
  /** The oldest frame waiting for the guest, removed from the backend; undefined when none. */
  receive(): Uint8Array | undefined;
  /** How many frames are waiting. */
  readonly pending: number;
}

export interface VirtioNetOptions {
  /** The station address in config space: six bytes, unicast. */
  mac: ArrayLike<number>;
  backend: VirtioNetBackend;
  /** Size offered for each queue (default 256). */
  queueSize?: number;
  /** Initial link state (default up). */
  linkUp?: boolean;
}

/** What the device saw; the switch port has its own counters for what happened beyond it. */
export interface VirtioNetCounters {
  txFrames: number;
  txBytes: number;
  /** Transmitted packets not passed on: malformed, refused by the backend, or link down. */
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames not delivered: no driver running, link down, or too large for the receive buffer. */
  rxDropped: number;
}

export class VirtioNetError extends Error {
  readonly kind = 'virtio-net';
}

export class VirtioNet implements VirtioDevice<VirtioNetState> {
  readonly deviceId = VirtioDeviceId.NET;
  readonly name = 'virtio-net';
  readonly deviceFeatures = VirtioNetFeature.MAC | VirtioNetFeature.STATUS;
  readonly queueMaxSizes: readonly number[];
  private readonly backend: VirtioNetBackend;
  private mac: Uint8Array;
  private linkUp: boolean;
  private context: VirtioDeviceContext | undefined;
  private readonly stats: VirtioNetCounters = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 };

  constructor(options: VirtioNetOptions) {
    this.mac = checkMac(options.mac);
    this.backend = options.backend;
    const queueSize = options.queueSize ?? 256;
    this.queueMaxSizes = [queueSize, queueSize];
    this.linkUp = options.linkUp ?? true;
  }

  get counters(): VirtioNetCounters {
    return { ...this.stats };
  }

  get isLinkUp(): boolean {
    return this.linkUp;
  }

  /** Plugs or unplugs the virtual cable; a running driver gets a config-change interrupt (5.1.4). */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.context?.configChanged();
  }

  readConfig(offset: number, size: AccessSize): number {
    const config = new Uint8Array(CONFIG_BYTES);
    config.set(this.mac, 0);
    config[6] = this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    return readConfigBytes(config, offset, size);
  }

  /** 5.1.4: with VERSION_1 the config space is read-only for the driver; writes are ignored. */
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  onQueueNotify(queue: number): void {
    if (queue === VIRTIO_NET_TX_QUEUE) this.transmit();
    else if (queue === VIRTIO_NET_RX_QUEUE) this.deliver();
  }

  /**
   * Moves frames between the guest and the backend: sends what the guest queued for
   * transmission and fills receive buffers with waiting frames. The board calls it between run
   * slices; frames wait in the backend while the guest has no receive buffers.
   */
  poll(): void {
    this.transmit();
    this.deliver();
  }

  reset(): void {
    this.context = undefined;
  }

  save(): VirtioNetState {
    return { version: 1, mac: macToText(this.mac), linkUp: this.linkUp };
  }

  restore(state: VirtioNetState): void {
    const problem = checkVirtioNetState(state);
    if (problem !== undefined) throw new VirtioNetError(`cannot restore virtio-net: ${problem} (corrupt snapshot?)`);
    this.mac = macFromText(state.mac);
    this.linkUp = state.linkUp;
  }

  /** 5.1.6.2: each tx chain is a header and a frame, both device-readable. */
  private transmit(): void {
    const ctx = this.context;
    if (ctx === undefined) return;
    let used = 0;
    for (let chain = ctx.pop(VIRTIO_NET_TX_QUEUE); chain !== null; chain = ctx.pop(VIRTIO_NET_TX_QUEUE)) {
      const frame = this.readTxFrame(ctx, chain);
      if (frame !== undefined && this.linkUp && this.backend.send(frame)) {
        this.stats.txFrames++;
        this.stats.txBytes += frame.length;
      } else {
        this.stats.txDropped++;
      }
      // The device writes nothing into a tx buffer.
      ctx.pushUsed(VIRTIO_NET_TX_QUEUE, chain, 0);
      used++;
    }
    if (used > 0) ctx.notify(VIRTIO_NET_TX_QUEUE);
  }

  private readTxFrame(ctx: VirtioDeviceContext, chain: DescriptorChain): Uint8Array | undefined {
    const frameLength = chain.readableLength - VIRTIO_NET_HDR_BYTES;
    if (frameLength < MIN_FRAME) {
      ctx.fault({ kind: 'net-tx-too-short', message: `tx chain ${chain.head} holds ${chain.readableLength} readable bytes, less than a header and an Ethernet header`, queue: VIRTIO_NET_TX_QUEUE });
      return undefined;
    }
    // Checked before reading: a hostile chain may claim gigabytes.
    if (frameLength > VIRTIO_NET_MAX_FRAME) {
      ctx.fault({ kind: 'net-tx-too-long', message: `tx chain ${chain.head} holds a ${frameLength}-byte frame, more than ${VIRTIO_NET_MAX_FRAME}`, queue: VIRTIO_NET_TX_QUEUE });
      return undefined;
    }
    const packet = chain.read(ctx.memory, 0, chain.readableLength);
    if (packet === null) {
      ctx.fault({ kind: 'net-tx-outside-ram', message: `tx chain ${chain.head} points outside guest RAM`, queue: VIRTIO_NET_TX_QUEUE });
      return undefined;
    }
    // No CSUM or GSO features are offered, so a driver may not ask for them (5.1.6.2.1).
    const header = decodeNetHeader(packet);
    if (header.gsoType !== VIRTIO_NET_HDR_GSO_NONE || (header.flags & VirtioNetHdrFlag.NEEDS_CSUM) !== 0) {
      ctx.fault({ kind: 'net-tx-offload-not-negotiated', message: `tx header asks for gso_type ${header.gsoType}, flags ${header.flags}, which were not negotiated`, queue: VIRTIO_NET_TX_QUEUE });
      return undefined;
    }
    return packet.subarray(VIRTIO_NET_HDR_BYTES);
  }

  /** 5.1.6.3-4: each received frame goes, after a header, into one rx chain's writable buffers. */
  private deliver(): void {
    const ctx = this.context;
    if (ctx === undefined || !this.linkUp) {
      // No driver running, or no cable: like a real NIC, what arrives is lost.
      for (let frame = this.backend.receive(); frame !== undefined; frame = this.backend.receive()) this.stats.rxDropped++;
      return;
    }
    let used = 0;
    while (this.backend.pending > 0) {
      const chain = ctx.pop(VIRTIO_NET_RX_QUEUE);
      if (chain === null) break; // no buffers: frames wait in the backend (which drops when full)
      const frame = this.backend.receive()!;
      const needed = VIRTIO_NET_HDR_BYTES + frame.length;
      if (chain.writableLength < VIRTIO_NET_HDR_BYTES + MIN_FRAME) {
        // A buffer no frame fits in is a driver bug: return it empty.
        ctx.fault({ kind: 'net-rx-buffer-unusable', message: `rx chain ${chain.head} has ${chain.writableLength} writable bytes, too few for any frame`, queue: VIRTIO_NET_RX_QUEUE });
        ctx.pushUsed(VIRTIO_NET_RX_QUEUE, chain, 0);
        used++;
        this.stats.rxDropped++;
        continue;
      }
      if (chain.writableLength < needed) {
        // Without MRG_RXBUF a frame must fit one chain; keep the buffer for a smaller frame.
        ctx.undoPop(VIRTIO_NET_RX_QUEUE);
        this.stats.rxDropped++;
        continue;
      }
      const packet = new Uint8Array(needed);
      packet.set(receiveHeader(), 0);
      packet.set(frame, VIRTIO_NET_HDR_BYTES);
      if (!chain.write(ctx.memory, 0, packet)) {
        ctx.fault({ kind: 'net-rx-outside-ram', message: `rx chain ${chain.head} points outside guest RAM`, queue: VIRTIO_NET_RX_QUEUE });
        ctx.pushUsed(VIRTIO_NET_RX_QUEUE, chain, 0);
        used++;
        this.stats.rxDropped++;
        continue;
      }
      ctx.pushUsed(VIRTIO_NET_RX_QUEUE, chain, needed);
      used++;
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
    }
    if (used > 0) ctx.notify(VIRTIO_NET_RX_QUEUE);
  }
}

function checkMac(mac: ArrayLike<number>): Uint8Array {
  const bytes = Uint8Array.from(mac);
  if (bytes.length !== 6 || Array.from(mac).some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new VirtioNetError(`virtio-net MAC must be six bytes, got [${Array.from(mac).join(', ')}]`);
  }
  // IEEE 802: bit 0 of the first byte marks a group address, which no station may own.
  if ((bytes[0]! & 1) !== 0) throw new VirtioNetError(`virtio-net MAC ${macToText(bytes)} is a multicast address; give a unicast one`);
  return bytes;
}
