// A learning L2 switch joining the VMs (and host endpoints) of one host (IEEE 802.1D 7.7-7.8
// in spirit: learn source addresses, forward known unicast, flood the rest, never back out
// the ingress port). Forwarding happens inside `send()`; each port queues the frames for its
// device until the device polls, so VMs in one run loop exchange frames deterministically.

import { isValidFrameLength } from './ethernet.js';
import { isGroupMac, macFromBytes } from './mac-address.js';
import type { MacAddress } from './mac-address.js';
import type { NetBackend } from './net-backend.js';

export class VirtualSwitchError extends Error {
  readonly kind = 'virtual-switch';
}

export interface VirtualSwitchOptions {
  /** Frames a port holds for its device before newer ones are dropped (default 256). */
  queueCapacity?: number;
  /** Learned addresses kept at most; a guest inventing source addresses cannot grow it further (default 4096). */
  macTableCapacity?: number;
  /** With `macAgeing`, entries not refreshed for that many clock units are forgotten. */
  clock?: { now(): number };
  macAgeing?: number;
  /** Receives one line the first time each port drops a frame for each reason. */
  log?: (line: string) => void;
}

export interface SwitchPortOptions {
  /** Shown in log lines and MAC table dumps. */
  name?: string;
  queueCapacity?: number;
}

/**
 * Per-port counters, from the switch's side of the port (as on a bridge port): rx is what the
 * attached device sent into the switch, tx is what the switch queued for the device.
 */
export interface SwitchPortCounters {
  rxFrames: number;
  rxBytes: number;
  /** Frames from the device refused: bad length, group source address, or port detached. */
  rxDropped: number;
  txFrames: number;
  txBytes: number;
  /** Frames for the device dropped because its queue was full. */
  txDropped: number;
}

export interface VirtualSwitchCounters {
  /** Unicast frames sent to every port because their destination was not learned. */
  unknownUnicastFlooded: number;
  /** Frames whose destination was learned on the ingress port itself (not sent back). */
  filtered: number;
  /** Source addresses not learned because the MAC table was full. */
  learningSkipped: number;
}

export interface MacTableEntry {
  mac: MacAddress;
  port: string;
}

interface Learned {
  port: SwitchPort;
  time: number;
}

const DEFAULT_QUEUE_CAPACITY = 256;
const DEFAULT_MAC_TABLE_CAPACITY = 4096;

type DropReason = 'length' | 'group-source' | 'detached' | 'queue-full';

export class VirtualSwitch {
  private readonly portList: SwitchPort[] = [];
  private readonly table = new Map<MacAddress, Learned>();
  private readonly queueCapacity: number;
  private readonly macTableCapacity: number;
  private readonly clock: { now(): number } | undefined;
  private readonly macAgeing: number;
  private readonly logLine: ((line: string) => void) | undefined;
  private nextPortId = 0;
  private readonly stats: VirtualSwitchCounters = { unknownUnicastFlooded: 0, filtered: 0, learningSkipped: 0 };

  constructor(options: VirtualSwitchOptions = {}) {
    this.queueCapacity = checkCount('queueCapacity', options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY);
    this.macTableCapacity = checkCount('macTableCapacity', options.macTableCapacity ?? DEFAULT_MAC_TABLE_CAPACITY);
    if ((options.clock === undefined) !== (options.macAgeing === undefined)) {
      throw new VirtualSwitchError('MAC ageing needs both `clock` and `macAgeing`; give both or neither');
    }
    if (options.macAgeing !== undefined && !(options.macAgeing > 0)) {
      throw new VirtualSwitchError(`macAgeing ${options.macAgeing} must be a positive number of clock units`);
    }
    this.clock = options.clock;
    this.macAgeing = options.macAgeing ?? Infinity;
    this.logLine = options.log;
  }

  /** A new port; attach a NIC (or a host endpoint) to it. */
  createPort(options: SwitchPortOptions = {}): SwitchPort {
    const id = this.nextPortId++;
    const capacity = checkCount('queueCapacity', options.queueCapacity ?? this.queueCapacity);
    const port = new SwitchPort(this, id, options.name ?? `port${id}`, capacity);
    this.portList.push(port);
    return port;
  }

  get ports(): readonly SwitchPort[] {
    return this.portList;
  }

  get counters(): VirtualSwitchCounters {
    return { ...this.stats };
  }

  /** The port a unicast address was learned on, if the entry is still fresh. */
  lookup(mac: MacAddress): SwitchPort | undefined {
    const entry = this.table.get(mac);
    if (entry === undefined) return undefined;
    if (this.now() - entry.time >= this.macAgeing) {
      this.table.delete(mac);
      return undefined;
    }
    return entry.port;
  }

  macTable(): MacTableEntry[] {
    const entries: MacTableEntry[] = [];
    for (const mac of [...this.table.keys()].sort()) {
      const port = this.lookup(mac);
      if (port !== undefined) entries.push({ mac, port: port.name });
    }
    return entries;
  }

  flushMacTable(): void {
    this.table.clear();
  }

