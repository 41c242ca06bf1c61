// `vireo host`: the host agent. `serve` runs it; `status` and `vm ...` talk to a running one
// through its API.

import { UsageError } from '../usage-error.js';
import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { formatFields, printJson } from './disk/disk-output.js';
import { help, parseVerbArgs } from './disk/verb-args.js';
import { agentAddress, agentClient, CONNECT_HELP, CONNECT_OPTIONS } from './host-connect.js';
import { hostServe } from './host-serve.js';
import { hostVm, runAgainst } from './host-vm.js';
import { runResource } from '../master/resource-command.js';
import { HOSTS } from '../master/resources.js';

export const HOST_HELP = `Usage: vireo host <serve|status|vm> [options]

Runs many VMs on this server, each in its own process, behind one API (docs/host-agent.md).

  serve --data DIR [...]     Run the host agent ('vireo host serve --help')
  list|show|create|delete    The master's hosts, as 'vireo login' connected to it
                             ('vireo host create --dc DC --name NAME --url tcp:HOST:PORT
                             --token-file FILE' registers an agent)
  status [--json]            The host: cores, memory and budget, storage, VMs by state,
                             CPU capacity, disk budget, networks
  vm VERB [NAME] [...]       Define, start, stop, snapshot, migrate... the agent's VMs
                             ('vireo host vm --help')

Options of status and vm:
${CONNECT_HELP}
`;

export function hostCommand(argv: string[]): Promise<number> {
  return runHost(argv, processIo);
}

export async function runHost(argv: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case undefined:
      throw new UsageError('host', 'missing serve, status or vm');
    case '--help': case '-h': case 'help':
      return help(io, HOST_HELP);
    case 'serve':
      return hostServe(rest, io);
    case 'list': case 'show': case 'create': case 'delete':
      return runResource(HOSTS, argv, io);
    case 'vm':
      return hostVm(rest, io);
    case 'status': {
      const args = parseVerbArgs('host', rest, { ...CONNECT_OPTIONS, json: { type: 'boolean' } }, []);
      if (args === null) return help(io, HOST_HELP);
      const client = agentClient(agentAddress('host', args.values.agent, args.values['token-file']));
      return runAgainst(io, 'status', async () => {
        const host = await client.call<Record<string, Record<string, unknown>>>('GET', '/host');
        if (args.values.json === true) printJson(io, host);
        else io.out(formatFields(Object.entries(host).map(([key, value]): [string, string] => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)])));
        return 0;
      });
    }
    default:
      throw new UsageError('host', `unknown subcommand '${sub}'; 'vireo host --help' lists them`);
  }
}
