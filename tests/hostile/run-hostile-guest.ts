// Runs the hostile guest (tests/hostile/device-attack/) under `vireo run` with a read-only disk,
// a scratch disk, the host network and a virtio-console, watching the host process from outside:
// its exit, its resident memory, its stderr, and the disks. Shared by the CI test and
// scripts/fuzz-hostile.js.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFreestandingProgram, repoRoot } from '../support/riscv-toolchain.js';

/** Sector n of a marked disk starts with n ^ DISK_MAGIC, little-endian (virtio-driver.c checks it). */
export const DISK_MAGIC = 0x5649524f44495348n;
const SECTOR = 512;
/** `vireo run` statuses that mean the host stopped the guest cleanly: powered off, or a limit. */
const SURVIVED = new Set([0, 124]);
/** What a JavaScript exception or a crashing Node.js leaves on stderr. */
const HOST_ERROR = /^\s+at .+:\d+:\d+\)?$|\b(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError|Uncaught|FATAL ERROR|heap out of memory|bug in Vireo|Maximum call stack)\b/m;

/** Builds the hostile guest; returns the ELF's path (cached by content). */
export function buildHostileGuest(): string {
  return buildFreestandingProgram('device-attack', join(repoRoot(), 'tests', 'hostile', 'device-attack'));
}

/** Writes a raw disk of `sectors` sectors: random bytes after each sector's marker. Returns its sha256. */
export function createMarkedDisk(path: string, sectors: number): string {
  const disk = randomBytes(sectors * SECTOR);
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  for (let n = 0; n < sectors; n++) view.setBigUint64(n * SECTOR, BigInt(n) ^ DISK_MAGIC, true);
  writeFileSync(path, disk);
  return sha256(path);
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The counters of the guest's last HOSTILE-PROGRESS or HOSTILE-SUMMARY line. */
export interface HostileReport {
  final: boolean;
  seed: number;
  rounds: number;
  mmioReads: number;
  mmioWrites: number;
  notifies: number;
  used: number;
  accessFaults: number;
  irqs: number;
  naps: number;
  resets: number;
  unexpected: number;
  saneOk: number;
  saneBad: number;
  firstBad: number;
  /** Bit n: check n failed at least once. */
  badIds: number;
  netRx: number;
  blkReadOnlyWrites: number;
  blkScratchWrites: number;
  instret: number;
}

export interface HostileRunOptions {
  elf: string;
  /** Attached read-only, first (vda). */
  disk: string;
  /** Attached writable, second (vdb): the guest may write it, but not grow it. */
  scratchDisk?: string;
  seed: number;
  rounds: number;
  ramMiB?: number;
  maxInstructions?: number;
  timeoutSeconds?: number;
  /** How often to read the host's /proc/PID/status (default 50 ms). */
  sampleMs?: number;
  /** More `vireo run` options, e.g. ['--jit', 'off']. */
  extraArgs?: readonly string[];
}

export interface HostileRunResult {
  args: string[];
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The host ignored --timeout and was killed. */
  hung: boolean;
  report: HostileReport | null;
  /** A HOSTILE-FATAL line: the guest crashed itself (which the host must survive). */
  guestFatal: string | null;
  /** Instructions the host ran (the guest's count, or the host's own at a limit). */
  instructions: number | null;
  /** Largest VmHWM/VmRSS seen, in KiB (0 where /proc is missing). */
  peakRssKiB: number;
  stderr: string;
  elapsedMs: number;
}

const REPORT = /^HOSTILE-(PROGRESS|SUMMARY)((?: [a-z_]+=\d+)+) checksum=0x[0-9a-f]{16}$/;
const FATAL = /^HOSTILE-FATAL cause=0x[0-9a-f]{16} epc=0x[0-9a-f]{16} tval=0x[0-9a-f]{16}$/;
/** stderr kept: the fault log is rate-limited, so this holds every line of a sane run. */
const MAX_STDERR = 4 << 20;

/** Runs the guest once; resolves when the host process has ended. */
export function runHostileGuest(options: HostileRunOptions): Promise<HostileRunResult> {
  const timeoutSeconds = options.timeoutSeconds ?? 60;
  const args = [
    join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', options.elf,
    '--disk', `${options.disk},ro`, ...(options.scratchDisk ? ['--disk', options.scratchDisk] : []),
    '--net', 'host', '--console', 'hvc0',
    '-m', String(options.ramMiB ?? 64),
    '--append', `seed=${options.seed} rounds=${options.rounds}`,
    '--max-instructions', String(options.maxInstructions ?? 4_000_000_000),
    '--timeout', String(timeoutSeconds),
    ...(options.extraArgs ?? []),
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let stderr = '';
    let report: HostileReport | null = null;
    let guestFatal: string | null = null;
    let hung = false;
    // stdout carries garbage the guest sends to its consoles: keep only whole HOSTILE- lines.
    let line = '';
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
      const lines = (line + chunk).split('\n');
      line = lines.pop()!.slice(-4096);
      for (const l of lines) {
        const m = REPORT.exec(l);
        if (m) report = parseReport(m[1] === 'SUMMARY', m[2]!);
        else if (FATAL.test(l)) guestFatal = l;
      }
    });
    child.stderr.setEncoding('latin1').on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk;
    });
    const sample = () => {
      if (child.pid !== undefined) peak = Math.max(peak, residentKiB(child.pid));
    };
    const sampler = setInterval(sample, options.sampleMs ?? 50);
    // A host that ignores its own --timeout is hung: that is a finding too.
    const killer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, (timeoutSeconds + 30) * 1000);
    child.on('error', (e) => {
      clearInterval(sampler);
      clearTimeout(killer);
      reject(e);
    });
    child.on('exit', () => sample());
    child.on('close', (status, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      const r = report as HostileReport | null;
      const limit = /after (\d+) instructions?/.exec(stderr);
      resolve({
        args,
        status,
        signal,
        hung,
        report: r,
        guestFatal,
        instructions: r?.final ? r.instret : limit ? Number(limit[1]) : (r?.instret ?? null),
        peakRssKiB: peak,
        stderr,
        elapsedMs: Date.now() - started,
      });
    });
  });
}

