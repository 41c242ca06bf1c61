// The host agent end to end: real `vireo host serve` and `vireo run` processes running a small
// guest (tests/host/ticker: prints a tick every 100 ms, echoes input upper-cased). Eight VMs at
// once; one SIGKILLed is reported crashed while the others go on; the console over WebSocket;
// the 0600 socket and TCP with and without the token; killing and restarting the agent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { buildFreestandingProgram, repoRoot } from '../support/riscv-toolchain.js';
import { AgentProcess, alive, eventually } from '../support/agent-process.js';

const TOKEN = 'host-agent-test-token-0123456789';
const NAMES = ['vm0', 'vm1', 'vm2', 'vm3', 'vm4', 'vm5', 'vm6', 'vm7'];
/** The even VMs start again with the agent; the odd ones do not. */
const autostart = (name: string) => Number(name.slice(2)) % 2 === 0;

interface VmStats { state: string; pid: number | null; consoleBytes: number; lastExit: { reason: string } | null; status: { instructionsRetired: number } | null }

test('the agent runs eight VMs in their own processes; one killed is crashed while the others go on; the agent restarts', { timeout: 240_000 }, async () => {
  const elf = buildFreestandingProgram('host-ticker', join(repoRoot(), 'tests', 'host', 'ticker'));
  const dir = mkdtempSync(join(tmpdir(), 'vha-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const data = join(dir, 'data');
  let agent = await AgentProcess.start(data, tokenFile, ['--memory-budget', '8000']);
  const pids: number[] = [];
  try {
    const api = agent.client();
    assert.equal(statSync(agent.socketPath).mode & 0o777, 0o600);
    assert.equal((await agent.tcpClient().request('GET', '/host')).status, 401);
    assert.equal((await agent.tcpClient('wrong-token-wrong-token-wrong-to').request('GET', '/vms')).status, 401);
    assert.equal((await agent.tcpClient(TOKEN).request('GET', '/host')).status, 200);

    for (const name of NAMES) {
      await api.call('POST', '/vms', { name, autostart: autostart(name), spec: { ramMiB: 16, boot: { kernel: elf }, disks: name === 'vm0' ? [{ sizeMiB: 4 }] : [] } });
    }
    await Promise.all(NAMES.map((name) => api.call('POST', `/vms/${name}/start`)));
    const stats = (name: string) => api.call<VmStats>('GET', `/vms/${name}/stats`);
    const first = await Promise.all(NAMES.map(async (name) => eventually(`${name} to tick`, 30_000, async () => {
      const s = await stats(name);
      return s.state === 'running' && s.consoleBytes > 0 && (s.status?.instructionsRetired ?? 0) > 0 ? s : undefined;
    })));
    pids.push(...first.map((s) => s.pid!));
    assert.equal(new Set(pids).size, 8, 'each VM has its own process');
    const environment = readFileSync(`/proc/${pids[0]}/environ`, 'utf8').split('\0');
    assert.ok(environment.includes('MALLOC_ARENA_MAX=2'), 'a VM process runs with two malloc arenas');

    // One VM killed from outside: the agent says it crashed and why; the rest carry on.
    process.kill(pids[3]!, 'SIGKILL');
    const crashed = await eventually('vm3 to be seen crashed', 10_000, async () => {
      const s = await stats('vm3');
      return s.state === 'crashed' ? s : undefined;
    });
    assert.equal(crashed.lastExit?.reason, 'crashed: killed by SIGKILL');
    const before = await Promise.all(NAMES.map(stats));
    await new Promise((r) => setTimeout(r, 1500));
    const after = await Promise.all(NAMES.map(stats));
    for (const [i, name] of NAMES.entries()) {
      if (name === 'vm3') continue;
      assert.equal(after[i]!.state, 'running', name);
      assert.equal(after[i]!.pid, pids[i], `${name} kept its process`);
      assert.ok(after[i]!.consoleBytes > before[i]!.consoleBytes, `${name}'s console goes on`);
      assert.ok(after[i]!.status!.instructionsRetired > before[i]!.status!.instructionsRetired, `${name}'s instructions go on`);
    }
    assert.equal(after[3]!.consoleBytes, before[3]!.consoleBytes);

    // The console over WebSocket: the tail first, then new output, and input typed in.
    const ws = new WebSocket(`ws+unix:${agent.socketPath}:/vms/vm1/console`);
    let seen = '';
    ws.on('message', (d: Buffer) => { seen += d.toString('utf8'); });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    await eventually('the console tail', 5000, async () => seen.includes('tick 0'));
    ws.send('ping');
    // The guest echoes input between its naps, so a tick line may fall between the letters.
    await eventually('the echo of the input', 5000, async () => seen.replace(/tick [0-9a-f]{8}\n/g, '').includes('PING'));
    const ticks = [...seen.matchAll(/tick ([0-9a-f]{8})/g)].map((m) => parseInt(m[1]!, 16));
    assert.ok(ticks.length >= 5 && ticks.every((t, i) => i === 0 || t === ticks[i - 1]! + 1), `ticks in order: ${ticks.join(' ')}`);
    ws.close();

    // A second agent on the same directory refuses to start and touches nothing.
    await assert.rejects(AgentProcess.start(data, tokenFile), /the agent did not start serving:[^]*is in use/);
    const still = await Promise.all(NAMES.map(stats));
    for (const [i, name] of NAMES.entries()) if (name !== 'vm3') assert.equal(still[i]!.pid, pids[i], `${name} kept its process`);

    // The agent dies; a new one keeps the definitions, stops the processes left behind and
    // starts the autostart VMs again (vm3, crashed and not autostart, stays down).
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = await AgentProcess.start(data, tokenFile, ['--memory-budget', '8000']);
    const api2 = agent.client();
    const { vms } = await api2.call<{ vms: Array<{ name: string; state: string; pid: number | null }> }>('GET', '/vms');
    assert.deepEqual(vms.map((v) => v.name), NAMES);
    for (const [i, name] of NAMES.entries()) {
      const vm = vms.find((v) => v.name === name)!;
      if (autostart(name)) {
        assert.equal(vm.state, 'running', name);
        assert.notEqual(vm.pid, pids[i], `${name} runs in a new process`);
        pids.push(vm.pid!);
      } else {
        assert.notEqual(vm.state, 'running', name);
      }
      assert.ok(!alive(pids[i]!), `${name}'s old process ${pids[i]} is gone`);
    }
    await eventually('vm2 to tick again', 10_000, async () => (await api2.call<VmStats>('GET', '/vms/vm2/stats')).consoleBytes > 0);

    // SIGTERM: the agent stops its VMs and exits 0.
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0, agent.log);
    for (const pid of pids) assert.ok(!alive(pid), `process ${pid} is gone after the agent stopped`);
  } finally {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
