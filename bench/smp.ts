// Parallel speedup: one CPU-bound job (8192 sieves of 50,000, tests/smp/speedup) split across
// 1 and 2 guest CPUs, on Vireo (`vireo run --cpus N`, each hart on its own thread) and on QEMU's
// virt board (-smp N) in the same run. The guest times the job itself with the time CSR, so
// process start and boot are left out; the job lasts about 5 s on one CPU so that each hart's
// translation warm-up is a small part of it. Each configuration runs REPEATS times; the median
// counts.
// Target: the job on 2 CPUs takes at most 0.6x its time on 1 CPU.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFreestandingProgram, QEMU, repoRoot } from '../tests/support/riscv-toolchain.js';
import { formatTable, median, ratio, seconds } from './report.js';

const REPEATS = 3;
const TIMEBASE_HZ = 10_000_000;
const TARGET = 0.6;

function jobSeconds(command: string, args: string[]): number {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000 });
  const match = /harts (\d+) ticks (\d+) PASS/.exec(r.stdout ?? '');
  if (!match) throw new Error(`${command} ${args.join(' ')} did not finish the job:\n${r.stdout}${r.stderr}`);
  return Number(match[2]) / TIMEBASE_HZ;
}

function measure(run: (cpus: number) => number): { one: number; two: number } {
  const times = (cpus: number) => median(Array.from({ length: REPEATS }, () => run(cpus)));
  return { one: times(1), two: times(2) };
}

const elf = buildFreestandingProgram('smp-speedup', join(repoRoot(), 'tests', 'smp', 'speedup'), [join(repoRoot(), 'tests', 'smp', 'common')]);
const vireo = measure((cpus) => jobSeconds(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf, '--cpus', String(cpus)]));
// The host's own share of the answer: two 1-CPU VMs in separate processes at once, each timed.
const concurrent = await Promise.all([0, 1].map(() => new Promise<number>((resolve, reject) => {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf, '--cpus', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.on('close', () => {
    const match = /ticks (\d+) PASS/.exec(out);
    if (match) resolve(Number(match[1]) / TIMEBASE_HZ);
    else reject(new Error(`a concurrent run did not finish the job:\n${out}`));
  });
})));
const qemu = measure((cpus) => jobSeconds(QEMU, ['-M', 'virt', '-smp', String(cpus), '-m', '128', '-bios', 'none', '-kernel', elf, '-nographic', '-monitor', 'none', '-serial', 'stdio']));

console.log(`CPU-bound job split across guest CPUs (median of ${REPEATS}; host: ${(await import('node:os')).availableParallelism()} cores)`);
console.log(formatTable(
  ['', '1 CPU (s)', '2 CPUs (s)', '2 / 1'],
  [
    ['Vireo', seconds(vireo.one), seconds(vireo.two), ratio(vireo.two / vireo.one)],
    ['QEMU', seconds(qemu.one), seconds(qemu.two), ratio(qemu.two / qemu.one)],
  ],
));
const speedup = vireo.two / vireo.one;
console.log(`target: 2 CPUs take at most ${TARGET}x the time of 1: ${speedup <= TARGET ? 'met' : 'not met'} (${ratio(speedup)})`);
console.log(`two 1-CPU Vireo processes at once: ${concurrent.map(seconds).join(' s and ')} s each (alone: ${seconds(vireo.one)} s), what the host gives two busy threads`);
console.log(`Vireo against QEMU: ${ratio(vireo.one / qemu.one)}x its time on 1 CPU, ${ratio(vireo.two / qemu.two)}x on 2`);
