// Disk I/O inside the Debian guest on Vireo and on qemu-system-riscv64 booted alike, on a
// second virtio-blk disk, raw and qcow2: sequential 1 MiB reads and writes (dd, direct I/O)
// and random 4 KiB reads and writes (bench/guest/diskio.c). Then how little a fresh 64 GiB
// qcow2 takes on disk, and how closely Vireo's per-disk I/O limits hold over 10 s.
// Usage: npm run bench:disk

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { checkTool } from '../src/images/run-tool.js';
import { Qcow2Image } from '../src/storage/qcow2/qcow2-image.js';
import { BenchError } from './bench-error.js';
import { cacheDir, GCC, programsDir, requireCompiler } from './benchmark-programs.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { formatTable, ratio } from './report.js';
import { VmProcess } from './vm-process.js';
import type { ExtraDisk, GuestBoot, VmKind } from './vm-process.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const APPEND = 'console=ttyS0 root=/dev/vda rw';
const MEMORY_MIB = 512;
const MiB = 1 << 20;
/** The scratch disk, all of it written with random bytes first, so that qcow2 has every cluster allocated. */
const SCRATCH_BYTES = 64 * MiB;
/** Where the program is on the guest's root disk. */
const GUEST_PROGRAM = '/diskio';
const BOOT_TIMEOUT_MS = 600_000;
const WORKLOAD_TIMEOUT_MS = 600_000;
/** Seconds of each random I/O run. */
const RANDOM_SECONDS = 5;

/** What a workload moved, by the guest's clock. */
interface Moved {
  ops: number;
  bytes: number;
  seconds: number;
}

interface Workload {
  name: string;
  /** What the table shows: megabytes (10^6) or operations per second. */
  unit: 'MB/s' | 'IOPS';
  command: (device: string) => string;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'seq read 1 MiB', unit: 'MB/s', command: (d) => `dd if=${d} of=/dev/null bs=1M count=${SCRATCH_BYTES / MiB} iflag=direct` },
  { name: 'seq write 1 MiB', unit: 'MB/s', command: (d) => `dd if=/dev/zero of=${d} bs=1M count=${SCRATCH_BYTES / MiB} oflag=direct` },
  { name: 'rand read 4 KiB', unit: 'IOPS', command: (d) => diskio('read', 'rand', 4096, SCRATCH_BYTES, `${RANDOM_SECONDS}s`, d) },
  { name: 'rand write 4 KiB', unit: 'IOPS', command: (d) => diskio('write', 'rand', 4096, SCRATCH_BYTES, `${RANDOM_SECONDS}s`, d) },
];

function diskio(op: 'read' | 'write', pattern: 'rand' | 'seq', block: number, span: number, limit: string, device: string): string {
  return `${GUEST_PROGRAM} ${op} ${pattern} ${block} ${span} ${limit} ${device}`;
}

function rate(unit: Workload['unit'], m: Moved): number {
  return unit === 'IOPS' ? m.ops / m.seconds : m.bytes / m.seconds / 1e6;
}

/** What dd or diskio printed (kernel messages may come around it). */
function parseMoved(where: string, printed: string, block: number): Moved {
  const dd = /(\d+) bytes .*copied, ([\d.]+) s/.exec(printed);
  if (dd) return { bytes: Number(dd[1]), ops: Number(dd[1]) / block, seconds: Number(dd[2]) };
  const own = /diskio ops=(\d+) bytes=(\d+) ns=(\d+)/.exec(printed);
  if (own) return { ops: Number(own[1]), bytes: Number(own[2]), seconds: Number(own[3]) / 1e9 };
  throw new BenchError('wrong-result', `${where}: no transfer summary in the output:\n${printed}`);
}

