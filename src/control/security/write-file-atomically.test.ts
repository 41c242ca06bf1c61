import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../../tests/support/temp-dir.js';
import { writeFileAtomically } from './write-file-atomically.js';

test('a new file gets its content and mode, and no temporary file is left', () =>
  withTempDir('vireo-atomic-', async (dir) => {
    const path = join(dir, 'secret');
    assert.equal(await writeFileAtomically(path, 'one', 0o600, false), true);
    assert.equal(await readFile(path, 'utf8'), 'one');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['secret']);
  }));

test('without replace an existing file is kept; with replace it is replaced', () =>
  withTempDir('vireo-atomic-', async (dir) => {
    const path = join(dir, 'secret');
    await writeFileAtomically(path, 'one', 0o600, false);
    assert.equal(await writeFileAtomically(path, 'two', 0o600, false), false);
    assert.equal(await readFile(path, 'utf8'), 'one');
    assert.equal(await writeFileAtomically(path, 'three', 0o644, true), true);
    assert.equal(await readFile(path, 'utf8'), 'three');
    assert.equal((await stat(path)).mode & 0o777, 0o644);
    assert.deepEqual(await readdir(dir), ['secret']);
  }));

test('a directory that does not exist is an error', () =>
  withTempDir('vireo-atomic-', async (dir) => {
    await assert.rejects(writeFileAtomically(join(dir, 'missing', 'secret'), 'x', 0o600, true), { code: 'ENOENT' });
  }));
