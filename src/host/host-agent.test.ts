import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostAgent } from './host-agent.js';
import { HostError } from './host-error.js';
import { chargeMiB } from './memory-budget.js';
import { fakeSpawner } from '../../tests/host/fake-vm-process.js';

const STORAGE = 1024 ** 3;

async function withAgent(body: (agent: HostAgent, fake: ReturnType<typeof fakeSpawner>, dir: string) => Promise<void>, budgetMiB = 100_000): Promise<void> {
  // Socket paths must stay short: a temporary directory of its own.
  const dir = mkdtempSync(join(tmpdir(), 'vh-'));
  const fake = fakeSpawner();
  const agent = await HostAgent.open({ dataDir: dir, spawn: fake.spawn, memoryBudgetMiB: budgetMiB, storageCapacityBytes: STORAGE, log: () => {}, restartBaseMs: 20 });
  try {
    await body(agent, fake, dir);
  } finally {
    await agent.shutdown(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = { ramMiB: 64, boot: { kernel: '/nonexistent/k.elf' } };
const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
};

test('a started VM runs in its process with the arguments of its definition, and a new disk is a thin LUN', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'web', spec: { ...spec, disks: [{ sizeMiB: 16, limits: { iops: 50 } }], cpu: { capPercent: 50 } } });
  const vm = await agent.start('web');
  assert.equal(vm.state, 'running');
  const args = fake.spawned[0]!.request.runArgs;
  assert.deepEqual(args.slice(0, 4), ['--kernel', '/nonexistent/k.elf', '--bios', 'none']);
  assert.ok(args.includes(`${vm.definition.spec.disks[0]!.path},format=qcow2,iops=50`), args.join(' '));
  assert.equal(vm.definition.spec.disks[0]!.lun, 'web-disk0');
  assert.equal(agent.storage.usage().provisioned, 16 * 1024 * 1024);
  await assert.rejects(agent.start('web'), (e: unknown) => e instanceof HostError && e.kind === 'invalid-state');
}));

test('a VM whose process dies unasked is crashed with the reason; a graceful stop is stopped', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'a', spec });
  await agent.define({ name: 'b', spec });
  await agent.start('a');
  await agent.start('b');
  void fake.spawned[0]!.exit({ code: null, signal: 'SIGKILL' });
  await until(() => agent.get('a').state === 'crashed', 'the crash');
  assert.equal(agent.get('a').runtime.lastExit?.reason, 'crashed: killed by SIGKILL');
  assert.equal(agent.get('b').state, 'running');
  await agent.stop('b', { force: false, timeoutMs: 1000 });
  assert.equal(agent.get('b').state, 'stopped');
  assert.equal(agent.get('b').runtime.wantRunning, false);
  assert.equal(fake.spawned[1]!.controller.shutdownPresses, 1);
  assert.equal(fake.spawned[1]!.controller.state, 'running', 'the guest shut down by itself: no power-off');
  assert.equal(agent.get('b').runtime.lastExit?.reason, 'the guest shut down (power button)');
  assert.deepEqual(fake.spawned[1]!.signals, [], 'the guest\'s shutdown was enough');
}));

test('a guest that ignores the power button, or cannot hear it, is powered off through the API', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'deaf', spec });
  await agent.start('deaf');
  fake.spawned[0]!.guest = 'ignore';
  await agent.stop('deaf', { force: false, timeoutMs: 50 });
  assert.equal(fake.spawned[0]!.controller.shutdownPresses, 1);
  assert.equal(agent.get('deaf').state, 'stopped');
  assert.equal(agent.get('deaf').runtime.lastExit?.reason, 'powered off (the guest did not shut down within 50 ms): exit status 130');
  assert.deepEqual(fake.spawned[0]!.signals, []);
  await agent.start('deaf');
  fake.spawned[1]!.guest = 'no-driver';
  const started = Date.now();
  await agent.stop('deaf', { force: false, timeoutMs: 10_000 });
  assert.ok(Date.now() - started < 5000, 'no wait for a guest that cannot hear the button');
  assert.equal(fake.spawned[1]!.controller.shutdownPresses, 0);
  assert.equal(agent.get('deaf').runtime.lastExit?.reason, 'powered off (the guest was not asked: no-guest-driver): exit status 130');
}));

test('a VM that ignores the graceful stop gets SIGTERM, then SIGKILL; --force kills at once', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'hung', spec });
  await agent.start('hung');
  fake.spawned[0]!.ignoreStop = true;
  fake.spawned[0]!.guest = 'ignore';
  await agent.stop('hung', { force: false, timeoutMs: 50 });
  assert.deepEqual(fake.spawned[0]!.signals, ['SIGTERM', 'SIGKILL']);
  assert.equal(agent.get('hung').state, 'stopped');
  assert.equal(agent.get('hung').runtime.lastExit?.reason, 'killed (the guest did not shut down within 50 ms): killed by SIGKILL');
  await agent.start('hung');
  await agent.stop('hung', { force: true, timeoutMs: 10_000 });
  assert.deepEqual(fake.spawned[1]!.signals, ['SIGKILL']);
  assert.equal(fake.spawned[1]!.controller.shutdownPresses, 0, 'a forced stop does not ask the guest');
  assert.equal(agent.get('hung').runtime.lastExit?.reason, 'stopped by force: killed by SIGKILL');
}));

