// The one error class of the host's allocation algorithms (CPU and I/O): a stable `kind` and
// the field that was refused.

export type AllocationErrorKind =
  | 'bad-capacity' // a host capacity or budget that is not a finite number >= 0
  | 'bad-claim'; // a VM or disk entry with a weight, cap, demand or limit out of range

export class AllocationError extends Error {
  override readonly name = 'AllocationError';

  constructor(
    readonly kind: AllocationErrorKind,
    message: string,
    /** The VM or disk id and field, e.g. "vm-a.weight". */
    readonly field: string,
  ) {
    super(message);
  }
}
