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

const pp = (measured: number, target: number): string => `${measured - target >= 0 ? '+' : ''}${(measured - target).toFixed(1)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-slices-'));
  const vms: SpinVm[] = [];
  const rows: string[][] = [];
  try {
    const alone = await startVm(dir, 'alone');
    vms.push(alone);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const reference = await measureCpuPercent(alone.process.pid!, 4000);
    alone.process.kill();
    rows.push(['one VM alone, uncapped (reference)', '-', reference.toFixed(1), '-']);

    const pair = [await startVm(dir, 'heavy'), await startVm(dir, 'light')];
    vms.push(...pair);
    const weights: Record<string, number> = { heavy: 200, light: 100 };
    const byId = new Map([['heavy', pair[0]!], ['light', pair[1]!]]);
    const controller = new CpuSliceController({
      scheduler: new CpuScheduler(100),
      vms: () => Object.keys(weights).map((id) => ({ id, weight: weights[id]!, capPercent: null, vcpus: 1 })),
      measure: async (id) => (await byId.get(id)!.api.call<CpuStatus>('GET', '/vm/cpu')).usedPercent,
      apply: async (id, capPercent) => void await byId.get(id)!.api.call('PUT', '/vm/cpu', { capPercent }),
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
    const total = used[0]! + used[1]!;
    const shares = used.map((u) => (u * 100) / total);
    rows.push(['weight 2, host capacity 100%', '66.7', used[0]!.toFixed(1), pp(used[0]!, 66.7)]);
    rows.push(['weight 1, host capacity 100%', '33.3', used[1]!.toFixed(1), pp(used[1]!, 33.3)]);
    rows.push(['weight 2, share of what both used', '66.7', shares[0]!.toFixed(1), pp(shares[0]!, 66.7)]);
    for (const vm of pair) vm.process.kill();

    const capped = await startVm(dir, 'capped', ['--cpu-cap', '30']);
    vms.push(capped);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const cappedUse = await measureCpuPercent(capped.process.pid!, RUN_MS / 2);
    rows.push(['--cpu-cap 30', '30.0', cappedUse.toFixed(1), pp(cappedUse, 30)]);
    capped.process.kill();

    console.log(`CPU time slices: percent of one host core, measured from /proc over ${RUN_MS / 1000} s (the capped VM over ${RUN_MS / 2000} s)`);
    console.log(formatTable(['VM', 'target %', 'measured %', 'error (points)'], rows));
    console.log(`caps last pushed: ${[...controller.caps].map(([id, cap]) => `${id} ${cap}`).join(', ')}; the reference shows what one VM process gets from this host now`);
  } finally {
    for (const vm of vms) if (vm.process.exitCode === null) vm.process.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:slices: ${(e as Error).message}\n`);
  process.exit(1);
});
