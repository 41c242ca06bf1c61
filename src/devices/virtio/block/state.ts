// Save/restore state of the virtio-blk model, taken once the device is drained (no request in
// flight): the ring positions live in the transport, so what is left is the identity of the disk
// it was taken with, and a restore onto another disk fails.

export interface VirtioBlockState {
  version: 1;
  /** Disk size in 512-byte sectors when the state was saved. */
  capacity: number;
  readOnly: boolean;
  serial: string;
}

export class VirtioBlockError extends Error {
  override readonly name = 'VirtioBlockError';
  readonly kind = 'virtio-blk';
}

export function checkBlockState(state: VirtioBlockState, current: { capacity: number; readOnly: boolean }): void {
  if (state.version !== 1) throw new VirtioBlockError(`cannot restore virtio-blk state version ${String(state.version)}; this build reads version 1`);
  if (state.capacity !== current.capacity || state.readOnly !== current.readOnly) {
    throw new VirtioBlockError(
      `cannot restore virtio-blk: the snapshot's disk had ${state.capacity} sectors${state.readOnly ? ' (read-only)' : ''}, the attached one ${current.capacity}${current.readOnly ? ' (read-only)' : ''}; attach the same disk image`,
    );
  }
}
