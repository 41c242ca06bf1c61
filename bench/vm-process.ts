// A virtual machine run as a child process, Vireo's CLI or qemu-system-riscv64 with the same
// board, for the guest benchmarks: its console output, typed input, wall time since it was
// started and peak resident set.

import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.js';
import { QEMU } from './qemu-runner.js';

export const VIREO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'vireo.js');
/** How often the peak RSS is read while the process runs (it is gone once the process exits). */
const RSS_SAMPLE_MS = 100;

/** What both machines boot: Debian's OpenSBI, kernel and initrd, optionally a root disk. */
export interface GuestBoot {
  firmware: string;
  kernel: string;
  initrd: string;
  /** A raw disk image, attached as virtio-blk (/dev/vda). */
  disk?: string;
  /** More virtio-blk disks after it, in order. */
  extraDisks?: ExtraDisk[];
  memoryMiB: number;
  append: string;
}

export interface ExtraDisk {
  path: string;
  format: 'raw' | 'qcow2';
  /** More of Vireo's --disk options, e.g. "iops=200" (QEMU runs ignore them). */
  vireoOptions?: string;
}

/** Vireo's --disk argument for an extra disk; a raw one without format=, which is the default. */
function vireoDisk(d: ExtraDisk): string {
  return [d.path, ...(d.format === 'raw' ? [] : [`format=${d.format}`]), ...(d.vireoOptions ? [d.vireoOptions] : [])].join(',');
}

/** QEMU's drive and device arguments for disk `id`, in the order given. */
function qemuDisk(id: string, path: string, format: ExtraDisk['format']): string[] {
  return ['-drive', `file=${path},format=${format},if=none,id=${id}`, '-device', `virtio-blk-device,drive=${id}`];
}

export type VmKind = 'vireo' | 'vireo --jit off' | 'qemu';

/** A program and its arguments. */
export type CommandLine = readonly [string, readonly string[]];

/** The command line that boots `boot` on Vireo (tier on or off) or on QEMU's virt board with one hart. */
export function vmCommand(kind: VmKind, boot: GuestBoot): [string, string[]] {
  if (kind !== 'qemu') {
    return [process.execPath, [
      VIREO, 'run', '--bios', boot.firmware, '--kernel', boot.kernel, '--initrd', boot.initrd,
      ...(boot.disk ? ['--disk', boot.disk] : []),
      ...(boot.extraDisks ?? []).flatMap((d) => ['--disk', vireoDisk(d)]),
      '-m', String(boot.memoryMiB), '--append', boot.append, '--jit', kind === 'vireo' ? 'on' : 'off',
    ]];
  }
  return [QEMU, [
    '-M', 'virt', '-smp', '1', '-m', String(boot.memoryMiB), '-nographic',
    // The extensions Vireo lacks switched off, so both run the same kernel code paths.
    '-cpu', 'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,sstc=true',
    '-bios', boot.firmware, '-kernel', boot.kernel, '-initrd', boot.initrd, '-append', boot.append,
    ...(boot.disk ? qemuDisk('root', boot.disk, 'raw') : []),
    ...(boot.extraDisks ?? []).flatMap((d, i) => qemuDisk(`disk${i + 1}`, d.path, d.format)),
  ]];
}

/** Peak resident set of a live process in MiB, from VmHWM in /proc/PID/status (null off Linux or once it exited). */
export function peakRssMiB(pid: number | undefined): number | null {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? null : Number(kib) / 1024;
  } catch {
    return null;
  }
}

interface Waiter {
  pattern: RegExp;
  from: number;
  resolve: (seconds: number) => void;
  reject: (error: Error) => void;
}

export class VmProcess {
  /** Everything the VM wrote to stdout and stderr so far, with "\r\n" as the console sends it. */
  output = '';
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly started = performance.now();
  private readonly waiters = new Set<Waiter>();
  private readonly sampler: NodeJS.Timeout;
  private readonly closed: Promise<number | null>;
  private ended: { status: number | null; seconds: number } | null = null;
  private peak: number | null = null;
  private commands = 0;

