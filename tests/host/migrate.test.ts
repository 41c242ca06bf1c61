// Migration between two host agents with real processes: `vireo host vm migrate` asks the
// destination for an incoming VM, then the source's VM moves there and keeps counting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFreestandingProgram, repoRoot } from '../support/riscv-toolchain.js';
import { AgentProcess, eventually } from '../support/agent-process.js';

interface VmInfo { state: string; pid: number | null; lastExit: { reason: string } | null; definition: { spec: { boot: { kernel: string } } } }

test('a VM migrates from one agent to another and goes on where it was', { timeout: 120_000 }, async () => {
  const elf = buildFreestandingProgram('host-ticker', join(repoRoot(), 'tests', 'host', 'ticker'));
  const dir = mkdtempSync(join(tmpdir(), 'vhm-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'migration-test-token-0123456789\n', { mode: 0o600 });
  const source = await AgentProcess.start(join(dir, 'a'), tokenFile);
  const destination = await AgentProcess.start(join(dir, 'b'), tokenFile);
  try {
    const a = source.client();
    const b = destination.client();
    await a.call('POST', '/vms', { name: 'mover', spec: { ramMiB: 16, boot: { kernel: elf } } });
    await a.call('POST', '/vms/mover/start');
    await eventually('a few ticks on the source', 20_000, async () => (await a.call<{ consoleBytes: number }>('GET', '/vms/mover/stats')).consoleBytes > 60);

    const cli = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'host', 'vm', 'migrate', 'mover', '--agent', source.socketPath, '--to', `tcp:127.0.0.1:${destination.port}`, '--to-token-file', tokenFile], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli.status, 0, `${cli.stdout}${cli.stderr}\n${source.log}\n${destination.log}`);
    assert.match(cli.stdout, /migrated VM mover/);

    const moved = await eventually('the VM to be defined at the destination', 20_000, async () => {
      const vm = await b.call<VmInfo>('GET', '/vms/mover');
      return vm.state === 'running' && vm.definition.spec.boot.kernel === elf ? vm : undefined;
    });
    assert.ok(moved.pid !== null);
    const left = await eventually('the source to let it go', 10_000, async () => {
      const vm = await a.call<VmInfo>('GET', '/vms/mover');
      return vm.state === 'stopped' ? vm : undefined;
    });
    assert.match(left.lastExit!.reason, /^migrated to tcp:127\.0\.0\.1:\d+$/);

    // The tick count carries on at the destination: the guest's memory came along.
    const ticks = await eventually('ticks at the destination', 10_000, async () => {
      const found = [...(await consoleTail(destination, 'mover')).matchAll(/tick ([0-9a-f]{8})/g)].map((m) => parseInt(m[1]!, 16));
      return found.length >= 2 ? found : undefined;
    });
    assert.ok(ticks[0]! > 2, `the first tick at the destination is ${ticks[0]}, not a fresh start`);

    // A restarted destination agent still has the VM's definition.
    destination.child.kill('SIGTERM');
    assert.equal(await destination.exited, 0);
    const again = await AgentProcess.start(join(dir, 'b'), tokenFile);
    try {
      const vm = await again.client().call<VmInfo>('GET', '/vms/mover');
      assert.equal(vm.state, 'stopped');
      assert.equal(vm.definition.spec.boot.kernel, elf);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    for (const agent of [source, destination]) if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
    await Promise.all([source.exited, destination.exited]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The console's recent output, through a WebSocket. */
async function consoleTail(agent: AgentProcess, name: string): Promise<string> {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`ws+unix:${agent.socketPath}:/vms/${name}/console`);
  return new Promise((resolve, reject) => {
    ws.once('message', (d: Buffer) => {
      ws.close();
      resolve(d.toString('utf8'));
    });
    ws.once('error', reject);
  });
}
