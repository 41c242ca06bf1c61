// CPU time slices between VM processes: two busy bare-metal VMs under the CpuScheduler with a
// host capacity of 100% and weights 2:1 for 10 s, and one VM capped at 30%, each measured from
// /proc as the host sees it; prints the measured shares against their targets. Reference: one
// busy VM alone and uncapped in the same run, which shows what this host gives a VM process.
// Run: npm run bench:slices

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuScheduler } from '../src/host/cpu-scheduler.js';
import { CpuSliceController } from '../src/host/cpu-slice-controller.js';
import { VmApiClient } from '../src/vm/api/vm-api-client.js';
import type { CpuStatus } from '../src/vm/api/vm-resources.js';
import { measureCpuPercent, processCpuSeconds } from '../tests/support/process-cpu.js';
import { BenchError } from './bench-error.js';
import { formatTable } from './report.js';
import { VIREO } from './vm-process.js';

// addi t0, t0, 1; j .-4: a guest that computes without end.
const SPIN = new Uint8Array(new Uint32Array([0x00128293, 0xffdff06f]).buffer);
const RUN_MS = 10_000;
const WARM_MS = 2_000;

interface SpinVm {
  process: ChildProcess;
  api: VmApiClient;
}

async function startVm(dir: string, name: string, extra: string[] = []): Promise<SpinVm> {
  const kernel = join(dir, 'spin.bin');
  writeFileSync(kernel, SPIN);
  const socket = join(dir, `${name}.sock`);
  const child = spawn(process.execPath, [VIREO, 'run', '--bios', 'none', '--kernel', kernel, '--api', socket, ...extra], { stdio: 'ignore' });
  const api = new VmApiClient(socket);
  for (let i = 0; ; i++) {
    try {
      await api.call('GET', '/vm');
      return { process: child, api };
    } catch (e) {
      if (i > 200) throw new BenchError('vm-failed', `VM ${name} did not serve its API: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Two busy VMs under the CpuSliceController for RUN_MS, weights 2:1: what each used, percent of a core. */
async function underScheduler(capacity: number, pair: SpinVm[]): Promise<{ used: number[]; caps: string }> {
  const ids = ['heavy', 'light'];
  const controller = new CpuSliceController({
    scheduler: new CpuScheduler(capacity),
    vms: () => ids.map((id, i) => ({ id, weight: i === 0 ? 200 : 100, capPercent: null, vcpus: 1 })),
    measure: async (id) => (await pair[ids.indexOf(id)]!.api.call<CpuStatus>('GET', '/vm/cpu')).usedPercent,
    apply: async (id, capPercent) => void await pair[ids.indexOf(id)]!.api.call('PUT', '/vm/cpu', { capPercent }),
    onError: (id, e) => process.stderr.write(`bench: ${id}: ${(e as Error).message}\n`),
  });
  controller.start();
  await new Promise((r) => setTimeout(r, WARM_MS));
  const before = pair.map((vm) => processCpuSeconds(vm.process.pid!));
  const started = performance.now();
  await new Promise((r) => setTimeout(r, RUN_MS));
  const elapsed = (performance.now() - started) / 1000;
  const used = pair.map((vm, i) => ((processCpuSeconds(vm.process.pid!) - before[i]!) * 100) / elapsed);
  await controller.stop();
  return { used, caps: [...controller.caps].map(([id, cap]) => `${id} ${cap}`).join(', ') };
}

const pp = (measured: number, target: number): string => `${measured - target >= 0 ? '+' : ''}${(measured - target).toFixed(1)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-slices-'));
  const vms: SpinVm[] = [];
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    const alone = await startVm(dir, 'alone');
    vms.push(alone);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const reference = await measureCpuPercent(alone.process.pid!, 4000);
    alone.process.kill();
    rows.push(['one VM alone, uncapped (reference)', '-', reference.toFixed(1), '-']);

    // 100% as asked; 50% as well, which binds even when other work on the host leaves the VMs less than 100%.
    for (const capacity of [100, 50]) {
      const pair = [await startVm(dir, `heavy${capacity}`), await startVm(dir, `light${capacity}`)];
      vms.push(...pair);
      const { used, caps } = await underScheduler(capacity, pair);
      const targets = [capacity * 2 / 3, capacity / 3];
      const total = used[0]! + used[1]!;
      rows.push([`weight 2, host capacity ${capacity}%`, targets[0]!.toFixed(1), used[0]!.toFixed(1), pp(used[0]!, targets[0]!)]);
      rows.push([`weight 1, host capacity ${capacity}%`, targets[1]!.toFixed(1), used[1]!.toFixed(1), pp(used[1]!, targets[1]!)]);
      rows.push([`weight 2, share of what both used`, '66.7', ((used[0]! * 100) / total).toFixed(1), pp((used[0]! * 100) / total, 66.7)]);
      notes.push(`capacity ${capacity}%: caps last pushed ${caps}`);
      for (const vm of pair) vm.process.kill();
    }

    const capped = await startVm(dir, 'capped', ['--cpu-cap', '30']);
    vms.push(capped);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const cappedUse = await measureCpuPercent(capped.process.pid!, RUN_MS / 2);
    rows.push(['--cpu-cap 30', '30.0', cappedUse.toFixed(1), pp(cappedUse, 30)]);
    capped.process.kill();

    console.log(`CPU time slices: percent of one host core, measured from /proc over ${RUN_MS / 1000} s (the capped VM over ${RUN_MS / 2000} s)`);
    console.log(formatTable(['VM', 'target %', 'measured %', 'error (points)'], rows));
    console.log(`${notes.join('; ')}. The reference shows what one VM process gets from this host now.`);
  } finally {
    for (const vm of vms) if (vm.process.exitCode === null) vm.process.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:slices: ${(e as Error).message}\n`);
  process.exit(1);
});
