// A client of QEMU's machine protocol (QMP, JSON lines on a Unix socket) for the benchmarks
// that drive QEMU as a reference: stop, cont, migrate, query-migrate, quit.

import { connect, type Socket } from 'node:net';
import { BenchError } from './bench-error.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The QEMU option that serves QMP on `socketPath` without waiting for a client. */
export function qmpOption(socketPath: string): string[] {
  return ['-qmp', `unix:${socketPath},server=on,wait=off`];
}

/** What query-migrate answers (the fields the benchmarks read); times in ms, ram counts in pages and bytes. */
export interface QemuMigrateInfo {
  status: string;
  'total-time'?: number;
  downtime?: number;
  ram?: { transferred: number; total: number; duplicate: number; normal: number; 'dirty-sync-count': number };
}

export function queryMigrate(qmp: QemuQmp): Promise<QemuMigrateInfo> {
  return qmp.execute<QemuMigrateInfo>('query-migrate');
}

export class QemuQmp {
  private buffered = '';
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private greeting: Pending | null = null;

  private constructor(private readonly socket: Socket, readonly socketPath: string) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.receive(d));
    socket.on('close', () => this.failAll(new BenchError('qemu-failed', `QEMU closed its QMP socket ${socketPath}`)));
    socket.on('error', (e) => this.failAll(new BenchError('qemu-failed', `QMP socket ${socketPath}: ${e.message}`, { cause: e })));
  }

  /** Connects (retrying while QEMU has not created the socket yet) and leaves capabilities negotiation. */
  static async connect(socketPath: string, timeoutMs = 30_000): Promise<QemuQmp> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(socketPath);
          s.once('connect', () => { s.off('error', reject); resolve(s); });
          s.once('error', reject);
        });
        const qmp = new QemuQmp(socket, socketPath);
        await new Promise<unknown>((resolve, reject) => (qmp.greeting = { resolve, reject }));
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (e) {
        if (performance.now() > deadline) throw new BenchError('qemu-failed', `cannot reach QEMU's QMP socket ${socketPath} within ${timeoutMs / 1000} s: ${(e as Error).message}`, { cause: e });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }

  /** Runs one command and returns its "return" value; a QMP error is thrown. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const id = `c${++this.nextId}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(data: string): void {
    this.buffered += data;
    let end: number;
    while ((end = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, end).trim();
      this.buffered = this.buffered.slice(end + 1);
      if (line === '') continue;
      const message = JSON.parse(line) as { QMP?: unknown; id?: string; return?: unknown; error?: { class: string; desc: string } };
      if (message.QMP !== undefined) {
        this.greeting?.resolve(message.QMP);
        this.greeting = null;
        continue;
      }
      const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
      if (waiting === undefined) continue; // an event
      this.pending.delete(message.id!);
      if (message.error) waiting.reject(new BenchError('qemu-failed', `QEMU refused a QMP command: ${message.error.class}: ${message.error.desc}`));
      else waiting.resolve(message.return);
    }
  }

  private failAll(error: Error): void {
    this.greeting?.reject(error);
    this.greeting = null;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
