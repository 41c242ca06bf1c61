// Where translated blocks are found: a hash table in guest memory (outside RAM) from a
// block's key (the guest-memory offset of its first instruction) to its function's index in
// the shared table and its length. The dispatcher reads it in WebAssembly, the interpreter
// and the tier in JavaScript. Buckets of four entries, one cache line each: a boot's ~14,000
// blocks in a direct-mapped table evicted one another (a fifth of them), and an evicted hot
// block runs interpreted until it is counted and compiled again.

import { CodeWriter, Op } from './wasm-module-builder.js';

export const BUCKET_BITS = 14;
export const WAYS = 4;
/** Bytes per entry: key, function index, length, and a spare word for alignment. */
export const ENTRY_BYTES = 16;
const BUCKET_BYTES = WAYS * ENTRY_BYTES;
/** Bytes the table takes. */
export const ENTRY_TABLE_BYTES = BUCKET_BYTES << BUCKET_BITS;
/** Offsets of an entry's words from its start. */
export const KEY_FIELD = 0;
export const FUNCTION_FIELD = 4;
export const LENGTH_FIELD = 8;
/** Fibonacci hashing: spreads keys that differ only in high bits (pages 64 KiB apart). */
const GOLDEN = 0x9e3779b1 | 0;

export class EntryTable {
  /** Byte offset of the table in guest memory. */
  readonly offset: number;
  private readonly words: Int32Array;
  /** Which way a full bucket gives up next. */
  private victim = 0;

  constructor(buffer: ArrayBufferLike, byteOffset: number) {
    this.offset = byteOffset;
    this.words = new Int32Array(buffer, byteOffset, ENTRY_TABLE_BYTES / 4);
  }

  /** Byte offset of a key's bucket from the table's start (0 is never a key: RAM lies well above offset 0). */
  static bucket(key: number): number {
    return (Math.imul(key, GOLDEN) >>> (32 - BUCKET_BITS)) * BUCKET_BYTES;
  }

  /** Emits `bucketLocal = bucket(keyLocal)`. */
  emitBucket(c: CodeWriter, keyLocal: number, bucketLocal: number): void {
    c.local(Op.LocalGet, keyLocal).i32(GOLDEN).op(Op.I32Mul).i32(32 - BUCKET_BITS).op(Op.I32ShrU).i32(Math.log2(BUCKET_BYTES)).op(Op.I32Shl).local(Op.LocalSet, bucketLocal);
  }

  /** The function index and length of the block at `key`, or null. */
  lookup(key: number): { functionIndex: number; length: number } | null {
    const at = this.find(key);
    return at < 0 ? null : { functionIndex: this.words[at + FUNCTION_FIELD / 4]!, length: this.words[at + LENGTH_FIELD / 4]! };
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  set(key: number, functionIndex: number, length: number): void {
    const bucket = EntryTable.bucket(key) / 4;
    let at = this.findIn(bucket, key);
    if (at < 0) at = this.findIn(bucket, 0);
    if (at < 0) {
      // A full bucket: rare with ~1 block per bucket in a boot; one entry makes room.
      at = bucket + (this.victim * ENTRY_BYTES) / 4;
      this.victim = (this.victim + 1) % WAYS;
    }
    this.words[at] = key;
    this.words[at + FUNCTION_FIELD / 4] = functionIndex;
    this.words[at + LENGTH_FIELD / 4] = length;
  }

  delete(key: number): void {
    const at = this.find(key);
    if (at >= 0) this.words[at] = 0;
  }

  clear(): void {
    this.words.fill(0);
  }

  /** Word index of the entry holding `key`, or -1. */
  private find(key: number): number {
    return this.findIn(EntryTable.bucket(key) / 4, key);
  }

  /** Word index of the entry in the bucket at word `bucketWord` whose key is `key` (0: an empty one), or -1. */
  private findIn(bucketWord: number, key: number): number {
    for (let way = 0; way < WAYS; way++) {
      const at = bucketWord + (way * ENTRY_BYTES) / 4;
      if (this.words[at] === key) return at;
    }
    return -1;
  }
}