  /**
   * Boots `boot`, or runs a command line of its own (a restore, a migration's destination);
   * `env` adds variables to this process's environment for the VM's.
   */
  constructor(readonly kind: VmKind, boot: GuestBoot | CommandLine, env: Readonly<Record<string, string>> = {}) {
    const [command, args] = Array.isArray(boot) ? boot as CommandLine : vmCommand(kind, boot as GuestBoot);
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.sampler = setInterval(() => this.peakRssMiB(), RSS_SAMPLE_MS);
    const onData = (d: string): void => {
      this.output += d;
      for (const w of this.waiters) {
        if (!w.pattern.test(this.output.slice(w.from))) continue;
        this.waiters.delete(w);
        w.resolve(this.elapsed());
      }
    };
    this.child.stdout.setEncoding('utf8').on('data', onData);
    this.child.stderr.setEncoding('utf8').on('data', onData);
    this.child.stdin.on('error', () => {}); // a VM that exits while we type: seen in close below
    this.closed = new Promise((resolve) => {
      const end = (status: number | null, error?: Error): void => {
        if (this.ended) return;
        this.ended = { status, seconds: this.elapsed() };
        clearInterval(this.sampler);
        const why = error ? `cannot start ${command}: ${error.message}` : `${kind} exited (status ${status})`;
        for (const w of this.waiters) w.reject(new BenchError('vm-failed', `${why} before printing ${w.pattern}; output:\n${this.tail()}`));
        this.waiters.clear();
        resolve(status);
      };
      this.child.on('error', (e) => end(null, e));
      this.child.on('close', (status) => end(status));
    });
  }

  /** The process id (undefined if it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Seconds since the process was started. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The highest peak RSS seen so far, read again now if the process still runs. */
  peakRssMiB(): number | null {
    const now = this.ended ? null : peakRssMiB(this.child.pid);
    if (now !== null) this.peak = Math.max(this.peak ?? 0, now);
    return this.peak;
  }

  /** Resolves with the seconds since start at which the output (from `from` on) matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<number> {
    if (pattern.test(this.output.slice(from))) return Promise.resolve(this.elapsed());
    if (this.ended) return Promise.reject(new BenchError('vm-failed', `${this.kind} exited before printing ${pattern}; output:\n${this.tail()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new BenchError('vm-failed', `${this.kind}: no ${pattern} within ${timeoutMs / 1000} s; output:\n${this.tail()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pattern, from,
        resolve: (s) => { clearTimeout(timer); resolve(s); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.waiters.add(waiter);
    });
  }

  /** Types a line at the serial console. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /**
   * Runs a shell command and returns what it printed (without "\r"). Its output lies between
   * markers the typed line itself cannot contain, so the echo of the line and the prompt stay out.
   */
  async run(command: string, timeoutMs: number): Promise<string> {
    const from = this.output.length;
    const tag = ++this.commands;
    this.type(`echo "==[start-""${tag}]=="; ${command}; echo "==[done-""${tag}]=="`);
    const done = new RegExp(`==\\[done-${tag}\\]==`);
    await this.waitFor(done, timeoutMs, from);
    const text = this.output.slice(from).replace(/\r/g, '');
    const start = new RegExp(`==\\[start-${tag}\\]==\n`).exec(text);
    if (!start) throw new BenchError('vm-failed', `${this.kind}: the start marker of ${JSON.stringify(command)} is missing; output:\n${this.tail()}`);
    const body = text.slice(start.index + start[0].length);
    return body.slice(0, body.search(done));
  }

  /** Waits for the process to exit by itself; its status and seconds since start. */
  async exit(timeoutMs: number): Promise<{ status: number | null; seconds: number }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BenchError('vm-failed', `${this.kind} did not exit within ${timeoutMs / 1000} s; output:\n${this.tail()}`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, late]);
      return this.ended!;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process (after one last peak RSS reading) and waits until it is gone. */
  async kill(): Promise<void> {
    this.peakRssMiB();
    this.child.kill('SIGKILL');
    await this.closed;
  }

  private tail(): string {
    return this.output.slice(-3000);
  }
}

/** Seconds from start until a VM printed something, and its peak resident set then (MiB, null off Linux). */
export interface BootMeasure {
  seconds: number;
  peakRssMiB: number | null;
}

/** Boots a VM, measures the time until `pattern` appears and its peak RSS, then kills it. */
export async function timeUntil(kind: VmKind, boot: GuestBoot | CommandLine, pattern: RegExp, timeoutMs: number): Promise<BootMeasure> {
  const vm = new VmProcess(kind, boot);
  try {
    const seconds = await vm.waitFor(pattern, timeoutMs);
    return { seconds, peakRssMiB: vm.peakRssMiB() };
  } finally {
    await vm.kill();
  }
}
