// One idle Debian VM (128 MiB, a qcow2 overlay over the cached image) on Vireo, started with the
// arguments a host agent gives it, then the same guest on qemu-system-riscv64: once it has sat
// at its prompt for 45 s (past the VM's 30-second idle trim), the host CPU it uses, per thread
// (the scheduler's own count, /proc/PID/task/TID/schedstat: clock ticks miss or overcount the
// short bursts of an idle VM), and how often each thread wakes, over windows of 10 s, and the guest's own
// count of its interrupts meanwhile (/proc/interrupts, read before and after a `sleep`).
// Usage: npx tsc -p . && node dist/bench/idle-vm.js [WINDOWS]   (default 3; medians over them)

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_APPEND } from '../src/cli/default-guest.js';
import { VM_NODE_FLAGS, VM_PROCESS_ENV } from '../src/host/vm-process.js';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { qemuImg } from '../tests/storage/qemu-img.js';
import { BenchError } from './bench-error.js';
import { memoryOf } from './process-memory.js';
import { formatTable, median, ratio } from './report.js';
import { VIREO, VmProcess, vmCommand, type GuestBoot } from './vm-process.js';

const WINDOWS = Number(process.argv[2] ?? '3');
if (!Number.isInteger(WINDOWS) || WINDOWS < 1 || WINDOWS > 30) throw new BenchError('usage', `the window count must be 1 to 30, got ${process.argv[2]}`);
const RAM_MIB = 128;
const WINDOW_MS = 10_000;
const BOOT_MS = 600_000;
/** Idle VMs trim their translations and heaps after 30 s idle (src/vm/idle-memory.ts). */
const SETTLE_MS = 45_000;
const PROMPT = /root@vireo:[^\n]*# $/;
const TICKS_PER_S = 100;

/** One thread's time on a CPU (ns) and how many times it was put on one, from /proc/PID/task/TID/schedstat. */
interface ThreadSample {
  name: string;
  ns: number;
  runs: number;
}

/** The process's threads; the main thread (where JavaScript runs) is named "main", the others "NAME (other)". */
function threadsOf(pid: number): Map<number, ThreadSample> {
  const threads = new Map<number, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const [ns, , runs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      threads.set(Number(tid), { name: Number(tid) === pid ? 'main' : `${comm} (other)`, ns: ns!, runs: runs! });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/** utime + stime of the whole process in clock ticks, as /proc/PID/stat counts it (and the density benchmark). */
function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
  return Number(fields[11]) + Number(fields[12]);
}

/** Percent of one core (scheduler time and clock ticks), and per thread name the CPU and wake-ups per second, over one window. */
interface Window {
  total: number;
  ticks: number;
  byName: Map<string, { cpu: number; wakes: number }>;
}

async function measureWindow(pid: number): Promise<Window> {
  const before = threadsOf(pid);
  const ticksBefore = processTicks(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const after = threadsOf(pid);
  const seconds = (performance.now() - t0) / 1000;
  const ticks = ((processTicks(pid) - ticksBefore) / TICKS_PER_S / seconds) * 100;
  const byName = new Map<string, { cpu: number; wakes: number }>();
  let total = 0;
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { ns: 0, runs: 0 };
    const cpu = ((end.ns - start.ns) / 1e9 / seconds) * 100;
    const wakes = (end.runs - start.runs) / seconds;
    const entry = byName.get(end.name) ?? { cpu: 0, wakes: 0 };
    entry.cpu += cpu;
    entry.wakes += wakes;
    byName.set(end.name, entry);
    total += cpu;
  }
  return { total, ticks, byName };
}

/** The guest's interrupt counts by name, from the text of /proc/interrupts. */
function interruptCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+):\s+(\d+)\s+(.*)$/.exec(line.trim());
    if (m) counts.set(`${m[1]} ${m[3]!.trim().split(/\s+/).slice(-1)[0]}`, Number(m[2]));
  }
  return counts;
}

interface IdleRun {
  windows: Window[];
  /** PSS and RSS once the windows are over, in bytes. */
  pss: number;
  rss: number;
  /** Guest interrupts per second during the windows, by "irq name". */
  interrupts: Map<string, number>;
}

