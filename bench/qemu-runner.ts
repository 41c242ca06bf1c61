// Runs a benchmark ELF on QEMU's virt board (the reference for speed and for the programs'
// output) and measures the wall time of the whole process, start-up included.

import { spawn, spawnSync } from 'node:child_process';
import { BenchError } from './bench-error.js';

export const QEMU = 'qemu-system-riscv64';

/**
 * QEMU's default rv64 CPU has extensions Vireo lacks; the programs are RV64GC anyway, but
 * switching them off keeps the two machines alike.
 */
const QEMU_ARGS = [
  '-M', 'virt', '-bios', 'none', '-nographic', '-m', '256',
  '-cpu', 'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false',
];

export interface QemuRun {
  /** Exit status: 0 for a pass through the test finisher, the fail code otherwise; null if killed. */
  status: number | null;
  seconds: number;
  output: string;
  timedOut: boolean;
}

/** QEMU's version line, or null when it does not run. */
export function qemuVersion(): string | null {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0] ?? '';
}

export function runOnQemu(elf: string, timeoutMs = 120_000): Promise<QemuRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(QEMU, [...QEMU_ARGS, '-kernel', elf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('latin1').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new BenchError('qemu-failed', `cannot run ${QEMU}: ${err.message}`, { cause: err }));
    });
    child.on('close', (status) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      // -nographic may turn the guest's "\n" into "\r\n" on the way out.
      resolve({ status, seconds, output: output.replace(/\r\n/g, '\n'), timedOut });
    });
  });
}
