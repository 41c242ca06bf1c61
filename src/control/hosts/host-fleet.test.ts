import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTempStore } from '../../../tests/support/temp-store.js';
import { listAudit } from '../store/audit-log.js';
import type { AgentHostInfo } from './agent-api-types.js';
import { HostFleet } from './host-fleet.js';

const REPORT: AgentHostInfo = {
  cores: 8, memory: { totalBytes: 8 << 30, freeBytes: 4 << 30, budgetMiB: 6000, chargedMiB: 400, vmRssBytes: 0 },
  storage: { capacityBytes: 100 << 30, provisioned: 0, allocated: 0, free: 50 << 30 }, vms: { total: 1, byState: { running: 1 } },
  cpu: { capacityPercent: 800 }, diskBudget: { iops: null, bps: null }, networks: [],
};

test('a heartbeat\'s report is recorded without a new version; down and up are recorded, audited and published', () => withTempStore(async (t) => {
  const fleet = new HostFleet(t);
  fleet.watch(t.host);
  fleet.stop();
  await fleet.onHostReport(t.host.id, REPORT);
  const reported = await t.repos.hosts.get(t.host.id);
  assert.deepEqual([reported.cpus, reported.memory_mib, reported.storage_bytes, reported.version], [8, 6000, 100 << 30, t.host.version]);
  assert.deepEqual(JSON.parse(reported.last_report), REPORT);
  assert.ok(reported.last_heartbeat_at !== null);

  await fleet.onHostDown(t.host.id, 'cannot reach 127.0.0.1:1');
  const down = await t.repos.hosts.get(t.host.id);
  assert.deepEqual([down.state, down.state_reason], ['down', 'cannot reach 127.0.0.1:1']);
  await fleet.onHostUp(t.host.id);
  assert.equal((await t.repos.hosts.get(t.host.id)).state, 'up');
  const audit = await listAudit(t.store.db, {});
  assert.deepEqual(audit.items.map((e) => e.action), ['host.up', 'host.down']);
  const types = t.published.map((e) => e.type);
  assert.deepEqual(types, ['host.heartbeat', 'host.down', 'host.up']);
  assert.ok(t.published.every((e) => e.scope.dataCenterId === t.dataCenterId));
}));

test('a host in maintenance stays so whatever its heartbeat finds', () => withTempStore(async (t) => {
  const fleet = new HostFleet(t);
  await t.repos.hosts.update(t.host.id, t.host.version, { state: 'maintenance', state_reason: 'maintenance, set by ops' });
  await fleet.onHostDown(t.host.id, 'no answer');
  await fleet.onHostUp(t.host.id);
  assert.equal((await t.repos.hosts.get(t.host.id)).state, 'maintenance');
  assert.deepEqual(t.published, []);
}));

test('reconciled VM states: recorded only while the VM is still as read, not while an operation drives it, except unknown', () => withTempStore(async (t) => {
  const busy = new Set<string>();
  const fleet = new HostFleet(t, { isBusy: (id) => busy.has(id) });
  const vm = (name: string, state: 'defined' | 'starting' | 'running') => t.repos.virtualMachines.create({
    tenant_id: t.tenantId, data_center_id: t.dataCenterId, host_id: t.host.id, name, cpus: 1, memory_mib: 16, spec: '{}', state,
  });
  const [moved, stale, driven, lost] = await Promise.all([vm('moved', 'defined'), vm('stale', 'running'), vm('driven', 'starting'), vm('lost', 'starting')]);
  busy.add(driven.id).add(lost.id);
  await fleet.onVmsReconciled(t.host.id, {
    strays: [],
    changes: [
      { vmId: moved.id, name: 'moved', from: 'defined', to: 'running', reason: 'reported by the host (running)' },
      { vmId: stale.id, name: 'stale', from: 'defined', to: 'stopped', reason: 'read before it started' },
      { vmId: driven.id, name: 'driven', from: 'starting', to: 'defined', reason: 'reported by the host (defined)' },
      { vmId: lost.id, name: 'lost', from: 'starting', to: 'unknown', reason: 'host down: no answer' },
    ],
  });
  const states = await Promise.all([moved, stale, driven, lost].map(async (v) => (await t.repos.virtualMachines.get(v.id)).state));
  assert.deepEqual(states, ['running', 'running', 'starting', 'unknown']);
  assert.equal((await t.repos.virtualMachines.get(moved.id)).version, moved.version + 1, 'a state change is a new version');
  assert.deepEqual(t.published.map((e) => [e.type, e.id, e.data['state']]), [['vm.state', moved.id, 'running'], ['vm.state', lost.id, 'unknown']]);
  assert.deepEqual(t.published[0]!.scope, { dataCenterId: t.dataCenterId, tenantId: t.tenantId });
}));
