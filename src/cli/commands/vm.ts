// `vireo vm`: drives a running VM through its control API (the socket of `vireo run --api`).
// Each verb is one API call; save and migrate start an operation and follow it to its end.

import { resolve } from 'node:path';
import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import type { Operation } from '../../vm/api/operation-registry.js';
import { VmApiClient, VmApiClientError } from '../../vm/api/vm-api-client.js';
import { runResource } from '../master/resource-command.js';
import { VMS } from '../master/resources.js';
import type { VmStatus } from '../../vm/api/vm-controller.js';
import { UsageError } from '../usage-error.js';
import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { formatFields, printJson } from './disk/disk-output.js';
import { help, parseVerbArgs } from './disk/verb-args.js';
import { operationProgress } from './vm/operation-progress.js';

/** The API answered with an error, an operation failed, or no VM serves the socket. */
export const EXIT_VM_ERROR = 1;

export const VM_HELP = `Usage: vireo vm <verb> --api PATH [--json] [ARGS]
       vireo vm <list|show|create|start|stop|delete> [...]   (VMs of the master: vireo vm list --help)

Controls a running VM through its API socket, the PATH given to 'vireo run --api PATH'.
Without --api, list, show, create, start, stop and delete act on the master's VMs, as
'vireo login' connected to it.

Verbs:
  status                 Show the VM's state, instructions retired, uptime and configuration
  pause                  Pause the VM at an instruction boundary
  resume                 Continue a paused VM
  save FILE [--resume]   Save a whole-VM snapshot to FILE (relative to this directory);
                         the VM stays paused afterwards unless --resume is given
  migrate tcp:HOST:PORT  Move the running VM to a 'vireo run --incoming tcp:HOST:PORT'
                         (an IPv6 HOST in brackets: tcp:[::1]:4444)
  shutdown               Press the guest's power button: the guest shuts itself down and
                         the VM stops when it powers off (this answers at once); refused
                         when the guest has no driver for the button (use stop then)
  stop                   Power the VM off at once

Options:
  --api PATH   The VM's API socket (required)
  --json       Print the API's answer as JSON: the VM's status for status, pause,
               resume, shutdown and stop; the finished operation for save and migrate
               ({"id", "kind", "state", "progress", "result" | "error", ...})
  -h, --help   Show this help

save and migrate print their progress on stderr ("save: ram 45%") and wait until the
operation ends; interrupting the wait does not stop the operation.

Exit status: 0 done, 1 the VM refused or failed (the message says why) or no VM serves
PATH, 2 usage error.
`;

type Verb = (client: VmApiClient, positionals: string[], options: { json: boolean; resume: boolean }, io: CommandIo) => Promise<number>;

const VERBS: Record<string, { positionals: string[]; run: Verb }> = {
  status: { positionals: [], run: async (client, _, options, io) => showStatus(io, await client.status(), options.json, null) },
  pause: { positionals: [], run: (client, _, options, io) => changeState(client, 'pause', options.json, io) },
  resume: { positionals: [], run: (client, _, options, io) => changeState(client, 'resume', options.json, io) },
  stop: { positionals: [], run: (client, _, options, io) => changeState(client, 'stop', options.json, io) },
  shutdown: {
    positionals: [],
    run: async (client, _, options, io) => {
      const status = await client.call<VmStatus>('POST', '/vm/shutdown');
      return showStatus(io, status, options.json, 'pressed the power button; the guest is shutting down');
    },
  },
  save: {
    positionals: ['FILE'],
    run: (client, [file], options, io) => {
      // The VM runs elsewhere in the file system's view: send it an absolute path.
      const path = resolve(file!);
      return runOperation(client, 'save', { path, resume: options.resume }, `saved the VM to ${path}`, options.json, io);
    },
  },
  migrate: {
    positionals: ['tcp:HOST:PORT'],
    run: (client, [target], options, io) => {
      const parsed = parseMigrationTarget(target!);
      if (typeof parsed === 'string') throw new UsageError('vm', `migrate: ${parsed}`);
      return runOperation(client, 'migrate', { target }, `migrated the VM to ${target}`, options.json, io);
    },
  },
};

