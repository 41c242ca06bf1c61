// The board's state as one plain, versioned object: every hart's architectural state and every
// device's own saved state, in the order the board attaches them. Guest RAM travels beside it
// (a snapshot file stores it sparsely); a restore needs a board built from the same description.

import type { ClintState } from '../devices/clint.js';
import type { GoldfishRtcState } from '../devices/goldfish-rtc.js';
import type { PlicState } from '../devices/plic.js';
import type { Uart16550State } from '../devices/uart-16550.js';
import type { VmGenerationIdState } from '../devices/vm-generation-id.js';
import type { VirtioMmioState } from '../devices/virtio/mmio-transport.js';

export const MACHINE_STATE_VERSION = 2;

export interface MachineState {
  version: typeof MACHINE_STATE_VERSION;
  /** Each hart's architectural state block, base64, by hart id. */
  harts: string[];
  clint: ClintState;
  plic: PlicState;
  uart: Uart16550State;
  rtc: GoldfishRtcState;
  generationId: VmGenerationIdState;
  /** One entry per virtio slot, in slot order, named by device so a mismatched board is refused. */
  virtio: Array<{ device: string; transport: VirtioMmioState }>;
  /** Bytes typed at the console and not yet taken by UART0. */
  input: number[];
}

export class MachineStateError extends Error {
  readonly kind = 'machine-state';
}

/** Checks what a snapshot claims before any device sees it: shape and the board's devices. */
export function checkMachineState(state: unknown, virtioDevices: readonly string[], hartCount: number): MachineState {
  const fail = (why: string): never => {
    throw new MachineStateError(`cannot restore the machine: ${why}`);
  };
  if (typeof state !== 'object' || state === null) return fail('the machine state is not an object (corrupt snapshot?)');
  const s = state as Partial<MachineState>;
  // Version 1 had one hart, as `hart`: the same state with a list of one.
  const v1 = state as { version?: unknown; hart?: unknown };
  if (v1.version === 1 && typeof v1.hart === 'string') {
    const { hart, ...rest } = v1;
    return checkMachineState({ ...rest, version: MACHINE_STATE_VERSION, harts: [hart] }, virtioDevices, hartCount);
  }
  if (s.version !== MACHINE_STATE_VERSION) return fail(`machine state version ${String(s.version)} is not ${MACHINE_STATE_VERSION}, the one this build reads`);
  if (!Array.isArray(s.harts) || !s.harts.every((h) => typeof h === 'string')) return fail('the hart states are missing');
  if (s.harts.length !== hartCount) return fail(`the snapshot holds ${s.harts.length} CPUs, this board has ${hartCount}; restore with the VM's own description`);
  for (const key of ['clint', 'plic', 'uart', 'rtc', 'generationId'] as const) {
    if (typeof s[key] !== 'object' || s[key] === null) fail(`the ${key} state is missing`);
  }
  if (!Array.isArray(s.input) || s.input.length > 1 << 20 || !s.input.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) fail('the console input queue is malformed');
  if (!Array.isArray(s.virtio)) return fail('the virtio device states are missing');
  const saved = s.virtio.map((v) => (typeof v === 'object' && v !== null && typeof v.device === 'string' ? v.device : '?'));
  if (saved.join(',') !== virtioDevices.join(',')) {
    fail(`the snapshot's virtio devices (${saved.join(', ') || 'none'}) differ from this board's (${virtioDevices.join(', ') || 'none'}); restore with the VM's own description`);
  }
  return s as MachineState;
}
