// Test support: a master's store on a fresh SQLite file, with a data center, a tenant and a
// host already in it, for the unit tests of what writes the store.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type MasterEvent } from '../../src/control/api/event-bus.js';
import { hostTokenAssociatedData } from '../../src/control/hosts/host-fleet.js';
import { seal } from '../../src/control/security/secret-box.js';
import type { Host } from '../../src/control/store/hosts.js';
import { openStore, type Store } from '../../src/control/store/open-store.js';
import { repositories, type Repositories } from '../../src/control/store/repositories.js';

export interface TempStore {
  store: Store;
  repos: Repositories;
  key: Buffer;
  events: EventBus;
  /** Every event published, in order. */
  published: MasterEvent[];
  dataCenterId: string;
  tenantId: string;
  host: Host;
}

export async function withTempStore(run: (t: TempStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vireo-temp-store-'));
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'master.db') });
  try {
    const repos = repositories(store.db);
    const dc = await repos.dataCenters.create({ name: 'dc' });
    const tenant = await repos.tenants.create({ name: 'tenant' });
    const key = randomBytes(32);
    const created = await repos.hosts.create({ data_center_id: dc.id, name: 'host-a', url: 'tcp:127.0.0.1:1', token_sealed: 'v1.', cpus: 2, memory_mib: 1000, storage_bytes: 1 << 30, state: 'up' });
    const host = await repos.hosts.update(created.id, created.version, { token_sealed: seal(key, 'host-a-token', hostTokenAssociatedData(created.id)) });
    const events = new EventBus();
    const published: MasterEvent[] = [];
    events.subscribe((event) => published.push(event));
    await run({ store, repos, key, events, published, dataCenterId: dc.id, tenantId: tenant.id, host });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
