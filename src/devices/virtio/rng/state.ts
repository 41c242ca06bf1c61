// Save/restore state of virtio-rng: it keeps nothing between requests.

export interface VirtioRngState {
  version: 1;
}

export class VirtioRngError extends Error {
  override readonly name = 'VirtioRngError';
  readonly kind = 'virtio-rng';
}

export function checkRngState(state: VirtioRngState): void {
  if (state.version !== 1) throw new VirtioRngError(`cannot restore virtio-rng state version ${String(state.version)}; this build reads version 1`);
}
