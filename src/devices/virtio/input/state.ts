// Save/restore state of the virtio-input power button: the events waiting for event buffers
// and the config-space query the driver last selected.

/** One evdev event as virtio-input carries it (virtio 1.2 section 5.8.6). */
export interface InputEvent {
  type: number;
  code: number;
  value: number;
}

export interface VirtioInputState {
  version: 1;
  /** Events not yet written to an event buffer, oldest first. */
  pendingEvents: InputEvent[];
  /** The config space's select and subsel registers. */
  select: number;
  subsel: number;
}

export class VirtioInputError extends Error {
  override readonly name = 'VirtioInputError';
  readonly kind = 'virtio-input';
}

const isU16 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
const isU8 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff;
const isI32 = (v: unknown) => Number.isInteger(v) && (v as number) >= -0x8000_0000 && (v as number) <= 0xffff_ffff;

/** Throws a VirtioInputError unless `state` is a version-1 state with at most `maxPending` well-formed events. */
export function checkInputState(state: VirtioInputState, maxPending: number): void {
  const version = (state as { version: unknown }).version;
  if (version !== 1) throw new VirtioInputError(`cannot restore virtio-input state version ${String(version)}; this build reads version 1`);
  const events: unknown = state.pendingEvents;
  if (!Array.isArray(events) || events.length > maxPending) {
    throw new VirtioInputError(`cannot restore virtio-input: pending events missing or more than ${maxPending} (corrupt snapshot?)`);
  }
  for (const e of events as Array<Partial<InputEvent> | null>) {
    if (typeof e !== 'object' || e === null || !isU16(e.type) || !isU16(e.code) || !isI32(e.value)) {
      throw new VirtioInputError('cannot restore virtio-input: a pending event is malformed (corrupt snapshot?)');
    }
  }
  if (!isU8(state.select) || !isU8(state.subsel)) throw new VirtioInputError('cannot restore virtio-input: select/subsel out of range (corrupt snapshot?)');
}
