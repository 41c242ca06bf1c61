// Density of idle VMs: N Debian VMs (128 MiB each, a qcow2 overlay over the cached image)
// started through `vireo host serve`; once every one is at its shell prompt, the host CPU the
// agent and the VM processes use over 10 s, and the memory each idle VM costs the host: its
// proportional set (PSS: private pages plus its share of the pages processes share, such as
// the node binary) and its resident set. Reference, measured in the same run once Vireo's VMs
// are gone: the same N guests idle on qemu-system-riscv64, and the whole machine's CPU time
// (/proc/stat). Targets: idle VMs and agent below 5% of the machine, memory per VM well under
// its RAM. With --ksm, the host's same-page merging runs meanwhile (both Vireo and QEMU offer
// their guest RAM to it by default): the measurements wait for two full scans of ksmd after
// the last prompt, and ksmd's CPU counts with the VMs'.
// Usage: npm run bench:density [-- N] [--ksm]   (default 32)

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DEBIAN_APPEND } from '../src/cli/default-guest.js';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { AgentProcess } from '../tests/support/agent-process.js';
import { processCpuSeconds } from '../tests/support/process-cpu.js';
import { qemuImg } from '../tests/storage/qemu-img.js';
import { BenchError } from './bench-error.js';
import { memoryOf } from './process-memory.js';
import { formatTable, ratio } from './report.js';
import { VmProcess } from './vm-process.js';

const KSM = process.argv.includes('--ksm');
const COUNT = Number(process.argv.slice(2).find((a) => a !== '--ksm') ?? '32');
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 256) throw new BenchError('usage', `the VM count must be 1 to 256, got ${process.argv[2]}`);
const RAM_MIB = 128;
const MEASURE_MS = 10_000;
/** A VM may take this long to reach its prompt (they boot together, sharing the host's cores). */
const BOOT_MS = 300_000 + COUNT * 60_000;
/**
 * The guests idle this long after the last prompt before the measurement: idle VMs give memory
 * back after 30 s (see src/vm/idle-memory.ts) and their guests report free pages within seconds.
 */
const SETTLE_MS = 45_000;
const PROMPT = /root@vireo:[^\n]*# $/;
const CPU_TARGET = 0.05;
const KSM_DIR = '/sys/kernel/mm/ksm';
/** ksmd's scan rate for the run: 50,000 pages a second (the kernel's default is 5,000), so two scans of every VM's memory fit in minutes. */
const KSM_SETTINGS: Record<string, string> = { pages_to_scan: '1000', sleep_millisecs: '20', run: '1' };
/** Longest wait for ksmd's two full scans. */
const KSM_SCANS_MS = 600_000;
const MEMORY_TARGET = 0.5;

interface IdleFigures {
  /** CPU the measured processes used, as a share of the whole machine. */
  cpuShare: number;
  /** The same for the agent alone and for ksmd alone (0 when not measured). */
  agentShare: number;
  ksmdShare: number;
  /** The whole machine's busy share over the same window. */
  machineBusy: number;
  /** Mean PSS and RSS per VM, and the largest PSS, in bytes. */
  pss: number;
  rss: number;
  largestPss: number;
}

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

/** The pid of the kernel's same-page merging thread. */
function ksmdPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'ksmd') return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  throw new BenchError('no-ksm', 'no ksmd thread: this kernel has no same-page merging');
}

/** With --ksm, waits (up to KSM_SCANS_MS) until ksmd has scanned every mergeable page twice more. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  if (!KSM) return;
  const scans = () => Number(readFileSync(`${KSM_DIR}/full_scans`, 'utf8'));
  const target = scans() + 2;
  const deadline = performance.now() + KSM_SCANS_MS;
  while (scans() < target && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
}

/** CPU of the VMs `vms`, their manager `agent` if any, and ksmd over MEASURE_MS, and the memory of the VMs. */
async function measureIdle(vms: number[], agent?: number): Promise<IdleFigures> {
  // ksmd, while it runs for the VMs, counts with them.
  const ksmd = KSM ? ksmdPid() : undefined;
  const all = [...(agent === undefined ? [] : [agent]), ...vms, ...(ksmd === undefined ? [] : [ksmd])];
  const before = all.map(processCpuSeconds);
  const machineBefore = machineSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const elapsed = (performance.now() - t0) / 1000;
  const usedBy = all.map((pid, i) => processCpuSeconds(pid) - before[i]!);
  const used = usedBy.reduce((a, b) => a + b, 0);
  const shareOf = (pid: number | undefined) => (pid === undefined ? 0 : usedBy[all.indexOf(pid)]! / (cpus().length * elapsed));
  const machineAfter = machineSeconds();
  const pss = vms.map((pid) => memoryOf(pid, 'Pss'));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    cpuShare: used / (cpus().length * elapsed),
    agentShare: shareOf(agent),
    ksmdShare: shareOf(ksmd),
    machineBusy: (machineAfter.busy - machineBefore.busy) / Math.max(1e-9, machineAfter.all - machineBefore.all),
    pss: mean(pss),
    rss: mean(vms.map((pid) => memoryOf(pid, 'Rss'))),
    largestPss: Math.max(...pss),
  };
}

