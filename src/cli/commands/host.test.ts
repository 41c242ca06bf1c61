// `vireo host` against an agent served in this process with fake VM processes: the VM verbs,
// tables and JSON, and clear errors with the right exit status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HostAgent } from '../../host/host-agent.js';
import { serveHostApi } from '../../host/api/host-api-server.js';
import { UsageError } from '../usage-error.js';
import { runHost } from './host.js';
import { fakeSpawner } from '../../../tests/host/fake-vm-process.js';

interface Outcome { status: number; stdout: string; stderr: string }

async function host(args: string[]): Promise<Outcome> {
  const out: Outcome = { status: -1, stdout: '', stderr: '' };
  const io = { out: (t: string) => { out.stdout += t; }, err: (t: string) => { out.stderr += t; }, stderrIsTty: false };
  try {
    out.status = await runHost(args, io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    out.status = 2;
    out.stderr += e.message;
  }
  return out;
}

async function withAgent(body: (socket: string, agent: HostAgent) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vhc-'));
  const agent = await HostAgent.open({ dataDir: dir, spawn: fakeSpawner().spawn, storageCapacityBytes: 1024 ** 3, log: () => {} });
  const server = await serveHostApi(agent, { socketPath: join(dir, 'agent.sock') });
  try {
    await body(server.socketPath, agent);
  } finally {
    await agent.shutdown(1000);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('define from options makes the spec vireo run would boot; list and show print it', () => withAgent(async (socket, agent) => {
  const defined = await host(['vm', 'define', 'web', '--agent', socket, '--kernel', 'k.elf', '-m', '256M', '--disk', '/img/root.qcow2,ro,iops=100', '--new-disk', '1G,bps=4M', '--net', 'host', '--cpu-cap', '50', '--autostart']);
  assert.equal(defined.status, 0, defined.stderr);
  assert.equal(defined.stdout, 'defined VM web\n');
  const { definition } = agent.get('web');
  assert.equal(definition.autostart, true);
  assert.equal(definition.spec.ramMiB, 256);
  assert.equal(definition.spec.boot.kernel, resolve('k.elf'));
  assert.deepEqual(definition.spec.disks[0], { path: '/img/root.qcow2', readOnly: true, limits: { iops: 100 } });
  assert.equal(definition.spec.disks[1]!.lun, 'web-disk1');
  assert.deepEqual(definition.spec.disks[1]!.limits, { bps: 4 * 1024 * 1024 });
  assert.equal(definition.spec.network, 'host');
  assert.deepEqual(definition.spec.cpu, { weight: 100, capPercent: 50 });
  const list = await host(['vm', 'list', '--agent', socket]);
  assert.match(list.stdout, /^NAME +STATE +RAM +PID +RESTARTS +LAST EXIT\nweb +defined +256 MiB +- +0 +-\n$/);
  const shown = JSON.parse((await host(['vm', 'show', 'web', '--agent', socket, '--json'])).stdout) as { name: string; state: string };
  assert.equal(shown.state, 'defined');
}));

test('define --net network:NET puts the VM on the agent\'s network NET, and --cpus gives it harts', () => withAgent(async (socket, agent) => {
  const defined = await host(['vm', 'define', 'tenant', '--agent', socket, '--kernel', 'k.elf', '--net', 'network:tenant-a', '--cpus', '2']);
  assert.equal(defined.status, 0, defined.stderr);
  assert.deepEqual(agent.get('tenant').definition.spec.network, { name: 'tenant-a' });
  assert.equal(agent.get('tenant').definition.spec.cpus, 2);
  const bad = await host(['vm', 'define', 'bad', '--agent', socket, '--kernel', 'k.elf', '--net', 'network:Bad_Name']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /network/);
}));

test('start, stop --force, set and delete; a refusal is status 1 with the agent\'s message', () => withAgent(async (socket, agent) => {
  await host(['vm', 'define', 'db', '--agent', socket, '--kernel', '/k.elf', '--new-disk', '16']);
  assert.equal((await host(['vm', 'start', 'db', '--agent', socket])).stdout, 'VM db is running\n');
  const refused = await host(['vm', 'delete', 'db', '--agent', socket]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /cannot delete VM db: it is running; stop it first \(invalid-state\)/);
  assert.equal((await host(['vm', 'stop', 'db', '--force', '--agent', socket])).stdout, 'VM db is stopped\n');
  const set = await host(['vm', 'set', 'db', '--agent', socket, '--cpu-weight', '50', '--disk-limits', 'vireo-disk-0:iops=20,bps=1M']);
  assert.equal(set.status, 0, set.stderr);
  assert.deepEqual(agent.get('db').definition.spec.disks[0]!.limits, { iops: 20, bps: 1024 * 1024 });
  assert.equal(agent.get('db').definition.spec.cpu.weight, 50);
  assert.equal((await host(['vm', 'delete', 'db', '--disks', '--agent', socket])).stdout, 'deleted VM db\n');
  const status = JSON.parse((await host(['status', '--agent', socket, '--json'])).stdout) as { vms: { total: number }; storage: { provisioned: number } };
  assert.equal(status.vms.total, 0);
  assert.equal(status.storage.provisioned, 0);
}));

test('usage errors are status 2 and say what is missing', async () => {
  assert.match((await host(['vm', 'list'])).stderr, /--agent PATH\|tcp:HOST:PORT is required/);
  assert.match((await host(['vm', 'frobnicate', '--agent', '/x'])).stderr, /unknown verb 'vm frobnicate'/);
  assert.match((await host(['vm', 'define', 'x', '--agent', '/x', '--kernel', 'k', '--new-disk', 'huge'])).stderr, /--new-disk takes a size/);
  assert.match((await host(['vm', 'list', '--agent', 'tcp:127.0.0.1:1'])).stderr, /give --token-file FILE/);
  assert.match((await host(['serve'])).stderr, /--data DIR is required/);
  assert.match((await host(['serve', '--data', '/tmp/x', '--listen', 'tcp:0.0.0.0:80'])).stderr, /needs --token-file/);
  for (const args of [['vm', 'list'], ['serve', '--data', '/tmp/x', '--listen', 'tcp:0.0.0.0:80']]) assert.equal((await host(args)).status, 2);
});
