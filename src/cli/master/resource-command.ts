// The CLI's verbs on the master's resources (dc, host, vm, user, tenant): list, show, create,
// delete, and actions that answer with an operation, waited on with its progress. Tables for
// people, --json for programs. A resource is named by its name or its id.

import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../usage-error.js';
import { type DiskIo as CommandIo, processIo } from '../commands/disk/disk-io.js';
import { formatFields, formatTable, printJson } from '../commands/disk/disk-output.js';
import { help, parseVerbArgs } from '../commands/disk/verb-args.js';
import { loadCredentials, MasterCallError, withToken, type MasterCredentials } from './master-connection.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Row = Record<string, unknown>;

export interface ResourceSpec {
  command: string;
  /** The collection under /api/v1. */
  path: string;
  noun: string;
  columns: Array<[string, (row: Row) => string]>;
  create?: { options: Options; usage: string; body: (values: Record<string, string | boolean | undefined>, resolve: Resolver) => Promise<Row> };
  /** Verbs answered with 202 and an operation: POST {path}/{id}/{verb}. */
  actions?: Record<string, { options: Options; usage?: string; body: (values: Record<string, string | boolean | undefined>, resolve: Resolver) => Row | Promise<Row> }>;
}

/** Finds the id of a resource of another collection by name or id (for options like --dc NAME). */
export type Resolver = (path: string, nameOrId: string) => Promise<string>;

/** A `vireo` command for `spec`, as main lists them. */
export function resourceCommand(spec: ResourceSpec): { run: (argv: string[]) => Promise<number>; help: string } {
  return { run: (argv) => runResource(spec, argv, processIo), help: resourceHelp(spec) };
}

export function resourceHelp(spec: ResourceSpec): string {
  const actions = Object.entries(spec.actions ?? {}).map(([verb, action]) => `  ${verb} NAME|ID${action.usage === undefined ? '' : ` ${action.usage}`}\n`).join('');
  return `Usage: vireo ${spec.command} <list|show|${spec.create ? 'create|' : ''}delete${Object.keys(spec.actions ?? {}).map((v) => `|${v}`).join('')}> [--json]

  list                     The ${spec.noun}s you may see
  show NAME|ID
${spec.create ? `  create ${spec.create.usage}\n` : ''}  delete NAME|ID
${actions}
Talks to the master 'vireo login' connected to.
`;
}

export async function runResource(spec: ResourceSpec, argv: readonly string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') return help(io, resourceHelp(spec));
  const action = spec.actions?.[verb];
  const options: Options = { json: { type: 'boolean' }, ...(verb === 'create' ? spec.create?.options : action?.options) };
  const names = verb === 'list' || verb === 'create' ? [] : ['NAME|ID'];
  if (!['list', 'show', 'create', 'delete'].includes(verb) && action === undefined) throw new UsageError(spec.command, `unknown verb ${verb}; see vireo ${spec.command} --help`);
  const args = parseVerbArgs(spec.command, rest, options, names);
  if (args === null) return help(io, resourceHelp(spec));
  const values = args.values as Record<string, string | boolean | undefined>;
  const json = values['json'] === true;
  try {
    const credentials = await loadCredentials();
    const resolve: Resolver = (path, nameOrId) => findId(credentials, path, nameOrId);
    switch (verb) {
      case 'list': {
        const rows = await listAll(credentials, spec.path);
        if (json) printJson(io, rows);
        else io.out(rows.length === 0 ? `no ${spec.noun}s\n` : formatTable(spec.columns.map(([h]) => h), rows.map((r) => spec.columns.map(([, f]) => f(r)))));
        return 0;
      }
      case 'show': {
        const id = await resolve(spec.path, args.positionals[0]!);
        const row = (await withToken<Row>(credentials, 'GET', `/api/v1${spec.path}/${id}`)).body;
        if (json) printJson(io, row);
        else io.out(formatFields(Object.entries(row).map(([k, v]): [string, string] => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])));
        return 0;
      }
      case 'create': {
        if (spec.create === undefined) throw new UsageError(spec.command, `${spec.noun}s are not created here`);
        const row = (await withToken<Row>(credentials, 'POST', `/api/v1${spec.path}`, await spec.create.body(values, resolve))).body;
        if (json) printJson(io, row);
        else io.out(`created ${spec.noun} ${String(row['name'] ?? row['id'])} (${String(row['id'])})\n`);
        return 0;
      }
      case 'delete': {
        const id = await resolve(spec.path, args.positionals[0]!);
        await withToken(credentials, 'DELETE', `/api/v1${spec.path}/${id}`);
        if (!json) io.out(`deleted ${spec.noun} ${args.positionals[0]}\n`);
        return 0;
      }
      default: {
        const id = await resolve(spec.path, args.positionals[0]!);
        const started = (await withToken<Row>(credentials, 'POST', `/api/v1${spec.path}/${id}/${verb}`, await action!.body(values, resolve))).body;
        const done = await waitOperation(credentials, started, (op) => {
          if (!json) io.err(`${verb}: ${String(op['state'])} ${Math.round(Number(op['progress'] ?? 0) * 100)}% ${String(op['message'] ?? '')}\n`);
        });
        if (json) printJson(io, done);
        if (done['state'] === 'failed') {
          io.err(`vireo ${spec.command} ${verb}: ${JSON.stringify(done['error'] ?? done['message'])}\n`);
          return 1;
        }
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof MasterCallError) {
      io.err(`vireo ${spec.command} ${verb}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export async function listAll(credentials: MasterCredentials, path: string): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page: { items: Row[]; nextCursor: string | null } = (await withToken(credentials, 'GET', `/api/v1${path}${path.includes('?') ? '&' : '?'}${query}`)).body;
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return rows;
}

async function findId(credentials: MasterCredentials, path: string, nameOrId: string): Promise<string> {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u.test(nameOrId)) return nameOrId;
  const matches = (await listAll(credentials, path)).filter((r) => r['name'] === nameOrId);
  if (matches.length === 0) throw new MasterCallError(404, 'not-found', `no ${path.slice(1)} named ${nameOrId} that you may see`);
  if (matches.length > 1) throw new MasterCallError(409, 'ambiguous', `${matches.length} of ${path.slice(1)} are named ${nameOrId}; give the id`);
  return String(matches[0]!['id']);
}

async function waitOperation(credentials: MasterCredentials, operation: Row, onProgress: (op: Row) => void): Promise<Row> {
  let current = operation;
  while (current['state'] === 'queued' || current['state'] === 'running') {
    onProgress(current);
    current = (await withToken<Row>(credentials, 'GET', `/api/v1/operations/${String(current['id'])}?wait=10`)).body;
  }
  onProgress(current);
  return current;
}
