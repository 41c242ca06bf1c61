import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../tests/support/fake-clock.js';
import type { AgentHostInfo } from './agent-api-types.js';
import { HeartbeatMonitor, type HeartbeatClient, type HeartbeatSink } from './heartbeat-monitor.js';
import type { AgentVmView, MasterVm, Reconciliation } from './reconcile.js';

const report = (cores: number): AgentHostInfo => ({
  cores, memory: { totalBytes: 8 * 2 ** 30, freeBytes: 2 ** 30, budgetMiB: 7000, chargedMiB: 0, vmRssBytes: 0 },
  storage: { capacityBytes: 2 ** 34, provisioned: 0, allocated: 0, free: 2 ** 34 }, vms: { total: 0, byState: {} },
  cpu: { capacityPercent: cores * 100 }, diskBudget: { iops: null, bps: null }, networks: [],
});

/** An agent that answers, refuses, or hangs: honouring the abort, or (a broken client) not even that. */
class FakeAgent implements HeartbeatClient {
  mode: 'answer' | 'refuse' | 'hang' | 'hang-deaf' = 'answer';
  vms: AgentVmView[] = [];
  polls = 0;
  inFlight = 0;
  mostInFlight = 0;

  constructor(private readonly cores: number) {}

  async hostInfo(options: { signal?: AbortSignal } = {}): Promise<AgentHostInfo> {
    this.polls++;
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      if (this.mode === 'hang-deaf') await new Promise(() => {});
      if (this.mode === 'hang') await new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error)));
      if (this.mode === 'refuse') throw new Error('connection refused');
      return report(this.cores);
    } finally {
      this.inFlight--;
    }
  }

  async listVms(): Promise<AgentVmView[]> {
    if (this.mode !== 'answer') throw new Error('connection refused');
    return this.vms;
  }
}

class RecordingSink implements HeartbeatSink {
  events: string[] = [];
  reconciled: { hostId: string; result: Reconciliation }[] = [];
  onHostReport(hostId: string, r: AgentHostInfo): void { this.events.push(`report ${hostId} ${r.cores}`); }
  onHostDown(hostId: string, reason: string): void { this.events.push(`down ${hostId}: ${reason}`); }
  onHostUp(hostId: string): void { this.events.push(`up ${hostId}`); }
  onVmsReconciled(hostId: string, result: Reconciliation): void {
    this.events.push(`vms ${hostId}`);
    this.reconciled.push({ hostId, result });
  }
  /** The events other than reports. */
  changes(): string[] {
    return this.events.filter((e) => !e.startsWith('report'));
  }
}

const MASTER_VMS: Record<string, MasterVm[]> = {
  a: [{ id: 'v1', name: 'web', state: 'running' }, { id: 'v2', name: 'db', state: 'stopped' }],
  b: [{ id: 'v3', name: 'cache', state: 'running' }],
};

function setup() {
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const logged: string[] = [];
  const monitor = new HeartbeatMonitor(sink, { vmsOnHost: (id) => MASTER_VMS[id] ?? [] }, {
    intervalMs: 5000, requestTimeoutMs: 3000, downAfterMs: 15_000, reconcileEveryMs: 60_000, timers: clock, log: (line) => logged.push(line),
  });
  const a = new FakeAgent(4);
  const b = new FakeAgent(8);
  a.vms = [{ name: 'web', state: 'running' }, { name: 'db', state: 'stopped' }];
  b.vms = [{ name: 'cache', state: 'running' }];
  monitor.add({ id: 'a', client: a });
  monitor.add({ id: 'b', client: b });
  return { clock, sink, monitor, a, b, logged };
}

test('a host that stops answering is down after downAfterMs with its VMs unknown; the other stays up', async () => {
  const { clock, sink, monitor, a } = setup();
  await clock.advance(1);
  assert.deepEqual(sink.events, ['report a 4', 'report b 8'], 'both report at once; their VMs agree with the master');
  assert.equal(monitor.status('a')!.state, 'up');
  a.mode = 'refuse';
  await clock.advance(14_998);
  assert.deepEqual(sink.changes(), [], 'not down before 15 s without an answer');
  assert.equal(monitor.status('a')!.state, 'up');
  assert.equal(monitor.status('a')!.reason, 'connection refused');
  await clock.advance(1);
  assert.deepEqual(sink.changes(), ['down a: connection refused', 'vms a']);
  assert.deepEqual(sink.reconciled[0]!.result, {
    changes: [
      { vmId: 'v1', name: 'web', from: 'running', to: 'unknown', reason: 'host down: connection refused' },
      { vmId: 'v2', name: 'db', from: 'stopped', to: 'unknown', reason: 'host down: connection refused' },
    ],
    strays: [],
  });
  assert.equal(monitor.status('a')!.state, 'down');
  assert.equal(monitor.status('b')!.state, 'up');
  assert.equal(sink.events.filter((e) => e === 'report b 8').length, 4, 'b reported at 0, 5, 10 and 15 s');
  await clock.advance(30_000);
  assert.deepEqual(sink.changes(), ['down a: connection refused', 'vms a'], 'down once');
  assert.ok(a.polls >= 9, 'a down host is still polled');
  monitor.stop();
});

