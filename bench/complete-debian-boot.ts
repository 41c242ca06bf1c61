// Power-on to the login prompt of the complete Debian (`vireo image complete`), on Vireo
// (`vireo run IMAGE`) and on qemu-system-riscv64 (-M virt, one hart) with the same OpenSBI,
// U-Boot, image (each run on a fresh overlay or QEMU's snapshot=on) and memory, measured in the
// same run: seconds and peak RSS; target: Vireo at most 1.5x QEMU's time.
// Usage: npm run bench:complete [-- --runs N]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBootFirmware } from '../src/images/boot-firmware.js';
import { ensureCompleteDebian, HOSTNAME } from '../src/images/complete-debian.js';
import { createImage } from '../src/storage/image-ops/create-image.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { timeUntil, VIREO } from './vm-process.js';
import type { BootMeasure, CommandLine, VmKind } from './vm-process.js';

const LOGIN = new RegExp(`${HOSTNAME} login: `);
const MEMORY_MIB = 1024;
const TARGET_RATIO = 1.5;

type Measure = BootMeasure;
const timeToLogin = (kind: VmKind, command: CommandLine): Promise<Measure> => timeUntil(kind, command, LOGIN, 900_000);

const show = (m: Measure): string => `${m.seconds.toFixed(1)} s to the login prompt, peak RSS ${m.peakRssMiB === null ? 'n/a' : `${m.peakRssMiB.toFixed(0)} MiB`}`;

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 1;
  const progress = (step: string, detail: string): void => {
    if (step !== 'check' && step !== 'done') console.error(`${step}: ${detail}`);
  };
  const image = await ensureCompleteDebian({ onProgress: progress });
  const firmware = await ensureBootFirmware({ onProgress: (detail) => console.error(detail) });
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-complete-'));
  try {
    const vireo: Measure[] = [];
    const qemu: Measure[] = [];
    const hasQemu = qemuVersion() !== null;
    for (let i = 0; i < runs; i++) {
      const overlay = join(dir, `run-${i}.qcow2`);
      await createImage(overlay, { format: 'qcow2', backingFile: image.image, backingFormat: 'qcow2' });
      vireo.push(await timeToLogin('vireo', [process.execPath, [VIREO, 'run', '-m', String(MEMORY_MIB), overlay]]));
      console.log(`vireo run ${i + 1}: ${show(vireo[i]!)}`);
      if (!hasQemu) continue;
      qemu.push(await timeToLogin('qemu', [QEMU, [
        '-M', 'virt', '-smp', '1', '-m', String(MEMORY_MIB), '-nographic',
        // The extensions Vireo lacks switched off, so both run the same kernel code paths (as bench/boot.ts).
        '-cpu', 'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,sstc=true',
        '-bios', firmware.openSbi, '-kernel', firmware.uBoot,
        '-drive', `file=${image.image},format=qcow2,if=none,id=hd0,snapshot=on`, '-device', 'virtio-blk-device,drive=hd0',
      ]]));
      console.log(`qemu  run ${i + 1}: ${show(qemu[i]!)}`);
    }
    const best = (xs: Measure[]): Measure => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    console.log(`\nDebian trixie (complete image, ${image.manifest.packages.length} packages, Linux ${image.manifest.kernelVersion}), ${MEMORY_MIB} MiB, one hart, OpenSBI + U-Boot + extlinux`);
    console.log(`vireo: ${show(best(vireo))} (best of ${runs})`);
    if (!hasQemu) {
      console.log(`qemu:  not measured: ${QEMU} is not installed (Debian: qemu-system-misc)`);
      return;
    }
    const ratio = best(vireo).seconds / best(qemu).seconds;
    console.log(`qemu:  ${show(best(qemu))} (best of ${runs})`);
    console.log(`vireo/qemu time ratio ${ratio.toFixed(2)} (target at most ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? 'met' : 'not met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
