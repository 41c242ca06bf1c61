import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../../tests/support/temp-dir.js';
import { loadOrCreateMasterKey, open, seal } from './secret-box.js';
import { SecurityError } from './security-error.js';

const isKind = (kind: string, message?: RegExp) => (e: unknown) => e instanceof SecurityError && e.kind === kind && (!message || message.test(e.message));

test('a new master key is 32 random bytes in a file of mode 0600, and is loaded again later', () =>
  withTempDir('vireo-secret-box-', async (dir) => {
    const path = join(dir, 'master.key');
    const key = await loadOrCreateMasterKey(path);
    assert.equal(key.length, 32);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readFile(path), key);
    assert.deepEqual(await loadOrCreateMasterKey(path), key);
    assert.notDeepEqual(await loadOrCreateMasterKey(join(dir, 'other.key')), key);
  }));

test('masters starting at once agree on one key', () =>
  withTempDir('vireo-secret-box-', async (dir) => {
    const path = join(dir, 'master.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateMasterKey(path)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
  }));

test('a key file open to group or others, or of the wrong size, is refused with a clear error', () =>
  withTempDir('vireo-secret-box-', async (dir) => {
    const path = join(dir, 'master.key');
    await writeFile(path, randomBytes(32), { mode: 0o600 });
    await chmod(path, 0o640);
    await assert.rejects(loadOrCreateMasterKey(path), isKind('bad-key-file', /mode 0640.*chmod 600/));
    await chmod(path, 0o604);
    await assert.rejects(loadOrCreateMasterKey(path), isKind('bad-key-file', /group and others/));
    await chmod(path, 0o600);
    await writeFile(path, randomBytes(31));
    await assert.rejects(loadOrCreateMasterKey(path), isKind('bad-key-file', /holds 31 bytes, not 32/));
    await assert.rejects(loadOrCreateMasterKey(dir), isKind('bad-key-file', /not a regular file/));
    await assert.rejects(loadOrCreateMasterKey(join(dir, 'missing', 'master.key')), (e: unknown) => e instanceof SecurityError && e.kind === 'bad-key-file' && e.path === join(dir, 'missing', 'master.key'));
  }));

test('sealed values open with the same key and associated data, and differ each time', () => {
  const key = randomBytes(32);
  const a = seal(key, 'JBSWY3DPEHPK3PXP', 'users.totp_secret:u1');
  const b = seal(key, 'JBSWY3DPEHPK3PXP', 'users.totp_secret:u1');
  assert.match(a, /^v1\.[A-Za-z0-9_-]+$/);
  assert.notEqual(a, b);
  assert.ok(!a.includes('JBSWY3DPEHPK3PXP'));
  assert.equal(open(key, a, 'users.totp_secret:u1').toString(), 'JBSWY3DPEHPK3PXP');
  const bytes = randomBytes(20);
  assert.deepEqual(open(key, seal(key, bytes, ''), ''), bytes);
  assert.deepEqual(open(key, seal(key, '', 'x'), 'x'), Buffer.alloc(0));
});

test('tampering, another key or other associated data throw "tampered"', () => {
  const key = randomBytes(32);
  const sealed = seal(key, 'agent token', 'hosts.token:h1');
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const altered = Buffer.from(raw);
    altered[i]! ^= 0x01;
    assert.throws(() => open(key, `v1.${altered.toString('base64url')}`, 'hosts.token:h1'), isKind('tampered'), `byte ${i}`);
  }
  assert.throws(() => open(randomBytes(32), sealed, 'hosts.token:h1'), isKind('tampered'));
  assert.throws(() => open(key, sealed, 'hosts.token:h2'), isKind('tampered', /hosts\.token:h2/));
});

test('values not in the sealed format are refused as such', () => {
  const key = randomBytes(32);
  const sealed = seal(key, 'x', 'a');
  assert.throws(() => open(key, sealed.replace('v1.', 'v2.'), 'a'), isKind('bad-sealed', /"v2" is not v1/));
  assert.throws(() => open(key, 'plain text', 'a'), isKind('bad-sealed'));
  assert.throws(() => open(key, 'v1.AAAA', 'a'), isKind('bad-sealed', /shorter/));
  assert.throws(() => open(key, `${sealed}!`, 'a'), isKind('bad-sealed', /base64url/));
  assert.throws(() => seal(randomBytes(16), 'x', 'a'), isKind('bad-argument'));
});
