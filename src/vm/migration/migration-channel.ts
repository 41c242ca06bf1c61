// Messages of the migration stream over one TCP connection: a type byte, a 32-bit length and
// the payload (JSON or a page chunk). The peer is not trusted: lengths are bounded, a message
// of an unknown type or past the bound ends the connection with a clear error.

import type { Socket } from 'node:net';

export const MessageType = {
  /** Source to destination: the VM's description and what the board needs before RAM arrives. */
  HELLO: 1,
  /** Destination: the board is built (or a JSON { error }: it cannot be). */
  READY: 2,
  /** Source: a chunk of RAM pages (page-chunk encoding). */
  PAGES: 3,
  /** Source: the guest is paused; the machine state follows as JSON. */
  FINAL: 4,
  /** Destination: the VM runs here now. */
  RUNNING: 5,
  /** Either side: giving up, with a JSON { error }. */
  ABORT: 6,
  /** Source: the pages of a round have all been sent. */
  ROUND_END: 7,
  /** Destination: every page sent so far is in place (so a round's rate is what arrived, and nothing is queued at the handover). */
  ROUND_APPLIED: 8,
  /** Source: a block of a disk the destination keeps its own copy of (disk-mirror.ts). */
  DISK_DATA: 9,
} as const;

export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

const HEADER_BYTES = 5;
/** A page chunk of 4096 pages, uncompressible, with its header, or a machine state: well below this. */
export const MAX_MESSAGE_BYTES = 64 << 20;

/** Messages read ahead of the receiver before reading stops, and where it starts again. */
const QUEUE_HIGH = 32;
const QUEUE_LOW = 8;

export interface Message {
  type: MessageTypeValue;
  payload: Uint8Array;
}

export class MigrationError extends Error {
  readonly kind = 'migration';
}

export class MigrationChannel {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly messages: Message[] = [];
  private waiter: { resolve: (m: Message) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  /** Payload bytes sent, for the migration report. */
  bytesSent = 0;

  constructor(private readonly socket: Socket, private readonly peer: string) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.take(data));
    socket.on('error', (e) => this.fail(new MigrationError(`the connection to ${peer} failed: ${e.message}`)));
    socket.on('close', () => this.fail(new MigrationError(`${peer} closed the connection`)));
  }

  /** Sends a message; resolves once the socket can take more (flow control). */
  async send(type: MessageTypeValue, payload: Uint8Array | object): Promise<void> {
    if (this.failure) throw this.failure;
    const bytes = payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload));
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = type;
    header.writeUInt32BE(bytes.length, 1);
    this.bytesSent += HEADER_BYTES + bytes.length;
    this.socket.write(header);
    if (!this.socket.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.socket.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          this.socket.off('drain', onDrain);
          reject(this.failure ?? new MigrationError(`${this.peer} closed the connection`));
        };
        this.socket.once('drain', onDrain);
        this.socket.once('close', onClose);
      });
    }
  }

  /** The next message, or a rejection when the connection ends first or `timeoutMs` passes. */
  receive(timeoutMs = 0): Promise<Message> {
    const next = this.messages.shift();
    if (this.messages.length < QUEUE_LOW) this.socket.resume();
    if (next) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => this.fail(new MigrationError(`${this.peer} sent nothing for ${timeoutMs / 1000} s`)), timeoutMs) : null;
      this.waiter = {
        resolve: (m) => (timer && clearTimeout(timer), resolve(m)),
        reject: (e) => (timer && clearTimeout(timer), reject(e)),
      };
    });
  }

  /** The next message's JSON payload, which must be of `type` (an ABORT carries the peer's reason). */
  async receiveJson<T>(type: MessageTypeValue, timeoutMs = 0): Promise<T> {
    const message = await this.receive(timeoutMs);
    const value = parseJson(message.payload, this.peer);
    if (message.type === MessageType.ABORT) throw new MigrationError(`${this.peer} gave up: ${describeError(value)}`);
    if (message.type !== type) throw new MigrationError(`${this.peer} sent message ${message.type} where ${type} belongs`);
    return value as T;
  }

  close(): void {
    this.socket.destroy();
  }

  private take(data: Buffer): void {
    this.buffered.push(data);
    this.bufferedBytes += data.length;
    while (this.bufferedBytes >= HEADER_BYTES && !this.failure) {
      const head = this.peek(HEADER_BYTES);
      const type = head[0]!;
      const length = head.readUInt32BE(1);
      if (type < MessageType.HELLO || type > MessageType.DISK_DATA) return this.fail(new MigrationError(`${this.peer} sent a message of unknown type ${type}`));
      if (length > MAX_MESSAGE_BYTES) return this.fail(new MigrationError(`${this.peer} sent a ${length}-byte message, more than ${MAX_MESSAGE_BYTES}`));
      if (this.bufferedBytes < HEADER_BYTES + length) return;
      const whole = this.peek(HEADER_BYTES + length);
      this.consume(HEADER_BYTES + length);
      this.deliver({ type: type as MessageTypeValue, payload: whole.subarray(HEADER_BYTES) });
    }
  }

  private peek(n: number): Buffer {
    if (this.buffered[0]!.length < n) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0]!.subarray(0, n);
  }

  private consume(n: number): void {
    const first = this.buffered[0]!;
    if (first.length === n) this.buffered.shift();
    else this.buffered[0] = first.subarray(n);
    this.bufferedBytes -= n;
  }

  private deliver(message: Message): void {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter.resolve(message);
    else if (this.messages.push(message) > QUEUE_HIGH) this.socket.pause(); // TCP holds the sender back

  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.socket.destroy();
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}

function parseJson(payload: Uint8Array, peer: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
  } catch {
    throw new MigrationError(`${peer} sent a message that is not JSON`);
  }
}

function describeError(value: unknown): string {
  const error = (value as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? error : 'no reason given';
}
