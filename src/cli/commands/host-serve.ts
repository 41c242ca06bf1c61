// `vireo host serve`: runs the host agent in the foreground until SIGTERM or SIGINT, when it
// stops its VMs gracefully (autostart VMs start again with the next agent) and exits.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readTokenFile } from '../../host/api/bearer-auth.js';
import { serveHostApi } from '../../host/api/host-api-server.js';
import { HostAgent } from '../../host/host-agent.js';
import { HostError } from '../../host/host-error.js';
import { claimSocketPath } from '../../vm/api/claim-socket-path.js';
import { VmApiError } from '../../vm/api/vm-api-error.js';
import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import { UsageError } from '../usage-error.js';
import type { DiskIo as CommandIo } from './disk/disk-io.js';
import { parseVerbArgs, help } from './disk/verb-args.js';

export const HOST_SERVE_HELP = `Usage: vireo host serve --data DIR [--listen tcp:HOST:PORT --token-file FILE] [options]

Runs the host agent: the VMs defined in DIR, each in its own 'vireo run' process, and the
agent's API on DIR/agent.sock (mode 0600). Stops its VMs gracefully on SIGTERM or SIGINT;
autostart VMs that were running start again with the next 'vireo host serve'.

Options:
  --data DIR               The agent's directory: definitions, disks, logs, sockets
  --listen tcp:HOST:PORT   Also serve the API on TCP (port 0: any, printed); needs --token-file
  --token-file FILE        The bearer token TCP clients must send (one line, 16+ characters)
  --memory-budget MIB      What the VMs may take in all (default: physical RAM less 10%,
                           at least 1 GiB); a start that would pass it is refused
  --storage-capacity GIB   Room for the thin disks the agent makes, when DIR/luns is first
                           made (default: the free space there)
  --cpu-capacity PERCENT   CPU the VMs share, 100 per core (default: every core); each
                           VM's cap is set so busy VMs divide it by weight
  --disk-iops N            Operations per second all VMs' disks share by weight (default:
                           no budget, each disk has its own limits only)
  --disk-bps N             Bytes per second all VMs' disks share by weight (default: none)

VMs whose definition names a network ({"name": NET}) join its switch, served by the agent
on DIR/networks/NET.sock; VMs on different networks never see each other's frames.
`;

export async function hostServe(argv: string[], io: CommandIo): Promise<number> {
  const args = parseVerbArgs('host', argv, {
    data: { type: 'string' }, listen: { type: 'string' }, 'token-file': { type: 'string' },
    'memory-budget': { type: 'string' }, 'storage-capacity': { type: 'string' },
    'cpu-capacity': { type: 'string' }, 'disk-iops': { type: 'string' }, 'disk-bps': { type: 'string' },
  }, []);
  if (args === null) return help(io, HOST_SERVE_HELP);
  const { values } = args;
  if (values.data === undefined || values.data === '') throw new UsageError('host', 'serve: --data DIR is required');
  const dataDir = resolve(values.data);
  let tcp: { host: string; port: number } | undefined;
  if (values.listen !== undefined) {
    const anyPort = values.listen.endsWith(':0');
    const parsed = parseMigrationTarget(anyPort ? `${values.listen.slice(0, -2)}:1` : values.listen);
    if (typeof parsed === 'string') throw new UsageError('host', `serve --listen: ${parsed}`);
    tcp = anyPort ? { ...parsed, port: 0 } : parsed;
    if (values['token-file'] === undefined) throw new UsageError('host', 'serve --listen needs --token-file FILE: TCP clients must present its token');
  }
  const budget = values['memory-budget'] === undefined ? undefined : positive('--memory-budget', values['memory-budget']);
  const storage = values['storage-capacity'] === undefined ? undefined : positive('--storage-capacity', values['storage-capacity']) * 1024 ** 3;
  const cpuCapacity = values['cpu-capacity'] === undefined ? undefined : positive('--cpu-capacity', values['cpu-capacity']);
  const diskBudget = {
    ...(values['disk-iops'] === undefined ? {} : { iops: positive('--disk-iops', values['disk-iops']) }),
    ...(values['disk-bps'] === undefined ? {} : { bps: positive('--disk-bps', values['disk-bps']) }),
  };
  try {
    const token = values['token-file'] === undefined ? undefined : await readTokenFile(values['token-file']);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Before anything in DIR is touched: an agent already serving it is left alone.
    const socketPath = join(dataDir, 'agent.sock');
    await claimSocketPath(socketPath);
    const log = (line: string): void => io.err(`vireo host: ${line}\n`);
    const agent = await HostAgent.open({ dataDir, log, ...(budget !== undefined ? { memoryBudgetMiB: budget } : {}), ...(storage !== undefined ? { storageCapacityBytes: storage } : {}), ...(cpuCapacity !== undefined ? { cpuCapacityPercent: cpuCapacity } : {}), diskBudget });
    const server = await serveHostApi(agent, { socketPath, ...(tcp && token !== undefined ? { tcp: { ...tcp, token } } : {}) });
    log(`serving ${server.socketPath}${server.tcp ? ` and tcp:${server.tcp.host}:${server.tcp.port}` : ''}; ${agent.instances.size} VMs defined, memory budget ${agent.budgetMiB} MiB, CPU capacity ${agent.cpu.capacityPercent}%`);
    await new Promise<void>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
    });
    log('stopping: the VMs are stopped gracefully');
    await agent.shutdown();
    await server.close();
    return 0;
  } catch (e) {
    if (e instanceof HostError || e instanceof VmApiError) {
      io.err(`vireo host: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function positive(option: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError('host', `${option} takes a positive whole number, got '${text}'`);
  return n;
}
