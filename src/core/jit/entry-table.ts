// Where translated blocks are found: a direct-mapped hash table in guest memory (outside RAM),
// from a block's key (the guest-memory offset of its first instruction) to its function's
// index in the shared table and its length. The dispatcher reads it in WebAssembly, the
// interpreter and the tier in JavaScript. A colliding block simply replaces the older one.

import { CodeWriter, Op } from './wasm-module-builder.js';

export const ENTRY_BITS = 15;
export const ENTRIES = 1 << ENTRY_BITS;
/** Bytes the table takes: keys, function indices and lengths, ENTRIES words each. */
export const ENTRY_TABLE_BYTES = 12 * ENTRIES;
/** Fibonacci hashing: spreads keys that differ only in high bits (pages 64 KiB apart). */
const GOLDEN = 0x9e3779b1 | 0;

export class EntryTable {
  readonly keysOffset: number;
  readonly functionsOffset: number;
  readonly lengthsOffset: number;
  private readonly keys: Int32Array;
  private readonly functions: Int32Array;
  private readonly lengths: Int32Array;

  constructor(buffer: ArrayBufferLike, byteOffset: number) {
    this.keysOffset = byteOffset;
    this.functionsOffset = byteOffset + 4 * ENTRIES;
    this.lengthsOffset = byteOffset + 8 * ENTRIES;
    this.keys = new Int32Array(buffer, this.keysOffset, ENTRIES);
    this.functions = new Int32Array(buffer, this.functionsOffset, ENTRIES);
    this.lengths = new Int32Array(buffer, this.lengthsOffset, ENTRIES);
  }

  /** The slot of a key (0 is never a key: RAM lies well above offset 0). */
  static slot(key: number): number {
    return Math.imul(key, GOLDEN) >>> (32 - ENTRY_BITS);
  }

  /** Emits `slotLocal = slot(keyLocal) * 4`, the byte offset of the key's words. */
  emitSlot(c: CodeWriter, keyLocal: number, slotLocal: number): void {
    c.local(Op.LocalGet, keyLocal).i32(GOLDEN).op(Op.I32Mul).i32(32 - ENTRY_BITS).op(Op.I32ShrU).i32(2).op(Op.I32Shl).local(Op.LocalSet, slotLocal);
  }

  /** The function index and length of the block at `key`, or null. */
  lookup(key: number): { functionIndex: number; length: number } | null {
    const slot = EntryTable.slot(key);
    if (this.keys[slot] !== key) return null;
    return { functionIndex: this.functions[slot]!, length: this.lengths[slot]! };
  }

  has(key: number): boolean {
    return this.keys[EntryTable.slot(key)] === key;
  }

  set(key: number, functionIndex: number, length: number): void {
    const slot = EntryTable.slot(key);
    this.keys[slot] = key;
    this.functions[slot] = functionIndex;
    this.lengths[slot] = length;
  }

  delete(key: number): void {
    const slot = EntryTable.slot(key);
    if (this.keys[slot] === key) this.keys[slot] = 0;
  }

  clear(): void {
    this.keys.fill(0);
  }
}
