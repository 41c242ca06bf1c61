// One VM under the agent: its definition, its process and the state the agent tracks from the
// process's exit and the VM's API. Everything a VM can do wrong (not start, hang, crash) ends
// here as a state and an exit reason; nothing reaches the agent as an exception it did not ask for.

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationRegistry } from '../vm/api/operation-registry.js';
import { VmApiClient, VmApiClientError } from '../vm/api/vm-api-client.js';
import type { VmStatus } from '../vm/api/vm-controller.js';
import { ConsoleBuffer } from './console-buffer.js';
import type { ExitRecord, RuntimeRecord } from './definition-store.js';
import { HostError } from './host-error.js';
import { heapLimitMiB } from './memory-budget.js';
import type { ProcessExit, SpawnVm, VmProcess } from './vm-process.js';
import type { VmDefinition } from './vm-definition.js';

export type VmState = 'defined' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'crashed';

/** States in which the VM has a process (and is charged against the memory budget). */
export const ACTIVE_STATES: readonly VmState[] = ['starting', 'running', 'paused', 'stopping'];

export interface InstanceHooks {
  spawn: SpawnVm;
  persist(name: string, runtime: RuntimeRecord): Promise<void>;
  /** The process ended; `crashed` when nobody asked it to and the guest did not power off. */
  exited(instance: VmInstance, crashed: boolean): void;
  log(line: string): void;
}

export interface StopOptions {
  force: boolean;
  /** How long a graceful stop waits before it kills the process. */
  timeoutMs: number;
  /** The agent is shutting down: the VM is still wanted running when it comes back. */
  keepWanted?: boolean;
}

/** A stop the agent asked for, and how far it had to go. */
interface Stopping {
  keepWanted: boolean;
  /** 'guest': the power button was pressed; 'power-off': then POST /vm/stop; 'signal': then SIGTERM/SIGKILL. */
  how: 'guest' | 'power-off' | 'signal' | 'forced';
  /** Why the guest's own shutdown was not enough. */
  why: string;
}

/** `vireo run`'s exit status when stopped (EXIT_STOPPED in src/cli/commands/run.ts, which the host layer does not import). */
const EXIT_STOPPED = 130;
/** How long a VM process may take to serve its API after being spawned. */
const API_WAIT_MS = 30_000;
/** How long the VM's API may take to answer one request before the VM is called unresponsive. */
const API_TIMEOUT_MS = 10_000;
/** After SIGTERM, how long before SIGKILL. */
const TERM_GRACE_MS = 2_000;

export class VmInstance {
  state: VmState;
  process: VmProcess | null = null;
  readonly console = new ConsoleBuffer();
  /** Snapshots and migrations of this VM, one at a time. */
  readonly operations = new OperationRegistry();
  readonly apiPath: string;
  readonly logPath: string;
  startedAt: number | null = null;
  private stopping: Stopping | null = null;
  private migratedTo: string | null = null;
  /** Settles once the current process has ended and its end is recorded. */
  private ending: Promise<void> = Promise.resolve();

  constructor(public definition: VmDefinition, public runtime: RuntimeRecord, readonly dir: string, private readonly hooks: InstanceHooks) {
    this.apiPath = join(dir, 'api.sock');
    this.logPath = join(dir, 'vm.log');
    this.state = runtime.lastExit === null ? 'defined' : runtime.lastExit.reason.startsWith('crashed') ? 'crashed' : 'stopped';
  }

  get name(): string {
    return this.definition.name;
  }

  /** A client of the VM's own API (its `vireo run --api` socket). */
  client(timeoutMs = API_TIMEOUT_MS): VmApiClient {
    return new VmApiClient(this.apiPath, { timeoutMs, unreachableHint: `VM ${this.name} does not answer on its API socket` });
  }

