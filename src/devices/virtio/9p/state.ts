// Save/restore state of virtio-9p: the session (msize and fids, with their paths and open
// flags). Host descriptors are not saved: a restored open fid reopens its file by path when the
// guest next uses it. Saving needs no request in flight (await device.drain() first).

export interface VirtioNinePFidState {
  fid: number;
  path: string[];
  qidType: number;
  /** 9P2000.L open flags, or null when the fid is not open. */
  openFlags: number | null;
}

export interface VirtioNinePState {
  version: 1;
  tag: string;
  readOnly: boolean;
  msize: number;
  fids: VirtioNinePFidState[];
}

export class VirtioNinePError extends Error {
  override readonly name = 'VirtioNinePError';
  readonly kind = 'virtio-9p';
}

export function checkNinePState(state: VirtioNinePState, current: { tag: string; readOnly: boolean; maxMsize: number; maxFids: number }): void {
  if (state.version !== 1) throw new VirtioNinePError(`cannot restore virtio-9p state version ${String(state.version)}; this build reads version 1`);
  if (state.tag !== current.tag || state.readOnly !== current.readOnly) {
    throw new VirtioNinePError(
      `cannot restore virtio-9p: the snapshot shared tag "${state.tag}"${state.readOnly ? ' read-only' : ''}, this device shares "${current.tag}"${current.readOnly ? ' read-only' : ''}; share the same directory under the same tag`,
    );
  }
  if (!Number.isInteger(state.msize) || state.msize < 4096 || state.msize > current.maxMsize) throw new VirtioNinePError(`cannot restore virtio-9p: msize ${state.msize} is outside 4096..${current.maxMsize}`);
  if (!Array.isArray(state.fids) || state.fids.length > current.maxFids) throw new VirtioNinePError(`cannot restore virtio-9p: the snapshot holds more than ${current.maxFids} fids`);
}
