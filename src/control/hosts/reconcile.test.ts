import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markUnknown, MISSING_ON_HOST, reconcile, type AgentVmView, type MasterVm, type Reconciliation } from './reconcile.js';

const vm = (id: string, state: MasterVm['state']): MasterVm => ({ id, name: `vm-${id}`, state });
const on = (name: string, state: AgentVmView['state'], exit?: string): AgentVmView => ({ name, state, lastExit: exit === undefined ? null : { reason: exit } });

const CASES: { name: string; master: MasterVm[]; agent: AgentVmView[]; want: Reconciliation }[] = [
  { name: 'both agree: nothing to do', master: [vm('a', 'running'), vm('b', 'stopped')], agent: [on('vm-a', 'running'), on('vm-b', 'stopped')], want: { changes: [], strays: [] } },
  {
    name: 'the agent\'s state wins', master: [vm('a', 'running'), vm('b', 'defined')], agent: [on('vm-a', 'paused'), on('vm-b', 'running')],
    want: { changes: [
      { vmId: 'a', name: 'vm-a', from: 'running', to: 'paused', reason: 'reported by the host (paused)' },
      { vmId: 'b', name: 'vm-b', from: 'defined', to: 'running', reason: 'reported by the host (running)' },
    ], strays: [] },
  },
  {
    name: 'a crash carries the agent\'s reason', master: [vm('a', 'running')], agent: [on('vm-a', 'crashed', 'crashed: killed by SIGKILL')],
    want: { changes: [{ vmId: 'a', name: 'vm-a', from: 'running', to: 'crashed', reason: 'crashed: killed by SIGKILL' }], strays: [] },
  },
  {
    name: 'unknown VMs come back with the agent\'s state', master: [vm('a', 'unknown')], agent: [on('vm-a', 'running')],
    want: { changes: [{ vmId: 'a', name: 'vm-a', from: 'unknown', to: 'running', reason: 'reported by the host (running)' }], strays: [] },
  },
  {
    name: 'missing on the agent: unknown, once', master: [vm('a', 'running'), vm('b', 'unknown')], agent: [],
    want: { changes: [{ vmId: 'a', name: 'vm-a', from: 'running', to: 'unknown', reason: MISSING_ON_HOST }], strays: [] },
  },
  {
    name: 'strays are reported, the master\'s VMs untouched', master: [vm('a', 'running')], agent: [on('vm-a', 'running'), on('intruder', 'running'), on('old', 'stopped')],
    want: { changes: [], strays: [{ name: 'intruder', state: 'running' }, { name: 'old', state: 'stopped' }] },
  },
  { name: 'a VM being deleted is left to its deletion', master: [vm('a', 'deleting'), vm('b', 'deleting')], agent: [on('vm-a', 'stopped')], want: { changes: [], strays: [] } },
];

for (const c of CASES) {
  test(`reconcile: ${c.name}`, () => {
    assert.deepEqual(reconcile(c.master, c.agent), c.want);
  });
}

test('markUnknown: every VM on a down host becomes unknown with the reason, none twice', () => {
  const changes = markUnknown([vm('a', 'running'), vm('b', 'stopped'), vm('c', 'unknown'), vm('d', 'deleting')], 'host down: connection refused');
  assert.deepEqual(changes, [
    { vmId: 'a', name: 'vm-a', from: 'running', to: 'unknown', reason: 'host down: connection refused' },
    { vmId: 'b', name: 'vm-b', from: 'stopped', to: 'unknown', reason: 'host down: connection refused' },
  ]);
});