test('a crashed autostart VM is restarted, and counts its restarts', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'svc', autostart: true, spec });
  await agent.define({ name: 'plain', spec });
  await agent.start('svc');
  await agent.start('plain');
  void fake.spawned[0]!.exit({ code: 1, signal: null });
  void fake.spawned[1]!.exit({ code: 1, signal: null });
  await until(() => agent.get('svc').state === 'running' && fake.spawned.length === 3, 'the restart');
  assert.equal(agent.get('svc').runtime.restarts, 1);
  assert.equal(agent.get('plain').state, 'crashed');
  // Crashing again at once doubles the wait (20 ms, then 40 ms).
  const crashedAt = Date.now();
  void fake.spawned[2]!.exit({ code: 1, signal: null });
  await until(() => agent.get('svc').state === 'running' && fake.spawned.length === 4, 'the second restart');
  assert.ok(Date.now() - crashedAt >= 40, `restarted after ${Date.now() - crashedAt} ms`);
  assert.equal(agent.get('svc').runtime.restarts, 2);
  // Stopping a VM that waits for its restart keeps it down.
  void fake.spawned[3]!.exit({ code: 1, signal: null });
  await until(() => agent.get('svc').state === 'crashed', 'the third crash');
  await agent.stop('svc', { force: false, timeoutMs: 1000 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fake.spawned.length, 4);
  assert.equal(agent.get('svc').runtime.wantRunning, false);
}));

test('a guest that powers off, or a VM stopped through its own API, is stopped, not crashed, and not restarted', () => withAgent(async (agent, fake) => {
  await agent.define({ name: 'svc', autostart: true, spec });
  await agent.start('svc');
  void fake.spawned[0]!.exit({ code: 0, signal: null });
  await until(() => agent.get('svc').state === 'stopped', 'the stop');
  assert.equal(agent.get('svc').runtime.lastExit?.reason, 'the guest powered off');
  await agent.start('svc');
  void fake.spawned[1]!.exit({ code: 130, signal: null });
  await until(() => agent.get('svc').state === 'stopped', 'the second stop');
  assert.equal(agent.get('svc').runtime.lastExit?.reason, 'stopped from outside the agent: exit status 130');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fake.spawned.length, 2);
}));

test('a start that would pass the memory budget is refused', () => withAgent(async (agent) => {
  await agent.define({ name: 'one', spec });
  await agent.define({ name: 'two', spec });
  await agent.start('one');
  await assert.rejects(agent.start('two'), (e: unknown) => e instanceof HostError && e.kind === 'over-budget' && /budget/.test(e.message));
  assert.equal(agent.get('two').state, 'defined');
}, chargeMiB(64) + 10));

test('a running VM is only deleted once stopped; its LUN goes when asked', () => withAgent(async (agent) => {
  await agent.define({ name: 'tmp', spec: { ...spec, disks: [{ sizeMiB: 1 }] } });
  await agent.start('tmp');
  await assert.rejects(agent.remove('tmp', { disks: true }), (e: unknown) => e instanceof HostError && e.kind === 'invalid-state');
  await agent.stop('tmp', { force: true, timeoutMs: 0 });
  await agent.remove('tmp', { disks: true });
  assert.equal(agent.storage.usage().provisioned, 0);
  assert.throws(() => agent.get('tmp'), (e: unknown) => e instanceof HostError && e.kind === 'not-found');
}));

test('a define with a bad spec is refused naming the field, and makes nothing', () => withAgent(async (agent) => {
  await assert.rejects(agent.define({ name: 'Bad Name', spec }), /body\.name: must match/);
  await assert.rejects(agent.define({ name: 'x', spec: { ...spec, disks: [{ path: '/a', sizeMiB: 1 }] } }), /one of path .* sizeMiB .* or volume/);
  await assert.rejects(agent.define({ name: 'y', spec: { ...spec, ramMiB: 99999 } }), /ramMiB: must be at most/);
  assert.equal(agent.instances.size, 0);
}));

test('a new agent on the same directory keeps the definitions and starts the autostart VMs that were running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vh-'));
  try {
    const first = fakeSpawner();
    const agent = await HostAgent.open({ dataDir: dir, spawn: first.spawn, storageCapacityBytes: STORAGE, log: () => {} });
    await agent.define({ name: 'auto', autostart: true, spec });
    await agent.define({ name: 'manual', spec });
    await agent.define({ name: 'idle', autostart: true, spec });
    await agent.start('auto');
    await agent.start('manual');
    await agent.shutdown(1000);
    assert.equal(agent.get('auto').state, 'stopped');
    const second = fakeSpawner();
    const again = await HostAgent.open({ dataDir: dir, spawn: second.spawn, storageCapacityBytes: STORAGE, log: () => {} });
    try {
      assert.deepEqual([...again.instances.keys()].sort(), ['auto', 'idle', 'manual']);
      assert.equal(again.get('auto').state, 'running');
      assert.equal(again.get('manual').state, 'stopped');
      assert.equal(again.get('idle').state, 'defined');
      assert.equal(second.spawned.length, 1);
    } finally {
      await again.shutdown(1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
