// The store suite's audit log tests: the chain holds under concurrent appends and shows an
// altered, removed or cut-off entry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { appendAudit, auditHash, GENESIS_HASH, listAudit, verifyAuditLog, type NewAuditEntry } from '../../src/control/store/audit-log.js';
import type { WithStore } from './store-suite.js';

function entry(i: number, actor = 'alice', action = 'vm.create'): NewAuditEntry {
  return { actor_id: null, actor_name: actor, action, target: `vm/${i}`, outcome: 'success', source_ip: '192.0.2.1', detail: { i, note: 'ünïcode' } };
}

export function registerAuditTests(name: (title: string) => string, withStore: WithStore): void {
  test(name('20 concurrent appends, each in its own transaction, make one unbroken chain'), withStore(async (store) => {
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => store.transaction((tx) => appendAudit(tx, entry(i)))));
    assert.deepEqual(appended.map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    const rows = await store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    assert.equal(rows[0]!.prev_hash, GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    assert.equal(typeof rows[0]!.seq, 'number');
    const verified = await verifyAuditLog(store.db);
    assert.deepEqual(verified, { ok: true, entries: 20, lastHash: rows[19]!.hash });
  }));

  test(name('an append outside a transaction gets its own; a rolled back append leaves no gap'), withStore(async (store) => {
    const first = await appendAudit(store.db, entry(1));
    assert.equal(first.hash, auditHash(first));
    await assert.rejects(store.transaction(async (tx) => {
      await appendAudit(tx, entry(2));
      throw new Error('command failed');
    }), /command failed/);
    const next = await appendAudit(store.db, entry(3));
    assert.equal(next.seq, 2);
    assert.equal(next.prev_hash, first.hash);
    assert.deepEqual(await verifyAuditLog(store.db), { ok: true, entries: 2, lastHash: next.hash });
  }));

  test(name('verifyAuditLog finds an altered detail, a deleted entry and a cut-off end'), withStore(async (store) => {
    assert.deepEqual(await verifyAuditLog(store.db), { ok: true, entries: 0, lastHash: GENESIS_HASH });
    for (let i = 1; i <= 6; i++) await appendAudit(store.db, entry(i));
    assert.equal((await verifyAuditLog(store.db)).ok, true);

    const original = await store.db.selectFrom('audit_log').select('detail').where('seq', '=', 3).executeTakeFirstOrThrow();
    await sql`update audit_log set detail = ${'{"i":3,"note":"nothing to see"}'} where seq = 3`.execute(store.db);
    const altered = await verifyAuditLog(store.db);
    assert.equal(altered.ok, false);
    assert.equal(!altered.ok && altered.seq, 3);
    assert.match(!altered.ok ? altered.reason : '', /altered/);
    await sql`update audit_log set detail = ${original.detail} where seq = 3`.execute(store.db);
    assert.equal((await verifyAuditLog(store.db)).ok, true, 'restored, the chain fits again');

    await sql`delete from audit_log where seq = 4`.execute(store.db);
    const gap = await verifyAuditLog(store.db);
    assert.deepEqual(gap.ok ? null : gap.seq, 5);
    assert.match(!gap.ok ? gap.reason : '', /missing/);
  }));

  test(name('verifyAuditLog finds two entries swapped'), withStore(async (store) => {
    for (let i = 1; i <= 4; i++) await appendAudit(store.db, entry(i));
    for (const [from, to] of [[2, 100], [3, 2], [100, 3]]) await sql`update audit_log set seq = ${to} where seq = ${from}`.execute(store.db);
    const swapped = await verifyAuditLog(store.db);
    assert.deepEqual(swapped.ok ? null : swapped.seq, 2);
    assert.match(!swapped.ok ? swapped.reason : '', /prev_hash/);
  }));

  test(name('verifyAuditLog finds entries removed from the end and a renumbered entry'), withStore(async (store) => {
    for (let i = 1; i <= 4; i++) await appendAudit(store.db, entry(i));
    await sql`delete from audit_log where seq = 4`.execute(store.db);
    const cut = await verifyAuditLog(store.db);
    assert.deepEqual(cut.ok ? null : cut.seq, 4);
    await sql`delete from audit_log where seq >= 2`.execute(store.db);
    await sql`update audit_log set seq = 2 where seq = 1`.execute(store.db);
    const moved = await verifyAuditLog(store.db);
    assert.deepEqual(moved.ok ? null : moved.seq, 2);
  }));

  test(name('listAudit pages newest first and filters by actor and action'), withStore(async (store) => {
    for (let i = 1; i <= 9; i++) await appendAudit(store.db, entry(i, i % 3 ? 'alice' : 'bob', i % 2 ? 'vm.create' : 'login'));
    const first = await listAudit(store.db, { limit: 4 });
    assert.deepEqual(first.items.map((e) => e.seq), [9, 8, 7, 6]);
    const second = await listAudit(store.db, { limit: 4, cursor: first.nextCursor });
    const third = await listAudit(store.db, { limit: 4, cursor: second.nextCursor });
    assert.deepEqual([...second.items, ...third.items].map((e) => e.seq), [5, 4, 3, 2, 1]);
    assert.equal(third.nextCursor, null);
    assert.deepEqual((await listAudit(store.db, { actor: 'bob' })).items.map((e) => e.seq), [9, 6, 3]);
    assert.deepEqual((await listAudit(store.db, { actor: 'alice', action: 'login' })).items.map((e) => e.seq), [8, 4, 2]);
    assert.deepEqual(JSON.parse(first.items[0]!.detail), { i: 9, note: 'ünïcode' });
  }));
}
