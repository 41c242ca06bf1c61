import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireCacheLock } from './cache-lock.js';
import { ImageError } from './image-error.js';

function withDir(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-lock-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('a second taker waits until the first releases', withDir(async (dir) => {
  const events: string[] = [];
  const release = await acquireCacheLock(dir);
  const second = acquireCacheLock(dir, { pollMs: 10, onWait: () => events.push('waiting') }).then((r) => {
    events.push('second has it');
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  events.push('first releases');
  release();
  (await second)();
  assert.deepEqual(events, ['waiting', 'first releases', 'second has it']);
  assert.equal(existsSync(join(dir, '.lock')), false);
}));

test('a lock left by a process that is gone is taken over', withDir(async (dir) => {
  mkdirSync(join(dir, '.lock'));
  writeFileSync(join(dir, '.lock', 'pid'), '2147483646\n'); // no such process
  const release = await acquireCacheLock(dir, { timeoutMs: 1000 });
  release();
}));

test('a lock held too long is an error that says how to clear it', withDir(async (dir) => {
  const release = await acquireCacheLock(dir);
  try {
    await assert.rejects(acquireCacheLock(dir, { timeoutMs: 30, pollMs: 10 }), (e: unknown) => e instanceof ImageError && e.kind === 'locked' && /remove .*\.lock/.test(e.message));
  } finally {
    release();
  }
}));
