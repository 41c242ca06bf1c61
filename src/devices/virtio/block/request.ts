// One virtio-blk request (virtio 1.2 section 5.2.6): a 16-byte header the device reads, data,
// and a status byte at the very end of the device-writable part. Every guest mistake ends as
// an IOERR or UNSUPP status plus a fault for the log, never a host exception.
//
// A request is checked at once, when the guest makes it available, and then waits for the
// backend without holding the guest up: data moves in pieces of CHUNK_BYTES, so a request holds
// at most one piece of host memory (and Linux's usual requests take one backend call), and guest memory is touched only while the request is
// still live (a device reset abandons what is in flight).

import { BlockBackendError, SECTOR_SIZE, type BlockBackend } from '../../../storage/block-backend.js';
import type { DescriptorChain } from '../descriptor-chain.js';
import type { DmaMemory } from '../dma-memory.js';
import type { VirtioFault } from '../virtio-device.js';

/** Request types (5.2.6). */
export const VirtioBlkType = {
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  GET_LIFETIME: 10,
  DISCARD: 11,
  WRITE_ZEROES: 13,
  SECURE_ERASE: 14,
} as const;

/** Status byte values (5.2.6). */
export const VirtioBlkStatus = {
  OK: 0,
  IOERR: 1,
  UNSUPP: 2,
} as const;

/** Length of the GET_ID answer (VIRTIO_BLK_ID_BYTES). */
export const VIRTIO_BLK_ID_BYTES = 20;
const HEADER_BYTES = 16;
const SEGMENT_BYTES = 16;
/** virtio_blk_discard_write_zeroes.flags bit 0 (5.2.6). */
const FLAG_UNMAP = 1;
/** Data moves between guest and backend in pieces of at most this size, whatever the request size. */
const CHUNK_BYTES = 1024 * 1024;

export interface BlockRequestLimits {
  /** Largest total data of one read or write (seg_max * size_max). */
  maxDataBytes: number;
  maxDiscardSectors: number;
  maxDiscardSegments: number;
  maxWriteZeroesSectors: number;
  maxWriteZeroesSegments: number;
}

export interface BlockRequestContext {
  memory: DmaMemory;
  /** False once the device was reset: the request must not touch guest memory any more. */
  live(): boolean;
  /** Awaited before the request's I/O starts: rate limits, and a flush's wait for earlier writes. */
  admit(op: BlockOp, bytes: number): Promise<void>;
  backend: BlockBackend;
  /** GET_ID answer, VIRTIO_BLK_ID_BYTES long (zero padded). */
  serial: Uint8Array;
  limits: BlockRequestLimits;
  /** Whether DISCARD / WRITE_ZEROES were offered (others are UNSUPP). */
  discard: boolean;
  writeZeroes: boolean;
}

export type BlockOp = 'read' | 'write' | 'flush' | 'get-id' | 'discard' | 'write-zeroes' | 'other';

export interface BlockRequestOutcome {
  op: BlockOp;
  status: number;
  /** Data bytes moved (read from or written to the disk). */
  bytes: number;
  /** Bytes the device wrote into the chain's writable part, the status byte included (the used length). */
  written: number;
  /** Set when the request failed because of the guest or the backend. */
  fault?: VirtioFault;
}

class RequestFailure {
  constructor(readonly status: number, readonly kind: string, readonly message: string) {}
}

/** Thrown inside a request the device abandoned on reset. */
class Abandoned {}

/**
 * Executes the request in `chain` and writes its status byte; null when the device was reset
 * before it finished (nothing more may be written to the guest). The checks run before the
 * first await, so a malformed request fails at once.
 */
