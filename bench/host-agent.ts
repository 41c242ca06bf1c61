// The host agent's costs against running the same VMs by hand, measured in the same run: the
// time to start 8 small VMs (tests/host/ticker) and have their APIs answer, the memory they
// take, and the latency of reading a VM's status through the agent rather than from the VM.
// Usage: npm run bench:host [-- --vms N]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VmApiClient } from '../src/vm/api/vm-api-client.js';
import { buildFreestandingProgram, repoRoot } from '../tests/support/riscv-toolchain.js';
import { AgentProcess } from '../tests/support/agent-process.js';
import { BenchError } from './bench-error.js';
import { formatTable, median, ratio } from './report.js';

const { values } = parseArgs({ options: { vms: { type: 'string', default: '8' } } });
const COUNT = Number(values.vms);
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 64) throw new BenchError('usage', `--vms takes 1 to 64, got ${values.vms}`);
const REQUESTS = 200;

async function answered(client: VmApiClient): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      await client.status();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new BenchError('vm-failed', `${client.socketPath} never answered`);
}

function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/mu.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

async function latency(call: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function byHand(elf: string, dir: string, count = COUNT): Promise<{ startMs: number; rss: number; statusMs: number }> {
  const children: ChildProcess[] = [];
  const start = performance.now();
  const clients = Array.from({ length: count }, (_, i) => {
    const socket = join(dir, `direct-${i}.sock`);
    children.push(spawn(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf, '-m', '16', '--api', socket], { stdio: ['pipe', 'ignore', 'ignore'] }));
    return new VmApiClient(socket);
  });
  await Promise.all(clients.map(answered));
  const startMs = performance.now() - start;
  const rss = children.reduce((sum, c) => sum + rssBytes(c.pid!), 0);
  const statusMs = await latency(() => clients[0]!.status());
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
  return { startMs, rss, statusMs };
}

async function throughAgent(elf: string, dir: string): Promise<{ startMs: number; rss: number; statusMs: number; agentRss: number }> {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'bench-token-0123456789abcdef\n', { mode: 0o600 });
  const agent = await AgentProcess.start(join(dir, 'data'), tokenFile);
  try {
    const api = agent.client();
    for (let i = 0; i < COUNT; i++) await api.call('POST', '/vms', { name: `vm${i}`, spec: { ramMiB: 16, boot: { kernel: elf } } });
    const start = performance.now();
    await Promise.all(Array.from({ length: COUNT }, (_, i) => api.call('POST', `/vms/vm${i}/start`)));
    const startMs = performance.now() - start;
    const host = await api.call<{ memory: { vmRssBytes: number } }>('GET', '/host');
    // Through the agent: its stats route, which asks the VM's own API (GET /vm, GET /vm/stats).
    const statusMs = await latency(() => api.call('GET', '/vms/vm0/stats'));
    return { startMs, rss: host.memory.vmRssBytes, statusMs, agentRss: rssBytes(agent.child.pid!) };
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
}

const elf = buildFreestandingProgram('host-ticker', join(repoRoot(), 'tests', 'host', 'ticker'));
const dir = mkdtempSync(join(tmpdir(), 'vhb-'));
try {
  // A first start warms the file cache and compiled code for both.
  await byHand(elf, dir, 1);
  const reference = await byHand(elf, dir);
  const agent = await throughAgent(elf, dir);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`Host agent against ${COUNT} 'vireo run --api' processes started by hand (tests/host/ticker, 16 MiB each)\n`);
  console.log(formatTable(['measure', 'by hand', 'agent', 'agent/by hand'], [
    [`start ${COUNT} VMs until their APIs answer`, `${reference.startMs.toFixed(0)} ms`, `${agent.startMs.toFixed(0)} ms`, ratio(agent.startMs / reference.startMs)],
    ['RSS of the VM processes, per VM', mib(reference.rss / COUNT), mib(agent.rss / COUNT), ratio(agent.rss / reference.rss)],
    [`a VM's status: GET /vm, GET /vms/NAME/stats (median of ${REQUESTS})`, `${reference.statusMs.toFixed(2)} ms`, `${agent.statusMs.toFixed(2)} ms`, ratio(agent.statusMs / reference.statusMs)],
    ['RSS of the agent itself', '-', mib(agent.agentRss), '-'],
  ]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