/** Why a run counts as a host failure (empty: the host survived and every check held). */
export function hostProblems(r: HostileRunResult, options: { peakRssLimitKiB: number }): string[] {
  const problems: string[] = [];
  if (r.hung) problems.push('the host did not stop at --timeout and was killed');
  else if (r.signal !== null) problems.push(`the host died of ${r.signal}`);
  else if (r.status === null || !SURVIVED.has(r.status)) problems.push(`the host exited with status ${r.status} (expected 0 or 124)`);
  const error = HOST_ERROR.exec(r.stderr);
  if (error) problems.push(`the host's stderr shows an exception: ${JSON.stringify(error[0].trim())}`);
  if (r.peakRssKiB > options.peakRssLimitKiB) problems.push(`the host's peak RSS ${Math.round(r.peakRssKiB / 1024)} MiB exceeds ${Math.round(options.peakRssLimitKiB / 1024)} MiB`);
  if (r.report && r.report.saneBad > 0) problems.push(`a well-behaved driver failed ${r.report.saneBad} checks after the attack (first: check ${r.report.firstBad} in virtio-driver.c; all that failed: ${failedChecks(r.report.badIds).join(', ')})`);
  return problems;
}

/** The command that replays a run by hand. */
export function replayCommand(r: HostileRunResult): string {
  return ['node', ...r.args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`))].join(' ');
}

const FIELDS: Record<string, keyof HostileReport> = {
  seed: 'seed', rounds: 'rounds', mmio_reads: 'mmioReads', mmio_writes: 'mmioWrites', notifies: 'notifies', used: 'used',
  access_faults: 'accessFaults', irqs: 'irqs', naps: 'naps', resets: 'resets', unexpected: 'unexpected', sane_ok: 'saneOk',
  sane_bad: 'saneBad', first_bad: 'firstBad', bad_ids: 'badIds', net_rx: 'netRx', blk_ro_writes: 'blkReadOnlyWrites', blk_rw_writes: 'blkScratchWrites', instret: 'instret',
};

function parseReport(final: boolean, fields: string): HostileReport {
  const values: Record<string, number> = {};
  for (const field of fields.trim().split(' ')) {
    const [name, value] = field.split('=');
    values[name!] = Number(value);
  }
  const report: Record<string, number | boolean> = { final };
  for (const [name, key] of Object.entries(FIELDS)) report[key] = values[name] ?? 0;
  return report as unknown as HostileReport;
}

/** The larger of VmHWM (peak so far) and VmRSS of a live process, in KiB; 0 once it is gone. */
function residentKiB(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return Math.max(kib('VmHWM'), kib('VmRSS'));
}

/** The check ids set in a bad_ids mask. */
function failedChecks(mask: number): number[] {
  const ids: number[] = [];
  for (let id = 0; id < 64; id++) if ((BigInt(mask) >> BigInt(id)) & 1n) ids.push(id);
  return ids;
}