/** N idle VMs under one agent; also returns the agent's own share of the CPU. */
async function vireoIdle(dir: string, rootDisk: string, boot: { kernel: string; firmware: string; initrd: string }): Promise<IdleFigures & { agentPss: number; bootS: number }> {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'density-bench-token-0123456789ab\n', { mode: 0o600 });
  const agent = await AgentProcess.start(join(dir, 'data'), tokenFile, ['--memory-budget', String(COUNT * 512)]);
  try {
    const api = agent.client();
    const names = Array.from({ length: COUNT }, (_, i) => `idle${i}`);
    for (const name of names) {
      const root = join(dir, `${name}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', '-b', rootDisk, '-F', 'raw', root);
      await api.call('POST', '/vms', { name, spec: { ramMiB: RAM_MIB, boot: { ...boot, bootargs: DEBIAN_APPEND }, disks: [{ path: root, format: 'qcow2' }] } });
    }
    const started = performance.now();
    for (const name of names) await api.call('POST', `/vms/${name}/start`);
    await Promise.all(names.map((name) => atPrompt(agent, name)));
    const bootS = (performance.now() - started) / 1000;
    await settle();
    const pids = await Promise.all(names.map(async (name) => (await api.call<{ pid: number }>('GET', `/vms/${name}`)).pid));
    const figures = await measureIdle(pids, agent.child.pid!);
    return { ...figures, agentPss: memoryOf(agent.child.pid!, 'Pss'), bootS };
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
}

/** The same N guests idle on QEMU, each on its own qcow2 overlay. */
async function qemuIdle(dir: string, rootDisk: string, boot: { kernel: string; firmware: string; initrd: string }): Promise<IdleFigures> {
  const vms: VmProcess[] = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      const root = join(dir, `qemu${i}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', '-b', rootDisk, '-F', 'raw', root);
      vms.push(new VmProcess('qemu', { ...boot, memoryMiB: RAM_MIB, append: DEBIAN_APPEND, extraDisks: [{ path: root, format: 'qcow2' }] }));
    }
    await Promise.all(vms.map((vm) => vm.waitFor(PROMPT, BOOT_MS)));
    await settle();
    const pids = vms.map((vm) => vm.pid!);
    return await measureIdle(pids);
  } finally {
    await Promise.all(vms.map((vm) => vm.kill()));
  }
}

const image = await ensureDebianImage();
const boot = { kernel: image.kernel, firmware: image.firmware, initrd: image.initrd };
const dir = mkdtempSync(join(tmpdir(), 'vhd-'));
const ksmBefore = KSM ? Object.keys(KSM_SETTINGS).map((name) => [name, readFileSync(`${KSM_DIR}/${name}`, 'utf8').trim()] as const) : [];
/** The host's own ksmd settings back, ksmd stopped first; merged pages stay merged until written. */
const restoreKsm = () => {
  for (const [name, value] of [...ksmBefore].reverse()) writeFileSync(`${KSM_DIR}/${name}`, value);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { restoreKsm(); process.exit(1); });
try {
  for (const [name, value] of Object.entries(KSM ? KSM_SETTINGS : {})) writeFileSync(`${KSM_DIR}/${name}`, value);
  const vireo = await vireoIdle(dir, image.rootDisk, boot);
  const qemu = await qemuIdle(dir, image.rootDisk, boot);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const ram = RAM_MIB * 1024 * 1024;
  console.log(`${COUNT} idle Debian VMs (${RAM_MIB} MiB each) on ${cpus().length} cores: Vireo's under one host agent (all at their prompt after ${vireo.bootS.toFixed(0)} s), then QEMU's`);
  console.log(KSM ? `Same-page merging on (ksmd scanning ${Number(KSM_SETTINGS.pages_to_scan) * (1000 / Number(KSM_SETTINGS.sleep_millisecs))} pages a second), measured after two full scans; ksmd's CPU counts with the VMs'\n` : 'Same-page merging as the host has it (measured without ksmd)\n');
  console.log(formatTable(['measure', 'vireo', 'qemu', 'ratio', 'target', 'met'], [
    ['host CPU over 10 s, share of the machine', pct(vireo.cpuShare), pct(qemu.cpuShare), ratio(vireo.cpuShare / Math.max(1e-9, qemu.cpuShare)), `< ${pct(CPU_TARGET)}`, vireo.cpuShare < CPU_TARGET ? 'yes' : 'NO'],
    ['  per idle VM, share of one core', pct((vireo.cpuShare * cpus().length) / COUNT), pct((qemu.cpuShare * cpus().length) / COUNT), '', '', ''],
    ['  of which the agent', pct(vireo.agentShare), '', '', '', ''],
    ...(KSM ? [['  of which ksmd', pct(vireo.ksmdShare), pct(qemu.ksmdShare), '', '', '']] : []),
    ['  machine busy meanwhile', pct(vireo.machineBusy), pct(qemu.machineBusy), '', '', ''],
    ['host memory per idle VM (PSS, mean)', mib(vireo.pss), mib(qemu.pss), ratio(vireo.pss / qemu.pss), `< ${MEMORY_TARGET} x its RAM (${mib(ram * MEMORY_TARGET)})`, vireo.pss < ram * MEMORY_TARGET ? 'yes' : 'NO'],
    ['  largest PSS', mib(vireo.largestPss), mib(qemu.largestPss), '', '', ''],
    ['  RSS per idle VM (mean)', mib(vireo.rss), mib(qemu.rss), ratio(vireo.rss / qemu.rss), '', ''],
    ['PSS of the agent', mib(vireo.agentPss), '', '', '', ''],
  ]));
} finally {
  restoreKsm();
  rmSync(dir, { recursive: true, force: true });
}
