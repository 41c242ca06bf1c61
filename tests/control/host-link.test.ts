// The master's link to host agents end to end: two real `vireo host serve` processes on TCP,
// watched by a HeartbeatMonitor and driven by HostAgentClients. A VM (a tiny bare-metal guest)
// is defined on each and started, snapshotted, migrated and its console opened; then one agent
// is SIGKILLed and must be reported down, its VMs unknown, within the configured time while the
// other stays up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { HeartbeatMonitor, type HeartbeatSink } from '../../src/control/hosts/heartbeat-monitor.js';
import { HostAgentClient } from '../../src/control/hosts/host-agent-client.js';
import { HostLinkError } from '../../src/control/hosts/host-link-error.js';
import type { AgentHostInfo } from '../../src/control/hosts/agent-api-types.js';
import type { MasterVm, Reconciliation } from '../../src/control/hosts/reconcile.js';
import { AgentProcess, alive, eventually, IDLE_KERNEL, stopAgents } from '../support/agent-process.js';

const TOKEN = 'master-host-link-token-0123456789';
const HEARTBEAT = { intervalMs: 250, requestTimeoutMs: 500, downAfterMs: 1500, reconcileEveryMs: 500 };
/** The longest a dead agent may go unreported: the down time, one interval to the next poll, and that poll's timeout. */
const REPORT_WITHIN_MS = HEARTBEAT.downAfterMs + HEARTBEAT.intervalMs + HEARTBEAT.requestTimeoutMs;

class Recorder implements HeartbeatSink {
  reports = new Map<string, AgentHostInfo[]>();
  down = new Map<string, { at: number; reason: string }>();
  up: string[] = [];
  reconciled: { hostId: string; result: Reconciliation }[] = [];
  onHostReport(hostId: string, report: AgentHostInfo): void { this.reports.set(hostId, [...(this.reports.get(hostId) ?? []), report]); }
  onHostDown(hostId: string, reason: string): void { this.down.set(hostId, { at: Date.now(), reason }); }
  onHostUp(hostId: string): void { this.up.push(hostId); }
  onVmsReconciled(hostId: string, result: Reconciliation): void { this.reconciled.push({ hostId, result }); }
  changesOf(vmId: string): string[] {
    return this.reconciled.flatMap((r) => r.result.changes).filter((c) => c.vmId === vmId).map((c) => `${c.to}: ${c.reason}`);
  }
}

