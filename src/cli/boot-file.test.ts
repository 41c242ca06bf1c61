import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootFileError, readBootFile } from './boot-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-boot-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refused = (pattern: RegExp) => (e: unknown) => e instanceof BootFileError && pattern.test(e.message);

test('reads a regular file whole', () => {
  const path = join(dir, 'kernel.bin');
  writeFileSync(path, Uint8Array.of(1, 2, 3, 4));
  assert.deepEqual([...readBootFile('kernel', path)], [1, 2, 3, 4]);
});

test('refuses a FIFO at once instead of blocking in open', () => {
  const fifo = join(dir, 'kernel.fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => readBootFile('kernel', fifo), refused(/pipe \(FIFO\), not a regular file/));
});

test('refuses devices and directories instead of reading them forever', () => {
  assert.throws(() => readBootFile('kernel', '/dev/zero'), refused(/is a device, not a regular file/));
  assert.throws(() => readBootFile('initrd', dir), refused(/is a directory/));
});

test('refuses a file larger than the role allows, before reading it', () => {
  const path = join(dir, 'big.bin');
  writeFileSync(path, new Uint8Array(4096));
  assert.throws(() => readBootFile('firmware', path, 1024), refused(/4096 bytes, more than/));
});

test('names a missing file', () => {
  assert.throws(() => readBootFile('firmware', join(dir, 'nope')), refused(/cannot read firmware file .*nope: no such file/));
});
