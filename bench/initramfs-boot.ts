// Time from start to a marker the Debian initramfs prints once it has loaded its kernel
// modules (it then powers off instead of mounting the root disk), and peak RSS, on Vireo (tier
// on and interpreted only) and on qemu-system-riscv64 with the same firmware, kernel, initrd
// and memory, measured in the same run.
// Usage: npm run bench:initramfs [-- --runs N]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { readCpioNewc, writeCpioNewc } from '../src/images/cpio-newc.js';
import { BenchError } from './bench-error.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { formatTable, median, ratio } from './report.js';
import { VmProcess } from './vm-process.js';
import type { GuestBoot, VmKind } from './vm-process.js';

const MARKER = 'vireo-bench: initramfs modules loaded';
const APPEND = 'console=ttyS0 quiet';
const MEMORY_MIB = 512;

/**
 * Writes the image's initrd with a second archive appended whose /init replaces the image's:
 * the same script up to its last module load, then the marker and a power-off. The kernel
 * unpacks concatenated archives in order, a later file replacing an earlier one.
 */
function writeBenchInitrd(initrd: string, out: string): void {
  const original = readFileSync(initrd);
  const gzipped = original[0] === 0x1f && original[1] === 0x8b;
  if (!gzipped && original.toString('latin1', 0, 6) !== '070701') {
    throw new BenchError('bad-image', `${initrd} is neither gzip nor a plain newc cpio archive; rebuild it with npx vireo image`);
  }
  const init = readCpioNewc(gzipped ? gunzipSync(original) : original).find((e) => e.path === 'init');
  const script = init?.type === 'file' ? Buffer.from(init.data).toString('utf8') : '';
  const lastLoad = [...script.matchAll(/^load \S+$/gm)].at(-1);
  if (lastLoad === undefined) {
    throw new BenchError('bad-image', `the /init of ${initrd} has no "load MODULE" lines to stop after (see initramfsInit in src/images/guest-files.ts)`);
  }
  const benchInit = `${script.slice(0, lastLoad.index + lastLoad[0].length)}\necho "${MARKER}"\npoweroff -f\n`;
  const extra = writeCpioNewc([{ path: 'init', type: 'file', mode: 0o755, data: Buffer.from(benchInit) }]);
  writeFileSync(out, Buffer.concat([original, gzipped ? gzipSync(extra) : extra]));
}

interface Measure {
  /** Seconds from process start to the marker, and to the process's exit after the power-off. */
  marker: number;
  exit: number;
  peakRssMiB: number | null;
}

async function measure(kind: VmKind, boot: GuestBoot): Promise<Measure> {
  const vm = new VmProcess(kind, boot);
  try {
    const marker = await vm.waitFor(new RegExp(MARKER), 600_000);
    vm.peakRssMiB();
    const { status, seconds } = await vm.exit(60_000);
    if (status !== 0) throw new BenchError('vm-failed', `${kind} ended with status ${status} after the marker instead of powering off; output:\n${vm.output.slice(-2000)}`);
    return { marker, exit: seconds, peakRssMiB: vm.peakRssMiB() };
  } finally {
    await vm.kill();
  }
}

const mib = (m: number | null): string => (m === null ? 'n/a' : m.toFixed(0));

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError('usage', 'usage: npm run bench:initramfs [-- --runs N], N a positive integer');
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  const kinds: VmKind[] = qemuVersion() === null ? ['vireo', 'vireo --jit off'] : ['vireo', 'vireo --jit off', 'qemu'];
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-initramfs-'));
  try {
    const initrd = join(dir, 'initrd.img');
    writeBenchInitrd(image.initrd, initrd);
    const boot: GuestBoot = { firmware: image.firmware, kernel: image.kernel, initrd, memoryMiB: MEMORY_MIB, append: APPEND };
    const results = new Map<VmKind, Measure[]>(kinds.map((k) => [k, []]));
    for (let i = 1; i <= runs; i++) {
      for (const kind of kinds) {
        const m = await measure(kind, boot);
        results.get(kind)!.push(m);
        console.log(`${kind.padEnd(15)} run ${i}: marker at ${m.marker.toFixed(2)} s, exit at ${m.exit.toFixed(2)} s, peak RSS ${mib(m.peakRssMiB)} MiB`);
      }
    }

    const summary = (kind: VmKind) => {
      const ms = results.get(kind)!;
      const rss = ms.map((m) => m.peakRssMiB).filter((r) => r !== null);
      return { marker: median(ms.map((m) => m.marker)), exit: median(ms.map((m) => m.exit)), rss: rss.length > 0 ? median(rss) : null };
    };
    const qemu = kinds.includes('qemu') ? summary('qemu') : null;
    const rows = kinds.map((kind) => {
      const s = summary(kind);
      return [
        kind, s.marker.toFixed(2), s.exit.toFixed(2), mib(s.rss),
        qemu ? ratio(s.marker / qemu.marker) : '-', qemu && s.rss !== null && qemu.rss !== null ? ratio(s.rss / qemu.rss) : '-',
      ];
    });
    console.log(`\nDebian ${image.versions.kernelRelease} with its busybox initramfs, ${MEMORY_MIB} MiB, one hart, "${APPEND}"; median of ${runs}`);
    console.log(formatTable(['', 'to marker s', 'to exit s', 'peak RSS MiB', 'time / qemu', 'RSS / qemu'], rows));
    if (!qemu) console.log(`qemu: not measured: ${QEMU} is not installed (Debian: qemu-system-misc)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
