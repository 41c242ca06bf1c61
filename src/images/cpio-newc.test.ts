import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readCpioNewc, writeCpioNewc } from './cpio-newc.js';
import type { CpioEntry } from './cpio-newc.js';
import { ImageError } from './image-error.js';

const entries: CpioEntry[] = [
  { path: 'bin', type: 'dir' },
  { path: 'dev', type: 'dir', mode: 0o755 },
  { path: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600 },
  { path: 'dev/vda', type: 'block', major: 254, minor: 0, mode: 0o660 },
  { path: 'bin/busybox', type: 'file', mode: 0o755, data: Buffer.from('\x7fELF fake busybox') },
  { path: 'bin/sh', type: 'symlink', target: 'busybox' },
  // Sizes 0..5 exercise every padding case of name and data.
  ...[0, 1, 2, 3, 4, 5].map((n): CpioEntry => ({ path: `f${'x'.repeat(n)}`, type: 'file', data: Buffer.alloc(n, 0x41 + n), mtime: 1700000000 + n, uid: n, gid: 2 * n })),
  { path: '/init', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/busybox sh\n') },
];

test('a newc archive reads back as the entries written, in order', () => {
  const archive = writeCpioNewc(entries);
  assert.equal(archive.length % 4, 0);
  const back = readCpioNewc(archive);
  assert.equal(back.length, entries.length);
  for (const [i, entry] of entries.entries()) {
    const got = back[i]!;
    assert.equal(got.path, entry.path.replace(/^\//, ''));
    assert.equal(got.type, entry.type);
    assert.equal(got.mtime, entry.mtime ?? 0);
    assert.equal(got.uid, entry.uid ?? 0);
    if (entry.mode !== undefined) assert.equal(got.mode, entry.mode);
    if (entry.type === 'file' && got.type === 'file') assert.deepEqual(Buffer.from(got.data), Buffer.from(entry.data));
    if (entry.type === 'symlink' && got.type === 'symlink') assert.equal(got.target, entry.target);
    if ((entry.type === 'char' || entry.type === 'block') && got.type === entry.type) {
      assert.deepEqual([got.major, got.minor], [entry.major, entry.minor]);
    }
  }
});

test('the archive starts with the newc magic and ends with the trailer', () => {
  const archive = writeCpioNewc([{ path: 'a', type: 'file', data: Buffer.from('hi') }]);
  assert.equal(archive.toString('latin1', 0, 6), '070701');
  assert.match(archive.toString('latin1'), /TRAILER!!!\0+$/);
  // ino 1, mode 0100644, nlink 1, filesize 2, namesize 2 ("a" and its NUL)
  assert.equal(archive.toString('latin1', 6, 22), '00000001000081a4');
  assert.equal(archive.toString('latin1', 6 + 6 * 8, 6 + 7 * 8), '00000002');
  assert.equal(archive.toString('latin1', 6 + 11 * 8, 6 + 12 * 8), '00000002');
});

test('the same entries give the same bytes', () => {
  assert.deepEqual(writeCpioNewc(entries), writeCpioNewc(entries));
});

test('names that leave the archive are refused', () => {
  for (const path of ['', '/', '../etc/passwd', 'a/../../b', 'a//b']) {
    assert.throws(() => writeCpioNewc([{ path, type: 'dir' }]), (e: unknown) => e instanceof ImageError && e.kind === 'bad-archive', path);
  }
});

test('a truncated archive is reported, not misread', () => {
  const archive = writeCpioNewc(entries);
  assert.throws(() => readCpioNewc(archive.subarray(0, 200)), (e: unknown) => e instanceof ImageError && e.kind === 'bad-archive');
});

const hostCpio = spawnSync('cpio', ['--version'], { encoding: 'utf8' });
test('the host cpio lists the archive the same way', { skip: hostCpio.error ? 'cpio is not installed' : false }, () => {
  const listed = spawnSync('cpio', ['-t', '-v', '--quiet'], { input: writeCpioNewc(entries), encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const lines = listed.stdout.trim().split('\n');
  assert.deepEqual(lines.map((line) => line.replace(/ -> .*$/, '').split(/\s+/).at(-1)), entries.map((e) => e.path.replace(/^\//, '')));
  // Types and permissions as ls -l shows them.
  assert.match(lines[2]!, /^crw------- .* 5,\s+1 /);
  assert.match(lines[3]!, /^brw-rw---- .* 254,\s+0 /);
  assert.match(lines[4]!, /^-rwxr-xr-x /);
  assert.match(lines[5]!, /^lrwxrwxrwx .* bin\/sh -> busybox$/);
  const content = spawnSync('cpio', ['-i', '--to-stdout', '--quiet', 'bin/busybox'], { input: writeCpioNewc(entries) });
  assert.equal(content.stdout.toString('latin1'), '\x7fELF fake busybox');
});