export async function executeBlockRequest(chain: DescriptorChain, ctx: BlockRequestContext): Promise<BlockRequestOutcome | null> {
  const { memory } = ctx;
  if (chain.writableLength < 1) {
    // Nowhere to put the status: the driver learns nothing beyond the used length of 0.
    return { op: 'other', status: VirtioBlkStatus.IOERR, bytes: 0, written: 0, fault: { kind: 'blk-no-status-byte', message: `request ${chain.head} has no device-writable status byte` } };
  }
  const statusAt = chain.writableLength - 1;
  let op: BlockOp = 'other';
  let result: { bytes: number; written: number };
  let failure: RequestFailure | null = null;
  try {
    const header = chain.read(memory, 0, HEADER_BYTES);
    if (header === null) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-bad-header', `request ${chain.head}: header missing, short (${chain.readableLength} readable bytes) or outside RAM`);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const type = view.getUint32(0, true);
    const sector = Number(view.getBigUint64(8, true));
    op = opOf(type);
    result = await run(type, sector, chain, statusAt, ctx);
  } catch (e) {
    if (e instanceof Abandoned) return null;
    if (e instanceof RequestFailure) failure = e;
    // Whatever the backend throws is the disk's failure, reported to the guest, never the host's.
    else failure = new RequestFailure(VirtioBlkStatus.IOERR, 'blk-backend-error', e instanceof BlockBackendError ? e.message : `unexpected backend failure: ${String(e)}`);
    result = { bytes: 0, written: 0 };
  }
  if (!ctx.live()) return null;
  const status = failure?.status ?? VirtioBlkStatus.OK;
  if (!chain.write(memory, statusAt, Uint8Array.of(status))) {
    return { op, status, bytes: result.bytes, written: 0, fault: { kind: 'blk-status-outside-ram', message: `request ${chain.head}: the status byte lies outside guest RAM` } };
  }
  const outcome: BlockRequestOutcome = { op, status, bytes: result.bytes, written: result.written + 1 };
  if (failure) outcome.fault = { kind: failure.kind, message: failure.message };
  return outcome;
}

function opOf(type: number): BlockOp {
  switch (type) {
    case VirtioBlkType.IN: return 'read';
    case VirtioBlkType.OUT: return 'write';
    case VirtioBlkType.FLUSH: return 'flush';
    case VirtioBlkType.GET_ID: return 'get-id';
    case VirtioBlkType.DISCARD: return 'discard';
    case VirtioBlkType.WRITE_ZEROES: return 'write-zeroes';
    default: return 'other';
  }
}

async function run(type: number, sector: number, chain: DescriptorChain, statusAt: number, ctx: BlockRequestContext): Promise<{ bytes: number; written: number }> {
  const { backend } = ctx;
  switch (type) {
    case VirtioBlkType.IN: {
      // Header readable, data writable (2.7.4.2 order); anything else is a malformed request.
      expectLayout(chain, HEADER_BYTES, null);
      const length = statusAt;
      const offset = dataOffset(sector, length, ctx);
      await ctx.admit('read', length);
      await copyDiskToGuest(chain, offset, length, ctx);
      return { bytes: length, written: length };
    }
    case VirtioBlkType.OUT: {
      expectLayout(chain, null, 1);
      const length = chain.readableLength - HEADER_BYTES;
      const offset = dataOffset(sector, length, ctx);
      // 5.2.6.2: a write to a read-only device fails with IOERR and writes nothing.
      if (backend.readOnly) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-write-read-only', `write of ${length} bytes at sector ${sector} to a read-only disk`);
      await ctx.admit('write', length);
      await copyGuestToDisk(chain, offset, length, ctx);
      return { bytes: length, written: 0 };
    }
    case VirtioBlkType.FLUSH:
      expectLayout(chain, HEADER_BYTES, 1);
      await ctx.admit('flush', 0);
      await backend.flush();
      return { bytes: 0, written: 0 };
    case VirtioBlkType.GET_ID: {
      expectLayout(chain, HEADER_BYTES, null);
      const n = Math.min(VIRTIO_BLK_ID_BYTES, statusAt);
      if (!chain.write(ctx.memory, 0, ctx.serial.subarray(0, n))) throw outsideRam(chain, 'GET_ID buffer');
      return { bytes: 0, written: n };
    }
    case VirtioBlkType.DISCARD:
    case VirtioBlkType.WRITE_ZEROES:
      return discardOrZero(type, chain, ctx);
    default:
      throw new RequestFailure(VirtioBlkStatus.UNSUPP, 'blk-unsupported-request', `request type ${type} is not supported`);
  }
}

