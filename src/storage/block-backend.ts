// What a disk device needs of its storage: byte-addressed reads and writes, flush, and an
// optional discard. Backends (a raw image file, memory, later virtual LUNs) are separate from
// the device models that use them; one conformance suite (block-backend-conformance.ts) runs
// against each.

/** Disks are made of 512-byte sectors (virtio-blk's unit, whatever the backend's own block size). */
export const SECTOR_SIZE = 512;

export interface BlockBackend {
  /** Size in bytes, a multiple of SECTOR_SIZE; fixed while the backend is open. */
  readonly size: number;
  /** True when writes and discards are refused. */
  readonly readOnly: boolean;
  /** Fills `into` with the bytes at [offset, offset + into.length). Throws BlockBackendError. */
  read(offset: number, into: Uint8Array): void;
  /** Stores `data` at [offset, offset + data.length). Throws BlockBackendError. */
  write(offset: number, data: Uint8Array): void;
  /** Makes every completed write durable. Throws BlockBackendError. */
  flush(): void;
  /** Forgets [offset, offset + length): the range reads back as zeros afterwards. Optional. */
  discard?(offset: number, length: number): void;
}

export type BlockBackendErrorKind =
  | 'not-found' // the image does not exist
  | 'not-a-file' // a directory, socket, ...
  | 'bad-size' // not a multiple of 512 bytes, or empty
  | 'open-failed' // permissions and the like
  | 'read-only' // a write or discard on a read-only backend
  | 'out-of-range' // an access past the end
  | 'closed'
  | 'io'; // the host's read/write/fsync failed

export interface BlockBackendErrorContext {
  /** Image path, or a short name for non-file backends. */
  path: string;
  op?: 'open' | 'read' | 'write' | 'flush' | 'discard';
  offset?: number;
  length?: number;
}

export class BlockBackendError extends Error {
  override readonly name = 'BlockBackendError';
  readonly kind: BlockBackendErrorKind;
  readonly path: string;
  readonly op: string | undefined;
  readonly offset: number | undefined;
  readonly length: number | undefined;

  constructor(kind: BlockBackendErrorKind, message: string, context: BlockBackendErrorContext, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.path = context.path;
    this.op = context.op;
    this.offset = context.offset;
    this.length = context.length;
  }
}

/** Throws the common errors (out-of-range, read-only) for an access to a backend of `size` bytes. */
export function checkAccess(
  backend: { size: number; readOnly: boolean },
  path: string,
  op: 'read' | 'write' | 'discard',
  offset: number,
  length: number,
): void {
  if (op !== 'read' && backend.readOnly) {
    throw new BlockBackendError('read-only', `cannot ${op} ${path}: it is open read-only`, { path, op, offset, length });
  }
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > backend.size) {
    throw new BlockBackendError('out-of-range', `cannot ${op} ${length} bytes at offset ${offset} of ${path}: the disk has ${backend.size} bytes`, { path, op, offset, length });
  }
}
