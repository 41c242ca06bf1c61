// Debian userland workloads, xz -9 and sha256sum of a generated 4 MiB file, timed inside the
// guest on Vireo (translation tier) and on qemu-system-riscv64 booted alike (firmware, kernel,
// initrd, root disk, memory), with the same commands run natively on the host for scale.
// Usage: npm run bench:userland

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { checkTool } from '../src/images/run-tool.js';
import { BenchError } from './bench-error.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { formatTable, ratio } from './report.js';
import { VmProcess } from './vm-process.js';
import type { GuestBoot, VmKind } from './vm-process.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const APPEND = 'console=ttyS0 root=/dev/vda rw';
const MEMORY_MIB = 512;
const DATA_BYTES = 4 << 20;
/** Where the file is on the guest's root disk (written there before boot). */
const GUEST_FILE = '/bench-data.bin';
const BOOT_TIMEOUT_MS = 600_000;
const WORKLOAD_TIMEOUT_MS = 1_800_000;

/** Each workload is one shell command line over FILE, with what a right answer looks like. */
const WORKLOADS: Array<{ name: string; command: (file: string) => string; ok: (output: string, sha256: string) => boolean }> = [
  // -T1: xz's single-threaded encoder everywhere (newer xz defaults to -T0). Prints the compressed size.
  { name: 'xz -9', command: (file) => `xz -9 -T1 -c ${file} | wc -c`, ok: (out) => /^[1-9]\d*$/.test(out) },
  { name: 'sha256sum', command: (file) => `sha256sum ${file} | cut -d' ' -f1`, ok: (out, sha256) => out === sha256 },
];

/**
 * Text lines of a hex number and words drawn from a random vocabulary, from a fixed-seed
 * xorshift32: the same bytes on every run, and about 3:1 for xz.
 */
function benchData(size: number): Buffer {
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 1024 }, () => Array.from({ length: 2 + (next() % 8) }, () => letters[next() % 26]).join(''));
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; ) {
    const line = [next().toString(16).padStart(8, '0'), ...Array.from({ length: 6 + (next() % 7) }, () => words[next() % words.length])];
    at += out.write(`${line.join(' ')}\n`, at, 'latin1');
  }
  return out;
}

interface Timed {
  seconds: number;
  output: string;
}

/** The last line a workload printed, after checking it; kernel messages may come before it. */
function result(where: string, w: (typeof WORKLOADS)[number], printed: string, sha256: string): string {
  const out = printed.trim().split('\n').at(-1)!.trim();
  if (!w.ok(out, sha256)) throw new BenchError('wrong-result', `${where}: ${w.name} went wrong; it printed:\n${printed}`);
  return out;
}

