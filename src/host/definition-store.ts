// The agent's VMs on disk: DIR/vms/NAME/definition.json (what the VM is) and runtime.json (what
// the agent last knew of its process), each written atomically. Reading back checks every
// file: a corrupt one is reported and skipped, never taken for a VM and never fatal.

import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from './host-error.js';
import { readJson, writeJsonAtomic } from './json-file.js';
import { checkVmDefinition, type VmDefinition } from './vm-definition.js';

export const RUNTIME_VERSION = 1;

/** How a VM's process last ended. */
export interface ExitRecord {
  at: string;
  code: number | null;
  signal: string | null;
  /** For people: "killed by SIGKILL", "the guest powered off", "migrated to tcp:...". */
  reason: string;
}

/** What survives an agent restart of a VM's run state. */
export interface RuntimeRecord {
  version: typeof RUNTIME_VERSION;
  /** Started by a user and not stopped since: with autostart, the agent starts it again. */
  wantRunning: boolean;
  /** The process when last started, to find one left over from an agent that died. */
  pid: number | null;
  restarts: number;
  lastExit: ExitRecord | null;
}

export const NEW_RUNTIME: RuntimeRecord = { version: RUNTIME_VERSION, wantRunning: false, pid: null, restarts: 0, lastExit: null };

export interface StoredVm {
  definition: VmDefinition;
  runtime: RuntimeRecord;
}

/** A file that could not be taken: which, and why. */
export interface StoreProblem {
  path: string;
  message: string;
}

export class DefinitionStore {
  readonly vmsDir: string;

  constructor(readonly dataDir: string) {
    this.vmsDir = join(dataDir, 'vms');
  }

  /** The directory of VM `name`: its files, API socket, log and disks live there. */
  vmDir(name: string): string {
    return join(this.vmsDir, name);
  }

  /** Every VM that reads back whole, and the files that do not. */
  async load(): Promise<{ vms: StoredVm[]; problems: StoreProblem[] }> {
    await mkdir(this.vmsDir, { recursive: true, mode: 0o700 });
    const vms: StoredVm[] = [];
    const problems: StoreProblem[] = [];
    for (const entry of (await readdir(this.vmsDir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory()) continue;
      const path = join(this.vmDir(entry.name), 'definition.json');
      try {
        const value = await readJson(path);
        if (value === undefined) continue; // Being created or deleted.
        const definition = checkVmDefinition(value);
        if (definition.name !== entry.name) throw new HostError('corrupt-file', `it names the VM '${definition.name}' but lies in the directory of '${entry.name}'`);
        vms.push({ definition, runtime: await this.readRuntime(entry.name) });
      } catch (e) {
        problems.push({ path, message: (e as Error).message });
      }
    }
    return { vms, problems };
  }

  /** Writes a new VM's files; refused with 'exists' when the name is taken. */
  async create(definition: VmDefinition): Promise<void> {
    await this.claim(definition.name);
    await this.saveRuntime(definition.name, NEW_RUNTIME);
    await this.save(definition);
  }

  /** Makes the VM's directory, which must not exist; until a definition is saved there, load() passes it by. */
  async claim(name: string): Promise<void> {
    const dir = this.vmDir(name);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      // A deleted VM's directory, left holding its data, may be taken again; a defined VM's not.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await readJson(join(dir, 'definition.json')).catch(() => null)) === undefined) return;
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new HostError('exists', `a VM named ${name} already exists (its directory ${dir} holds a definition)`, { vm: name });
      throw new HostError('io', `cannot create ${dir}: ${(e as Error).message}`, { vm: name }, { cause: e });
    }
  }

  save(definition: VmDefinition): Promise<void> {
    return writeJsonAtomic(join(this.vmDir(definition.name), 'definition.json'), definition);
  }

  saveRuntime(name: string, runtime: RuntimeRecord): Promise<void> {
    return writeJsonAtomic(join(this.vmDir(name), 'runtime.json'), runtime);
  }

  /**
   * Removes the VM's files, definition first, so a crash half way leaves no half VM. Its data
   * (disks/, copied in by a migration, and snapshots/) goes only with `data`; a directory left
   * holding them can be claimed again by a VM of the same name.
   */
  async remove(name: string, options: { data: boolean }): Promise<void> {
    const dir = this.vmDir(name);
    await rm(join(dir, 'definition.json'), { force: true });
    for (const file of ['runtime.json', 'api.sock', 'vm.log', 'vm.log.1', ...(options.data ? ['disks', 'snapshots'] : [])]) {
      await rm(join(dir, file), { recursive: true, force: true });
    }
    await rmdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'ENOENT') throw new HostError('io', `cannot remove ${dir}: ${e.message}`, { vm: name }, { cause: e });
    });
  }

  /** The runtime record; a missing or damaged one is a fresh record (it only guides restarts). */
  private async readRuntime(name: string): Promise<RuntimeRecord> {
    try {
      const value = await readJson(join(this.vmDir(name), 'runtime.json'));
      const r = value as Partial<RuntimeRecord> | undefined;
      if (r?.version !== RUNTIME_VERSION || typeof r.wantRunning !== 'boolean' || !Number.isInteger(r.restarts)) return { ...NEW_RUNTIME };
      return { ...NEW_RUNTIME, wantRunning: r.wantRunning, pid: Number.isInteger(r.pid) ? r.pid! : null, restarts: r.restarts!, lastExit: isExit(r.lastExit) ? r.lastExit : null };
    } catch {
      return { ...NEW_RUNTIME };
    }
  }
}

function isExit(value: unknown): value is ExitRecord {
  const e = value as Partial<ExitRecord> | null | undefined;
  return typeof e === 'object' && e !== null && typeof e.at === 'string' && typeof e.reason === 'string';
}
