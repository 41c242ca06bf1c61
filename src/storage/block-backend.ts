// What a disk device needs of its storage: byte-addressed reads and writes, flush, and optional
// discard, write-zeroes and resize. Every operation is asynchronous, so a device keeps several
// requests in flight while the guest runs. Backends (a raw image file, a qcow2 image, a virtual
// LUN, memory) are separate from the device models that use them; one conformance suite
// (block-backend-conformance.ts) runs against each.

/** Disks are made of 512-byte sectors (virtio-blk's unit, whatever the backend's own block size). */
export const SECTOR_SIZE = 512;

export interface BlockBackend {
  /** Size in bytes, a multiple of SECTOR_SIZE; changes only through resize(). */
  readonly size: number;
  /** True when writes, discards and resizes are refused. */
  readonly readOnly: boolean;
  /** Fills `into` with the bytes at [offset, offset + into.length). Rejects with BlockBackendError. */
  read(offset: number, into: Uint8Array): Promise<void>;
  /** Stores `data` at [offset, offset + data.length). Rejects with BlockBackendError. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable. Rejects with BlockBackendError. */
  flush(): Promise<void>;
  /** Forgets [offset, offset + length): the range reads back as zeros and its space may be given back. Optional. */
  discard?(offset: number, length: number): Promise<void>;
  /** Makes [offset, offset + length) read back as zeros, marking rather than writing where the format can. Optional. */
  writeZeroes?(offset: number, length: number): Promise<void>;
  /** Grows the disk to `newSize` bytes while in use. Optional. */
  resize?(newSize: number): Promise<void>;
  /** Releases the backend; later accesses reject with 'closed'. */
  close(): Promise<void>;
}

export type BlockBackendErrorKind =
  | 'not-found' // the image does not exist
  | 'not-a-file' // a directory, socket, ...
  | 'bad-size' // not a multiple of 512 bytes, or empty
  | 'open-failed' // permissions and the like
  | 'read-only' // a write or discard on a read-only backend
  | 'out-of-range' // an access past the end
  | 'closed'
  | 'no-space' // the storage under the disk is full
  | 'bad-format' // an image whose format is malformed, unsupported or hostile
  | 'io'; // the host's read/write/fsync failed

export interface BlockBackendErrorContext {
  /** Image path, or a short name for non-file backends. */
  path: string;
  op?: 'open' | 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes' | 'resize';
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
  op: 'read' | 'write' | 'discard' | 'write-zeroes',
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

/** Throws unless `newSize` is a valid new size for a writable backend now `backend.size` long (grow only). */
export function checkResize(backend: { size: number; readOnly: boolean }, path: string, newSize: number): void {
  const ctx = { path, op: 'resize' as const, offset: newSize };
  if (backend.readOnly) throw new BlockBackendError('read-only', `cannot resize ${path}: it is open read-only`, ctx);
  if (!Number.isSafeInteger(newSize) || newSize % SECTOR_SIZE !== 0 || newSize < backend.size) {
    throw new BlockBackendError('out-of-range', `cannot resize ${path} to ${newSize} bytes: the new size must be a multiple of ${SECTOR_SIZE} and at least the current ${backend.size} (disks only grow)`, ctx);
  }
}