/** Builds bench/guest/diskio.c into the benchmark cache (keyed by compiler and source) and returns its path. */
function buildDiskio(): string {
  const version = requireCompiler();
  const source = join(programsDir(), '..', 'guest', 'diskio.c');
  const flags = ['-O2', '-march=rv64gc', '-mabi=lp64d', '-ffreestanding', '-nostdlib', '-nostartfiles', '-static', '-Wall', '-Wextra', '-Werror', '-Wl,--no-relax'];
  const hash = createHash('sha256').update(`${version}\0${flags.join(' ')}\0`).update(readFileSync(source)).digest('hex').slice(0, 16);
  const out = join(cacheDir(), `diskio-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(GCC, [...flags, source, '-o', tmp], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new BenchError('compile-failed', `${GCC} failed on ${source}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`, { cause: r.error });
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, out);
  return out;
}

/** The guest's /dev/vdX of `bytes` bytes (disk sizes tell the disks apart, whatever order the kernel probed them in). */
async function deviceOfSize(vm: VmProcess, bytes: number): Promise<string> {
  const out = await vm.run('for d in /sys/block/vd*; do echo "disk ${d##*/} $(cat $d/size)"; done', WORKLOAD_TIMEOUT_MS);
  for (const m of out.matchAll(/disk (vd[a-z]+) (\d+)/g)) if (Number(m[2]) * 512 === bytes) return `/dev/${m[1]}`;
  throw new BenchError('wrong-result', `${vm.kind}: no disk of ${bytes} bytes in the guest; it has:\n${out}`);
}

/** Boots, runs `body` at the prompt, and powers off. */
async function withGuest<T>(kind: VmKind, boot: GuestBoot, body: (vm: VmProcess) => Promise<T>): Promise<T> {
  const vm = new VmProcess(kind, boot);
  try {
    await vm.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const result = await body(vm);
    vm.type('sync; poweroff -f');
    const { status } = await vm.exit(120_000);
    if (status !== 0) throw new BenchError('vm-failed', `${kind} ended with status ${status} after poweroff`);
    return result;
  } finally {
    await vm.kill();
  }
}

/** Runs `command` in the guest and returns what it moved, by the guest's own clock. */
async function measure(vm: VmProcess, what: string, command: string, block: number): Promise<Moved> {
  const moved = parseMoved(`${vm.kind}: ${what}`, await vm.run(`${command} 2>&1`, WORKLOAD_TIMEOUT_MS), block);
  console.log(`${vm.kind}: ${what}: ${moved.ops.toFixed(0)} ops, ${(moved.bytes / MiB).toFixed(1)} MiB in ${moved.seconds.toFixed(2)} s`);
  return moved;
}

/** The VM's own complaint (an option it does not know, say), which says more than the wait that failed. */
function vmComplaint(e: BenchError): string {
  return /vireo: ([^\n]*)/.exec(e.message)?.[1] ?? e.message.split('\n')[0]!;
}

/** One cell: the rate, or why the run failed. */
type Cell = { rate: number } | { failed: string };

async function runWorkloads(kind: VmKind, boot: GuestBoot, format: string): Promise<Cell[]> {
  try {
    return await withGuest(kind, boot, async (vm) => {
      const device = await deviceOfSize(vm, SCRATCH_BYTES);
      const cells: Cell[] = [];
      for (const w of WORKLOADS) cells.push({ rate: rate(w.unit, await measure(vm, `${format} ${w.name}`, w.command(device), w.unit === 'IOPS' ? 4096 : MiB)) });
      return cells;
    });
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    const said = vmComplaint(e);
    console.error(`${kind} with a ${format} disk failed: ${e.message}`);
    return WORKLOADS.map(() => ({ failed: said }));
  }
}

/** Bytes a fresh 64 GiB qcow2 made by Vireo takes on the host's disk (blocks allocated). */
async function thinOverhead(dir: string): Promise<{ allocated: number; length: number }> {
  const path = join(dir, 'thin.qcow2');
  const image = await Qcow2Image.create(path, { size: 64 * 1024 * MiB });
  await image.close();
  const st = statSync(path);
  return { allocated: st.blocks * 512, length: st.size };
}

interface QosResult {
  name: string;
  limit: number;
  measured: number;
  unit: string;
}

/**
 * One Vireo guest with two more disks, one limited to 200 IOPS (random 4 KiB reads) and one to
 * 4 MiB/s (sequential 64 KiB writes). Each is driven 2 s first, so the burst the idle disk
 * saved up is spent, then measured over 10 s.
 */
async function qosAccuracy(base: GuestBoot, dir: string): Promise<QosResult[]> {
  const iopsDisk = join(dir, 'qos-iops.raw');
  const bpsDisk = join(dir, 'qos-bps.raw');
  const bpsBytes = 80 * MiB; // another size than the IOPS disk, to find each in the guest
  writeFileSync(iopsDisk, '');
  truncateSync(iopsDisk, SCRATCH_BYTES);
  writeFileSync(bpsDisk, '');
  truncateSync(bpsDisk, bpsBytes);
  const extraDisks: ExtraDisk[] = [
    { path: iopsDisk, format: 'raw', vireoOptions: 'iops=200' },
    { path: bpsDisk, format: 'raw', vireoOptions: 'bps=4M' },
  ];
  return withGuest('vireo', { ...base, extraDisks }, async (vm) => {
    const iopsDevice = await deviceOfSize(vm, SCRATCH_BYTES);
    const bpsDevice = await deviceOfSize(vm, bpsBytes);
    await measure(vm, 'iops=200 warm-up', diskio('read', 'rand', 4096, SCRATCH_BYTES, '2s', iopsDevice), 4096);
    const iops = await measure(vm, 'iops=200', diskio('read', 'rand', 4096, SCRATCH_BYTES, '10s', iopsDevice), 4096);
    await measure(vm, 'bps=4M warm-up', diskio('write', 'seq', 65536, bpsBytes, '2s', bpsDevice), 65536);
    const bps = await measure(vm, 'bps=4M', diskio('write', 'seq', 65536, bpsBytes, '10s', bpsDevice), 65536);
    return [
      { name: 'iops=200, random 4 KiB reads', limit: 200, measured: iops.ops / iops.seconds, unit: 'IOPS' },
      { name: 'bps=4M, sequential 64 KiB writes', limit: 4, measured: bps.bytes / bps.seconds / MiB, unit: 'MiB/s' },
    ];
  });
}

async function main(): Promise<void> {
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  const qemu = qemuVersion();
  if (qemu === null) throw new BenchError('qemu-failed', `${QEMU} is not installed (Debian: qemu-system-misc); this benchmark compares against it`);
  const program = buildDiskio();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-disk-'));
  try {
    const base = join(dir, 'base.ext4');
    copyFileSync(image.rootDisk, base);
    await checkTool('debugfs', ['-w', '-R', `write ${program} ${GUEST_PROGRAM.slice(1)}`, base]);
    await checkTool('debugfs', ['-w', '-R', `sif ${GUEST_PROGRAM} mode 0100755`, base]);
    const scratch = { raw: join(dir, 'scratch.raw'), qcow2: join(dir, 'scratch.qcow2') };
    writeFileSync(scratch.raw, randomBytes(SCRATCH_BYTES));
    await checkTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', scratch.raw, scratch.qcow2]);

    /** A fresh copy of the root disk and of the scratch disk for every guest, so each starts alike. */
    const bootWith = (format: 'raw' | 'qcow2' | null): GuestBoot => {
      const disk = join(dir, 'root.ext4');
      copyFileSync(base, disk);
      const extraDisks: ExtraDisk[] = [];
      if (format !== null) {
        const copy = join(dir, `disk.${format}`);
        copyFileSync(scratch[format], copy);
        extraDisks.push({ path: copy, format });
      }
      return { firmware: image.firmware, kernel: image.kernel, initrd: image.initrd, disk, extraDisks, memoryMiB: MEMORY_MIB, append: APPEND };
    };

    const rows: string[][] = [];
    const failures: string[] = [];
    for (const format of ['raw', 'qcow2'] as const) {
      const cells = new Map<VmKind, Cell[]>();
      for (const kind of ['qemu', 'vireo'] as const) cells.set(kind, await runWorkloads(kind, bootWith(format), format));
      WORKLOADS.forEach((w, i) => {
        const q = cells.get('qemu')![i]!;
        const v = cells.get('vireo')![i]!;
        const show = (c: Cell): string => ('rate' in c ? c.rate.toFixed(w.unit === 'IOPS' ? 0 : 1) : 'failed');
        rows.push([`${w.name} (${w.unit})`, format, show(q), show(v), 'rate' in q && 'rate' in v ? ratio(v.rate / q.rate) : '-']);
      });
      for (const [kind, c] of cells) if (c[0] && 'failed' in c[0]) failures.push(`${kind} with a ${format} disk failed: ${c[0].failed}`);
    }

    const thin = await thinOverhead(dir);
    let qos: QosResult[] | string;
    try {
      qos = await qosAccuracy(bootWith(null), dir);
    } catch (e) {
      if (!(e instanceof BenchError)) throw e;
      qos = vmComplaint(e);
    }

    console.log(`\nDebian ${image.versions.kernelRelease}, ${MEMORY_MIB} MiB, one hart; a second virtio-blk disk of ${SCRATCH_BYTES / MiB} MiB (random data), direct I/O, one request at a time; ${qemu}`);
    console.log(formatTable(['in the guest', 'format', 'qemu', 'vireo', 'vireo/qemu'], rows));
    for (const f of failures) console.log(f);
    const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`\nThin provisioning: a fresh 64 GiB qcow2 (Qcow2Image.create) takes ${kib(thin.allocated)} on disk (file length ${kib(thin.length)}); target under 1024 KiB: ${thin.allocated < MiB ? 'met' : 'NOT met'}`);
    if (typeof qos === 'string') {
      console.log(`\nQoS: the limited guest failed: ${qos}`);
    } else {
      console.log('\nQoS on Vireo, 10 s after a 2 s warm-up');
      console.log(formatTable(['limit', 'limit', 'measured', 'error', 'within 5%'], qos.map((q) => {
        const error = (q.measured - q.limit) / q.limit;
        return [q.name, `${q.limit} ${q.unit}`, `${q.measured.toFixed(q.unit === 'IOPS' ? 1 : 3)} ${q.unit}`, `${(error * 100).toFixed(2)}%`, Math.abs(error) <= 0.05 ? 'yes' : 'NO'];
      })));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
