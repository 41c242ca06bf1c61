// `vireo host vm VERB`: the VMs of a host agent, one agent API call per verb (snapshot and
// migrate follow their operation to its end). Tables for people, the API's JSON with --json.

import { resolve } from 'node:path';
import { VmApiClient, VmApiClientError } from '../../vm/api/vm-api-client.js';
import { parseIoLimits } from '../../storage/qos/io-limits.js';
import { UsageError } from '../usage-error.js';
import type { DiskIo as CommandIo } from './disk/disk-io.js';
import { formatFields, formatTable, printJson } from './disk/disk-output.js';
import { help, parseVerbArgs } from './disk/verb-args.js';
import { agentAddress, agentClient, CONNECT_HELP, CONNECT_OPTIONS, type AgentAddress } from './host-connect.js';
import { attachConsole } from './host-vm-console.js';
import { DEFINE_HELP, DEFINE_OPTIONS, defineRequest } from './host-vm-define.js';
import { followOperation } from './vm.js';

export const HOST_VM_HELP = `Usage: vireo host vm <verb> [NAME] --agent PATH|tcp:HOST:PORT [--json] [options]

Verbs:
  list                    The VMs: name, state, RAM, pid, restarts, last exit
${DEFINE_HELP}
  show NAME               Its definition, state and last exit
  start NAME              Start it in its own process
  stop NAME [--force] [--timeout SECONDS]
                          Stop it: press the guest's power button and wait up to the
                          timeout (default 30) for it to shut down, then power it off,
                          then signals; --force kills it at once
  pause NAME | resume NAME
  delete NAME [--disks]   Delete a stopped VM (--disks: with the disks the agent made)
  snapshot NAME [--file FILE] [--pause]
                          Save a whole-VM snapshot (default in the agent's directory);
                          --pause leaves the VM paused afterwards
  migrate NAME --to AGENT [--to-token-file FILE] [--listen-host HOST]
                          Move the running VM to another agent (which listens for it on
                          HOST, default 127.0.0.1)
  console NAME            Its serial console on this terminal (Ctrl-] leaves)
  stats NAME              Its statistics: process, memory, instructions, devices
  set NAME [--cpu-weight N] [--cpu-cap PERCENT|none] [--disk-limits SERIAL:iops=N,bps=N...]
                          Change its limits, applied at once when it runs

Options:
${CONNECT_HELP}
  --json                      Print the API's answer as JSON

Exit status: 0 done, 1 the agent refused or failed (the message says why), 2 usage error.
`;

type Values = Record<string, string | boolean | string[] | undefined>;
type Verb = { positionals: string[]; options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>; run(client: VmApiClient, name: string, values: Values, io: CommandIo, address: AgentAddress): Promise<number> };

interface VmInfo { name: string; state: string; pid: number | null; restarts: number; lastExit: { reason: string } | null; definition: { spec: { ramMiB: number } } }

const show = (json: boolean, io: CommandIo, vm: VmInfo, headline?: string): number => {
  if (json) printJson(io, vm);
  else if (headline !== undefined) io.out(`${headline}\n`);
  else io.out(formatFields([['name', vm.name], ['state', vm.state], ['pid', String(vm.pid ?? '-')], ['restarts', String(vm.restarts)], ['last exit', vm.lastExit?.reason ?? '-'], ['definition', JSON.stringify(vm.definition)]]));
  return 0;
};

const simple = (verb: 'start' | 'pause' | 'resume'): Verb => ({
  positionals: ['NAME'],
  run: async (client, name, values, io) => {
    const vm = await client.call<VmInfo>('POST', `/vms/${encodeURIComponent(name)}/${verb}`);
    return show(values['json'] === true, io, vm, `VM ${vm.name} is ${vm.state}`);
  },
});

