// Test support: a master in a temporary directory with its first administrator, and an HTTPS
// client that trusts the master's own certificate and keeps a session's cookies and CSRF token.

import { request, type Agent } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBase32 } from '../../src/control/security/base32.js';
import { totpCode } from '../../src/control/security/totp.js';
import type { HeartbeatOptions } from '../../src/control/hosts/heartbeat-monitor.js';
import { initMaster, Master } from '../../src/control/master.js';
import { startPostgres } from './postgres-server.js';

/** Argon2id cheap enough for tests; production uses the defaults. */
export const TEST_PASSWORD_HASH = { memoryKiB: 1024, timeCost: 1, parallelism: 1 };
export const ADMIN = 'root-admin';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export class MasterClient {
  cookies = new Map<string, string>();
  csrf: string | undefined;
  bearer: string | undefined;

  /** `agent`: an https.Agent to keep connections alive between calls (default: one connection per call). */
  constructor(readonly url: string, private readonly ca: string, private readonly agent?: Agent) {}

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    if (this.cookies.size > 0) all['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrf !== undefined && all['x-csrf-token'] === undefined) all['x-csrf-token'] = this.csrf;
    if (this.bearer !== undefined) all['authorization'] = `Bearer ${this.bearer}`;
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.url), { method, headers: all, ca: this.ca, ...(this.agent === undefined ? {} : { agent: this.agent }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          for (const line of [res.headers['set-cookie'] ?? []].flat()) {
            const [pair] = line.split(';');
            const at = pair!.indexOf('=');
            const name = pair!.slice(0, at);
            const value = pair!.slice(at + 1);
            if (value === '' || /max-age=0/iu.test(line)) this.cookies.delete(name);
            else this.cookies.set(name, value);
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** `totp`: the code, or a TOTP secret and the master's time to make one. */
  async logIn(name: string, password: string, totp?: string): Promise<Reply> {
    const reply = await this.call('POST', '/api/v1/session', { name, password, ...(totp === undefined ? {} : { totp }) });
    if (reply.status === 201) this.csrf = reply.body.csrfToken;
    return reply;
  }
}

/** Real time plus an offset tests move on, one TOTP step per login, since a code is accepted once. */
export class SteppingClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  /** A code of the next TOTP step for `secret` (base32), moving the clock there. */
  nextTotp(secret: string): string {
    this.offsetMs += 30_000;
    return totpCode(decodeBase32(secret), this.now());
  }
}

export interface TestMaster {
  master: Master;
  clock: SteppingClock;
  dir: string;
  totpSecret: string;
  recoveryCodes: string[];
  client(): MasterClient;
  /** A client logged in as the first administrator. */
  admin(): Promise<MasterClient>;
  close(): Promise<void>;
}

/**
 * A master on SQLite, or on PostgreSQL when $VIREO_TEST_MASTER_DATABASE is 'postgres' (as
 * tests/control/api-on-postgres.test.ts runs every API suite): then a database of its own on the
 * server $VIREO_TEST_POSTGRES_URL names, one per test process, so one master per test file.
 */
export async function startTestMaster(options: { heartbeat?: HeartbeatOptions; bootDirs?: string[] } = {}): Promise<TestMaster> {
  const dir = await mkdtemp(join(tmpdir(), 'vireo-master-'));
  const postgres = process.env['VIREO_TEST_MASTER_DATABASE'] === 'postgres' ? await startPostgres() : undefined;
  const database = postgres === undefined ? {} : { database: await postgres.emptyDatabase() };
  const init = await initMaster({ dataDir: dir, admin: ADMIN, password: ADMIN_PASSWORD, passwordHash: TEST_PASSWORD_HASH, ...database });
  const clock = new SteppingClock();
  const master = await Master.serve({ dataDir: dir, host: '127.0.0.1', port: 0, passwordHash: TEST_PASSWORD_HASH, clock, ...options });
  const client = () => new MasterClient(master.url, master.certificate.cert);
  return {
    master, clock, dir, totpSecret: init.totpSecret, recoveryCodes: init.recoveryCodes, client,
    async admin() {
      const c = client();
      const reply = await c.logIn(ADMIN, ADMIN_PASSWORD, clock.nextTotp(init.totpSecret));
      if (reply.status !== 201) throw new Error(`admin login failed: ${reply.status} ${reply.text}`);
      return c;
    },
    async close() {
      await master.close();
      await postgres?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
