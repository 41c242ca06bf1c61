// The 9P2000.L wire format: message types, a bounds-checked reader for T-messages and a bounded
// writer for R-messages. Every message is size[4] type[1] tag[2] then fields, little-endian;
// strings are len[2] + UTF-8 bytes. A field past the end of the message is a NinePError(EPROTO),
// never a read outside it, and a reply never grows past the room it was given.

import { Errno, NinePError } from './errno.js';

/** Message types (9P2000.L; the T-message is even, its R-message the next number). */
export const NinePType = {
  RLERROR: 7,
  TSTATFS: 8,
  TLOPEN: 12,
  TLCREATE: 14,
  TSYMLINK: 16,
  TMKNOD: 18,
  TRENAME: 20,
  TREADLINK: 22,
  TGETATTR: 24,
  TSETATTR: 26,
  TXATTRWALK: 30,
  TXATTRCREATE: 32,
  TREADDIR: 40,
  TFSYNC: 50,
  TLOCK: 52,
  TGETLOCK: 54,
  TLINK: 70,
  TMKDIR: 72,
  TRENAMEAT: 74,
  TUNLINKAT: 76,
  TVERSION: 100,
  TAUTH: 102,
  TATTACH: 104,
  TFLUSH: 108,
  TWALK: 110,
  TREAD: 116,
  TWRITE: 118,
  TCLUNK: 120,
  TREMOVE: 122,
} as const;

/** size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
/** Rread/Rreaddir header: size[4] type[1] tag[2] count[4]. */
export const IO_HEADER_SIZE = 11;
export const QID_SIZE = 13;
/** The "no fid" value (afid in Tattach when there is no authentication). */
export const NOFID = 0xffff_ffff;

/** Qid types (the top bits of the mode in Plan 9). */
export const QidType = { DIR: 0x80, SYMLINK: 0x02, FILE: 0x00 } as const;

/** The server's unique identification of a file: type, version (changes on modification), path (the inode). */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function protocolError(message: string): NinePError {
  return new NinePError(Errno.EPROTO, `malformed 9P message: ${message}`);
}

export class NinePReader {
  private readonly view: DataView;
  private at: number;

  /** Reads fields of `message` (a whole message) starting after its header. */
  constructor(readonly message: Uint8Array, start = HEADER_SIZE) {
    this.view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    this.at = start;
  }

  get remaining(): number {
    return this.message.length - this.at;
  }

  private take(n: number, what: string): number {
    if (n > this.remaining) throw protocolError(`${what} runs past the end of the ${this.message.length}-byte message`);
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1, 'u8 field'));
  }
  u16(): number {
    return this.view.getUint16(this.take(2, 'u16 field'), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4, 'u32 field'), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.take(8, 'u64 field'), true);
  }

  /** `n` raw bytes, as a view into the message. */
  bytes(n: number): Uint8Array {
    const at = this.take(n, `${n}-byte data field`);
    return this.message.subarray(at, at + n);
  }

  /** A string; invalid UTF-8 is EILSEQ (host names are handled as UTF-8 text). */
  str(): string {
    const length = this.u16();
    const bytes = this.bytes(length);
    try {
      return utf8.decode(bytes);
    } catch (cause) {
      throw new NinePError(Errno.EILSEQ, 'a name in a 9P message is not valid UTF-8', { cause });
    }
  }
}

/** Thrown when a reply would not fit the room it was given (negotiated msize, or the chain's writable part). */
export class ReplyTooBigError extends NinePError {
  constructor(limit: number) {
    super(Errno.EMSGSIZE, `the reply does not fit in ${limit} bytes`);
  }
}

export class NinePWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private at = HEADER_SIZE;

  /** A reply of at most `limit` bytes (header included). */
  constructor(readonly limit: number) {
    this.buffer = new Uint8Array(Math.min(256, Math.max(limit, HEADER_SIZE)));
    this.view = new DataView(this.buffer.buffer);
  }

  get length(): number {
    return this.at;
  }

  /** Bytes still free under the limit. */
  get room(): number {
    return this.limit - this.at;
  }

  private reserve(n: number): number {
    if (this.at + n > this.limit) throw new ReplyTooBigError(this.limit);
    if (this.at + n > this.buffer.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(this.buffer.length * 2, this.at + n)));
      grown.set(this.buffer.subarray(0, this.at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  // reserve() may replace the buffer, so it runs before this.view/this.buffer are read.
  u8(value: number): this {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
    return this;
  }
  u16(value: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
    return this;
  }
  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value >>> 0, true);
    return this;
  }
  u64(value: bigint | number): this {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
    return this;
  }
  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
    return this;
  }
  str(value: string | Uint8Array): this {
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    if (bytes.length > 0xffff) throw new NinePError(Errno.ENAMETOOLONG, `a ${bytes.length}-byte string does not fit a 9P string`);
    return this.u16(bytes.length).bytes(bytes);
  }
  qid(qid: Qid): this {
    return this.u8(qid.type).u32(qid.version).u64(qid.path);
  }

  /** Room for `n` bytes the caller fills in place (e.g. a read straight into the reply). */
  slot(n: number): Uint8Array {
    const at = this.reserve(n);
    return this.buffer.subarray(at, at + n);
  }

  /** Overwrites a u32 written earlier at `offset` (a count known only at the end). */
  setU32At(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  /** Gives back the last `n` bytes reserved (a read returned fewer bytes than asked). */
  shrink(n: number): void {
    this.at -= Math.min(n, this.at - HEADER_SIZE);
  }

  /** The finished message: header filled in for `type` and `tag`. */
  finish(type: number, tag: number): Uint8Array {
    this.view.setUint32(0, this.at, true);
    this.view.setUint8(4, type);
    this.view.setUint16(5, tag, true);
    return this.buffer.subarray(0, this.at);
  }
}

/** Rlerror: size[4] type[1] tag[2] ecode[4]. */
export function lerror(tag: number, errno: number): Uint8Array {
  return new NinePWriter(IO_HEADER_SIZE).u32(errno).finish(NinePType.RLERROR, tag);
}
