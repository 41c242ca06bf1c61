// The long actions of a VM under the agent, as operations the API's clients follow: a snapshot
// (the VM's own save) and a migration to another agent (the VM's own migrate), and the
// destination's side, a `vireo run --incoming` whose VM becomes a definition once it arrives.

import { randomUUID } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operation, OperationKind } from '../vm/api/operation-registry.js';
import type { OperationProgress, VmStatus } from '../vm/api/vm-controller.js';
import { checkVmDescription, type VmDescription } from '../vm/vm-description.js';
import type { HostAgent } from './host-agent.js';
import { HostError } from './host-error.js';
import { VmInstance } from './vm-instance.js';
import { incomingArguments } from './vm-process.js';
import { networkOf, VM_DEFINITION_VERSION, type CpuSpec, type VmDefinition, type VmSpec } from './vm-definition.js';

/** How long a destination waits for the source to connect and hand the VM over. */
const INCOMING_WAIT_MS = 10 * 60_000;
/** One long-poll of the VM's operation; the client waits a little longer than that. */
const POLL_SECONDS = 30;

export function startSnapshot(agent: HostAgent, vm: VmInstance, body: { path?: string; resume?: boolean }): Operation {
  return runVmOperation(vm, 'save', async () => {
    const path = body.path ?? join(vm.dir, 'snapshots', `${new Date().toISOString().replace(/[:.]/g, '-')}.vmsnap`);
    if (body.path === undefined) await mkdir(join(vm.dir, 'snapshots'), { recursive: true });
    return { body: { path, resume: body.resume ?? true }, result: { path } };
  }, undefined, (status) => agent.followDisks(vm, status));
}

export function startMigration(vm: VmInstance, target: string): Operation {
  vm.noteMigrated(target);
  return runVmOperation(vm, 'migrate', async () => ({ body: { target }, result: { target } }), () => vm.noteMigrated(null));
}

/**
 * Starts the VM's operation KIND with the body `prepare` gives and mirrors its progress; the
 * agent's operation ends when the VM's does, with the VM's result and `prepare`'s.
 */
function runVmOperation(vm: VmInstance, kind: OperationKind, prepare: () => Promise<{ body: unknown; result: Record<string, unknown> }>, onFailure?: () => void, afterwards?: (status: VmStatus) => Promise<void>): Operation {
  if (vm.state !== 'running' && vm.state !== 'paused') throw new HostError('invalid-state', `cannot ${kind} VM ${vm.name}: it is ${vm.state}`, { vm: vm.name });
  const busy = vm.operations.running();
  if (busy !== undefined) throw new HostError('operation-running', `VM ${vm.name} has a ${busy.kind} operation (${busy.id}) running; wait for it with GET /operations/${busy.id}?wait=SECONDS`, { vm: vm.name });
  return vm.operations.start(kind, async (progress: (p: OperationProgress) => void) => {
    try {
      const { body, result } = await prepare();
      const started = await vm.callVm<Operation>('POST', `/vm/${kind}`, body);
      let ended: Operation;
      try {
        ended = await vm.client((POLL_SECONDS + 30) * 1000).follow(started, (op) => op.progress !== null && progress(op.progress), POLL_SECONDS);
      } catch (e) {
        // A VM that has moved away ends its process, maybe before its operation's end is read.
        if (kind === 'migrate' && (await vm.endedWithin(10_000)) && vm.runtime.lastExit?.code === 0) return { vm: vm.name, ...result };
        throw e;
      }
      if (ended.state === 'failed') throw new HostError('vm-failed', `the VM's ${kind} failed: ${ended.error?.message ?? 'no reason given'}`, { vm: vm.name });
      if (afterwards !== undefined) {
        const status = await vm.client().status();
        vm.noteStatus(status);
        await afterwards(status);
      }
      return { vm: vm.name, ...ended.result, ...result };
    } catch (e) {
      onFailure?.();
      throw e;
    }
  });
}

export interface IncomingRequest {
  name: string;
  /** The VM's RAM, charged against the budget while it arrives. */
  ramMiB: number;
  /** The address the migration source connects to (default 127.0.0.1). */
  listenHost?: string;
  autostart?: boolean;
  cpu?: Partial<CpuSpec>;
}

