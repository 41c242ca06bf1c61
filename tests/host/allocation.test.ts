// The agent's CPU slices and disk budget with real `vireo run` processes, measured from outside
// as the host sees them (/proc/PID/stat): an agent with --cpu-capacity 100 runs two busy VMs
// of weights 2:1, then one VM capped at 30%; an agent with a disk budget splits it between two
// VMs' disks by weight, as the VMs' own API reports the limits in force.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFreestandingProgram, repoRoot } from '../support/riscv-toolchain.js';
import { processCpuSeconds } from '../support/process-cpu.js';
import type { IoLimits } from '../../src/storage/qos/io-limits.js';
import { AgentProcess, eventually } from '../support/agent-process.js';

// addi t0, t0, 1; j .-4: a guest that computes without end.
const SPIN = new Uint8Array(new Uint32Array([0x00128293, 0xffdff06f]).buffer);
const SETTLE_MS = 2000;
const MEASURE_MS = 5000;

interface Stats { state: string; pid: number | null; cpu: { effectiveCapPercent: number | null }; status: { config?: { disks?: Array<{ serial: string; limits: IoLimits }> } } | null }

async function withAgent(extra: string[], body: (agent: AgentProcess, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vha-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'allocation-test-token-0123456789\n', { mode: 0o600 });
  const agent = await AgentProcess.start(join(dir, 'data'), tokenFile, ['--memory-budget', '4000', ...extra]);
  try {
    await body(agent, dir);
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts VM `name` and waits until it runs; its pid. */
async function startVm(agent: AgentProcess, name: string): Promise<number> {
  const api = agent.client();
  await api.call('POST', `/vms/${name}/start`);
  return eventually(`${name} to run`, 30_000, async () => {
    const s = await api.call<Stats>('GET', `/vms/${name}/stats`);
    return s.state === 'running' && s.pid !== null ? s.pid : undefined;
  });
}

/** Percent of one core each process used over `ms`. */
async function measure(pids: number[], ms: number): Promise<number[]> {
  const before = pids.map(processCpuSeconds);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const elapsed = performance.now() - started;
  return pids.map((pid, i) => ((processCpuSeconds(pid) - before[i]!) * 100_000) / elapsed);
}

test('with --cpu-capacity 100, two busy VMs of weights 2:1 share it about 2:1; a VM capped at 30% stays under 40%', { timeout: 120_000 }, () => withAgent(['--cpu-capacity', '100'], async (agent, dir) => {
  const kernel = join(dir, 'spin.bin');
  writeFileSync(kernel, SPIN);
  const api = agent.client();
  await api.call('POST', '/vms', { name: 'heavy', spec: { ramMiB: 16, boot: { kernel }, cpu: { weight: 200 } } });
  await api.call('POST', '/vms', { name: 'light', spec: { ramMiB: 16, boot: { kernel }, cpu: { weight: 100 } } });
  await api.call('POST', '/vms', { name: 'capped', spec: { ramMiB: 16, boot: { kernel }, cpu: { capPercent: 30 } } });
  const pids = [await startVm(agent, 'heavy'), await startVm(agent, 'light')];
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const [heavy, light] = await measure(pids, MEASURE_MS);
  const share = heavy! / (heavy! + light!);
  const caps = await Promise.all(['heavy', 'light'].map(async (n) => (await api.call<Stats>('GET', `/vms/${n}/stats`)).cpu.effectiveCapPercent));
  process.stderr.write(`cpu slices: heavy ${heavy!.toFixed(1)}%, light ${light!.toFixed(1)}%, heavy's share ${share.toFixed(2)} (caps ${caps.join(', ')})\n`);
  assert.ok(share >= 0.55 && share <= 0.78, `the heavy VM's share of the two is ${share.toFixed(2)} (heavy ${heavy!.toFixed(1)}%, light ${light!.toFixed(1)}%)`);
  assert.ok(heavy! + light! < 125, `together they stay near the capacity of 100%: ${(heavy! + light!).toFixed(1)}%`);

  await Promise.all(['heavy', 'light'].map((n) => api.call('POST', `/vms/${n}/stop`, { force: true })));
  const capped = await startVm(agent, 'capped');
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const [used] = await measure([capped], MEASURE_MS);
  process.stderr.write(`cpu slices: capped at 30%, used ${used!.toFixed(1)}%\n`);
  assert.ok(used! < 40 && used! > 10, `capped at 30%, the VM used ${used!.toFixed(1)}%`);
}));

test('the host disk budget is split between running VMs\' disks by weight, as the VMs report', { timeout: 120_000 }, () => withAgent(['--disk-iops', '300', '--disk-bps', '3000000'], async (agent) => {
  const elf = buildFreestandingProgram('host-ticker', join(repoRoot(), 'tests', 'host', 'ticker'));
  const api = agent.client();
  await api.call('POST', '/vms', { name: 'gold', spec: { ramMiB: 16, boot: { kernel: elf }, cpu: { weight: 200 }, disks: [{ sizeMiB: 1 }] } });
  await api.call('POST', '/vms', { name: 'bronze', spec: { ramMiB: 16, boot: { kernel: elf }, disks: [{ sizeMiB: 1 }, { sizeMiB: 1, limits: { iops: 20 } }] } });
  /** The limits the VM's own API has in force on each disk (its description, through the agent). */
  const reported = async (name: string) => {
    const s = await api.call<Stats>('GET', `/vms/${name}/stats`);
    return Object.fromEntries((s.status?.config?.disks ?? []).map((d) => [d.serial, d.limits]));
  };
  await startVm(agent, 'gold');
  assert.deepEqual(await reported('gold'), { 'vireo-disk-0': { iops: 300, bps: 3_000_000 } }, 'alone, its disk has the whole budget');
  await startVm(agent, 'bronze');
  await eventually('the budget split between gold and bronze', 10_000, async () => (await reported('gold'))['vireo-disk-0']?.iops === 200);
  assert.deepEqual(await reported('gold'), { 'vireo-disk-0': { iops: 200, bps: 2_000_000 } });
  // bronze's 100 iops: its second disk is held to 20 by its own limit, the first takes the rest.
  assert.deepEqual(await reported('bronze'), { 'vireo-disk-0': { iops: 80, bps: 500_000 }, 'vireo-disk-1': { iops: 20, bps: 500_000 } });
  await api.call('POST', '/vms/gold/stop', { force: true });
  await eventually('bronze to take the whole budget', 10_000, async () => (await reported('bronze'))['vireo-disk-0']?.iops === 280);
  assert.deepEqual(await reported('bronze'), { 'vireo-disk-0': { iops: 280, bps: 1_500_000 }, 'vireo-disk-1': { iops: 20, bps: 1_500_000 } });
}));