/** Boots, idles, then measures while the guest sleeps in one shell command that counts its interrupts. */
async function idleRun(vm: VmProcess): Promise<IdleRun> {
  try {
    await vm.waitFor(PROMPT, BOOT_MS);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const sleepS = Math.ceil((WINDOWS * WINDOW_MS) / 1000) + 4;
    const counted = vm.run(`cat /proc/interrupts; sleep ${sleepS}; echo ==between==; cat /proc/interrupts`, sleepS * 1000 + 60_000);
    // The shell has started its sleep by then.
    await new Promise((r) => setTimeout(r, 2000));
    const windows: Window[] = [];
    for (let i = 0; i < WINDOWS; i++) windows.push(await measureWindow(vm.pid!));
    const [first, second] = (await counted).split('==between==');
    const start = interruptCounts(first ?? '');
    const end = interruptCounts(second ?? '');
    const interrupts = new Map<string, number>();
    for (const [name, n] of end) interrupts.set(name, (n - (start.get(name) ?? 0)) / sleepS);
    return { windows, interrupts, pss: memoryOf(vm.pid!, 'Pss'), rss: memoryOf(vm.pid!, 'Rss') };
  } finally {
    await vm.kill();
  }
}

const image = await ensureDebianImage();
const dir = mkdtempSync(join(tmpdir(), 'vidle-'));
try {
  const overlay = (name: string) => {
    const path = join(dir, `${name}.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', '-b', image.rootDisk, '-F', 'raw', path);
    return path;
  };
  const boot: GuestBoot = { firmware: image.firmware, kernel: image.kernel, initrd: image.initrd, memoryMiB: RAM_MIB, append: DEBIAN_APPEND };
  // As src/host/vm-process.ts runs it: console on ttyS0, the tier on, the API on a socket.
  const vireo = await idleRun(new VmProcess('vireo', [process.execPath, [
    ...VM_NODE_FLAGS, VIREO, 'run', '--kernel', boot.kernel, '--bios', boot.firmware, '-m', String(RAM_MIB), '--console', 'ttyS0', '--jit', 'on',
    '--initrd', boot.initrd, '--append', boot.append, '--disk', `${overlay('vireo')},format=qcow2`, '--api', join(dir, 'vm.sock'),
  ]], VM_PROCESS_ENV));
  const qemu = await idleRun(new VmProcess('qemu', vmCommand('qemu', { ...boot, extraDisks: [{ path: overlay('qemu'), format: 'qcow2' }] })));

  const pct = (x: number) => `${x.toFixed(2)}%`;
  const medianOf = (run: IdleRun, f: 'total' | 'ticks') => median(run.windows.map((w) => w[f]));
  console.log(`One idle Debian VM (${RAM_MIB} MiB), ${WINDOWS} windows of ${WINDOW_MS / 1000} s after ${SETTLE_MS / 1000} s at its prompt; medians\n`);
  console.log(formatTable(['process', 'CPU, % of one core', 'windows', 'utime+stime', 'ratio to qemu'], [
    ['vireo', pct(medianOf(vireo, 'total')), vireo.windows.map((w) => w.total.toFixed(2)).join(' '), pct(medianOf(vireo, 'ticks')), ratio(medianOf(vireo, 'total') / Math.max(1e-9, medianOf(qemu, 'total')))],
    ['qemu', pct(medianOf(qemu, 'total')), qemu.windows.map((w) => w.total.toFixed(2)).join(' '), pct(medianOf(qemu, 'ticks')), ''],
  ]));
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(`\nHost memory of the idle VM (${RAM_MIB} MiB of guest RAM) after the windows`);
  console.log(formatTable(['process', 'PSS', 'RSS', 'PSS ratio to qemu'], [
    ['vireo', mib(vireo.pss), mib(vireo.rss), ratio(vireo.pss / Math.max(1, qemu.pss))],
    ['qemu', mib(qemu.pss), mib(qemu.rss), ''],
  ]));
  for (const [kind, run] of [['vireo', vireo], ['qemu', qemu]] as const) {
    const names = [...new Set(run.windows.flatMap((w) => [...w.byName.keys()]))];
    const rows = names.map((name) => {
      const of = (f: 'cpu' | 'wakes') => median(run.windows.map((w) => w.byName.get(name)?.[f] ?? 0));
      return [name, pct(of('cpu')), of('wakes').toFixed(1)];
    }).filter((row) => row[1] !== '0.00%' || row[2] !== '0.0');
    console.log(`\n${kind}: threads (medians)`);
    console.log(formatTable(['thread', 'CPU', 'wakes/s'], rows));
    console.log(`${kind}: guest interrupts per second`);
    console.log(formatTable(['irq', 'per s'], [...run.interrupts].filter(([, n]) => n > 0).map(([name, n]) => [name, n.toFixed(1)])));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
