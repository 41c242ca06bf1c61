// The host side of a switch shared by VM processes: a Unix socket where each connection is one
// port of a VirtualSwitch. Frames from a connection enter the switch at its port; frames the
// switch queues for the port are written back. Queues are bounded at both ends: a peer that
// does not read loses frames (counted on its port), never the host's memory.

import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { VirtualSwitch, type SwitchPort } from '../virtual-switch.js';
import { encodeFrame, FrameStream, GREETING } from './frame-stream.js';
import { SwitchSocketError } from './switch-socket-error.js';

export interface SwitchServerOptions {
  /** The switch the connections join (default: a new one). */
  switch?: VirtualSwitch;
  /** Connections served at once; more are refused (default 64). */
  maxConnections?: number;
  /** Bytes queued in the kernel's and node's buffers for one connection before frames for it wait in its port's queue (default 256 KiB). */
  writeHighWater?: number;
  log?: (line: string) => void;
}

export interface SwitchConnectionInfo {
  port: string;
  /** Frames the peer sent that were skipped for their length. */
  skipped: number;
}

export class SwitchServer {
  readonly switch: VirtualSwitch;
  private readonly server: Server;
  private readonly connections = new Map<Socket, { port: SwitchPort; skipped: number }>();
  private readonly maxConnections: number;
  private readonly highWater: number;
  private readonly log: (line: string) => void;
  private nextId = 0;

  private constructor(readonly path: string, options: SwitchServerOptions) {
    this.switch = options.switch ?? new VirtualSwitch({ log: (line) => this.log(line) });
    this.maxConnections = options.maxConnections ?? 64;
    this.highWater = options.writeHighWater ?? 256 * 1024;
    this.log = options.log ?? (() => {});
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Serves a switch at `path` (mode 0600); a stale socket left there is replaced, a live one refused. */
  static async listen(path: string, options: SwitchServerOptions = {}): Promise<SwitchServer> {
    await claimPath(path);
    const s = new SwitchServer(path, options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (e) => reject(new SwitchSocketError('listen-failed', `cannot serve a switch at ${path}: ${e.message}`, path, { cause: e })));
      const umask = process.umask(0o177);
      try {
        s.server.listen(path, resolve);
      } finally {
        process.umask(umask);
      }
    });
    await chmod(path, 0o600);
    return s;
  }

  /** The connections now joined, by port name. */
  get clients(): SwitchConnectionInfo[] {
    return [...this.connections.values()].map(({ port, skipped }) => ({ port: port.name, skipped }));
  }

  /** Closes every connection and the socket, and removes the socket file. */
  async close(): Promise<void> {
    for (const socket of this.connections.keys()) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.connections.size >= this.maxConnections) {
      this.log(`switch ${this.path}: refused a connection: ${this.maxConnections} are joined already`);
      socket.destroy();
      return;
    }
    const port = this.switch.createPort({ name: `conn${this.nextId++}` });
    const entry = { port, skipped: 0 };
    this.connections.set(socket, entry);
    const flush = (): void => {
      while (port.pending > 0 && socket.writable && socket.writableLength < this.highWater) socket.write(encodeFrame(port.receive()!));
    };
    let scheduled = false;
    // The listener runs inside another port's send(): only note it and write afterwards.
    port.onReceive(() => {
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        flush();
      });
    });
    socket.on('drain', flush);
    const stream = new FrameStream({
      frame: (frame) => port.send(frame),
      skipped: (length) => {
        if (entry.skipped++ === 0) this.log(`switch ${this.path}: ${port.name} sent a ${length}-byte frame, outside 14..1518; skipped (further ones only counted)`);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      if (!stream.push(chunk)) {
        this.log(`switch ${this.path}: ${port.name} does not speak the switch protocol; disconnected`);
        socket.destroy();
      }
    });
    socket.on('close', () => {
      port.detach();
      this.connections.delete(socket);
    });
    socket.write(GREETING);
  }
}

/** Frees `path` for the server: removes a socket nobody answers on, refuses anything else. */
async function claimPath(path: string): Promise<void> {
  const stats = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new SwitchSocketError('listen-failed', `cannot check the switch socket path ${path}: ${e.message}`, path, { cause: e });
  });
  if (stats === null) return;
  if (!stats.isSocket()) throw new SwitchSocketError('listen-failed', `${path} exists and is not a socket; choose another path or remove the file`, path);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    const done = (answer: boolean): void => {
      probe.destroy();
      resolve(answer);
    };
    probe.once('connect', () => done(true));
    probe.once('error', (e: NodeJS.ErrnoException) => done(e.code !== 'ECONNREFUSED'));
  });
  if (alive) throw new SwitchSocketError('socket-in-use', `a switch (or something else) already answers at ${path}; use it, or stop it first`, path);
  await unlink(path).catch(() => {});
}