  /** Spawns the VM's process with `runArgs` and waits until its API answers (or `apiWaitMs` passes). */
  async start(runArgs: string[], options: { apiWaitMs?: number; onSpawned?: () => Promise<void> } = {}): Promise<void> {
    this.expect('start', ['defined', 'stopped', 'crashed']);
    this.state = 'starting';
    this.stopping = null;
    this.migratedTo = null;
    let child: VmProcess;
    try {
      child = this.hooks.spawn({ name: this.name, runArgs, heapMiB: heapLimitMiB(this.definition.spec.ramMiB), logPath: this.logPath });
    } catch (e) {
      this.state = 'crashed';
      throw e;
    }
    this.process = child;
    this.startedAt = Date.now();
    child.stdout.on('data', (chunk: Buffer) => this.console.write(chunk));
    child.stdout.on('error', () => {});
    const ended = child.exited.then((exit) => this.ended(child, exit));
    this.ending = ended;
    this.runtime = { ...this.runtime, wantRunning: true, pid: child.pid };
    await this.hooks.persist(this.name, this.runtime);
    await options.onSpawned?.();
    const status = await Promise.race([this.waitForApi(options.apiWaitMs ?? API_WAIT_MS), ended.then(() => null)]);
    if (status === null || this.process !== child) {
      const said = await lastLogLine(this.logPath);
      throw new HostError('spawn-failed', `VM ${this.name} ended before it served its API (${this.runtime.lastExit?.reason ?? 'no reason'})${said === '' ? '' : `: ${said}`}; see ${this.logPath}`, { vm: this.name });
    }
    this.state = status.state === 'paused' ? 'paused' : 'running';
    this.hooks.log(`vm ${this.name}: running as pid ${child.pid}`);
  }

  /**
   * Stops the VM. Forced: SIGKILL at once. Otherwise the guest is asked first (its power button,
   * POST /vm/shutdown) and given `timeoutMs` to power off; if it cannot hear the button or does
   * not finish, the VM is powered off (POST /vm/stop), then SIGTERM and SIGKILL as time runs out.
   */
  async stop(options: StopOptions): Promise<void> {
    const child = this.process;
    if (child === null) {
      this.expect('stop', ['starting', 'running', 'paused', 'stopping']);
      return;
    }
    const stopping: Stopping = { keepWanted: options.keepWanted === true, how: options.force ? 'forced' : 'guest', why: '' };
    this.stopping = stopping;
    this.state = 'stopping';
    const gone = this.ending.then(() => true);
    const within = (ms: number): Promise<boolean> => Promise.race([gone, new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (!options.force) {
      const asked = await this.client(Math.max(1, Math.min(options.timeoutMs, API_TIMEOUT_MS))).call('POST', '/vm/shutdown').then(
        () => null,
        (e: Error & { apiKind?: string }) => e.apiKind ?? e.message,
      );
      if (asked === null && (await within(options.timeoutMs))) return;
      stopping.how = 'power-off';
      stopping.why = asked === null ? `the guest did not shut down within ${options.timeoutMs} ms` : `the guest was not asked: ${asked}`;
      this.hooks.log(`vm ${this.name}: ${stopping.why}; powering it off`);
      await this.client(API_TIMEOUT_MS).call('POST', '/vm/stop').catch(() => {});
      if (await within(TERM_GRACE_MS)) return;
      stopping.how = 'signal';
      child.kill('SIGTERM');
      if (await within(TERM_GRACE_MS)) return;
    }
    child.kill('SIGKILL');
    await gone;
  }

  /** Pauses or resumes through the VM's API; the VM's answer sets the state. */
  async setRunning(verb: 'pause' | 'resume'): Promise<VmStatus> {
    this.expect(verb, verb === 'pause' ? ['running', 'paused'] : ['paused', 'running']);
    const status = await this.callVm<VmStatus>('POST', `/vm/${verb}`);
    this.noteStatus(status);
    return status;
  }

  /** Calls the VM's API; its errors become HostErrors ('vm-failed', or the VM's 4xx as 'invalid-state'/'not-found'). */
  async callVm<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.process === null || this.state === 'starting') throw new HostError('invalid-state', `VM ${this.name} is ${this.state}; start it first`, { vm: this.name });
    try {
      return await this.client().call<T>(method, path, body);
    } catch (e) {
      if (e instanceof VmApiClientError && e.kind === 'api' && e.status === 404) throw new HostError('not-found', `VM ${this.name}: ${e.message}`, { vm: this.name }, { cause: e });
      if (e instanceof VmApiClientError && e.kind === 'api' && e.status === 409) throw new HostError('invalid-state', `VM ${this.name}: ${e.message}`, { vm: this.name }, { cause: e });
      throw new HostError('vm-failed', `VM ${this.name}: ${(e as Error).message}`, { vm: this.name }, { cause: e });
    }
  }