export function vmCommand(argv: string[]): Promise<number> {
  // With --api the VM's own socket; without, the master 'vireo login' connected to.
  const toMaster = !argv.some((a) => a === '--api' || a.startsWith('--api=')) && MASTER_VERBS.has(argv[0] ?? '');
  return toMaster ? runResource(VMS, argv, processIo) : runVm(argv, processIo);
}

const MASTER_VERBS = new Set(['list', 'show', 'create', 'delete', 'start', 'stop']);

/** Runs `vireo vm ARGV` writing to `io`; UsageError propagates (main reports it with exit 2). */
export async function runVm(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('vm', 'missing the verb');
  if (name === '--help' || name === '-h' || name === 'help') return help(io, VM_HELP);
  const verb = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
  if (verb === undefined) throw new UsageError('vm', `unknown verb '${name}'`);
  const options = { api: { type: 'string' as const }, json: { type: 'boolean' as const }, ...(name === 'save' ? { resume: { type: 'boolean' as const } } : {}) };
  const args = parseVerbArgs('vm', rest, options, verb.positionals);
  if (args === null) return help(io, VM_HELP);
  const api = args.values.api;
  if (api === undefined || api === '') throw new UsageError('vm', `${name}: --api PATH is required (the socket given to 'vireo run --api')`);
  try {
    const flags = { json: args.values.json === true, resume: (args.values as { resume?: boolean }).resume === true };
    return await verb.run(new VmApiClient(api), args.positionals, flags, io);
  } catch (e) {
    if (!(e instanceof VmApiClientError)) throw e;
    const what = e.kind === 'api' ? `${name}: ${e.message}${e.apiKind === undefined ? '' : ` (${e.apiKind})`}` : e.message;
    io.err(`vireo vm: ${what}\n`);
    return EXIT_VM_ERROR;
  }
}

async function changeState(client: VmApiClient, verb: 'pause' | 'resume' | 'stop', json: boolean, io: CommandIo): Promise<number> {
  const status = await client.call<VmStatus>('POST', `/vm/${verb}`);
  return showStatus(io, status, json, `the VM is ${status.state}`);
}

function showStatus(io: CommandIo, status: VmStatus, json: boolean, headline: string | null): number {
  if (json) {
    printJson(io, status);
  } else if (headline !== null) {
    io.out(`${headline}\n`);
  } else {
    io.out(formatFields([
      ['state', status.state],
      ['instructions retired', String(status.instructionsRetired)],
      ['uptime', describeDuration(status.uptimeMs)],
      ['config', JSON.stringify(status.config)],
    ]));
  }
  return 0;
}

function runOperation(client: VmApiClient, kind: 'save' | 'migrate', body: Record<string, unknown>, success: string, json: boolean, io: CommandIo): Promise<number> {
  return followOperation(client, `/vm/${kind}`, kind, body, success, json, io, 'vireo vm');
}

/** Starts the operation POST `path` answers with, shows its progress and then its result; `vireo host vm` uses it too. */
export async function followOperation(client: VmApiClient, path: string, kind: string, body: Record<string, unknown>, success: string, json: boolean, io: CommandIo, program: string): Promise<number> {
  const started = await client.call<Operation>('POST', path, body);
  const progress = operationProgress(io, kind);
  let op: Operation;
  try {
    op = await client.follow(started, progress.onChange);
  } finally {
    progress.end();
  }
  if (json) printJson(io, op);
  if (op.state === 'failed') {
    io.err(`${program}: ${kind} failed: ${op.error?.message ?? 'no reason given'}${op.error === undefined ? '' : ` (${op.error.kind})`}\n`);
    return EXIT_VM_ERROR;
  }
  if (!json) {
    const rows = Object.entries(op.result ?? {}).map(([key, value]): [string, string] => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]);
    io.out(`${success}\n${formatFields(rows)}`);
  }
  return 0;
}

/** "1h 2m 3s", "4.5s". */
function describeDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  return `${h > 0 ? `${h}h ` : ''}${m}m ${whole % 60}s`;
}
