// The store suite on SQLite, a new database file for each test.

import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerStoreSuite } from '../../../tests/support/store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-sqlite-store-'));
let count = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

registerStoreSuite({
  dialect: 'sqlite',
  emptyTarget: async () => ({ kind: 'sqlite', path: join(dir, `master-${++count}.db`) }),
});
