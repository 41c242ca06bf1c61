// The one error class of the qcow2 layer: a stable `kind` to branch on, the image path, the
// operation and offset, and the underlying cause (an fs or zlib error) when there is one.

export type Qcow2ErrorKind =
  | 'bad-magic' // not a qcow2 image
  | 'unsupported-version' // a version other than 2 or 3
  | 'unsupported-feature' // encryption, external data files, extended L2, unknown incompatible bits, ...
  | 'corrupt' // metadata that contradicts itself or points outside the file
  | 'backing-loop' // a backing chain that leads back to an image already in it
  | 'too-large' // a header field asks for more than this implementation allows
  | 'read-only' // a change to an image opened read-only
  | 'out-of-range' // an access past the end of the virtual disk
  | 'invalid-argument' // a bad size, name or option given by the caller
  | 'not-found' // no such image or snapshot
  | 'closed' // use after close()
  | 'io'; // the host's read, write or sync failed

export interface Qcow2ErrorContext {
  path: string;
  op?: string;
  offset?: number;
  length?: number;
}

export class Qcow2Error extends Error {
  override readonly name = 'Qcow2Error';
  readonly kind: Qcow2ErrorKind;
  readonly path: string;
  readonly op: string | undefined;
  readonly offset: number | undefined;
  readonly length: number | undefined;

  constructor(kind: Qcow2ErrorKind, message: string, context: Qcow2ErrorContext, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.path = context.path;
    this.op = context.op;
    this.offset = context.offset;
    this.length = context.length;
  }
}

/** Builds the error for metadata that cannot be trusted; the advice is the same every time. */
export function corrupt(path: string, what: string, context: Omit<Qcow2ErrorContext, 'path'> = {}): Qcow2Error {
  return new Qcow2Error('corrupt', `qcow2 image ${path} is corrupt: ${what}; check it with qemu-img check (and repair a copy with -r all)`, { path, ...context });
}
