import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostAgent, type HostAgentOptions } from './host-agent.js';
import { updateLimits } from './vm-limits.js';
import { fakeSpawner, type FakeVmProcess } from '../../tests/host/fake-vm-process.js';

async function withAgent(options: Partial<HostAgentOptions>, body: (agent: HostAgent) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vh-'));
  const fake = fakeSpawner();
  // A long period: the test decides when the slices are decided. The fakes' use is what their
  // API says (their pids are stand-ins), so /proc is not read.
  const agent = await HostAgent.open({ dataDir: dir, spawn: fake.spawn, memoryBudgetMiB: 100_000, storageCapacityBytes: 1024 ** 3, log: () => {}, cpuPeriodMs: 60_000, readCpuSeconds: async () => null, ...options });
  try {
    await body(agent);
  } finally {
    await agent.shutdown(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = { ramMiB: 64, boot: { kernel: '/nonexistent/k.elf' } };

async function startBusy(agent: HostAgent, name: string): Promise<FakeVmProcess> {
  const child = (await agent.start(name)).process as unknown as FakeVmProcess;
  child.cpuUsedPercent = 100;
  return child;
}

const effective = (agent: HostAgent, name: string) => agent.cpu.report(agent.get(name)).effectiveCapPercent;

test('busy VMs share the CPU capacity by weight; a weight or cap change applies at once; a stopped VM leaves its time to the others', () => withAgent({ cpuCapacityPercent: 100 }, async (agent) => {
  await agent.define({ name: 'heavy', spec: { ...spec, cpu: { weight: 200 } } });
  await agent.define({ name: 'light', spec: { ...spec, cpu: { weight: 100 } } });
  const heavy = await startBusy(agent, 'heavy');
  await startBusy(agent, 'light');
  await agent.cpu.rebalance();
  assert.equal(effective(agent, 'heavy'), 66.7);
  assert.equal(effective(agent, 'light'), 33.3);
  assert.deepEqual(heavy.contractCalls.at(-1), { method: 'PUT', path: '/vm/cpu', body: { capPercent: 66.7 } });
  await agent.cpu.rebalance();
  assert.equal(agent.cpu.report(agent.get('heavy')).usedPercent, 66.7, 'the use measured through GET /vm/cpu, under the new cap');

  await updateLimits(agent, 'light', { cpu: { weight: 200 } });
  assert.equal(effective(agent, 'heavy'), 50);
  assert.equal(effective(agent, 'light'), 50);

  const answer = await updateLimits(agent, 'heavy', { cpu: { capPercent: 20 } });
  assert.equal(answer.cpu?.capPercent, 'applied: effective cap 20%');
  assert.equal(effective(agent, 'light'), 80, 'what the capped VM cannot use goes to the other');

  await agent.stop('heavy', { force: true, timeoutMs: 1000 });
  await agent.cpu.rebalance();
  assert.equal(effective(agent, 'light'), null, 'alone, the VM may use its whole hart');
  assert.deepEqual(agent.cpu.report(agent.get('heavy')), { weight: 200, capPercent: 20, effectiveCapPercent: null, usedPercent: null });
}));

test('a VM with two harts may take two cores of a larger capacity', () => withAgent({ cpuCapacityPercent: 300 }, async (agent) => {
  await agent.define({ name: 'wide', spec: { ...spec, cpus: 2 } });
  await agent.define({ name: 'narrow', spec });
  const wide = await startBusy(agent, 'wide');
  wide.cpuUsedPercent = 200;
  await startBusy(agent, 'narrow');
  await agent.cpu.rebalance();
  assert.deepEqual(wide.request.runArgs.slice(wide.request.runArgs.indexOf('--cpus'), wide.request.runArgs.indexOf('--cpus') + 2), ['--cpus', '2']);
  assert.equal(effective(agent, 'wide'), null);
  assert.equal(effective(agent, 'narrow'), null);
}));

test('the host disk budget is shared by weight within each disk\'s own limits, and again when VMs stop or limits change', () => withAgent({ diskBudget: { iops: 300, bps: 3_000_000 } }, async (agent) => {
  await agent.define({ name: 'a', spec: { ...spec, cpu: { weight: 200 }, disks: [{ sizeMiB: 1, limits: { iopsRead: 1000 } }] } });
  await agent.define({ name: 'b', spec: { ...spec, disks: [{ sizeMiB: 1 }, { sizeMiB: 1, limits: { bps: 100_000 } }] } });
  await agent.define({ name: 'diskless', spec });
  const a = (await agent.start('a')).process as unknown as FakeVmProcess;
  assert.deepEqual(agent.io.report(agent.get('a')), { 'vireo-disk-0': { iopsRead: 1000, iops: 300, bps: 3_000_000 } }, 'alone, the disk has the whole budget');
  await agent.start('b');
  await agent.start('diskless');
  assert.deepEqual(agent.io.report(agent.get('a')), { 'vireo-disk-0': { iopsRead: 1000, iops: 200, bps: 2_000_000 } });
  // b's second disk is held to 100 kB/s by its own limit; its first disk takes the rest of b's share.
  assert.deepEqual(agent.io.report(agent.get('b')), { 'vireo-disk-0': { iops: 50, bps: 900_000 }, 'vireo-disk-1': { iops: 50, bps: 100_000 } });
  assert.deepEqual(a.contractCalls.filter((c) => c.path.startsWith('/vm/disks/')).at(-1), { method: 'PUT', path: '/vm/disks/vireo-disk-0/limits', body: { iopsRead: 1000, iops: 200, bps: 2_000_000 } });

  const answer = await updateLimits(agent, 'a', { disks: { 'vireo-disk-0': { iops: 60 } } });
  assert.match(answer.disks['vireo-disk-0']!, /share of the host's disk budget/);
  assert.deepEqual(agent.io.report(agent.get('a')), { 'vireo-disk-0': { iops: 60, bps: 2_000_000 } }, 'the disk\'s own limit holds');
  assert.equal(agent.io.report(agent.get('b'))!['vireo-disk-0']!.iops! + agent.io.report(agent.get('b'))!['vireo-disk-1']!.iops!, 240, 'b takes what a cannot use');

  await agent.stop('a', { force: true, timeoutMs: 1000 });
  await agent.io.rebalance();
  assert.deepEqual(agent.io.report(agent.get('b')), { 'vireo-disk-0': { iops: 150, bps: 2_900_000 }, 'vireo-disk-1': { iops: 150, bps: 100_000 } });
  assert.equal(agent.io.report(agent.get('a')), null);
}));

test('without a disk budget each disk keeps its own limits', () => withAgent({}, async (agent) => {
  await agent.define({ name: 'a', spec: { ...spec, disks: [{ sizeMiB: 1, limits: { iops: 70 } }] } });
  const a = (await agent.start('a')).process as unknown as FakeVmProcess;
  assert.deepEqual(agent.io.report(agent.get('a')), { 'vireo-disk-0': { iops: 70 } });
  assert.equal(a.contractCalls.filter((c) => c.path.startsWith('/vm/disks/')).length, 0);
}));
