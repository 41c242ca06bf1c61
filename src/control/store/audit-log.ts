// The append-only audit log. Each entry's hash covers the previous entry's hash and the entry's
// own fields, so altering, removing or reordering entries breaks the chain where it happened.

import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { StoreError } from './store-error.js';
import { translated } from './to-store-error.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './page.js';
import { now } from './table-repository.js';
import type { AuditLogTable, MasterDatabase } from './tables.js';

export type AuditEntry = Selectable<AuditLogTable>;
export interface NewAuditEntry {
  /** Defaults to now. */
  at?: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target: string;
  outcome: AuditEntry['outcome'];
  source_ip: string;
  detail?: Record<string, unknown>;
}
export type AuditVerification = { ok: true; entries: number; lastHash: string } | { ok: false; seq: number; reason: string };
export interface AuditQuery extends PageRequest {
  /** Only entries by this actor name. */
  actor?: string;
  action?: string;
}

/** The predecessor of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
const VERIFY_BATCH = 500;

/** sha256(prev_hash || canonical JSON of the fields), the fields in this fixed order. */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const canonical = JSON.stringify({
    seq: entry.seq, at: entry.at, actor_id: entry.actor_id, actor_name: entry.actor_name, action: entry.action,
    target: entry.target, outcome: entry.outcome, source_ip: entry.source_ip, detail: entry.detail,
  });
  return createHash('sha256').update(entry.prev_hash).update(canonical).digest('hex');
}

/**
 * Appends an entry in `db`'s transaction (or a transaction of its own). Taking the head row
 * first orders concurrent appends: the second waits until the first commits, then chains to
 * it. Append last in a command, so the head is held briefly and always after other rows.
 */
export async function appendAudit(db: Kysely<MasterDatabase>, entry: NewAuditEntry): Promise<AuditEntry> {
  if (!db.isTransaction) return db.transaction().execute((tx) => appendAudit(tx, entry));
  return translated('insert', { entity: 'audit entry' }, async () => {
    const head = await db.updateTable('audit_head').set((eb) => ({ seq: eb('seq', '+', 1) }))
      .where('id', '=', 1).returning(['seq', 'hash']).executeTakeFirstOrThrow();
    const fields = {
      seq: head.seq, at: entry.at ?? now(), actor_id: entry.actor_id, actor_name: entry.actor_name, action: entry.action,
      target: entry.target, outcome: entry.outcome, source_ip: entry.source_ip, detail: JSON.stringify(entry.detail ?? {}),
      prev_hash: head.hash,
    };
    const row = { ...fields, hash: auditHash(fields) };
    await db.insertInto('audit_log').values(row).execute();
    await db.updateTable('audit_head').set({ hash: row.hash }).where('id', '=', 1).execute();
    return row;
  });
}

/** Recomputes the chain from the first entry and reports the first one that does not fit. */
export async function verifyAuditLog(db: Kysely<MasterDatabase>): Promise<AuditVerification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const rows = await translated('query', { entity: 'audit entry' }, () =>
      db.selectFrom('audit_log').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(VERIFY_BATCH).execute());
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, seq: row.seq, reason: `entries ${expectedSeq} to ${row.seq - 1} are missing` };
      if (row.prev_hash !== prevHash) return { ok: false, seq: row.seq, reason: 'its prev_hash is not the hash of the entry before it' };
      if (auditHash(row) !== row.hash) return { ok: false, seq: row.seq, reason: 'its fields do not match its hash: the entry was altered' };
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < VERIFY_BATCH) break;
  }
  const head = await translated('query', { entity: 'audit head' }, () =>
    db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst());
  if (!head || head.seq !== expectedSeq - 1 || head.hash !== prevHash) {
    return { ok: false, seq: expectedSeq, reason: `the log ends at ${expectedSeq - 1} but its head records ${head?.seq ?? 'nothing'}: entries were removed from the end or the head was altered` };
  }
  return { ok: true, entries: expectedSeq - 1, lastHash: prevHash };
}

/** Newest first; filters by actor name and action. */
export async function listAudit(db: Kysely<MasterDatabase>, query: AuditQuery = {}): Promise<Page<AuditEntry>> {
  const limit = pageLimit(query.limit);
  let select = db.selectFrom('audit_log').selectAll();
  if (query.actor !== undefined) select = select.where('actor_name', '=', query.actor);
  if (query.action !== undefined) select = select.where('action', '=', query.action);
  if (query.cursor) {
    const [seq] = decodeCursor(query.cursor);
    if (typeof seq !== 'number') throw new StoreError('invalid', 'the audit cursor is not one this server gave out', { cursor: query.cursor });
    select = select.where('seq', '<', seq);
  }
  const rows = await translated('query', { entity: 'audit entry' }, () => select.orderBy('seq', 'desc').limit(limit + 1).execute());
  return toPage(rows, limit, (row) => [row.seq, String(row.seq)]);
}
