// How `vireo host` reaches an agent: `--agent PATH` (its Unix socket, DIR/agent.sock) or
// `--agent tcp:HOST:PORT` with `--token-file FILE`; $VIREO_AGENT and $VIREO_TOKEN_FILE are the defaults.

import { readFileSync } from 'node:fs';
import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import { VmApiClient } from '../../vm/api/vm-api-client.js';
import { UsageError } from '../usage-error.js';

export interface AgentAddress {
  /** The socket path, or tcp:HOST:PORT as given. */
  label: string;
  tcp?: { host: string; port: number };
  token?: string;
}

export const CONNECT_OPTIONS = {
  agent: { type: 'string' as const },
  'token-file': { type: 'string' as const },
};

export const CONNECT_HELP = `  --agent PATH|tcp:HOST:PORT  The agent: its Unix socket (DIR/agent.sock) or TCP address
                              (default: $VIREO_AGENT)
  --token-file FILE           With TCP: the file holding the agent's bearer token
                              (default: $VIREO_TOKEN_FILE)`;

export function agentAddress(command: string, agent: string | undefined, tokenFile: string | undefined): AgentAddress {
  const label = agent ?? process.env['VIREO_AGENT'];
  if (label === undefined || label === '') throw new UsageError(command, '--agent PATH|tcp:HOST:PORT is required (or set VIREO_AGENT), e.g. --agent /srv/vireo/agent.sock');
  if (!label.startsWith('tcp:')) return { label };
  const tcp = parseMigrationTarget(label);
  if (typeof tcp === 'string') throw new UsageError(command, `--agent: ${tcp}`);
  const file = tokenFile ?? process.env['VIREO_TOKEN_FILE'];
  if (file === undefined) throw new UsageError(command, `--agent ${label} is TCP: give --token-file FILE with the agent's token`);
  let token: string;
  try {
    token = readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch (e) {
    throw new UsageError(command, `cannot read the token file ${file}: ${(e as Error).message}`);
  }
  return { label, tcp, token };
}

export function agentClient(address: AgentAddress): VmApiClient {
  return new VmApiClient(address.label, {
    ...(address.tcp ? { tcp: address.tcp } : {}),
    ...(address.token !== undefined ? { token: address.token } : {}),
    unreachableHint: `no host agent answers there; start one with 'vireo host serve --data DIR'`,
  });
}
