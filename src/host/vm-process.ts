// A VM's own OS process, `vireo run ... --api SOCK`: the serial console on its stdin/stdout,
// stderr appended to the VM's log. The supervisor sees it only through VmProcess, so tests
// drive it with a fake child.

import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HostError } from './host-error.js';
import type { VmDefinition } from './vm-definition.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface VmProcess {
  readonly pid: number;
  /** Guest-bound console input. */
  readonly stdin: Writable;
  /** The console's output. */
  readonly stdout: Readable;
  /** Settles once the process has ended. */
  readonly exited: Promise<ProcessExit>;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnRequest {
  name: string;
  /** The arguments after `vireo run`. */
  runArgs: string[];
  /** V8 old-space limit for the process. */
  heapMiB: number;
  logPath: string;
}

export type SpawnVm = (request: SpawnRequest) => VmProcess;

/** A VM's log beyond this when it starts is moved to vm.log.1. */
const MAX_LOG_BYTES = 4 * 1024 * 1024;

/** bin/vireo.js of this installation (dist/src/host/ is three levels below the root). */
const VIREO_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'vireo.js');

/**
 * Node's flags for a process that hosts one VM, besides its heap limit. V8's memory reducer is
 * off: once a heap stops growing fast it runs full collections a few seconds apart to shrink
 * it, and an idle VM, which allocates a little at every guest wake-up, set it off again every
 * minute or two; collecting the VM's heap (tens of MiB to mark) cost an idle VM about a tenth
 * of its CPU. The VM collects fully by itself when its guest goes idle (src/vm/idle-memory.ts),
 * and V8's ordinary limits still apply. A flag V8 reads once, at start: not settable later.
 */
export const VM_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/**
 * Environment for a process that hosts one VM. glibc gives each thread that allocates its own
 * malloc arena (V8's compiler threads, the disk workers), and each keeps the high-water mark of
 * its busy time: two arenas cut an idle 128 MiB Debian VM's PSS from 151 to 118 MiB, with the
 * same boot time. Read by glibc at start, so set when the process is spawned.
 */
export const VM_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Spawns `node --max-old-space-size=N ...VM_NODE_FLAGS bin/vireo.js run ...` with VM_PROCESS_ENV in its own process group. */
export const spawnVireoRun: SpawnVm = (request) => {
  let log: number;
  try {
    // One previous log is kept: a VM restarted again and again cannot fill the disk.
    if ((statSync(request.logPath, { throwIfNoEntry: false })?.size ?? 0) > MAX_LOG_BYTES) renameSync(request.logPath, `${request.logPath}.1`);
    log = openSync(request.logPath, 'a', 0o600);
  } catch (e) {
    throw new HostError('spawn-failed', `cannot open the VM's log ${request.logPath}: ${(e as Error).message}`, { vm: request.name }, { cause: e });
  }
  try {
    // Its own process group: a Ctrl-C meant for the agent's terminal does not reach the VMs.
    const child = spawn(process.execPath, [`--max-old-space-size=${request.heapMiB}`, ...VM_NODE_FLAGS, VIREO_BIN, 'run', ...request.runArgs], { stdio: ['pipe', 'pipe', log], detached: true, env: { ...process.env, ...VM_PROCESS_ENV } });
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    const { pid, stdin, stdout } = child;
    if (pid === undefined || stdin === null || stdout === null) throw new HostError('spawn-failed', `cannot start a process for VM ${request.name}`, { vm: request.name });
    // A VM that dies while input is on its way must not take the agent with it.
    stdin.on('error', () => {});
    return { pid, stdin, stdout, exited, kill: (signal) => { child.kill(signal); } };
  } finally {
    closeSync(log);
  }
};

/** The `vireo run` arguments for a definition, serving the API at `apiPath`; `switchPath`: its network's switch. */
export function runArguments(definition: VmDefinition, apiPath: string, switchPath?: string): string[] {
  const { spec } = definition;
  const args = ['--kernel', spec.boot.kernel, '--bios', spec.boot.firmware ?? 'none', '-m', String(spec.ramMiB), '--console', spec.console, '--jit', spec.jit];
  if (spec.cpus !== undefined && spec.cpus > 1) args.push('--cpus', String(spec.cpus));
  if (spec.boot.initrd !== undefined) args.push('--initrd', spec.boot.initrd);
  if (spec.boot.bootargs !== undefined) args.push('--append', spec.boot.bootargs);
  for (const disk of spec.disks) args.push('--disk', diskOption(disk));
  if (spec.network === 'host' || spec.network === 'user') args.push('--net', spec.network);
  else if (typeof spec.network === 'object') {
    if (switchPath === undefined) throw new HostError('network-failed', `VM ${definition.name} is on network ${spec.network.name}, which has no switch`, { vm: definition.name });
    args.push('--net', `switch:${switchPath}`);
  }
  args.push('--api', apiPath);
  return args;
}

/** `vireo run --incoming` waiting for a migrating VM, its disks copied into `diskDir`. */
export function incomingArguments(listenHost: string, diskDir: string, apiPath: string): string[] {
  const host = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  return ['--incoming', `tcp:${host}:0`, '--disk-dir', diskDir, '--api', apiPath];
}

const LIMIT_OPTIONS: Record<string, string> = { iops: 'iops', iopsRead: 'iops-rd', iopsWrite: 'iops-wr', bps: 'bps', bpsRead: 'bps-rd', bpsWrite: 'bps-wr', iopsBurst: 'iops-burst', bpsBurst: 'bps-burst' };

function diskOption(disk: VmDefinition['spec']['disks'][number]): string {
  if (disk.path.includes(',')) throw new HostError('invalid-definition', `the disk path ${disk.path} contains a comma, which 'vireo run --disk' cannot take; rename the file`, { path: disk.path });
  const options = [disk.path];
  if (disk.readOnly) options.push('ro');
  if (disk.format !== undefined) options.push(`format=${disk.format}`);
  for (const [field, value] of Object.entries(disk.limits)) {
    if (typeof value === 'number' && value > 0) options.push(`${LIMIT_OPTIONS[field]}=${Math.round(value)}`);
  }
  return options.join(',');
}
