// Save/restore state of virtio-console: host input waiting for receive buffers, how much of
// the transmit chain at the head of the ring already went out, and the console size.

export interface VirtioConsoleState {
  version: 2;
  /** Host input not yet delivered to the guest, oldest first. */
  pendingInput: number[];
  /** Bytes of the next transmit chain already sent to the sink (it waits for room for the rest). */
  transmitOffset: number;
  cols: number;
  rows: number;
}

/** Version 1 had no transmit offset: every transmit chain went out at once. */
export type VirtioConsoleStateV1 = Omit<VirtioConsoleState, 'version' | 'transmitOffset'> & { version: 1 };

export class VirtioConsoleError extends Error {
  override readonly name = 'VirtioConsoleError';
  readonly kind = 'virtio-console';
}

/** The state as the current version; throws a VirtioConsoleError when it cannot be restored. */
export function checkConsoleState(state: VirtioConsoleState | VirtioConsoleStateV1, maxPending: number, maxTransmit: number): VirtioConsoleState {
  const version = (state as { version: unknown }).version;
  if (version !== 1 && version !== 2) throw new VirtioConsoleError(`cannot restore virtio-console state version ${String(version)}; this build reads versions 1 and 2`);
  if (!Array.isArray(state.pendingInput) || state.pendingInput.length > maxPending) {
    throw new VirtioConsoleError(`cannot restore virtio-console: pending input missing or longer than ${maxPending} bytes (corrupt snapshot?)`);
  }
  const transmitOffset = state.version === 2 ? state.transmitOffset : 0;
  if (!Number.isInteger(transmitOffset) || transmitOffset < 0 || transmitOffset >= maxTransmit) {
    throw new VirtioConsoleError(`cannot restore virtio-console: transmit offset ${String(transmitOffset)} is not below ${maxTransmit} (corrupt snapshot?)`);
  }
  return { ...state, version: 2, transmitOffset };
}
