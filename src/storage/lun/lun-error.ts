// The one error class of physical and virtual LUN management (create, open, clone, delete,
// snapshots, resize): a stable `kind`, the LUN and directory concerned, and the cause. The data
// path of a VirtualLun (read, write, flush, ...) throws BlockBackendError instead, like every disk.

export type LunErrorKind =
  | 'invalid-name' // a LUN name with a path separator, "..", or too long
  | 'invalid-argument' // a bad size, capacity or ratio
  | 'exists' // a physical LUN or virtual LUN of that name already exists
  | 'not-found' // no such physical LUN, virtual LUN or snapshot
  | 'overcommit' // provisioning would pass capacity * overcommit ratio
  | 'no-space' // the physical LUN's capacity is used up
  | 'busy' // the virtual LUN is open in a way that forbids the operation
  | 'in-use' // a template that linked clones still depend on
  | 'read-only' // a change to a template or to a LUN opened read-only
  | 'bad-manifest' // the manifest is unreadable, malformed or from a newer version
  | 'io'; // the host's file operations failed

export interface LunErrorContext {
  /** The physical LUN's directory. */
  dir: string;
  /** The virtual LUN, when one is concerned. */
  lun?: string;
  op?: string;
}

export class LunError extends Error {
  override readonly name = 'LunError';
  readonly kind: LunErrorKind;
  readonly dir: string;
  readonly lun: string | undefined;
  readonly op: string | undefined;

  constructor(kind: LunErrorKind, message: string, context: LunErrorContext, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.dir = context.dir;
    this.lun = context.lun;
    this.op = context.op;
  }
}
