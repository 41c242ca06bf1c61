// Host agents registered with the master, with their capacity and last heartbeat.

import type { Kysely, Selectable } from 'kysely';
import { now, VersionedRepository } from './table-repository.js';
import { translated } from './to-store-error.js';
import type { Page, PageRequest } from './page.js';
import type { HostState, HostTable, MasterDatabase } from './tables.js';

export type Host = Selectable<HostTable>;
export interface NewHost {
  data_center_id: string;
  name: string;
  url: string;
  token_sealed: string;
  cpus: number;
  memory_mib: number;
  storage_bytes: number;
  /** 'down' until the first heartbeat, unless given. */
  state?: HostState;
  state_reason?: string;
}
export type HostChanges = Partial<Pick<HostTable, 'name' | 'url' | 'token_sealed' | 'state' | 'state_reason' | 'cpus' |
  'memory_mib' | 'storage_bytes' | 'last_report' | 'last_heartbeat_at'>>;
/** What a heartbeat observes: recorded without a new version, so an ETag a client holds stays good. */
export type HostObservation = Partial<Pick<HostTable, 'cpus' | 'memory_mib' | 'storage_bytes' | 'last_report' | 'last_heartbeat_at'>>;
export interface HostFilter {
  data_center_id?: string;
  state?: HostState;
}

/** delete() is refused ('conflict') while physical LUNs are on the host; its VMs stay, unplaced (host_id null). */
export class HostRepository extends VersionedRepository<'hosts', HostChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'hosts', entity: 'host', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewHost): Promise<Host> {
    return this.insert({
      ...input, state: input.state ?? 'down', state_reason: input.state_reason ?? 'no heartbeat yet',
      last_report: '{}', last_heartbeat_at: null,
    });
  }

  getByName(name: string): Promise<Host> {
    return this.getWhere({ name });
  }

  list(filter: HostFilter = {}, page?: PageRequest): Promise<Page<Host>> {
    return this.listWhere({ data_center_id: filter.data_center_id, state: filter.state }, page);
  }

  observe(id: string, observation: HostObservation): Promise<Host> {
    return this.set(id, observation);
  }

  /**
   * Records 'up' or 'down' as the heartbeat finds it, unless someone put the host in
   * maintenance meanwhile (that is theirs to end). Whether the row changed.
   */
  async observeState(id: string, state: 'up' | 'down', reason: string): Promise<boolean> {
    const result = await translated('update', { entity: 'host', id }, () => this.db.updateTable('hosts')
      .set({ state, state_reason: reason, updated_at: now() })
      .where('id', '=', id).where('state', '!=', 'maintenance').executeTakeFirst());
    return Number(result.numUpdatedRows) > 0;
  }
}