  /** @internal Called by `SwitchPort.detach()`. */
  removePort(port: SwitchPort): void {
    const index = this.portList.indexOf(port);
    if (index >= 0) this.portList.splice(index, 1);
    for (const [mac, entry] of this.table) if (entry.port === port) this.table.delete(mac);
  }

  /** @internal Forwards a frame the device on `ingress` sent; the length is already checked. */
  forward(ingress: SwitchPort, frame: Uint8Array): void {
    const dst = macFromBytes(frame, 0);
    const src = macFromBytes(frame, 6);
    this.learn(src, ingress);
    if (!isGroupMac(dst)) {
      const egress = this.lookup(dst);
      if (egress === ingress) {
        this.stats.filtered++;
        return;
      }
      if (egress !== undefined) {
        egress.enqueue(frame);
        return;
      }
      this.stats.unknownUnicastFlooded++;
    }
    let first = true;
    for (const port of this.portList) {
      if (port === ingress) continue;
      port.enqueue(first ? frame : frame.slice());
      first = false;
    }
  }

  /** @internal */
  log(line: string): void {
    this.logLine?.(line);
  }

  private learn(src: MacAddress, port: SwitchPort): void {
    const entry = this.table.get(src);
    if (entry !== undefined) {
      // A station that moved (a VM migrated or re-plugged) is re-learned on its new port.
      entry.port = port;
      entry.time = this.now();
      return;
    }
    if (this.table.size >= this.macTableCapacity) {
      this.evictStale();
      if (this.table.size >= this.macTableCapacity) {
        this.stats.learningSkipped++;
        return;
      }
    }
    this.table.set(src, { port, time: this.now() });
  }

  private evictStale(): void {
    if (this.macAgeing === Infinity) return;
    const now = this.now();
    for (const [mac, entry] of this.table) if (now - entry.time >= this.macAgeing) this.table.delete(mac);
  }

  private now(): number {
    return this.clock?.now() ?? 0;
  }
}

/** One port of a `VirtualSwitch`: the `NetBackend` a NIC uses. Create it with `createPort()`. */
export class SwitchPort implements NetBackend {
  readonly id: number;
  readonly name: string;
  readonly queueCapacity: number;
  private readonly owner: VirtualSwitch;
  private readonly queue: Uint8Array[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly loggedDrops = new Set<DropReason>();
  private isAttached = true;
  private readonly stats: SwitchPortCounters = { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: 0, txBytes: 0, txDropped: 0 };

  /** @internal Use `VirtualSwitch.createPort()`. */
  constructor(owner: VirtualSwitch, id: number, name: string, queueCapacity: number) {
    this.owner = owner;
    this.id = id;
    this.name = name;
    this.queueCapacity = queueCapacity;
  }

  send(frame: Uint8Array): boolean {
    if (!this.isAttached) return this.dropIngress('detached', 'the port is detached');
    if (!isValidFrameLength(frame)) {
      return this.dropIngress('length', `a ${frame.length}-byte frame is outside 14..1514 bytes (1518 with a VLAN tag)`);
    }
    // IEEE 802.3 3.2.3: a group address is never a valid source.
    if ((frame[6]! & 1) !== 0) return this.dropIngress('group-source', 'the source address is a group address');
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.owner.forward(this, frame.slice());
    return true;
  }

  receive(): Uint8Array | undefined {
    return this.queue.shift();
  }

  get pending(): number {
    return this.queue.length;
  }

  onReceive(listener: () => void): () => void {
    const wrapped = () => listener();
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  get counters(): SwitchPortCounters {
    return { ...this.stats };
  }

  get attached(): boolean {
    return this.isAttached;
  }

  /** Unplugs the port: its queue is emptied, its addresses forgotten, and later sends dropped. */
  detach(): void {
    if (!this.isAttached) return;
    this.isAttached = false;
    this.queue.length = 0;
    this.listeners.clear();
    this.owner.removePort(this);
  }

  /** @internal Queues a frame (owned by the port from now on) for the device. */
  enqueue(frame: Uint8Array): void {
    if (this.queue.length >= this.queueCapacity) {
      this.stats.txDropped++;
      this.logDrop('queue-full', `its device has not taken ${this.queueCapacity} queued frames`);
      return;
    }
    this.queue.push(frame);
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        // One port's listener must not break the sender's device.
        this.owner.log(`switch port ${this.name}: receive listener threw: ${String(error)}`);
      }
    }
  }

  private dropIngress(reason: DropReason, why: string): false {
    this.stats.rxDropped++;
    this.logDrop(reason, why);
    return false;
  }

  private logDrop(reason: DropReason, why: string): void {
    // Only the first drop per reason is logged: a guest can cause millions; the counters hold the rest.
    if (this.loggedDrops.has(reason)) return;
    this.loggedDrops.add(reason);
    this.owner.log(`switch port ${this.name}: dropped a frame: ${why} (further drops are only counted)`);
  }
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new VirtualSwitchError(`${name} ${value} must be a positive integer`);
  return value;
}
