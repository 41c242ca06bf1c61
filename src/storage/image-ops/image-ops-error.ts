// The one error class of the image operations (create, info, convert, commit, clone, resize):
// a stable `kind`, the path it concerns and the underlying cause. Errors of the qcow2 layer
// itself (Qcow2Error) pass through unchanged.

export type ImageOpsErrorKind =
  | 'not-found' // no such file
  | 'not-an-image' // neither qcow2 nor a raw image (a directory, a size not a multiple of 512)
  | 'exists' // the file to create is already there
  | 'invalid-argument' // a bad size, format or combination given by the caller
  | 'unsupported' // the operation does not apply to this format (snapshots of a raw image)
  | 'io'; // the host's read, write or sync failed

export class ImageOpsError extends Error {
  override readonly name = 'ImageOpsError';
  readonly kind: ImageOpsErrorKind;
  readonly path: string;

  constructor(kind: ImageOpsErrorKind, message: string, path: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.path = path;
  }
}

/** Turns a failed fs call on `path` into an ImageOpsError saying what `doing` was. */
export function fsError(cause: unknown, path: string, doing: string): ImageOpsError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ImageOpsError('not-found', `cannot ${doing} ${path}: no such file`, path, { cause });
  if (code === 'EEXIST') return new ImageOpsError('exists', `cannot ${doing} ${path}: the file exists; remove it or choose another path`, path, { cause });
  if (code === 'EISDIR') return new ImageOpsError('not-an-image', `cannot ${doing} ${path}: it is a directory, not a disk image`, path, { cause });
  return new ImageOpsError('io', `cannot ${doing} ${path}: ${(cause as Error).message}`, path, { cause });
}
