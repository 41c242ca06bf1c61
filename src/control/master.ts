// The master: its data directory (the key for secrets at rest, the TLS certificate, the
// SQLite database or the address of a PostgreSQL one), its first administrator, and serving
// the API and the web console over HTTPS.

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { serveConsoles } from './api/console-proxy.js';
import { EventBus } from './api/event-bus.js';
import { vmSpecOf } from './hosts/master-vm-spec.js';
import type { Server } from 'node:http';
import { createMasterApp } from './api/master-app.js';
import { totpAssociatedData } from './commands/log-in.js';
import { OperationRunner } from './commands/operation-runner.js';
import type { HeartbeatOptions } from './hosts/heartbeat-monitor.js';
import { HostFleet } from './hosts/host-fleet.js';
import { PlacementLock } from './hosts/placement-lock.js';
import { DEFAULT_SESSION_POLICY, type MasterServices } from './master-services.js';
import { encodeBase32 } from './security/base32.js';
import { AddressThrottle } from './security/login-throttle.js';
import { checkPasswordPolicy, hashPassword, type PasswordHashParams } from './security/password-hash.js';
import { generateRecoveryCodes } from './security/recovery-codes.js';
import { loadOrCreateMasterKey, seal } from './security/secret-box.js';
import { loadOrCreateTlsCertificate } from './security/tls-certificate.js';
import { generateTotpSecret, otpauthUri } from './security/totp.js';
import { appendAudit } from './store/audit-log.js';
import { openStore, type StoreTarget } from './store/open-store.js';
import { repositories } from './store/repositories.js';

