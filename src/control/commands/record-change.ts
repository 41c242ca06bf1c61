// Every change the master makes runs in one transaction with its audit entry, so a change is
// never without its record nor a record without its change; the event goes out after commit.

import type { Kysely } from 'kysely';
import type { Caller } from '../api/caller.js';
import type { MasterServices } from '../master-services.js';
import type { Target } from '../security/permissions.js';
import { appendAudit } from '../store/audit-log.js';
import { repositories, type Repositories } from '../store/repositories.js';
import type { MasterDatabase } from '../store/tables.js';

export interface Change<T> {
  /** The audit action and event type: 'data-center.create', 'vm.start', ... */
  action: string;
  /** What it is about: 'data-center', 'vm', ... */
  resource: string;
  /** Runs inside the transaction; returns the result, its id and where it lives. */
  apply: (repos: Repositories, tx: Kysely<MasterDatabase>) => Promise<{ result: T; id: string; scope: Target; detail?: Record<string, unknown> }>;
}

export async function recordChange<T>(master: MasterServices, caller: Caller, change: Change<T>): Promise<T> {
  const done = await master.store.transaction(async (tx) => {
    const applied = await change.apply(repositories(tx), tx);
    // The audit entry goes last: on PostgreSQL it takes the log's head lock, held to commit.
    await appendAudit(tx, {
      actor_id: caller.userId, actor_name: caller.userName, action: change.action, target: `${change.resource}:${applied.id}`,
      outcome: 'success', source_ip: caller.sourceIp, detail: { ...applied.scope, ...applied.detail },
    });
    return applied;
  });
  master.events.publish({ type: change.action, resource: change.resource, id: done.id, scope: done.scope, data: done.detail ?? {} });
  return done.result;
}
