// The switch socket's wire format: both ends first send the 4-byte greeting "VSW1", then
// Ethernet frames (no FCS), each after its length as a 16-bit big-endian number. A frame whose
// length is outside 14..1518 is skipped, never buffered whole, so a peer cannot make the other
// end hold more than one frame's bytes.

import { ETHERNET_HEADER_BYTES } from '../ethernet.js';

export const GREETING = Buffer.from('VSW1', 'latin1');
const LENGTH_BYTES = 2;
/** 1514 bytes and an 802.1Q tag. */
export const MAX_WIRE_FRAME = 1518;

export function encodeFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + frame.length);
  out.writeUInt16BE(frame.length, 0);
  out.set(frame, LENGTH_BYTES);
  return out;
}

export interface FrameStreamHandlers {
  frame(frame: Uint8Array): void;
  /** A frame of this length was skipped (too short or too long). */
  skipped(length: number): void;
}

/** Decodes one direction of a connection: the greeting, then length-prefixed frames. */
export class FrameStream {
  private greeted = false;
  private pending = Buffer.alloc(0);
  /** Bytes of a skipped frame still to be passed over. */
  private skipping = 0;

  constructor(private readonly handlers: FrameStreamHandlers) {}

  /** Takes the next bytes; returns false, and takes no more, when the peer's greeting is wrong. */
  push(chunk: Buffer): boolean {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.greeted) {
      const have = Math.min(data.length, GREETING.length);
      if (!data.subarray(0, have).equals(GREETING.subarray(0, have))) return false;
      if (data.length < GREETING.length) {
        this.pending = Buffer.from(data);
        return true;
      }
      this.greeted = true;
      data = data.subarray(GREETING.length);
    }
    let at = 0;
    for (;;) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, data.length - at);
        this.skipping -= n;
        at += n;
        if (this.skipping > 0) break;
      }
      if (data.length - at < LENGTH_BYTES) break;
      const length = data.readUInt16BE(at);
      if (length < ETHERNET_HEADER_BYTES || length > MAX_WIRE_FRAME) {
        this.handlers.skipped(length);
        this.skipping = length;
        at += LENGTH_BYTES;
        continue;
      }
      if (data.length - at < LENGTH_BYTES + length) break;
      // A copy: the frame outlives the chunk it came in.
      this.handlers.frame(new Uint8Array(data.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length)));
      at += LENGTH_BYTES + length;
    }
    this.pending = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
    return true;
  }
}