  /** Takes the run state from an answer of the VM's API. */
  noteStatus(status: VmStatus): void {
    if (this.state !== 'running' && this.state !== 'paused') return;
    if (status.state === 'paused') this.state = 'paused';
    else if (status.state === 'running') this.state = 'running';
  }

  /** The process will exit because the VM moved to `target`: that is a stop, not a crash. */
  noteMigrated(target: string | null): void {
    this.migratedTo = target;
  }

  /** Resolves true once the current process has ended (and its end is recorded), false after `ms`. */
  endedWithin(ms: number): Promise<boolean> {
    if (this.process === null) return Promise.resolve(true);
    return Promise.race([this.ending.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  }

  private async waitForApi(ms: number): Promise<VmStatus | null> {
    const deadline = Date.now() + ms;
    while (this.process !== null && Date.now() < deadline) {
      try {
        return await this.client(1000).status();
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (this.process !== null) {
      this.hooks.log(`vm ${this.name}: no API after ${ms} ms; killing it`);
      this.process.kill('SIGKILL');
    }
    return null;
  }

  private async ended(child: VmProcess, exit: ProcessExit): Promise<void> {
    if (this.process !== child) return;
    this.process = null;
    this.startedAt = null;
    const requested = this.stopping !== null;
    // `vireo run` exits 130 when stopped through its API or by SIGTERM: someone stopped it on purpose.
    const stoppedOutside = !requested && exit.code === EXIT_STOPPED;
    const crashed = !requested && !stoppedOutside && exit.code !== 0;
    const reason = crashed ? `crashed: ${describeExit(exit)}`
      : this.migratedTo !== null ? `migrated to ${this.migratedTo}`
      : requested ? stoppedReason(this.stopping!, exit)
      : stoppedOutside ? `stopped from outside the agent: ${describeExit(exit)}` : 'the guest powered off';
    const lastExit: ExitRecord = { at: new Date().toISOString(), code: exit.code, signal: exit.signal, reason };
    const wantRunning = crashed || (requested && this.stopping!.keepWanted);
    this.runtime = { ...this.runtime, wantRunning, pid: null, lastExit };
    this.state = crashed ? 'crashed' : 'stopped';
    this.stopping = null;
    this.hooks.log(`vm ${this.name}: ${reason}`);
    await this.hooks.persist(this.name, this.runtime).catch((e: Error) => this.hooks.log(`vm ${this.name}: ${e.message}`));
    this.hooks.exited(this, crashed);
  }

  private expect(verb: string, states: readonly VmState[]): void {
    if (!states.includes(this.state)) throw new HostError('invalid-state', `cannot ${verb} VM ${this.name}: it is ${this.state}`, { vm: this.name });
  }
}

/** One VM process's key (name#pid): a restarted VM is a new process with nothing in force yet. */
export function processKey(vm: VmInstance): string {
  return `${vm.name}#${vm.process?.pid ?? 0}`;
}

/** The last line the VM's process wrote to its log (what `vireo run` said when it failed). */
async function lastLogLine(path: string): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const tail = Buffer.alloc(Math.min(size, 2048));
      await file.read(tail, 0, tail.length, size - tail.length);
      return tail.toString('utf8').trimEnd().split('\n').pop() ?? '';
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

/** How a stop the agent asked for ended: a guest that powered off (exit 0) shut down by itself. */
function stoppedReason(stopping: Stopping, exit: ProcessExit): string {
  if (exit.code === 0) return stopping.how === 'guest' ? 'the guest shut down (power button)' : 'the guest powered off';
  if (stopping.how === 'forced') return `stopped by force: ${describeExit(exit)}`;
  if (stopping.how === 'guest') return `stopped: ${describeExit(exit)}`;
  return `${stopping.how === 'power-off' ? 'powered off' : 'killed'} (${stopping.why}): ${describeExit(exit)}`;
}

function describeExit(exit: ProcessExit): string {
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  if (exit.code === null) return 'the process could not run';
  return `exit status ${exit.code}`;
}
