// `vireo master`: the control plane. `init` creates its state and first administrator;
// `serve` runs its API and web console over HTTPS until SIGTERM or SIGINT.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MasterError, initMaster, Master } from '../../control/master.js';
import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import { UsageError } from '../usage-error.js';
import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { help, parseVerbArgs } from './disk/verb-args.js';

export const MASTER_HELP = `Usage: vireo master <init|serve> [options]

The control plane: data centers, hosts, VMs, LUNs and users (docs/control-plane.md).

  init --data DIR --admin NAME --password-file FILE [--database postgres://...]
        Create the master's state in DIR (SQLite in DIR/master.db unless --database names a
        PostgreSQL database) and its first administrator. Prints the administrator's TOTP
        secret (totp-secret: BASE32, and an otpauth:// URI for an authenticator app) and
        ten one-time recovery codes: keep them, they are not shown again.
  serve --data DIR --listen HOST:PORT [--boot-dir DIR]...
        Serve the REST API (/api/v1, OpenAPI at /api/openapi.json) and the web console over
        HTTPS, with the certificate in DIR/tls.crt and DIR/tls.key, or a self-signed one made
        on first start. Tenants may boot VMs only from files under a --boot-dir (a directory
        on the hosts); operators and administrators may name any file on their hosts.
`;

export function masterCommand(argv: string[]): Promise<number> {
  return runMaster(argv, processIo);
}

export async function runMaster(argv: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case undefined:
        throw new UsageError('master', 'missing init or serve');
      case '--help': case '-h': case 'help':
        return help(io, MASTER_HELP);
      case 'init':
        return await init(rest, io);
      case 'serve':
        return await serveMaster(rest, io);
      default:
        throw new UsageError('master', `unknown verb ${sub}: init or serve`);
    }
  } catch (e) {
    if (e instanceof MasterError || (e instanceof Error && (e as { kind?: unknown }).kind !== undefined && !(e instanceof UsageError))) {
      io.err(`vireo master: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function init(argv: string[], io: CommandIo): Promise<number> {
  const args = parseVerbArgs('master', argv, { data: { type: 'string' }, admin: { type: 'string' }, 'password-file': { type: 'string' }, database: { type: 'string' } }, []);
  if (args === null) return help(io, MASTER_HELP);
  const { data, admin, database } = args.values;
  const passwordFile = args.values['password-file'];
  if (data === undefined || admin === undefined || passwordFile === undefined) throw new UsageError('master', 'init needs --data DIR, --admin NAME and --password-file FILE');
  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).split('\n')[0]!;
  } catch (e) {
    throw new UsageError('master', `cannot read the password file ${passwordFile}: ${(e as Error).message}`);
  }
  const result = await initMaster({ dataDir: resolve(data), admin, password, ...(database === undefined ? {} : { database }) });
  io.out(`master created in ${resolve(data)}; administrator: ${admin}\n`);
  io.out(`totp-secret: ${result.totpSecret}\n`);
  io.out(`otpauth-uri: ${result.otpauthUri}\n`);
  for (const code of result.recoveryCodes) io.out(`recovery-code: ${code}\n`);
  return 0;
}

async function serveMaster(argv: string[], io: CommandIo): Promise<number> {
  const args = parseVerbArgs('master', argv, { data: { type: 'string' }, listen: { type: 'string' }, 'boot-dir': { type: 'string', multiple: true } }, []);
  if (args === null) return help(io, MASTER_HELP);
  const { data, listen } = args.values;
  if (data === undefined || listen === undefined) throw new UsageError('master', 'serve needs --data DIR and --listen HOST:PORT');
  const anyPort = listen.endsWith(':0');
  const parsed = parseMigrationTarget(`tcp:${anyPort ? `${listen.slice(0, -2)}:1` : listen}`);
  if (typeof parsed === 'string') throw new UsageError('master', `serve --listen: ${parsed}`);
  const master = await Master.serve({ dataDir: resolve(data), host: parsed.host, port: anyPort ? 0 : parsed.port, bootDirs: args.values['boot-dir'] ?? [] });
  io.err(`vireo master: serving ${master.url} (certificate sha256 ${master.certificate.fingerprintSha256})\n`);
  await new Promise<void>((done) => {
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await master.close();
  return 0;
}
