// Connects the guest's UART0 to the process: guest output to stdout (raw bytes, buffered per
// host turn), stdin to the guest. On a terminal, stdin goes raw so keys such as Ctrl-C reach
// the guest; Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.

import type { ByteSink } from '../devices/mmio-device.js';

const CTRL_A = 0x01;
const BUFFER_SIZE = 16 * 1024;

export interface ConsoleStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
}

export class SerialConsole implements ByteSink {
  private readonly streams: ConsoleStreams;
  private buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private flushScheduled = false;
  private escape = false;
  private rawMode = false;
  private onData: ((chunk: Buffer) => void) | null = null;

  constructor(streams: ConsoleStreams) {
    this.streams = streams;
  }

  /** A byte from the guest. Written out once the hart yields, or when the buffer fills. */
  write(byte: number): void {
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
    // write() may keep the buffer it is given, so hand over this one and start a new one.
    this.streams.stdout.write(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(BUFFER_SIZE);
    this.used = 0;
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
  }
}
