// Save/restore state of virtio-balloon: the balloon size the driver last wrote to `actual`, and
// the counters (so a restored VM's stats go on from where they were).

export interface BalloonCounters {
  /** Bytes the guest reported free on reporting_vq (each reported range counts every time). */
  reportedBytes: number;
  /** Of the reported and inflated bytes, those given back to the host (0 when the host cannot discard). */
  discardedBytes: number;
  /** Pages (4 KiB) the driver put in the balloon, and took out again, in total. */
  inflatedPages: number;
  deflatedPages: number;
  /** Requests refused or partly refused because of a guest mistake. */
  faults: number;
}

export interface VirtioBalloonState {
  version: 1;
  /** The driver's `actual` config field, in 4 KiB pages (5.5.4). */
  actual: number;
  counters: BalloonCounters;
}

export class VirtioBalloonError extends Error {
  override readonly name = 'VirtioBalloonError';
  readonly kind = 'virtio-balloon';
}

export function zeroCounters(): BalloonCounters {
  return { reportedBytes: 0, discardedBytes: 0, inflatedPages: 0, deflatedPages: 0, faults: 0 };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks a saved state before the device takes it; throws VirtioBalloonError saying what is wrong. */
export function checkBalloonState(state: VirtioBalloonState): VirtioBalloonState {
  const fail = (why: string): never => {
    throw new VirtioBalloonError(`cannot restore virtio-balloon state: ${why} (corrupt snapshot?)`);
  };
  if (typeof state !== 'object' || state === null) return fail('it is not an object');
  if (state.version !== 1) return fail(`version ${String(state.version)} is not 1, the one this build reads`);
  if (!isCount(state.actual) || state.actual > 0xffff_ffff) fail(`actual ${String(state.actual)} is not a 32-bit page count`);
  const c = state.counters;
  if (typeof c !== 'object' || c === null) return fail('the counters are missing');
  for (const key of Object.keys(zeroCounters()) as (keyof BalloonCounters)[]) {
    if (!isCount(c[key])) fail(`counter ${key} is ${String(c[key])}`);
  }
  return state;
}
