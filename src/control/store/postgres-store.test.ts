// The store suite on PostgreSQL: a private server started for this file (or the one
// $VIREO_TEST_POSTGRES_URL names). Without PostgreSQL installed every test fails, saying so.

import { after } from 'node:test';
import { startPostgres, type PostgresServer } from '../../../tests/support/postgres-server.js';
import { registerStoreSuite } from '../../../tests/support/store-suite.js';

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
