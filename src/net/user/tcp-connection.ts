// One guest TCP connection terminated at the gateway (RFC 9293) and bridged to a host socket:
// handshake either way, sequence and acknowledgement numbers, the guest's window, our own
// receive window from the host socket's buffer, retransmission on timeout, FIN and RST both ways.

import type { Socket } from 'node:net';
import { TcpFlag, seqAdd, seqDiff } from '../tcp.js';
import type { TcpSegment } from '../tcp.js';

/** Largest data per segment we send: a 1500-byte MTU less 40 bytes of IPv4 and TCP headers. */
export const GATEWAY_MSS = 1460;
/** RFC 9293 3.7.1: a SYN without an MSS option means 536. */
const DEFAULT_MSS = 536;
/** Our receive buffer: what the host socket may hold before our window closes. */
const RECEIVE_BUFFER = 256 * 1024;
/** Window scale we offer (RFC 7323): 65535 << 3 covers the receive buffer. */
const RECEIVE_SHIFT = 3;
/** Bytes from the host waiting for the guest before the host socket is paused. */
const SEND_BUFFER = 256 * 1024;
/** Data the guest sent beyond our window is still taken up to this much buffered; then dropped. */
const RECEIVE_HARD_LIMIT = 2 * RECEIVE_BUFFER;
/** Segments sent at once, so one connection cannot fill the guest's queue on its own. */
const BURST_SEGMENTS = 64;
const INITIAL_RTO_MS = 200;
const MAX_RTO_MS = 4000;
const MAX_RETRIES = 10;
const TIME_WAIT_MS = 1000;

export type TcpState = 'syn-sent' | 'connecting' | 'syn-received' | 'established' | 'time-wait' | 'closed';

export interface TcpCounters {
  retransmits: number;
  /** Guest segments not taken: out of order, outside the window, or beyond the buffer limit. */
  segmentsDropped: number;
  resets: number;
}

export interface TcpConnectionHooks {
  /** Sends a segment to the guest from the connection's remote end; false if it could not go out yet. */
  send(segment: TcpSegment): boolean;
  /** The connection is over; the table forgets it. */
  closed(): void;
  counters: TcpCounters;
}

type Segment = Omit<TcpSegment, 'srcPort' | 'dstPort'>;

export class TcpConnection {
  state: TcpState;
  private socket: Socket | null = null;
  private readonly iss = (Math.random() * 0x100000000) >>> 0;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private sndShift = 0;
  private rcvShift = 0;
  private rcvNxt = 0;
  private mss = DEFAULT_MSS;
  /** Bytes from the host from sndUna on (sent and unacknowledged, then unsent). */
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private hostEnded = false;
  private finSent = false;
  private finAcked = false;
  private guestFin = false;
  private hostPaused = false;
  private timer: NodeJS.Timeout | null = null;
  private rto = INITIAL_RTO_MS;
  private retries = 0;
  private ackScheduled = false;
  private lastWindow = 0;

  private constructor(
    private readonly hooks: TcpConnectionHooks,
    state: TcpState,
  ) {
    this.state = state;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
  }

  /** The guest opened a connection (its SYN): the host side connects first, then we answer. */
  static fromGuestSyn(syn: TcpSegment, hooks: TcpConnectionHooks): TcpConnection {
    const c = new TcpConnection(hooks, 'connecting');
    c.rcvNxt = seqAdd(syn.seq, 1);
    c.takeSynOptions(syn, true);
    return c;
  }

  /** A host connection (hostfwd) into the guest: we send the SYN. */
  static toGuest(socket: Socket, hooks: TcpConnectionHooks): TcpConnection {
    const c = new TcpConnection(hooks, 'syn-sent');
    c.attach(socket);
    socket.pause();
    c.sendSyn();
    return c;
  }

  /** The host socket of a guest-opened connection is connected: answer the guest's SYN. */
  hostConnected(socket: Socket): void {
    if (this.state !== 'connecting') {
      socket.destroy();
      return;
    }
    this.attach(socket);
    socket.pause(); // until the guest completes the handshake
    this.state = 'syn-received';
    this.sendSyn();
  }

