// Time from start to the Debian guest's shell prompt, on Vireo and on qemu-system-riscv64
// (-M virt -smp 1) with the same firmware, kernel, initrd, root disk, memory and command
// line, measured in the same run; Vireo with its translation tier and interpreted only.
// Usage: npm run bench:boot [-- --runs N]

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { timeUntil } from './vm-process.js';
import type { BootMeasure, GuestBoot, VmKind } from './vm-process.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const APPEND = 'console=ttyS0 root=/dev/vda rw';
const MEMORY_MIB = 512;

/** Boots a VM, measures the time until the prompt appears and its peak RSS, then kills it. */
const timeToPrompt = (kind: VmKind, boot: GuestBoot): Promise<BootMeasure> => timeUntil(kind, boot, PROMPT, 600_000);

function describe(m: BootMeasure): string {
  return `${m.seconds.toFixed(1)} s to the shell prompt, peak RSS ${m.peakRssMiB === null ? 'n/a' : `${m.peakRssMiB.toFixed(0)} MiB`}`;
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 1;
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-boot-'));
  const disk = join(dir, 'root.ext4');
  const boot: GuestBoot = { firmware: image.firmware, kernel: image.kernel, initrd: image.initrd, disk, memoryMiB: MEMORY_MIB, append: APPEND };
  try {
    const vireo: BootMeasure[] = [];
    const interpreted: BootMeasure[] = [];
    const qemu: BootMeasure[] = [];
    const hasQemu = qemuVersion() !== null;
    for (let i = 0; i < runs; i++) {
      for (const [kind, into] of [['vireo', vireo], ['vireo --jit off', interpreted]] as const) {
        copyFileSync(image.rootDisk, disk);
        into.push(await timeToPrompt(kind, boot));
        console.log(`${kind.padEnd(15)} run ${i + 1}: ${describe(into[i]!)}`);
      }
      if (!hasQemu) continue;
      copyFileSync(image.rootDisk, disk);
      qemu.push(await timeToPrompt('qemu', boot));
      console.log(`${'qemu'.padEnd(15)} run ${i + 1}: ${describe(qemu[i]!)}`);
    }
    const best = (xs: BootMeasure[]) => Math.min(...xs.map((x) => x.seconds));
    console.log(`\nDebian ${image.versions.kernelRelease}, ${MEMORY_MIB} MiB, one hart, root on virtio-blk`);
    console.log(`vireo: ${best(vireo).toFixed(1)} s (best of ${runs}); interpreted only: ${best(interpreted).toFixed(1)} s`);
    if (hasQemu) {
      console.log(`qemu:  ${best(qemu).toFixed(1)} s (best of ${runs}); vireo/qemu time ratio ${(best(vireo) / best(qemu)).toFixed(1)}`);
    } else {
      console.log(`qemu:  not measured: ${QEMU} is not installed (Debian: qemu-system-misc)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
