// How the CLI reaches the master: its URL, an API token, and the master's certificate as the
// only one trusted for it (pinned at `vireo login`, since a master's own certificate is
// self-signed), kept in the user's config directory with mode 0600.

import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface MasterCredentials {
  url: string;
  token: string;
  /** PEM of the master's certificate; absent when a public CA vouches for it. */
  certificate?: string;
}

export class MasterCallError extends Error {
  constructor(readonly status: number, readonly kind: string, message: string, readonly body?: unknown) {
    super(message);
  }
}

export function credentialsPath(): string {
  const base = process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'vireo', 'master.json');
}

export async function saveCredentials(credentials: MasterCredentials, path = credentialsPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function loadCredentials(path = credentialsPath()): Promise<MasterCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new MasterCallError(0, 'not-logged-in', `not logged in to a master (no ${path}); run vireo login https://MASTER:PORT --name NAME`);
  }
  return JSON.parse(text) as MasterCredentials;
}

export interface Reply<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** One HTTPS request to the master, trusting only `certificate` when given. Problems become MasterCallError. */
export function callMaster<T = any>(
  target: { url: string; certificate?: string | undefined },
  method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const all: Record<string, string> = { accept: 'application/json', ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  const pinned = target.certificate === undefined ? {} : {
    ca: target.certificate,
    // The certificate is the one pinned at login, whatever name the master was reached by.
    checkServerIdentity: () => undefined,
  };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, target.url), { method, headers: all, ...pinned, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: any = undefined;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = text;
        }
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          reject(new MasterCallError(status, parsed?.kind ?? 'http', parsed?.detail ?? `${method} ${path}: HTTP ${status}`, parsed));
          return;
        }
        resolve({ status, headers: res.headers, body: parsed as T });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from ${target.url} in 120 s`)));
    req.on('error', (e) => reject(new MasterCallError(0, 'unreachable', `cannot reach the master at ${target.url}: ${e.message}`)));
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** A request with the saved token. */
export async function withToken<T = any>(credentials: MasterCredentials, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
  return callMaster<T>(credentials, method, path, body, { ...headers, authorization: `Bearer ${credentials.token}` });
}
