// The VM side of a switch shared by VM processes: a NetBackend over the switch server's Unix
// socket. Frames for the NIC wait in a bounded queue; while the connection is lost, frames the
// NIC sends are dropped (counted) and the client reconnects every second, saying so once.

import { connect, type Socket } from 'node:net';
import type { NetBackend } from '../net-backend.js';
import { encodeFrame, FrameStream, GREETING } from './frame-stream.js';
import { SwitchSocketError } from './switch-socket-error.js';

export interface SwitchClientOptions {
  /** Frames held for the NIC before newer ones are dropped (default 256). */
  queueCapacity?: number;
  /** Bytes waiting to be written before the NIC's frames are dropped (default 256 KiB). */
  writeHighWater?: number;
  /** Between reconnection attempts (default 1000 ms). */
  retryMs?: number;
  /** How long the first connection may take (default 5000 ms). */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface SwitchClientCounters {
  txFrames: number;
  /** Frames the NIC sent while disconnected or with the socket's buffer full. */
  txDropped: number;
  rxFrames: number;
  /** Frames for the NIC dropped because its queue was full, or skipped for their length. */
  rxDropped: number;
  reconnects: number;
}

export class SwitchClient implements NetBackend {
  private socket: Socket | null = null;
  private readonly queue: Uint8Array[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly stats: SwitchClientCounters = { txFrames: 0, txDropped: 0, rxFrames: 0, rxDropped: 0, reconnects: 0 };
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly queueCapacity: number;
  private readonly highWater: number;
  private readonly retryMs: number;
  private readonly log: (line: string) => void;

  private constructor(readonly path: string, options: SwitchClientOptions) {
    this.queueCapacity = options.queueCapacity ?? 256;
    this.highWater = options.writeHighWater ?? 256 * 1024;
    this.retryMs = options.retryMs ?? 1000;
    this.log = options.log ?? (() => {});
  }

  /** Joins the switch served at `path`; rejects with a SwitchSocketError when it cannot be reached. */
  static async connect(path: string, options: SwitchClientOptions = {}): Promise<SwitchClient> {
    const client = new SwitchClient(path, options);
    client.attach(await open(path, options.connectTimeoutMs ?? 5000));
    return client;
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  get counters(): SwitchClientCounters {
    return { ...this.stats };
  }

  send(frame: Uint8Array): boolean {
    const socket = this.socket;
    if (socket === null || socket.writableLength >= this.highWater) {
      this.stats.txDropped++;
      return false;
    }
    socket.write(encodeFrame(frame));
    this.stats.txFrames++;
    return true;
  }

  receive(): Uint8Array | undefined {
    return this.queue.shift();
  }

  get pending(): number {
    return this.queue.length;
  }

  onReceive(listener: () => void): () => void {
    const wrapped = (): void => listener();
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  /** Leaves the switch and stops reconnecting. */
  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = null;
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    const stream = new FrameStream({
      frame: (frame) => this.deliver(frame),
      skipped: () => this.stats.rxDropped++,
    });
    socket.on('data', (chunk: Buffer) => {
      if (!stream.push(chunk)) socket.destroy(new SwitchSocketError('bad-peer', `${this.path} does not speak the switch protocol`, this.path));
    });
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      this.log(`network: lost the switch at ${this.path}; the NIC's frames are dropped until it is back (retrying every ${this.retryMs} ms)`);
      this.reconnect();
    });
  }

  private reconnect(): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      open(this.path, this.retryMs).then((socket) => {
        if (this.closed) return socket.destroy();
        this.stats.reconnects++;
        this.log(`network: joined the switch at ${this.path} again`);
        this.attach(socket);
      }, () => {
        if (!this.closed) this.reconnect();
      });
    }, this.retryMs);
    this.retry.unref();
  }

  private deliver(frame: Uint8Array): void {
    if (this.queue.length >= this.queueCapacity) {
      this.stats.rxDropped++;
      return;
    }
    this.queue.push(frame);
    this.stats.rxFrames++;
    for (const listener of this.listeners) listener();
  }
}

/** A connected socket at `path` that has sent our greeting; the peer's is checked as data comes. */
function open(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const fail = (why: string, cause?: unknown): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SwitchSocketError('connect-failed', `cannot join the switch at ${path}: ${why}; is 'vireo switch serve --socket ${path}' (or the host agent) running?`, path, { cause }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (e) => fail(e.message, e));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      socket.write(GREETING);
      resolve(socket);
    });
  });
}