test('two host agents: both up with their resources, a VM defined on each, one killed is down within the configured time', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-host-link-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const kernel = join(dir, 'idle.bin');
  writeFileSync(kernel, IDLE_KERNEL);
  const agents: AgentProcess[] = [];
  const vmPids: number[] = [];
  let monitor: HeartbeatMonitor | undefined;
  try {
    agents.push(...await Promise.all([
      AgentProcess.start(join(dir, 'a'), tokenFile, ['--memory-budget', '3000']),
      AgentProcess.start(join(dir, 'b'), tokenFile, ['--memory-budget', '3100']),
    ]));
    const [a, b] = agents as [AgentProcess, AgentProcess];
    const clientA = new HostAgentClient({ address: `tcp:127.0.0.1:${a.port}`, token: TOKEN, timeoutMs: 5000 });
    const clientB = new HostAgentClient({ address: `http://127.0.0.1:${b.port}`, token: TOKEN, timeoutMs: 5000 });

    // The master's records: what it has placed on each host.
    const master: Record<string, MasterVm[]> = { a: [{ id: 'vm-1', name: 'alpha', state: 'defined' }], b: [{ id: 'vm-2', name: 'beta', state: 'defined' }] };
    const sink = new Recorder();
    monitor = new HeartbeatMonitor(sink, { vmsOnHost: (id) => master[id] ?? [] }, HEARTBEAT);
    monitor.add({ id: 'a', client: clientA });
    monitor.add({ id: 'b', client: clientB });

    await eventually('both hosts to report', 10_000, async () => sink.reports.has('a') && sink.reports.has('b'));
    for (const [id, budget] of [['a', 3000], ['b', 3100]] as const) {
      const report = sink.reports.get(id)![0]!;
      assert.equal(report.cores, cpus().length, `${id} reports the machine's cores`);
      assert.equal(report.memory.budgetMiB, budget, `${id} reports its own memory budget`);
      assert.ok(report.memory.totalBytes > 0 && report.storage.free > 0);
      assert.equal(monitor.status(id)!.state, 'up');
    }
    // Neither agent has the VMs the master expects yet: missing on host.
    await eventually('the missing VMs to be reported', 5000, async () => sink.changesOf('vm-1').length > 0 && sink.changesOf('vm-2').length > 0);
    assert.deepEqual(sink.changesOf('vm-1'), ['unknown: missing on host']);

    const alpha = await clientA.defineVm({ name: 'alpha', spec: { ramMiB: 16, boot: { kernel } } });
    const beta = await clientB.defineVm({ name: 'beta', spec: { ramMiB: 16, boot: { kernel }, disks: [{ sizeMiB: 4 }] } });
    assert.equal(alpha.state, 'defined');
    assert.equal(beta.definition.spec.disks.length, 1);
    const started = await clientA.startVm('alpha');
    assert.equal(started.state, 'running');
    vmPids.push(started.pid!);
    assert.deepEqual((await clientA.listVms()).map((vm) => [vm.name, vm.state]), [['alpha', 'running']]);
    assert.equal((await clientA.vmStats('alpha')).state, 'running');
    master['a'] = [{ id: 'vm-1', name: 'alpha', state: 'unknown' }];
    master['b'] = [{ id: 'vm-2', name: 'beta', state: 'unknown' }];
    // The agents' states win: unknown VMs come back as their agents have them.
    await eventually('the VMs to be reconciled with their agents', 5000, async () =>
      sink.changesOf('vm-1').includes('running: reported by the host (running)') && sink.changesOf('vm-2').includes('defined: reported by the host (defined)'));

    // The agents' operations through the client: a snapshot, and beta moved from b to a.
    const snapshot = await clientA.snapshotVm('alpha');
    assert.equal(snapshot.state, 'succeeded');
    assert.match(JSON.stringify(snapshot.result), /\.vmsnap/);
    await clientB.startVm('beta');
    const progress: string[] = [];
    const migration = await clientB.migrateVm('beta', clientA, {}, { onProgress: (op) => progress.push(op.state) });
    assert.equal(migration.state, 'succeeded');
    assert.equal(progress.at(-1), 'succeeded');
    const arrived = await eventually('beta to run on host a', 10_000, async () => (await clientA.listVms()).find((vm) => vm.name === 'beta' && vm.state === 'running'));
    vmPids.push(arrived.pid!);
    assert.match((await clientB.getVm('beta')).lastExit?.reason ?? '', /^migrated to tcp:/);
    master['a'] = [{ id: 'vm-1', name: 'alpha', state: 'running' }, { id: 'vm-2', name: 'beta', state: 'running' }];
    master['b'] = [];

    // The console: the agent's WebSocket, opened with what the client gives.
    const { url, headers } = clientA.console('alpha');
    const ws = new WebSocket(url, { headers });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.close();

    await assert.rejects(new HostAgentClient({ address: `tcp:127.0.0.1:${a.port}`, token: 'not-the-token-not-the-token' }).hostInfo(), (e: unknown) => e instanceof HostLinkError && e.kind === 'unauthorized' && e.status === 401);

    // The agent of host a dies; its VM's process lives on, but the master can no longer know.
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    const reportsOfB = sink.reports.get('b')!.length;
    const down = await eventually('host a to be reported down', REPORT_WITHIN_MS + 2000, async () => sink.down.get('a'));
    const tookMs = down.at - killedAt;
    assert.ok(tookMs >= HEARTBEAT.downAfterMs - HEARTBEAT.intervalMs - 50 && tookMs <= REPORT_WITHIN_MS + 500, `down after ${tookMs} ms (configured: ${HEARTBEAT.downAfterMs} ms)`);
    assert.match(down.reason, /cannot reach|nothing listens|ECONNREFUSED|ECONNRESET|socket hang up/);
    assert.equal(monitor.status('a')!.state, 'down');
    await eventually('its VMs to be unknown', 2000, async () => ['vm-1', 'vm-2'].every((id) => sink.changesOf(id).at(-1)?.startsWith('unknown: host down:')));
    assert.equal(monitor.status('b')!.state, 'up');
    assert.ok(!sink.down.has('b'), 'host b is never down');
    assert.ok(sink.reports.get('b')!.length > reportsOfB, 'host b goes on reporting');
    assert.ok(vmPids.every(alive), 'the VM processes outlive their agent');
  } finally {
    monitor?.stop();
    await stopAgents(agents, vmPids);
    rmSync(dir, { recursive: true, force: true });
  }
});