  /** The host side could not be reached: refuse the guest's connection. */
  hostFailed(): void {
    if (this.state !== 'connecting') return;
    this.reset(this.sndNxt, this.rcvNxt);
  }

  /** RFC 9293 3.10.7: one segment from the guest. */
  onSegment(seg: TcpSegment): void {
    if (this.state === 'closed') return;
    if ((seg.flags & TcpFlag.RST) !== 0) return this.onReset(seg);
    if (this.state === 'syn-sent') return this.onSynAck(seg);
    if ((seg.flags & TcpFlag.SYN) !== 0) {
      // A retransmitted SYN: our SYN-ACK was lost. Anything else with SYN set gets an ACK.
      if (this.state === 'syn-received' && seg.seq === seqAdd(this.rcvNxt, -1)) this.sendSyn();
      else if (this.state !== 'connecting') this.sendAck();
      return;
    }
    if (this.state === 'connecting') return; // no SYN-ACK yet: nothing of the guest's to take
    if ((seg.flags & TcpFlag.ACK) === 0) return;
    this.onAck(seg);
    if (this.isClosed()) return;
    this.onData(seg);
    this.trySend();
  }

  /** Aborts both sides (table limit, close of the whole network). */
  abort(): void {
    if (this.state !== 'closed') this.reset(this.sndNxt, this.rcvNxt);
  }

  isClosed(): boolean {
    return this.state === 'closed';
  }

