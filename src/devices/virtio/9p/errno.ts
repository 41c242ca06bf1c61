// Linux errno numbers, which 9P2000.L carries in Rlerror, and the mapping from Node's error codes.
// The guest is Linux whatever the host is, so the numbers are fixed here, not taken from os.constants.

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EPROTO: 71,
  EOVERFLOW: 75,
  EILSEQ: 84,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EDQUOT: 122,
} as const;

const byCode: Record<string, number> = { ...Errno, ENOTSUP: Errno.EOPNOTSUPP, EWOULDBLOCK: Errno.EAGAIN };

/** A request the server answers with Rlerror(errno). The one error class of the 9P server. */
export class NinePError extends Error {
  override readonly name = 'NinePError';
  readonly kind = '9p';
  readonly errno: number;

  constructor(errno: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.errno = errno;
  }
}

/** The Linux errno for `error`: a NinePError's own, a Node system error's code, else EIO. */
export function errnoOf(error: unknown): number {
  if (error instanceof NinePError) return error.errno;
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return byCode[error.code] ?? Errno.EIO;
  }
  return Errno.EIO;
}