/** Starts waiting for VM `name`; answers with the target to give the source's migrate. */
export async function receiveIncoming(agent: HostAgent, request: IncomingRequest): Promise<{ name: string; target: string }> {
  if (agent.instances.has(request.name)) throw new HostError('exists', `a VM named ${request.name} already exists here`, { vm: request.name });
  const host = request.listenHost ?? '127.0.0.1';
  // Provisional until the VM arrives: its real description comes from the source.
  const provisional: VmDefinition = {
    version: VM_DEFINITION_VERSION, name: request.name, uuid: '', generation: 1, autostart: request.autostart === true,
    spec: { ramMiB: request.ramMiB, boot: { kernel: '(arriving)' }, disks: [], network: 'none', console: 'ttyS0', cpu: { weight: request.cpu?.weight ?? 100, capPercent: request.cpu?.capPercent ?? null }, jit: 'on' },
  };
  const vm = agent.adopt(provisional);
  try {
    agent.checkBudget(vm);
    await agent.store.claim(request.name);
  } catch (e) {
    agent.instances.delete(request.name);
    throw e;
  }
  const diskDir = join(vm.dir, 'disks');
  await mkdir(diskDir, { recursive: true });
  const arrived = vm.start(incomingArguments(host, diskDir, vm.apiPath), { apiWaitMs: INCOMING_WAIT_MS }).then(async () => {
    const description = checkVmDescription((await vm.client().status()).config);
    const definition: VmDefinition = { ...provisional, uuid: randomUUID(), spec: specOf(description, provisional.spec.cpu) };
    await agent.store.save(definition);
    await agent.store.saveRuntime(definition.name, vm.runtime);
    vm.definition = definition;
    const network = networkOf(definition.spec);
    if (network !== null) await agent.networks.ensure(network);
    await agent.applyCpu(vm);
    await agent.io.rebalance();
    agent.log(`vm ${vm.name}: arrived by migration`);
  });
  arrived.catch(async (e: Error) => {
    agent.log(`vm ${vm.name}: the migration did not arrive: ${e.message}`);
    if (vm.process === null) await agent.store.remove(vm.name, { data: true }).then(() => agent.instances.delete(vm.name), () => {});
  });
  const address = await Promise.race([waitForListening(vm), arrived.then(() => null, () => null)]);
  if (address === null) throw new HostError('spawn-failed', `the destination process for ${request.name} did not start listening; see ${vm.logPath}`, { vm: request.name });
  return { name: request.name, target: address };
}

/** The address `vireo run --incoming` says it listens on, read from its log as it appears. */
async function waitForListening(vm: VmInstance): Promise<string | null> {
  const start = Date.now();
  while (Date.now() - start < 30_000 && vm.state === 'starting') {
    try {
      const file = await open(vm.logPath, 'r');
      try {
        const text = await file.readFile('utf8');
        const found = /waiting for a VM on (tcp:\S+)/u.exec(text.split('\n').slice(-20).join('\n'));
        if (found !== null) return found[1]!;
      } finally {
        await file.close();
      }
    } catch {
      // Not created yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/** A definition's spec from the description a migrated VM arrived with. */
export function specOf(description: VmDescription, cpu: CpuSpec): VmSpec {
  const { boot } = description;
  return {
    ramMiB: description.ramMiB,
    ...(description.cpus !== undefined && description.cpus > 1 ? { cpus: description.cpus } : {}),
    boot: { kernel: boot.kernel.path, ...(boot.firmware ? { firmware: boot.firmware.path } : {}), ...(boot.initrd ? { initrd: boot.initrd.path } : {}), ...(boot.bootargs !== undefined ? { bootargs: boot.bootargs } : {}) },
    disks: description.disks.map((d) => ({ path: d.path, readOnly: d.readOnly, limits: d.limits, ...(d.format ? { format: d.format } : {}) })),
    network: networkSpec(description),
    console: description.console,
    cpu,
    jit: description.translation === 'off' ? 'off' : 'on',
  };
}

/** A VM that arrives from an agent's network `networks/NET.sock` is on network NET here too. */
function networkSpec(description: VmDescription): VmSpec['network'] {
  if (description.network === null) return 'none';
  if (description.network.mode === 'user') return 'user';
  const name = /\/networks\/([a-z0-9][a-z0-9-]{0,62})\.sock$/u.exec(description.network.switch ?? '')?.[1];
  return name === undefined ? 'host' : { name };
}