function onHost(file: string, sha256: string): Timed[] {
  return WORKLOADS.map((w) => {
    const started = performance.now();
    const r = spawnSync('sh', ['-c', w.command(file)], { encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, output: result('host', w, `${r.stdout}${r.stderr}`, sha256) };
  });
}

interface GuestRun {
  boot: number;
  workloads: Timed[];
  /** Seconds from start to exit: boot, workloads and power-off. */
  total: number;
  peakRssMiB: number | null;
}

async function inGuest(kind: VmKind, boot: GuestBoot, sha256: string): Promise<GuestRun> {
  const vm = new VmProcess(kind, boot);
  try {
    const bootSeconds = await vm.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    // Read the file once, so the workloads find it in the page cache and time the CPU, not the
    // disk. xz -9 asks for 674 MiB, more than RAM, but touches about a fifth of it on this file:
    // let the kernel overcommit, as it would allow on a machine with more memory.
    const size = (await vm.run(`echo 1 > /proc/sys/vm/overcommit_memory; cat ${GUEST_FILE} | wc -c`, WORKLOAD_TIMEOUT_MS)).trim();
    if (size !== String(DATA_BYTES)) throw new BenchError('wrong-result', `${kind}: ${GUEST_FILE} has ${size} bytes, not ${DATA_BYTES}`);
    const workloads: Timed[] = [];
    for (const w of WORKLOADS) {
      // Timed by the guest's own clock, so typing and console latency stay out.
      const out = await vm.run(`t0=$(date +%s.%N); ${w.command(GUEST_FILE)}; t1=$(date +%s.%N); echo "guest-time $t0 $t1"`, WORKLOAD_TIMEOUT_MS);
      const time = /guest-time (\d+\.\d+) (\d+\.\d+)/.exec(out);
      if (!time) throw new BenchError('wrong-result', `${kind}: ${w.name} printed no guest time; output:\n${out}`);
      workloads.push({ seconds: Number(time[2]) - Number(time[1]), output: result(kind, w, out.slice(0, time.index), sha256) });
      console.log(`${kind}: ${w.name} took ${workloads.at(-1)!.seconds.toFixed(2)} s in the guest, printed ${workloads.at(-1)!.output}`);
    }
    vm.type('sync; poweroff -f');
    const { status, seconds } = await vm.exit(120_000);
    if (status !== 0) throw new BenchError('vm-failed', `${kind} ended with status ${status} after poweroff`);
    return { boot: bootSeconds, workloads, total: seconds, peakRssMiB: vm.peakRssMiB() };
  } finally {
    await vm.kill();
  }
}

async function main(): Promise<void> {
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  if (qemuVersion() === null) throw new BenchError('qemu-failed', `${QEMU} is not installed (Debian: qemu-system-misc); this benchmark compares against it`);
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-userland-'));
  try {
    const data = benchData(DATA_BYTES);
    const hostFile = join(dir, 'bench-data.bin');
    writeFileSync(hostFile, data);
    const base = join(dir, 'base.ext4');
    copyFileSync(image.rootDisk, base);
    await checkTool('debugfs', ['-w', '-R', `write ${hostFile} ${GUEST_FILE.slice(1)}`, base]);

    const sha256 = createHash('sha256').update(data).digest('hex');
    const host = onHost(hostFile, sha256);

    const runs = new Map<VmKind, GuestRun>();
    for (const kind of ['qemu', 'vireo'] as const) {
      const disk = join(dir, 'root.ext4');
      copyFileSync(base, disk);
      runs.set(kind, await inGuest(kind, { firmware: image.firmware, kernel: image.kernel, initrd: image.initrd, disk, memoryMiB: MEMORY_MIB, append: APPEND }, sha256));
    }
    const vireo = runs.get('vireo')!;
    const qemu = runs.get('qemu')!;

    const s = (x: number): string => x.toFixed(2);
    const rows = [
      ...WORKLOADS.map((w, i) => [w.name, s(host[i]!.seconds), s(qemu.workloads[i]!.seconds), s(vireo.workloads[i]!.seconds), ratio(vireo.workloads[i]!.seconds / qemu.workloads[i]!.seconds)]),
      ['boot to prompt', '-', s(qemu.boot), s(vireo.boot), ratio(vireo.boot / qemu.boot)],
      ['whole run', '-', s(qemu.total), s(vireo.total), ratio(vireo.total / qemu.total)],
    ];
    const rss = qemu.peakRssMiB !== null && vireo.peakRssMiB !== null
      ? ['peak RSS MiB', '-', qemu.peakRssMiB.toFixed(0), vireo.peakRssMiB.toFixed(0), ratio(vireo.peakRssMiB / qemu.peakRssMiB)]
      : ['peak RSS MiB', '-', 'n/a', 'n/a', '-'];
    console.log(`\nDebian ${image.versions.kernelRelease}, ${MEMORY_MIB} MiB, one hart, root on virtio-blk; a generated ${DATA_BYTES >> 20} MiB file, sha256 ${sha256} (host, QEMU and Vireo agree)`);
    console.log(`xz -9 output: host ${host[0]!.output} bytes, QEMU ${qemu.workloads[0]!.output}, Vireo ${vireo.workloads[0]!.output} (host and guest xz versions may differ)`);
    console.log(formatTable(['seconds', 'host', 'qemu', 'vireo', 'vireo/qemu'], [...rows, rss]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