const VERBS: Record<string, Verb> = {
  list: {
    positionals: [],
    run: async (client, _, values, io) => {
      const { vms } = await client.call<{ vms: VmInfo[] }>('GET', '/vms');
      if (values['json'] === true) printJson(io, { vms });
      else io.out(formatTable(['NAME', 'STATE', 'RAM', 'PID', 'RESTARTS', 'LAST EXIT'], vms.map((vm) => [vm.name, vm.state, `${vm.definition.spec.ramMiB} MiB`, String(vm.pid ?? '-'), String(vm.restarts), vm.lastExit?.reason ?? '-'])));
      return 0;
    },
  },
  define: {
    positionals: ['NAME'], options: DEFINE_OPTIONS,
    run: async (client, name, values, io) => {
      const vm = await client.call<VmInfo>('POST', '/vms', defineRequest(name, values as Parameters<typeof defineRequest>[1]));
      return show(values['json'] === true, io, vm, `defined VM ${vm.name}`);
    },
  },
  show: { positionals: ['NAME'], run: async (client, name, values, io) => show(values['json'] === true, io, await client.call<VmInfo>('GET', `/vms/${encodeURIComponent(name)}`)) },
  start: simple('start'),
  pause: simple('pause'),
  resume: simple('resume'),
  stop: {
    positionals: ['NAME'], options: { force: { type: 'boolean' }, timeout: { type: 'string' } },
    run: async (client, name, values, io) => {
      const timeout = values['timeout'] === undefined ? undefined : Number(values['timeout']);
      if (timeout !== undefined && !(timeout >= 0)) throw new UsageError('host', `stop --timeout takes seconds, got '${String(values['timeout'])}'`);
      const vm = await client.call<VmInfo>('POST', `/vms/${encodeURIComponent(name)}/stop`, { force: values['force'] === true, ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}) });
      return show(values['json'] === true, io, vm, `VM ${vm.name} is ${vm.state}`);
    },
  },
  delete: {
    positionals: ['NAME'], options: { disks: { type: 'boolean' } },
    run: async (client, name, values, io) => {
      const answer = await client.call<{ deleted: string }>('DELETE', `/vms/${encodeURIComponent(name)}${values['disks'] === true ? '?disks=true' : ''}`);
      if (values['json'] === true) printJson(io, answer);
      else io.out(`deleted VM ${answer.deleted}\n`);
      return 0;
    },
  },
  snapshot: {
    positionals: ['NAME'], options: { file: { type: 'string' }, pause: { type: 'boolean' } },
    run: (client, name, values, io) => followOperation(client, `/vms/${encodeURIComponent(name)}/snapshot`, 'snapshot', {
      ...(typeof values['file'] === 'string' ? { path: resolve(values['file']) } : {}), resume: values['pause'] !== true,
    }, `saved a snapshot of VM ${name}`, values['json'] === true, io, 'vireo host'),
  },
  migrate: {
    positionals: ['NAME'], options: { to: { type: 'string' }, 'to-token-file': { type: 'string' }, 'listen-host': { type: 'string' } },
    run: async (client, name, values, io) => {
      if (typeof values['to'] !== 'string') throw new UsageError('host', 'migrate: --to AGENT (the destination agent) is required');
      const destination = agentClient(agentAddress('host', values['to'], values['to-token-file'] as string | undefined));
      const vm = await client.call<VmInfo & { definition: { autostart: boolean; spec: { cpu: object } } }>('GET', `/vms/${encodeURIComponent(name)}`);
      const { target } = await destination.call<{ target: string }>('POST', '/vms/incoming', {
        name, ramMiB: vm.definition.spec.ramMiB, autostart: vm.definition.autostart, cpu: vm.definition.spec.cpu,
        ...(typeof values['listen-host'] === 'string' ? { listenHost: values['listen-host'] } : {}),
      });
      return followOperation(client, `/vms/${encodeURIComponent(name)}/migrate`, 'migrate', { target }, `migrated VM ${name} to ${String(values['to'])}`, values['json'] === true, io, 'vireo host');
    },
  },
  console: { positionals: ['NAME'], run: (_, name, __, io, address) => attachConsole(address, name, io) },
  stats: {
    positionals: ['NAME'],
    run: async (client, name, values, io) => {
      const stats = await client.call<Record<string, unknown>>('GET', `/vms/${encodeURIComponent(name)}/stats`);
      if (values['json'] === true) printJson(io, stats);
      else io.out(formatFields(Object.entries(stats).map(([key, value]): [string, string] => [key, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)])));
      return 0;
    },
  },
  set: {
    positionals: ['NAME'], options: { 'cpu-weight': { type: 'string' }, 'cpu-cap': { type: 'string' }, 'disk-limits': { type: 'string', multiple: true } },
    run: async (client, name, values, io) => {
      const cpu: Record<string, number | null> = {};
      if (typeof values['cpu-weight'] === 'string') cpu['weight'] = Number(values['cpu-weight']);
      if (typeof values['cpu-cap'] === 'string') cpu['capPercent'] = values['cpu-cap'] === 'none' ? null : Number(values['cpu-cap']);
      const disks: Record<string, object> = {};
      for (const text of (values['disk-limits'] as string[] | undefined) ?? []) {
        const colon = text.indexOf(':');
        if (colon < 1) throw new UsageError('host', `set --disk-limits takes SERIAL:iops=N,bps=N..., got '${text}'`);
        disks[text.slice(0, colon)] = parseIoLimits(Object.fromEntries(text.slice(colon + 1).split(',').filter((p) => p !== '').map((p) => [p.split('=')[0]!, p.split('=')[1] ?? ''])));
      }
      const answer = await client.call<{ applied: unknown }>('PUT', `/vms/${encodeURIComponent(name)}/limits`, { ...(Object.keys(cpu).length > 0 ? { cpu } : {}), ...(Object.keys(disks).length > 0 ? { disks } : {}) });
      if (values['json'] === true) printJson(io, answer);
      else io.out(`limits of VM ${name} changed: ${JSON.stringify(answer.applied)}\n`);
      return 0;
    },
  },
};

export async function hostVm(argv: readonly string[], io: CommandIo): Promise<number> {
  const [verbName, ...rest] = argv;
  if (verbName === undefined || verbName === '--help' || verbName === '-h' || verbName === 'help') return help(io, HOST_VM_HELP);
  const verb = Object.hasOwn(VERBS, verbName) ? VERBS[verbName]! : undefined;
  if (verb === undefined) throw new UsageError('host', `unknown verb 'vm ${verbName}'; 'vireo host vm --help' lists them`);
  const args = parseVerbArgs('host', rest, { ...CONNECT_OPTIONS, json: { type: 'boolean' }, ...verb.options }, verb.positionals);
  if (args === null) return help(io, HOST_VM_HELP);
  const values = args.values as Values;
  const address = agentAddress('host', values['agent'] as string | undefined, values['token-file'] as string | undefined);
  return runAgainst(io, `vm ${verbName}`, () => verb.run(agentClient(address), args.positionals[0] ?? '', values, io, address));
}

/** Runs a call against the agent; its refusals and unreachability are exit status 1 with the message. */
export async function runAgainst(io: CommandIo, what: string, call: () => Promise<number>): Promise<number> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof VmApiClientError)) throw e;
    io.err(`vireo host: ${what}: ${e.message}${e.apiKind === undefined ? '' : ` (${e.apiKind})`}\n`);
    return 1;
  }
}
