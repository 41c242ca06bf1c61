// virtio-input (virtio 1.2 section 5.8) as a power button: the host presses it, the guest's
// evdev sees KEY_POWER, and its acpid or systemd-logind shuts the guest down. Events wait in a
// small bounded queue until the driver offers event buffers; the status queue is drained.

import type { AccessSize } from '../../mmio-device.js';
import { readConfigBytes, VirtioDeviceId, type VirtioDevice, type VirtioDeviceContext } from '../virtio-device.js';
import { checkInputState, type InputEvent, type VirtioInputState } from './state.js';

/** Config space select values (5.8.4). */
export const VirtioInputConfigSelect = {
  UNSET: 0x00,
  ID_NAME: 0x01,
  ID_SERIAL: 0x02,
  ID_DEVIDS: 0x03,
  PROP_BITS: 0x10,
  EV_BITS: 0x11,
  ABS_INFO: 0x12,
} as const;

/** Config space offsets (5.8.4): select, subsel, size, 5 reserved bytes, a 128-byte union. */
export const VirtioInputConfig = {
  SELECT: 0,
  SUBSEL: 1,
  SIZE: 2,
  UNION: 8,
  UNION_SIZE: 128,
} as const;

/** Linux input-event-codes.h values the button uses. */
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const SYN_REPORT = 0;
export const KEY_POWER = 116;
export const BUS_VIRTUAL = 0x06;

export const INPUT_EVENT_QUEUE = 0;
export const INPUT_STATUS_QUEUE = 1;
/** le16 type, le16 code, le32 value (5.8.6). */
export const INPUT_EVENT_SIZE = 8;
const EVENTS_PER_PRESS = 4;

export interface VirtioInputOptions {
  /** ID_NAME (default "Vireo Power Button"). */
  name?: string;
  /** ID_SERIAL (default "vireo-power-0"). */
  serial?: string;
  /** Presses held while the driver offers no event buffers (default 4); press() refuses more. */
  maxPendingPresses?: number;
  /** Queue sizes (default 64). */
  queueSize?: number;
}

export class VirtioInputDevice implements VirtioDevice<VirtioInputState> {
  readonly deviceId = VirtioDeviceId.INPUT;
  readonly name = 'virtio-input';
  readonly deviceFeatures = 0n;
  readonly queueMaxSizes: readonly number[];
  /** Events written to the guest so far. */
  eventsDelivered = 0;
  /** Status-queue buffers the driver sent (LED changes and the like; a button has none to show). */
  statusBuffers = 0;
  private readonly idName: Uint8Array;
  private readonly idSerial: Uint8Array;
  private readonly maxPending: number;
  private readonly config = new Uint8Array(VirtioInputConfig.UNION + VirtioInputConfig.UNION_SIZE);
  private pending: InputEvent[] = [];
  private context: VirtioDeviceContext | null = null;

  constructor(options: VirtioInputOptions = {}) {
    const encoder = new TextEncoder();
    this.idName = encoder.encode(options.name ?? 'Vireo Power Button').subarray(0, VirtioInputConfig.UNION_SIZE);
    this.idSerial = encoder.encode(options.serial ?? 'vireo-power-0').subarray(0, VirtioInputConfig.UNION_SIZE);
    this.maxPending = (options.maxPendingPresses ?? 4) * EVENTS_PER_PRESS;
    const q = options.queueSize ?? 64;
    this.queueMaxSizes = [q, q];
  }

  /** Whether the guest's driver has set DRIVER_OK: until it does, nobody hears the button. */
  get driverReady(): boolean {
    return this.context !== null;
  }

  /** Events waiting for event buffers. */
  get pendingEvents(): number {
    return this.pending.length;
  }

  /**
   * Presses and releases the button: KEY_POWER down, SYN_REPORT, KEY_POWER up, SYN_REPORT.
   * False (and nothing queued) when the queue already holds its most presses.
   */
  press(): boolean {
    if (this.pending.length + EVENTS_PER_PRESS > this.maxPending) return false;
    this.pending.push(
      { type: EV_KEY, code: KEY_POWER, value: 1 },
      { type: EV_SYN, code: SYN_REPORT, value: 0 },
      { type: EV_KEY, code: KEY_POWER, value: 0 },
      { type: EV_SYN, code: SYN_REPORT, value: 0 },
    );
    this.deliver();
    return true;
  }

  readConfig(offset: number, size: AccessSize): number {
    return readConfigBytes(this.config, offset, size);
  }

