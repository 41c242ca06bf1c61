// The one error class of the I/O throttle: a stable `kind` to branch on and the option or
// request that was refused.

export type QosErrorKind =
  | 'bad-limit' // a limit that is not a non-negative number (or size with K/M/G)
  | 'bad-request'; // an admit() with a byte count that is not a non-negative integer

export class QosError extends Error {
  override readonly name = 'QosError';

  constructor(
    readonly kind: QosErrorKind,
    message: string,
    /** The option key (e.g. "bps-rd") or "admit". */
    readonly key: string,
  ) {
    super(message);
  }
}
