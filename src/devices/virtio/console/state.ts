// Save/restore state of virtio-console: host input waiting for receive buffers, and the
// console size it announced.

export interface VirtioConsoleState {
  version: 1;
  /** Host input not yet delivered to the guest, oldest first. */
  pendingInput: number[];
  cols: number;
  rows: number;
}

export class VirtioConsoleError extends Error {
  override readonly name = 'VirtioConsoleError';
  readonly kind = 'virtio-console';
}

export function checkConsoleState(state: VirtioConsoleState, maxPending: number): void {
  if (state.version !== 1) throw new VirtioConsoleError(`cannot restore virtio-console state version ${String(state.version)}; this build reads version 1`);
  if (!Array.isArray(state.pendingInput) || state.pendingInput.length > maxPending) {
    throw new VirtioConsoleError(`cannot restore virtio-console: pending input missing or longer than ${maxPending} bytes (corrupt snapshot?)`);
  }
}
