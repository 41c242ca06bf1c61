// The same API suites on PostgreSQL: every tests/control/*-api.test file runs again against a
// private PostgreSQL server, each test process on a database of its own.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startPostgres } from '../support/postgres-server.js';

const here = dirname(fileURLToPath(import.meta.url));

test('every API suite passes on PostgreSQL too', async () => {
  const suites = readdirSync(here).filter((f) => f.endsWith('-api.test.js')).map((f) => join(here, f));
  assert.ok(suites.length >= 1, 'no API suites found');
  const server = await startPostgres();
  try {
    const url = new URL(await server.emptyDatabase());
    url.pathname = '/postgres';
    // Without NODE_TEST_CONTEXT the child reports as a test run of its own, in TAP on stdout.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...suites], {
      encoding: 'utf8', timeout: 600_000,
      env: { ...env, VIREO_TEST_MASTER_DATABASE: 'postgres', VIREO_TEST_POSTGRES_URL: url.toString() },
    });
    const summary = /# pass (\d+)[\s\S]*# fail (\d+)/u.exec(result.stdout);
    assert.equal(result.status, 0, `the API suites failed on PostgreSQL:\n${result.stdout.slice(-8000)}\n${result.stderr.slice(-2000)}`);
    assert.ok(summary !== null && Number(summary[1]) > 0, `no tests ran:\n${result.stdout}`);
  } finally {
    await server.stop();
  }
});
