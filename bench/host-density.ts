// Density of idle VMs under one host agent: N Debian VMs (128 MiB each, a qcow2 overlay over the
// cached image) started through `vireo host serve`; once every one is at its shell prompt, the
// host CPU the agent and the VM processes use over 10 s and the resident memory per idle VM,
// from /proc. Reference, measured in the same window: the whole machine's CPU time (/proc/stat),
// and each VM's own RAM. Targets: idle VMs and agent below 5% of the machine, memory per VM
// well under its RAM.
// Usage: npm run bench:density [-- N]   (default 32)

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DEBIAN_APPEND } from '../src/cli/default-guest.js';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { AgentProcess } from '../tests/host/agent-process.js';
import { processCpuSeconds } from '../tests/support/process-cpu.js';
import { qemuImg } from '../tests/storage/qemu-img.js';
import { BenchError } from './bench-error.js';
import { formatTable, ratio } from './report.js';

const COUNT = Number(process.argv[2] ?? '32');
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 256) throw new BenchError('usage', `the VM count must be 1 to 256, got ${process.argv[2]}`);
const RAM_MIB = 128;
const MEASURE_MS = 10_000;
/** A VM may take this long to reach its prompt (they boot together, sharing the host's cores). */
const BOOT_MS = 300_000 + COUNT * 60_000;
const PROMPT = /root@vireo:[^\n]*# $/;
const CPU_TARGET = 0.05;

/** Resolves once VM `name`'s console (over the agent's WebSocket) ends in a shell prompt. */
function atPrompt(agent: AgentProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix:${agent.socketPath}:/vms/${name}/console`);
    let tail = '';
    const timer = setTimeout(() => { ws.close(); reject(new BenchError('vm-failed', `VM ${name} showed no prompt in ${BOOT_MS / 1000} s; its console ended: ${JSON.stringify(tail.slice(-200))}`)); }, BOOT_MS);
    ws.on('message', (d: Buffer) => {
      tail = (tail + d.toString('utf8')).slice(-4096);
      if (PROMPT.test(tail)) {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    });
    ws.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** The whole machine's CPU seconds, busy and all (every core), from /proc/stat. */
function machineSeconds(): { busy: number; all: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const all = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: (all - idle) / 100, all: all / 100 };
}

function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/mu.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

const image = await ensureDebianImage();
const dir = mkdtempSync(join(tmpdir(), 'vhd-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'density-bench-token-0123456789ab\n', { mode: 0o600 });
const agent = await AgentProcess.start(join(dir, 'data'), tokenFile, ['--memory-budget', String(COUNT * 512)]);
try {
  const api = agent.client();
  const names = Array.from({ length: COUNT }, (_, i) => `idle${i}`);
  for (const name of names) {
    const root = join(dir, `${name}.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', '-b', image.rootDisk, '-F', 'raw', root);
    await api.call('POST', '/vms', {
      name,
      spec: { ramMiB: RAM_MIB, boot: { kernel: image.kernel, firmware: image.firmware, initrd: image.initrd, bootargs: DEBIAN_APPEND }, disks: [{ path: root, format: 'qcow2' }] },
    });
  }
  const started = performance.now();
  for (const name of names) await api.call('POST', `/vms/${name}/start`);
  await Promise.all(names.map((name) => atPrompt(agent, name)));
  const bootS = (performance.now() - started) / 1000;
  // The last guests' boot services settle.
  await new Promise((r) => setTimeout(r, 5000));

  const pids = await Promise.all(names.map(async (name) => (await api.call<{ pid: number }>('GET', `/vms/${name}`)).pid));
  const all = [agent.child.pid!, ...pids];
  const before = all.map(processCpuSeconds);
  const machineBefore = machineSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const elapsed = (performance.now() - t0) / 1000;
  const used = all.map((pid, i) => processCpuSeconds(pid) - before[i]!);
  const machineAfter = machineSeconds();
  const capacity = cpus().length * elapsed;
  const agentShare = used[0]! / capacity;
  const vmsShare = used.slice(1).reduce((a, b) => a + b, 0) / capacity;
  const machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1e-9, machineAfter.all - machineBefore.all);
  const rss = pids.map(rssBytes);
  const meanRss = rss.reduce((a, b) => a + b, 0) / COUNT;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

  console.log(`${COUNT} idle Debian VMs (${RAM_MIB} MiB each) under one host agent on ${cpus().length} cores; all at their prompt after ${bootS.toFixed(0)} s\n`);
  console.log(formatTable(['measure', 'value', 'reference', 'ratio', 'target', 'met'], [
    ['host CPU: agent + VM processes, over 10 s', pct(agentShare + vmsShare), `machine busy ${pct(machineBusy)}`, ratio((agentShare + vmsShare) / Math.max(1e-9, machineBusy)), `< ${pct(CPU_TARGET)} of the machine`, agentShare + vmsShare < CPU_TARGET ? 'yes' : 'NO'],
    ['  of which the agent', pct(agentShare), '', '', '', ''],
    ['  per idle VM', pct(vmsShare / COUNT), '', '', '', ''],
    ['RSS per idle VM (mean)', mib(meanRss), `its RAM ${RAM_MIB} MiB`, ratio(meanRss / (RAM_MIB * 1024 * 1024)), 'well under its RAM (< 0.5)', meanRss < RAM_MIB * 1024 * 1024 * 0.5 ? 'yes' : 'NO'],
    ['RSS per idle VM (largest)', mib(Math.max(...rss)), '', '', '', ''],
    ['RSS of the agent', mib(rssBytes(agent.child.pid!)), '', '', '', ''],
  ]));
} finally {
  agent.child.kill('SIGTERM');
  await agent.exited;
  rmSync(dir, { recursive: true, force: true });
}
