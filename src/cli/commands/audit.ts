// `vireo audit`: the master's audit log, newest first, and `--verify`: the check of its hash
// chain that shows whether any entry was altered, removed or reordered.

import { formatTable, printJson } from './disk/disk-output.js';
import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { help, parseVerbArgs } from './disk/verb-args.js';
import { loadCredentials, MasterCallError, withToken } from '../master/master-connection.js';

export const AUDIT_HELP = `Usage: vireo audit [--limit N] [--actor NAME] [--action ACTION] [--verify] [--json]

The master's audit log, newest first (default 50 entries). --verify recomputes the hash
chain and exits 1 if an entry was tampered with.
`;

export function auditCommand(argv: string[]): Promise<number> {
  return runAudit(argv, processIo);
}

export async function runAudit(argv: string[], io: CommandIo): Promise<number> {
  const args = parseVerbArgs('audit', argv, { limit: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, verify: { type: 'boolean' }, json: { type: 'boolean' } }, []);
  if (args === null) return help(io, AUDIT_HELP);
  const { values } = args;
  try {
    const credentials = await loadCredentials();
    if (values.verify === true) {
      const verdict = (await withToken(credentials, 'GET', '/api/v1/audit/verification')).body;
      if (values.json === true) printJson(io, verdict);
      else io.out(verdict.ok ? `the hash chain of ${verdict.entries} entries is intact\n` : `tampering found at entry ${verdict.seq}: ${verdict.reason}\n`);
      return verdict.ok ? 0 : 1;
    }
    const query = new URLSearchParams({ limit: values.limit ?? '50', ...(values.actor === undefined ? {} : { actor: values.actor }), ...(values.action === undefined ? {} : { action: values.action }) });
    const page = (await withToken(credentials, 'GET', `/api/v1/audit?${query}`)).body as { items: Array<Record<string, unknown>> };
    if (values.json === true) printJson(io, page.items);
    else io.out(formatTable(['SEQ', 'AT', 'WHO', 'ACTION', 'TARGET', 'OUTCOME', 'FROM'], page.items.map((e) => ['seq', 'at', 'actorName', 'action', 'target', 'outcome', 'sourceIp'].map((k) => String(e[k])))));
    return 0;
  } catch (e) {
    if (e instanceof MasterCallError) {
      io.err(`vireo audit: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
