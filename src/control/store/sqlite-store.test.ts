// The store suite on SQLite, a new database file for each test; and what only SQLite needs:
// a write transaction waits for another connection's write lock instead of failing.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { registerStoreSuite } from '../../../tests/support/store-suite.js';
import { openStore } from './open-store.js';
import { repositories } from './repositories.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-sqlite-store-'));
let count = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

registerStoreSuite({
  dialect: 'sqlite',
  emptyTarget: async () => ({ kind: 'sqlite', path: join(dir, `master-${++count}.db`) }),
});

// Another process writing the file, as a worker thread with its own connection.
const HOLD_LOCK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.exec('begin immediate');
db.prepare("insert into tenants (id, name, description, created_at, updated_at, version) values ('w', 'from-worker', '', 'x', 'x', 1)").run();
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
db.exec('commit');
db.close();
`;

test('sqlite: a transaction waits for another connection\'s write lock, then starts after its commit', async () => {
  const path = join(dir, 'shared.db');
  const store = await openStore({ kind: 'sqlite', path });
  try {
    const worker = new Worker(HOLD_LOCK, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path } });
    const exited = once(worker, 'exit');
    await once(worker, 'message');
    const started = Date.now();
    const seen = await store.transaction(async (tx) => {
      const before = await tx.selectFrom('tenants').select('name').execute();
      await repositories(tx).tenants.create({ name: 'from-main' });
      return before.map((t) => t.name);
    });
    assert.ok(Date.now() - started >= 200, 'it waited for the lock');
    assert.deepEqual(seen, ['from-worker'], 'its reads come after the other commit');
    assert.deepEqual((await repositories(store.db).tenants.list()).items.map((t) => t.name), ['from-main', 'from-worker']);
    await exited;
  } finally {
    await store.close();
  }
});

test('sqlite: a database that cannot be opened is unavailable, saying which', async () => {
  await assert.rejects(openStore({ kind: 'sqlite', path: join(dir, 'no-such-dir', 'master.db') }), (error: unknown) => {
    const e = error as { kind?: string; message?: string };
    assert.equal(e.kind, 'unavailable');
    assert.match(e.message ?? '', /no-such-dir/);
    return true;
  });
});
