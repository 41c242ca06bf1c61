// The store suite on PostgreSQL: a private server started for this file (or the one
// $VIREO_TEST_POSTGRES_URL names). Without PostgreSQL installed every test fails, saying so.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PostgresServer } from '../../../tests/support/postgres-server.js';
import { registerStoreSuite } from '../../../tests/support/store-suite.js';
import { openStore } from './open-store.js';

let server: Promise<PostgresServer> | undefined;
after(async () => {
  if (server) await (await server.catch(() => undefined))?.stop();
});

registerStoreSuite({
  dialect: 'postgres',
  emptyTarget: async () => {
    server ??= startPostgres();
    return { kind: 'postgres', url: await (await server).emptyDatabase() };
  },
});

test('postgres: a server that does not answer is unavailable, and the password is not repeated', async () => {
  const url = `postgres://postgres:secret@localhost/none?host=${encodeURIComponent('/nonexistent/socket-dir')}`;
  await assert.rejects(openStore({ kind: 'postgres', url }), (error: unknown) => {
    const e = error as { kind?: string; message?: string };
    assert.equal(e.kind, 'unavailable');
    assert.doesNotMatch(e.message ?? '', /secret/);
    return true;
  });
});