  /** Only select and subsel are writable (5.8.4); a write to either answers the new query. */
  writeConfig(offset: number, size: AccessSize, value: number): void {
    let touched = false;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at !== VirtioInputConfig.SELECT && at !== VirtioInputConfig.SUBSEL) continue;
      this.config[at] = Math.floor(value / 256 ** i) & 0xff;
      touched = true;
    }
    if (touched) this.answerQuery();
  }

  activate(context: VirtioDeviceContext): void {
    this.context = context;
    this.deliver();
  }

  /** A reset drops what the old driver never took: a press is meant for a guest that listens now. */
  reset(): void {
    this.context = null;
    this.pending = [];
    this.config.fill(0);
  }

  onQueueNotify(queue: number): void {
    if (queue === INPUT_EVENT_QUEUE) this.deliver();
    else if (queue === INPUT_STATUS_QUEUE) this.drainStatus();
  }

  save(): VirtioInputState {
    return {
      version: 1,
      pendingEvents: this.pending.map((e) => ({ ...e })),
      select: this.config[VirtioInputConfig.SELECT]!,
      subsel: this.config[VirtioInputConfig.SUBSEL]!,
    };
  }

  restore(state: VirtioInputState): void {
    checkInputState(state, this.maxPending);
    this.pending = state.pendingEvents.map((e) => ({ type: e.type, code: e.code, value: e.value }));
    this.config[VirtioInputConfig.SELECT] = state.select;
    this.config[VirtioInputConfig.SUBSEL] = state.subsel;
    this.answerQuery();
  }

  /** Fills size and the union for the current select/subsel; size 0 for anything not offered (5.8.5.1). */
  private answerQuery(): void {
    const select = this.config[VirtioInputConfig.SELECT]!;
    const subsel = this.config[VirtioInputConfig.SUBSEL]!;
    const union = new Uint8Array(VirtioInputConfig.UNION_SIZE);
    let size = 0;
    const put = (bytes: Uint8Array) => {
      union.set(bytes);
      size = bytes.length;
    };
    if (select === VirtioInputConfigSelect.ID_NAME && subsel === 0) put(this.idName);
    else if (select === VirtioInputConfigSelect.ID_SERIAL && subsel === 0) put(this.idSerial);
    else if (select === VirtioInputConfigSelect.ID_DEVIDS && subsel === 0) {
      // bustype, vendor, product, version (le16 each): "VI" as the vendor, product 1.
      const ids = new DataView(new ArrayBuffer(8));
      [BUS_VIRTUAL, 0x5649, 0x0001, 0x0001].forEach((v, i) => ids.setUint16(2 * i, v, true));
      put(new Uint8Array(ids.buffer));
    } else if (select === VirtioInputConfigSelect.EV_BITS && subsel === EV_KEY) {
      const bitmap = new Uint8Array((KEY_POWER >> 3) + 1);
      bitmap[KEY_POWER >> 3] = 1 << (KEY_POWER & 7);
      put(bitmap);
    } else if (select === VirtioInputConfigSelect.EV_BITS && subsel === EV_SYN) {
      put(Uint8Array.of(1 << SYN_REPORT));
    }
    // PROP_BITS, ABS_INFO and other event types: none, so size stays 0.
    this.config[VirtioInputConfig.SIZE] = size;
    this.config.set(union, VirtioInputConfig.UNION);
  }

  /** Writes pending events into event buffers, one event per buffer, while both exist. */
  private deliver(): void {
    const ctx = this.context;
    if (ctx === null || this.pending.length === 0) return;
    const q = INPUT_EVENT_QUEUE;
    let pushed = false;
    while (this.pending.length > 0) {
      const chain = ctx.pop(q);
      if (chain === null) break;
      let written = 0;
      if (chain.writableLength < INPUT_EVENT_SIZE) {
        // 5.8.6.2: the driver offers device-writable buffers that each hold an event.
        ctx.fault({ kind: 'input-bad-event-buffer', message: `event buffer ${chain.head} has ${chain.writableLength} device-writable bytes, not ${INPUT_EVENT_SIZE}`, queue: q });
      } else if (chain.write(ctx.memory, 0, encodeEvent(this.pending[0]!))) {
        this.pending.shift();
        this.eventsDelivered++;
        written = INPUT_EVENT_SIZE;
      } else {
        // The event stays queued for the next, well-formed buffer.
        ctx.fault({ kind: 'input-buffer-outside-ram', message: `event buffer ${chain.head} lies outside guest RAM`, queue: q });
      }
      ctx.pushUsed(q, chain, written);
      pushed = true;
    }
    if (pushed) ctx.notify(q);
  }

  /** Takes and returns every status buffer: a power button has no LEDs to set. */
  private drainStatus(): void {
    const ctx = this.context;
    if (ctx === null) return;
    const q = INPUT_STATUS_QUEUE;
    let used = 0;
    for (let chain = ctx.pop(q); chain !== null; chain = ctx.pop(q)) {
      if (chain.readableLength < INPUT_EVENT_SIZE) {
        ctx.fault({ kind: 'input-bad-status-buffer', message: `status buffer ${chain.head} has ${chain.readableLength} device-readable bytes, not ${INPUT_EVENT_SIZE}`, queue: q });
      }
      this.statusBuffers++;
      ctx.pushUsed(q, chain, 0);
      used++;
    }
    if (used > 0) ctx.notify(q);
  }
}

function encodeEvent(event: InputEvent): Uint8Array {
  const bytes = new Uint8Array(INPUT_EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, event.type, true);
  view.setUint16(2, event.code, true);
  view.setUint32(4, event.value >>> 0, true);
  return bytes;
}