export class MasterError extends Error {
  readonly kind: 'not-initialized' | 'already-initialized' | 'bad-password' | 'bad-config';
  constructor(kind: MasterError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

const CONFIG_FILE = 'master.json';
const KEY_FILE = 'master.key';

interface MasterConfig {
  /** 'sqlite' (DIR/master.db) or a postgres:// URL. */
  database: string;
}

export interface InitOptions {
  dataDir: string;
  admin: string;
  password: string;
  database?: string;
  passwordHash?: PasswordHashParams;
}

export interface InitResult {
  totpSecret: string;
  otpauthUri: string;
  recoveryCodes: string[];
}

/** Creates the master's state and its first administrator, whose second factor is returned once. */
export async function initMaster(options: InitOptions): Promise<InitResult> {
  const problem = checkPasswordPolicy(options.password);
  if (problem !== null) throw new MasterError('bad-password', `the administrator's password: ${problem}`);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const config: MasterConfig = { database: options.database ?? 'sqlite' };
  const existing = await readConfig(options.dataDir).catch(() => undefined);
  if (existing !== undefined) throw new MasterError('already-initialized', `${options.dataDir} already holds a master (${CONFIG_FILE}); serve it with vireo master serve --data ${options.dataDir}`);
  const key = await loadOrCreateMasterKey(join(options.dataDir, KEY_FILE));
  const store = await openStore(storeTarget(options.dataDir, config));
  // Password hashes and sealed secrets: the database is for the master's user alone (SQLite's
  // journal files take the database file's mode).
  if (config.database === 'sqlite') await chmod(join(options.dataDir, 'master.db'), 0o600);
  try {
    const secret = generateTotpSecret();
    const recovery = generateRecoveryCodes();
    const passwordHash = await hashPassword(options.password, options.passwordHash);
    await store.transaction(async (tx) => {
      const repos = repositories(tx);
      if ((await repos.users.list({}, { limit: 1 })).items.length > 0) throw new MasterError('already-initialized', 'the database already has users');
      const user = await repos.users.create({ name: options.admin, password_hash: passwordHash });
      const fresh = await repos.users.get(user.id);
      await repos.users.update(user.id, fresh.version, { totp_secret_sealed: seal(key, secret, totpAssociatedData(user.id)) });
      await repos.roleBindings.grant({ user_id: user.id, role: 'administrator', scope_kind: 'global' });
      await repos.recoveryCodes.replaceAll(user.id, recovery.hashes);
      await appendAudit(tx, { actor_id: null, actor_name: 'vireo master init', action: 'user.create', target: `user:${user.id}`, outcome: 'success', source_ip: 'local', detail: { name: user.name, role: 'administrator' } });
    });
    await writeFile(join(options.dataDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    const base32 = encodeBase32(secret);
    return { totpSecret: base32, otpauthUri: otpauthUri(secret, options.admin, 'Vireo'), recoveryCodes: recovery.codes };
  } finally {
    await store.close();
  }
}

export interface ServeOptions {
  dataDir: string;
  host: string;
  port: number;
  passwordHash?: PasswordHashParams;
  /** The master's clock (tests move it on, to log in again without waiting for the next TOTP step). */
  clock?: { now(): number };
  /** How often hosts are polled and when one is down (tests make them fast). */
  heartbeat?: HeartbeatOptions;
  /** Directories on the hosts that tenants may boot VMs from (images the operators put there). */
  bootDirs?: string[];
}

export class Master {
  private constructor(
    readonly services: MasterServices,
    private readonly server: ServerType,
    private readonly closeConsoles: () => void,
    readonly url: string,
    readonly certificate: { cert: string; fingerprintSha256: string },
  ) {}

  static async serve(options: ServeOptions): Promise<Master> {
    const config = await readConfig(options.dataDir);
    const key = await loadOrCreateMasterKey(join(options.dataDir, KEY_FILE));
    const tls = await loadOrCreateTlsCertificate(options.dataDir, [options.host]);
    const store = await openStore(storeTarget(options.dataDir, config));
    const clock = options.clock ?? { now: () => Date.now() };
    const events = new EventBus();
    const operations = new OperationRunner({ store, events });
    const fleet = new HostFleet({ store, key, events }, { isBusy: (vmId) => operations.isBusy(vmId), ...(options.heartbeat === undefined ? {} : { heartbeat: options.heartbeat }) });
    const services: MasterServices = {
      store, key, clock, events, loginThrottle: new AddressThrottle(clock), sessions: DEFAULT_SESSION_POLICY, fleet, operations, placements: new PlacementLock(), bootDirs: options.bootDirs ?? [],
      ...(options.passwordHash === undefined ? {} : { passwordHash: options.passwordHash }),
    };
    const app = createMasterApp(services);
    const server = await new Promise<ServerType>((resolve, reject) => {
      const started = serve({ fetch: app.fetch, hostname: options.host, port: options.port, createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } }, () => resolve(started));
      started.once('error', reject);
    });
    try {
      await fleet.start();
    } catch (e) {
      fleet.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      throw e;
    }
    const closeConsoles = serveConsoles(server as Server, services, async (vm) => {
      const host = await repositories(store.db).hosts.get(vm.host_id!);
      return fleet.client(host).console(vmSpecOf(vm).agentName);
    });
    const port = (server.address() as AddressInfo).port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    return new Master(services, server, closeConsoles, `https://${host}:${port}`, { cert: tls.cert, fingerprintSha256: tls.fingerprintSha256 });
  }

  async close(): Promise<void> {
    this.services.fleet.stop();
    this.closeConsoles();
    // Event streams stay open until their clients go; the master ends them.
    (this.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.services.operations.close();
    await this.services.store.close();
  }
}

async function readConfig(dataDir: string): Promise<MasterConfig> {
  let text: string;
  try {
    text = await readFile(join(dataDir, CONFIG_FILE), 'utf8');
  } catch (error) {
    throw new MasterError('not-initialized', `${dataDir} holds no master; create one with vireo master init --data ${dataDir} --admin NAME --password-file FILE`, { cause: error });
  }
  const config = JSON.parse(text) as Partial<MasterConfig>;
  if (typeof config.database !== 'string') throw new MasterError('bad-config', `${join(dataDir, CONFIG_FILE)}: "database" must be "sqlite" or a postgres:// URL`);
  return { database: config.database };
}

function storeTarget(dataDir: string, config: MasterConfig): StoreTarget {
  if (config.database === 'sqlite') return { kind: 'sqlite', path: join(dataDir, 'master.db') };
  if (/^postgres(ql)?:\/\//u.test(config.database)) return { kind: 'postgres', url: config.database };
  throw new MasterError('bad-config', `the database must be "sqlite" or a postgres:// URL, not ${config.database}`);
}