  private takeSynOptions(syn: TcpSegment, offerScale: boolean): void {
    this.mss = Math.max(64, Math.min(syn.mss ?? DEFAULT_MSS, GATEWAY_MSS));
    // RFC 7323 2.2: scaling is on only when both SYNs carry the option.
    if (syn.windowScale !== undefined && offerScale) {
      this.sndShift = syn.windowScale;
      this.rcvShift = RECEIVE_SHIFT;
    }
    this.sndWnd = syn.window; // RFC 7323 2.2: the window in a SYN is never scaled
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.fromHost(chunk));
    socket.on('end', () => {
      this.hostEnded = true;
      this.trySend();
    });
    socket.on('drain', () => this.windowUpdate());
    socket.on('error', () => {});
    socket.on('close', () => {
      // The host side is gone before it ended cleanly, or before the guest saw everything: reset.
      if (this.state !== 'closed' && this.state !== 'time-wait' && !(this.hostEnded && this.guestFin)) this.reset(this.sndNxt, this.rcvNxt);
    });
  }

  private fromHost(chunk: Buffer): void {
    this.out.push(chunk);
    this.outBytes += chunk.length;
    if (this.outBytes >= SEND_BUFFER && !this.hostPaused) {
      this.hostPaused = true;
      this.socket?.pause();
    }
    this.trySend();
  }

  private onReset(seg: TcpSegment): void {
    const acceptable = this.state === 'syn-sent' ? (seg.flags & TcpFlag.ACK) !== 0 && seg.ack === this.sndNxt : seqDiff(seg.seq, this.rcvNxt) >= 0 && seqDiff(seg.seq, this.rcvNxt) <= this.receiveWindow() + 1;
    if (!acceptable) return;
    this.hooks.counters.resets++;
    this.socket?.destroy();
    this.finish();
  }

  private onSynAck(seg: TcpSegment): void {
    if ((seg.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== (TcpFlag.SYN | TcpFlag.ACK) || seg.ack !== seqAdd(this.iss, 1)) {
      if ((seg.flags & TcpFlag.ACK) !== 0) this.send({ seq: seg.ack, ack: 0, flags: TcpFlag.RST, window: 0, payload: EMPTY });
      return;
    }
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.takeSynOptions(seg, true);
    if (seg.windowScale === undefined) this.rcvShift = 0;
    this.sndUna = seg.ack;
    this.state = 'established';
    this.stopTimer();
    this.retries = 0;
    this.rto = INITIAL_RTO_MS;
    this.sendAck();
    this.socket?.resume();
  }

  private onAck(seg: TcpSegment): void {
    const advance = seqDiff(seg.ack, this.sndUna);
    if (seqDiff(seg.ack, this.sndNxt) > 0) {
      this.sendAck(); // RFC 9293 3.10.7.4: an ACK for something not yet sent
      return;
    }
    if (this.state === 'syn-received') {
      if (advance <= 0) return;
      this.sndUna = seqAdd(this.sndUna, 1); // our SYN
      this.state = 'established';
      this.stopTimer();
      this.retries = 0;
      this.rto = INITIAL_RTO_MS;
      this.socket?.resume();
    } else if (advance > 0) {
      let dataAcked = advance;
      if (this.finSent && seg.ack === this.sndNxt) {
        this.finAcked = true;
        dataAcked--;
      }
      this.dropAcked(dataAcked);
      this.sndUna = seg.ack;
      this.retries = 0;
      this.rto = INITIAL_RTO_MS;
      this.stopTimer();
    }
    this.sndWnd = seg.window << this.sndShift;
    // The guest answers: a closed window being probed is no reason to give up on it.
    if (advance >= 0 && this.sndWnd === 0) this.retries = 0;
    if (this.sndUna !== this.sndNxt) this.startTimer();
    if (this.finAcked && this.guestFin) this.enterTimeWait();
  }

  private onData(seg: TcpSegment): void {
    let data = seg.payload;
    const fin = (seg.flags & TcpFlag.FIN) !== 0;
    if (data.length === 0 && !fin) return;
    const offset = seqDiff(this.rcvNxt, seg.seq);
    if (offset < 0 || offset > data.length || (offset === data.length && !fin) || this.guestFin) {
      // Out of order (a frame before it was lost), or old: the guest retransmits; say where we are.
      if (offset < 0) this.hooks.counters.segmentsDropped++;
      this.sendAck();
      return;
    }
    data = data.subarray(offset);
    if (data.length > 0) {
      const socket = this.socket;
      if (socket === null || socket.writableLength + data.length > RECEIVE_HARD_LIMIT) {
        this.hooks.counters.segmentsDropped++;
        this.sendAck();
        return;
      }
      socket.write(Buffer.from(data));
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.guestFin = true;
      this.socket?.end();
      this.sendAck();
      if (this.finAcked) this.enterTimeWait();
      return;
    }
    this.scheduleAck();
  }

  /** Sends what the guest's window allows, then a FIN once the host has ended and all is sent. */
  private trySend(probe = false): void {
    if (this.state !== 'established') return;
    let inFlight = seqDiff(this.sndNxt, this.sndUna);
    let unsent = this.outBytes - inFlight;
    let sent = 0;
    while (unsent > 0 && sent < BURST_SEGMENTS) {
      const room = probe && inFlight === 0 ? 1 : this.sndWnd - inFlight;
      const length = Math.min(this.mss, unsent, room);
      if (length <= 0) break;
      const payload = this.bytesAt(inFlight, length);
      const flags = TcpFlag.ACK | (length === unsent ? TcpFlag.PSH : 0);
      if (!this.send({ seq: this.sndNxt, ack: this.rcvNxt, flags, window: this.advertise(), payload })) break;
      this.sndNxt = seqAdd(this.sndNxt, length);
      inFlight += length;
      unsent -= length;
      sent++;
    }
    if (unsent === 0 && this.hostEnded && !this.finSent) {
      this.finSent = true;
      this.send({ seq: this.sndNxt, ack: this.rcvNxt, flags: TcpFlag.FIN | TcpFlag.ACK, window: this.advertise(), payload: EMPTY });
      this.sndNxt = seqAdd(this.sndNxt, 1);
    }
    // Data waiting behind a closed window: the timer probes it (RFC 9293 3.8.6.1).
    if (this.sndUna !== this.sndNxt || unsent > 0) this.startTimer();
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.state === 'closed') return;
    if (this.state === 'time-wait') return this.finish();
    if (++this.retries > MAX_RETRIES) return this.reset(this.sndNxt, this.rcvNxt);
    this.rto = Math.min(this.rto * 2, MAX_RTO_MS);
    this.hooks.counters.retransmits++;
    if (this.state === 'syn-sent' || this.state === 'syn-received') {
      this.sendSyn();
      return;
    }
    // Go back to the oldest unacknowledged byte and send again (the FIN too, if it was sent).
    const probe = this.sndUna === this.sndNxt;
    this.sndNxt = this.sndUna;
    if (this.finSent && !this.finAcked) this.finSent = false;
    this.trySend(probe);
    this.startTimer();
  }

  private sendSyn(): void {
    const synAck = this.state === 'syn-received';
    this.send({
      seq: this.iss,
      ack: synAck ? this.rcvNxt : 0,
      flags: TcpFlag.SYN | (synAck ? TcpFlag.ACK : 0),
      window: Math.min(0xffff, RECEIVE_BUFFER),
      mss: GATEWAY_MSS,
      ...((synAck ? this.rcvShift > 0 : true) ? { windowScale: RECEIVE_SHIFT } : {}),
      payload: EMPTY,
    });
    if (!synAck) this.rcvShift = RECEIVE_SHIFT; // until the guest's SYN-ACK says otherwise
    this.sndNxt = seqAdd(this.iss, 1);
    this.startTimer();
  }

  private sendAck(): void {
    this.ackScheduled = false;
    this.send({ seq: this.sndNxt, ack: this.rcvNxt, flags: TcpFlag.ACK, window: this.advertise(), payload: EMPTY });
  }

  /** One ACK for all the segments a poll delivers, sent after them. */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      if (this.ackScheduled && this.state !== 'closed') this.sendAck();
    });
  }

  /** The host socket took its buffered data: tell the guest the window opened again. */
  private windowUpdate(): void {
    if (this.state === 'established' && this.lastWindow < RECEIVE_BUFFER / 4) this.sendAck();
  }

  private send(segment: Segment): boolean {
    if ((segment.flags & TcpFlag.ACK) !== 0) this.ackScheduled = false;
    return this.hooks.send({ srcPort: 0, dstPort: 0, ...segment });
  }

  private receiveWindow(): number {
    return Math.max(0, RECEIVE_BUFFER - (this.socket?.writableLength ?? 0));
  }

  private advertise(): number {
    this.lastWindow = this.receiveWindow();
    return Math.min(0xffff, this.lastWindow >>> this.rcvShift);
  }

  private bytesAt(offset: number, length: number): Uint8Array {
    const parts: Buffer[] = [];
    for (const chunk of this.out) {
      if (length === 0) break;
      if (offset >= chunk.length) {
        offset -= chunk.length;
        continue;
      }
      const part = chunk.subarray(offset, offset + length);
      parts.push(part);
      length -= part.length;
      offset = 0;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private dropAcked(bytes: number): void {
    bytes = Math.min(bytes, this.outBytes);
    this.outBytes -= bytes;
    while (bytes > 0) {
      const head = this.out[0]!;
      if (head.length <= bytes) {
        this.out.shift();
        bytes -= head.length;
      } else {
        this.out[0] = head.subarray(bytes);
        bytes = 0;
      }
    }
    if (this.hostPaused && this.outBytes < SEND_BUFFER / 2) {
      this.hostPaused = false;
      this.socket?.resume();
    }
  }

  private reset(seq: number, ack: number): void {
    this.send({ seq, ack, flags: TcpFlag.RST | TcpFlag.ACK, window: 0, payload: EMPTY });
    this.hooks.counters.resets++;
    this.socket?.destroy();
    this.finish();
  }

  /** Both sides are done: linger briefly to answer a retransmitted FIN (RFC 9293 3.6, kept short). */
  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.stopTimer();
    this.timer = setTimeout(() => this.onTimeout(), TIME_WAIT_MS);
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimer();
    this.out.length = 0;
    this.outBytes = 0;
    this.hooks.closed();
  }

  private startTimer(): void {
    if (this.timer === null) this.timer = setTimeout(() => this.onTimeout(), this.rto);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

const EMPTY = new Uint8Array(0);
