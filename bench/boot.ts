// Time from start to the Debian guest's shell prompt, on Vireo and on qemu-system-riscv64
// (-M virt -smp 1) with the same firmware, kernel, initrd, root disk, memory and command
// line, measured in the same run; Vireo with its translation tier and interpreted only.
// Usage: npm run bench:boot [-- --runs N]

import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { QEMU, qemuVersion } from './qemu-runner.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const APPEND = 'console=ttyS0 root=/dev/vda rw';
const MEMORY_MIB = 512;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface BootMeasure {
  seconds: number;
  /** Peak resident set of the VM process when the prompt appeared, in MiB (null off Linux). */
  peakRssMiB: number | null;
}

function peakRss(pid: number | undefined): number | null {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? null : Number(kib) / 1024;
  } catch {
    return null;
  }
}

/** Starts a VM, measures the time until the prompt appears and its peak RSS, then kills it. */
function timeToPrompt(command: string, args: string[], timeoutMs = 600_000): Promise<BootMeasure> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command}: no shell prompt within ${timeoutMs / 1000} s; output:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (d: string) => {
      output += d;
      if (PROMPT.test(output)) {
        clearTimeout(timer);
        const seconds = (performance.now() - started) / 1000;
        const peakRssMiB = peakRss(child.pid);
        child.kill('SIGKILL');
        resolve({ seconds, peakRssMiB });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function describe(m: BootMeasure): string {
  return `${m.seconds.toFixed(1)} s to the shell prompt, peak RSS ${m.peakRssMiB === null ? 'n/a' : `${m.peakRssMiB.toFixed(0)} MiB`}`;
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 1;
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-boot-'));
  const disk = join(dir, 'root.ext4');
  try {
    const vireo: BootMeasure[] = [];
    const interpreted: BootMeasure[] = [];
    const qemu: BootMeasure[] = [];
    const hasQemu = qemuVersion() !== null;
    for (let i = 0; i < runs; i++) {
      for (const [jit, into] of [['on', vireo], ['off', interpreted]] as const) {
        copyFileSync(image.rootDisk, disk);
        into.push(await timeToPrompt(process.execPath, [
          join(root, 'bin', 'vireo.js'), 'run', '--bios', image.firmware, '--kernel', image.kernel,
          '--initrd', image.initrd, '--disk', disk, '-m', String(MEMORY_MIB), '--append', APPEND, '--jit', jit,
        ]));
        console.log(`vireo --jit ${jit.padEnd(3)} run ${i + 1}: ${describe(into[i]!)}`);
      }
      if (!hasQemu) continue;
      copyFileSync(image.rootDisk, disk);
      qemu.push(await timeToPrompt(QEMU, [
        '-M', 'virt', '-smp', '1', '-m', String(MEMORY_MIB), '-nographic',
        '-cpu', 'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,sstc=true',
        '-bios', image.firmware, '-kernel', image.kernel, '-initrd', image.initrd, '-append', APPEND,
        '-drive', `file=${disk},format=raw,if=none,id=root`, '-device', 'virtio-blk-device,drive=root',
      ]));
      console.log(`qemu  run ${i + 1}: ${describe(qemu[i]!)}`);
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