test('a down host that answers again is up and its VMs are reconciled', async () => {
  const { clock, sink, monitor, a } = setup();
  await clock.advance(1);
  a.mode = 'refuse';
  await clock.advance(20_000);
  assert.equal(monitor.status('a')!.state, 'down');
  // Meanwhile db was started there, web crashed, and someone defined a VM the master does not know.
  a.vms = [{ name: 'web', state: 'crashed', lastExit: { reason: 'crashed: killed by SIGKILL' } }, { name: 'db', state: 'running' }, { name: 'stray', state: 'defined' }];
  MASTER_VMS['a'] = MASTER_VMS['a']!.map((vm) => ({ ...vm, state: 'unknown' as const }));
  a.mode = 'answer';
  await clock.advance(5000);
  assert.deepEqual(sink.changes().slice(-2), ['up a', 'vms a']);
  assert.equal(monitor.status('a')!.state, 'up');
  assert.equal(monitor.status('a')!.reason, '');
  assert.deepEqual(sink.reconciled.at(-1)!.result, {
    changes: [
      { vmId: 'v1', name: 'web', from: 'unknown', to: 'crashed', reason: 'crashed: killed by SIGKILL' },
      { vmId: 'v2', name: 'db', from: 'unknown', to: 'running', reason: 'reported by the host (running)' },
    ],
    strays: [{ name: 'stray', state: 'defined' }],
  });
  MASTER_VMS['a'] = [{ id: 'v1', name: 'web', state: 'running' }, { id: 'v2', name: 'db', state: 'stopped' }];
  monitor.stop();
});

test('a host in maintenance is polled and reported but never marked down', async () => {
  const { clock, sink, monitor, a } = setup();
  await clock.advance(1);
  monitor.setMaintenance('a', true);
  a.mode = 'refuse';
  await clock.advance(60_000);
  assert.deepEqual(sink.changes(), []);
  assert.equal(monitor.status('a')!.state, 'maintenance');
  assert.equal(monitor.status('a')!.reason, 'connection refused');
  a.mode = 'answer';
  await clock.advance(5000);
  assert.equal(sink.events.at(-2), 'report a 4', 'reports go on in maintenance');
  monitor.setMaintenance('a', false);
  assert.equal(monitor.status('a')!.state, 'up');
  a.mode = 'refuse';
  await clock.advance(15_000);
  assert.equal(monitor.status('a')!.state, 'down', 'out of maintenance it goes down like any host');
  monitor.stop();
});

test('a hanging host: its requests time out, it never has two polls at once, and the other host is not delayed', async () => {
  const { clock, sink, monitor, a, b } = setup();
  await clock.advance(1);
  a.mode = 'hang';
  await clock.advance(14_999);
  assert.equal(monitor.status('a')!.reason, 'no answer within 3000 ms');
  assert.equal(monitor.status('a')!.state, 'up');
  await clock.advance(3000);
  assert.deepEqual(sink.changes(), ['down a: no answer within 3000 ms', 'vms a'], 'down at the poll of 15 s, which timed out at 18 s');
  assert.equal(a.mostInFlight, 1);
  assert.equal(b.polls, 4, 'b polled every 5 s all along (0, 5, 10, 15 s)');
  monitor.stop();
});

test('a client that ignores the abort: no second poll while one hangs, and the host still goes down', async () => {
  const { clock, sink, monitor, a } = setup();
  await clock.advance(1);
  a.mode = 'hang-deaf';
  await clock.advance(15_000);
  assert.equal(a.polls, 2, 'one poll at 0 s, one at 5 s, none while that one hangs');
  assert.equal(a.mostInFlight, 1);
  assert.match(sink.changes()[0] ?? '', /^down a: no answer to the heartbeat sent 10000 ms ago$/);
  monitor.stop();
});

test('a host added as down comes up at its first answer; a failing sink is logged, not fatal', async () => {
  const clock = new FakeClock();
  const logged: string[] = [];
  const events: string[] = [];
  const monitor = new HeartbeatMonitor({
    onHostReport: () => { throw new Error('database is locked'); },
    onHostDown: () => {},
    onHostUp: (id) => { events.push(`up ${id}`); },
    onVmsReconciled: (id, r) => { events.push(`vms ${id} ${r.changes.map((c) => `${c.name}->${c.to}`).join(',')}`); },
  }, { vmsOnHost: () => [{ id: 'v1', name: 'web', state: 'unknown' }] }, { timers: clock, log: (line) => logged.push(line) });
  const agent = new FakeAgent(2);
  agent.vms = [{ name: 'web', state: 'running' }];
  monitor.add({ id: 'h', client: agent, state: 'down' });
  await clock.advance(1);
  assert.deepEqual(events, ['up h', 'vms h web->running']);
  assert.deepEqual(logged, ['host h: recording its state failed: database is locked']);
  assert.equal(monitor.status('h')!.lastAnswerAt, 0);
  monitor.stop();
  assert.equal(clock.pending, 0, 'stop leaves no timers');
});

test('a reconciliation that could not be recorded is tried again at the next answer', async () => {
  const clock = new FakeClock();
  const logged: string[] = [];
  let failures = 1;
  const sink = new RecordingSink();
  const monitor = new HeartbeatMonitor(sink, {
    vmsOnHost: () => {
      if (failures-- > 0) throw new Error('database is locked');
      return [{ id: 'v1', name: 'web', state: 'running' }];
    },
  }, { timers: clock, log: (line) => logged.push(line), reconcileEveryMs: 3_600_000 });
  monitor.add({ id: 'h', client: new FakeAgent(2) });
  await clock.advance(1);
  assert.deepEqual(logged, ['host h: recording its state failed: database is locked']);
  assert.deepEqual(sink.changes(), []);
  await clock.advance(5000);
  assert.deepEqual(sink.changes(), ['vms h']);
  assert.deepEqual(sink.reconciled[0]!.result.changes.map((c) => `${c.name}->${c.to}: ${c.reason}`), ['web->unknown: missing on host']);
  monitor.stop();
});
