// Connects the guest's UART0 to the process: guest output to stdout (raw bytes, buffered per
// host turn), stdin to the guest. On a terminal, stdin goes raw so keys such as Ctrl-C reach
// the guest; Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.
// Output is flow-controlled: when stdout backs up (a pipe nobody reads), the console reports
// itself not ready and the devices hold the guest back, so host memory stays bounded.

import type { Writable } from 'node:stream';
import type { ByteSink } from '../devices/mmio-device.js';

const CTRL_A = 0x01;
const BUFFER_SIZE = 16 * 1024;
/** Output held (here and in stdout's queue) before the console reports itself not ready. */
const DEFAULT_MAX_PENDING = 64 * 1024;
/** Writes queued in stdout at most: each costs memory beyond its bytes, so a trickle counts too. */
const MAX_QUEUED_WRITES = 64;

export interface ConsoleStreams {
  stdin: NodeJS.ReadStream;
  stdout: Writable;
}

export interface SerialConsoleOptions {
  /** Bytes of output held before the guest is made to wait (default 64 KiB). */
  maxPendingBytes?: number;
}

export class SerialConsole implements ByteSink {
  private readonly streams: ConsoleStreams;
  private readonly maxPending: number;
  private buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private flushScheduled = false;
  private escape = false;
  private rawMode = false;
  private onData: ((chunk: Buffer) => void) | null = null;
  private readonly readyListeners = new Set<() => void>();
  /** A device saw the console not ready and waits to hear it is ready again. */
  private blocked = false;
  private droppedBytes = 0;
  /** Writes handed to stdout whose callback has not run yet. */
  private queuedWrites = 0;
  /** stdout failed (EPIPE: the reader went away); later output is dropped. */
  private closed = false;
  private readonly onDrain = () => this.checkReady();

  constructor(streams: ConsoleStreams, options: SerialConsoleOptions = {}) {
    this.streams = streams;
    this.maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    streams.stdout.on('drain', this.onDrain);
    // A reader closing the pipe ends the output, not the VM (and not with an unhandled error);
    // the listener stays after detach() because output written before may still fail.
    streams.stdout.on('error', () => {
      this.closed = true;
      this.checkReady();
    });
  }

  /** Output bytes held in this process: not yet handed to stdout, or queued in it. */
  get pendingBytes(): number {
    return this.used + this.streams.stdout.writableLength;
  }

  /** Bytes written while the console was not ready (by a device without flow control), dropped. */
  get dropped(): number {
    return this.droppedBytes;
  }

  ready(): boolean {
    // Output to a closed stdout is lost anyway; holding the guest back for it would hang it.
    if (this.isClosed()) return true;
    if (this.pendingBytes < this.maxPending && this.queuedWrites < MAX_QUEUED_WRITES) return true;
    this.blocked = true;
    return false;
  }

  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** A byte from the guest. Written out once the hart yields, or when the buffer fills. */
  write(byte: number): void {
    if (!this.ready() || this.isClosed()) {
      this.droppedBytes++;
      return;
    }
    this.buffer[this.used++] = byte;
    if (this.used === BUFFER_SIZE) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.used === 0) return;
    if (this.isClosed()) {
      this.droppedBytes += this.used;
      this.used = 0;
      return;
    }
    // write() may keep the buffer it is given: a full one is handed over and replaced, a
    // partial one copied, so a queued write never pins more memory than its bytes.
    let chunk: Buffer;
    if (this.used === BUFFER_SIZE) {
      chunk = this.buffer;
      this.buffer = Buffer.allocUnsafe(BUFFER_SIZE);
    } else {
      chunk = Buffer.from(this.buffer.subarray(0, this.used));
    }
    this.used = 0;
    this.queuedWrites++;
    // The callback also covers streams that never emit 'drain' (a high-water mark above ours).
    this.streams.stdout.write(chunk, () => {
      this.queuedWrites--;
      this.checkReady();
    });
  }

  private isClosed(): boolean {
    return this.closed || this.streams.stdout.destroyed;
  }

  /** Tells the waiting devices once output has room again. */
  private checkReady(): void {
    if (!this.blocked || !this.ready()) return;
    this.blocked = false;
    for (const listener of [...this.readyListeners]) listener();
  }

  /** Starts forwarding stdin: `input` gets guest-bound bytes, `quit` runs on Ctrl-A x (terminals only). */
  attach(input: (bytes: Uint8Array) => void, quit: () => void): void {
    const stdin = this.streams.stdin;
    this.rawMode = stdin.isTTY === true;
    if (this.rawMode) stdin.setRawMode(true);
    this.onData = (chunk: Buffer) => {
      if (!this.rawMode) {
        input(chunk);
        return;
      }
      const out: number[] = [];
      for (const byte of chunk) {
        if (this.escape) {
          this.escape = false;
          if (byte === 0x78 /* x */) {
            quit();
            return;
          }
          if (byte !== CTRL_A) out.push(CTRL_A);
          out.push(byte);
        } else if (byte === CTRL_A) {
          this.escape = true;
        } else {
          out.push(byte);
        }
      }
      if (out.length > 0) input(Uint8Array.from(out));
    };
    stdin.on('data', this.onData);
    stdin.resume();
  }

  /** Stops reading stdin (so the process can exit), restores the terminal and flushes output. */
  detach(): void {
    const stdin = this.streams.stdin;
    if (this.onData) {
      stdin.off('data', this.onData);
      this.onData = null;
      stdin.pause();
    }
    if (this.rawMode) {
      stdin.setRawMode(false);
      this.rawMode = false;
    }
    this.flush();
    this.streams.stdout.off('drain', this.onDrain);
  }
}
