// `vireo login URL`: logs in to a master with a password and a TOTP code, makes an API token
// for this CLI, and keeps it with the master's pinned certificate in the user's config
// directory (mode 0600). `vireo logout` revokes that token and forgets it.

import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fetchCertificate } from '../master/master-certificate.js';
import { callMaster, credentialsPath, loadCredentials, MasterCallError, saveCredentials, withToken } from '../master/master-connection.js';
import { ask } from '../master/prompt.js';
import { UsageError } from '../usage-error.js';
import { type DiskIo as CommandIo, processIo } from './disk/disk-io.js';
import { help, parseVerbArgs } from './disk/verb-args.js';

export const LOGIN_HELP = `Usage: vireo login https://MASTER:PORT --name NAME [options]

Logs in to a Vireo master and keeps an API token for the other commands (dc, host, vm,
user, audit) in ${'$XDG_CONFIG_HOME'}/vireo/master.json (mode 0600).

  --name NAME              Your user name
  --password-file FILE     Read the password from FILE (default: asked, not echoed)
  --totp CODE              The current code of your authenticator (default: asked)
  --recovery-code CODE     A recovery code instead of a TOTP code
  --fingerprint SHA256     The master's certificate fingerprint, as 'vireo master serve'
                           printed it; needed for a self-signed certificate unless you
                           confirm it at the terminal
  --days N                 How long the token lasts (default 30)
`;

export const LOGOUT_HELP = 'Usage: vireo logout\n\nRevokes the API token vireo login made and forgets it.\n';

export function loginCommand(argv: string[]): Promise<number> {
  return runLogin(argv, processIo);
}

export async function runLogin(argv: string[], io: CommandIo): Promise<number> {
  const args = parseVerbArgs('login', argv, {
    name: { type: 'string' }, 'password-file': { type: 'string' }, totp: { type: 'string' }, 'recovery-code': { type: 'string' },
    fingerprint: { type: 'string' }, days: { type: 'string' },
  }, ['URL']);
  if (args === null) return help(io, LOGIN_HELP);
  const url = new URL(args.positionals[0]!).origin;
  if (!url.startsWith('https://')) throw new UsageError('login', 'the master is reached over https://');
  const name = args.values.name ?? (await ask('login', 'Name: '));
  try {
    const presented = await fetchCertificate(url);
    let certificate: string | undefined;
    if (!presented.trusted) {
      const wanted = args.values.fingerprint?.toUpperCase();
      if (wanted !== undefined && wanted !== presented.fingerprintSha256) {
        io.err(`vireo login: the master's certificate has the fingerprint ${presented.fingerprintSha256}, not ${wanted}: refusing to send it a password\n`);
        return 1;
      }
      if (wanted === undefined) {
        const answer = await ask('login', `The master's certificate is self-signed; its SHA-256 fingerprint is\n  ${presented.fingerprintSha256}\nDoes it match what 'vireo master serve' printed? [y/N] `);
        if (!/^y(es)?$/iu.test(answer.trim())) return 1;
      }
      certificate = presented.pem;
    }
    const target = { url, certificate };
    const passwordFile = args.values['password-file'];
    const password = passwordFile === undefined ? await ask('login', 'Password: ', true) : (await readFile(passwordFile, 'utf8')).split('\n')[0]!;
    const recoveryCode = args.values['recovery-code'];
    const totp = recoveryCode === undefined ? (args.values.totp ?? (await ask('login', 'TOTP code: '))) : undefined;
    const login = await callMaster(target, 'POST', '/api/v1/session', { name, password, ...(totp === undefined ? {} : { totp }), ...(recoveryCode === undefined ? {} : { recoveryCode }) });
    const cookie = [login.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]).join('; ');
    const session = { cookie, 'x-csrf-token': String(login.body.csrfToken) };
    const days = args.values.days === undefined ? 30 : Number(args.values.days);
    const made = await callMaster(target, 'POST', '/api/v1/tokens', { name: `vireo CLI on ${hostname()}`, scopes: ['admin'], expiresInDays: days }, session);
    await callMaster(target, 'DELETE', '/api/v1/session', undefined, session);
    await saveCredentials({ url, token: String(made.body.token), ...(certificate === undefined ? {} : { certificate }) });
    io.out(`logged in to ${url} as ${name}; token kept in ${credentialsPath()} until ${String(made.body.expiresAt)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof MasterCallError || e instanceof Error && !(e instanceof UsageError)) {
      io.err(`vireo login: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function logoutCommand(argv: string[]): Promise<number> {
  return runLogout(argv, processIo);
}

export async function runLogout(argv: string[], io: CommandIo): Promise<number> {
  if (parseVerbArgs('logout', argv, {}, []) === null) return help(io, LOGOUT_HELP);
  const credentials = await loadCredentials().catch(() => undefined);
  if (credentials === undefined) {
    io.out('not logged in\n');
    return 0;
  }
  const id = /^vireo_([0-9a-f-]{36})_/u.exec(credentials.token)?.[1];
  if (id !== undefined) await withToken(credentials, 'DELETE', `/api/v1/tokens/${id}`).catch((e: Error) => io.err(`vireo logout: the token could not be revoked (${e.message}); it expires by itself\n`));
  await rm(credentialsPath(), { force: true });
  io.out(`logged out of ${credentials.url}\n`);
  return 0;
}
