// The one error class of the snapshot file format and its page chunks: a stable `kind` to branch
// on, the file (or chunk) it concerns, where in it, and the underlying cause when there is one.

export type SnapshotFileErrorKind =
  | 'not-a-snapshot' // the file does not start with the snapshot magic
  | 'unsupported-version' // a format version (or flag) this build does not read
  | 'truncated' // the file or chunk ends before the data it declares
  | 'corrupt' // a checksum does not match, or compressed data does not decode
  | 'bad-header' // well-formed bytes whose fields are missing, contradictory or out of range
  | 'bad-argument' // the caller passed something unusable (odd RAM size, unencodable state, ...)
  | 'io'; // the host's open, read, write, sync or rename failed

export interface SnapshotFileErrorContext {
  /** The snapshot file, when the error concerns one (page chunks sent over a socket have none). */
  path?: string;
  /** Which part: 'preamble', 'header', 'index', 'chunk 3', ... */
  section?: string;
  /** Byte offset in the file of the part concerned. */
  offset?: number;
}

export class SnapshotFileError extends Error {
  override readonly name = 'SnapshotFileError';
  readonly path: string | undefined;
  readonly section: string | undefined;
  readonly offset: number | undefined;

  constructor(
    readonly kind: SnapshotFileErrorKind,
    message: string,
    context: SnapshotFileErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = context.path;
    this.section = context.section;
    this.offset = context.offset;
  }
}