/** Checks the readable and writable part sizes (null = any); a mismatch means data in the wrong direction. */
function expectLayout(chain: DescriptorChain, readable: number | null, writable: number | null): void {
  if ((readable !== null && chain.readableLength !== readable) || (writable !== null && chain.writableLength !== writable) || chain.readableLength < HEADER_BYTES) {
    throw new RequestFailure(
      VirtioBlkStatus.IOERR,
      'blk-bad-layout',
      `request ${chain.head}: ${chain.readableLength} readable and ${chain.writableLength} writable bytes do not fit its type (data in the wrong direction?)`,
    );
  }
}

/** Byte offset of a data transfer, after checking its size and range. */
function dataOffset(sector: number, length: number, ctx: BlockRequestContext): number {
  if (length % SECTOR_SIZE !== 0) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-bad-length', `data length ${length} is not a multiple of ${SECTOR_SIZE}`);
  if (length > ctx.limits.maxDataBytes) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-request-too-large', `data length ${length} exceeds the ${ctx.limits.maxDataBytes}-byte limit (seg_max * size_max)`);
  const offset = sector * SECTOR_SIZE;
  if (!Number.isSafeInteger(offset) || offset + length > ctx.backend.size) {
    throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-out-of-range', `sectors ${sector}+${length / SECTOR_SIZE} lie beyond the disk's ${ctx.backend.size / SECTOR_SIZE} sectors`);
  }
  return offset;
}

/** Reads the disk into the request's buffers: one backend call per CHUNK_BYTES, however scattered the guest's pages are. */
async function copyDiskToGuest(chain: DescriptorChain, offset: number, length: number, ctx: BlockRequestContext): Promise<void> {
  const scratch = takeScratch();
  try {
    for (let at = 0; at < length; at += scratch.length) {
      const piece = scratch.subarray(0, Math.min(scratch.length, length - at));
      await ctx.backend.read(offset + at, piece);
      if (!ctx.live()) throw new Abandoned();
      if (!chain.write(ctx.memory, at, piece)) throw outsideRam(chain, 'read buffer');
    }
  } finally {
    giveBackScratch(scratch);
  }
}

/** Writes the request's buffers to the disk, gathered into one backend call per CHUNK_BYTES. */
async function copyGuestToDisk(chain: DescriptorChain, offset: number, length: number, ctx: BlockRequestContext): Promise<void> {
  const scratch = takeScratch();
  try {
    for (let at = 0; at < length; at += scratch.length) {
      if (!ctx.live()) throw new Abandoned();
      const piece = scratch.subarray(0, Math.min(scratch.length, length - at));
      if (!chain.readInto(ctx.memory, HEADER_BYTES + at, piece)) throw outsideRam(chain, 'write buffer');
      await ctx.backend.write(offset + at, piece);
    }
  } finally {
    giveBackScratch(scratch);
  }
}

/** Chunk buffers kept for reuse: a fresh megabyte per request kept the garbage collector busy. */
const scratchPool: Uint8Array[] = [];
const MAX_POOLED = 32;

function takeScratch(): Uint8Array {
  return scratchPool.pop() ?? new Uint8Array(CHUNK_BYTES);
}

function giveBackScratch(buffer: Uint8Array): void {
  if (scratchPool.length < MAX_POOLED) scratchPool.push(buffer);
}

/** DISCARD and WRITE_ZEROES carry an array of {le64 sector, le32 num_sectors, le32 flags} (5.2.6). */
async function discardOrZero(type: number, chain: DescriptorChain, ctx: BlockRequestContext): Promise<{ bytes: number; written: number }> {
  const zeroes = type === VirtioBlkType.WRITE_ZEROES;
  const name = zeroes ? 'write-zeroes' : 'discard';
  if (!(zeroes ? ctx.writeZeroes : ctx.discard)) throw new RequestFailure(VirtioBlkStatus.UNSUPP, 'blk-unsupported-request', `${name} was not offered`);
  expectLayout(chain, null, 1);
  const payload = chain.readableLength - HEADER_BYTES;
  const count = payload / SEGMENT_BYTES;
  const maxSegments = zeroes ? ctx.limits.maxWriteZeroesSegments : ctx.limits.maxDiscardSegments;
  const maxSectors = zeroes ? ctx.limits.maxWriteZeroesSectors : ctx.limits.maxDiscardSectors;
  if (!Number.isInteger(count) || count < 1 || count > maxSegments) {
    throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-bad-segments', `${name} carries ${payload} bytes of segments; need 1 to ${maxSegments} segments of ${SEGMENT_BYTES} bytes`);
  }
  const raw = chain.read(ctx.memory, HEADER_BYTES, payload);
  if (raw === null) throw outsideRam(chain, `${name} segments`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const segments: Array<{ offset: number; length: number; unmap: boolean }> = [];
  for (let i = 0; i < count; i++) {
    const sector = Number(view.getBigUint64(i * SEGMENT_BYTES, true));
    const sectors = view.getUint32(i * SEGMENT_BYTES + 8, true);
    const flags = view.getUint32(i * SEGMENT_BYTES + 12, true);
    // 5.2.6.2: unknown flags, or unmap on a discard, are UNSUPP.
    if (flags & ~FLAG_UNMAP || (!zeroes && flags & FLAG_UNMAP)) {
      throw new RequestFailure(VirtioBlkStatus.UNSUPP, 'blk-bad-flags', `${name} segment ${i} has flags 0x${flags.toString(16)}`);
    }
    if (sectors > maxSectors) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-request-too-large', `${name} segment ${i} covers ${sectors} sectors, more than ${maxSectors}`);
    const offset = sector * SECTOR_SIZE;
    const length = sectors * SECTOR_SIZE;
    if (!Number.isSafeInteger(offset) || offset + length > ctx.backend.size) {
      throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-out-of-range', `${name} segment ${i} (sectors ${sector}+${sectors}) lies beyond the disk`);
    }
    segments.push({ offset, length, unmap: (flags & FLAG_UNMAP) !== 0 });
  }
  if (ctx.backend.readOnly) throw new RequestFailure(VirtioBlkStatus.IOERR, 'blk-write-read-only', `${name} on a read-only disk`);
  await ctx.admit(zeroes ? 'write-zeroes' : 'discard', 0);
  let bytes = 0;
  for (const s of segments) {
    if (!ctx.live()) throw new Abandoned();
    if (ctx.backend.discard && (!zeroes || s.unmap)) {
      // Backends promise that discarded ranges read back as zeros, so this also serves WRITE_ZEROES with unmap.
      await ctx.backend.discard(s.offset, s.length);
    } else if (zeroes && ctx.backend.writeZeroes) {
      await ctx.backend.writeZeroes(s.offset, s.length);
    } else if (zeroes) {
      const zerosChunk = new Uint8Array(Math.min(CHUNK_BYTES, s.length));
      for (let at = 0; at < s.length; at += zerosChunk.length) await ctx.backend.write(s.offset + at, zerosChunk.subarray(0, Math.min(zerosChunk.length, s.length - at)));
    }
    bytes += s.length;
  }
  return { bytes, written: 0 };
}

function outsideRam(chain: DescriptorChain, what: string): RequestFailure {
  return new RequestFailure(VirtioBlkStatus.IOERR, 'blk-buffer-outside-ram', `request ${chain.head}: ${what} lies outside guest RAM`);
}
