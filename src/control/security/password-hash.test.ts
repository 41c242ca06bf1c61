import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPasswordPolicy, DEFAULT_PASSWORD_HASH_PARAMS, hashPassword, needsRehash, verifyDummyPassword, verifyPassword } from './password-hash.js';

const params = (hash: string) => Object.fromEntries(hash.split('$')[3]!.split(',').map((kv) => kv.split('=')));
const cheap = { memoryKiB: 256, timeCost: 1, parallelism: 1 };

test('a hash verifies its own password and no other', async () => {
  const hash = await hashPassword('correct horse battery', cheap);
  assert.match(hash, /^\$argon2id\$v=19\$/);
  assert.deepEqual(params(hash), { m: '256', p: '1', t: '1' });
  assert.equal(await verifyPassword(hash, 'correct horse battery'), true);
  assert.equal(await verifyPassword(hash, 'correct horse batterY'), false);
  assert.equal(await verifyPassword(hash, ''), false);
});

test('two hashes of one password differ (random salt)', async () => {
  const [a, b] = await Promise.all([hashPassword('same password here', cheap), hashPassword('same password here', cheap)]);
  assert.notEqual(a, b);
});

test('composed and decomposed forms of a password are the same password', async () => {
  const hash = await hashPassword('caf\u00e9-au-lait-2026', cheap);
  assert.equal(await verifyPassword(hash, 'cafe\u0301-au-lait-2026'), true);
});

test('a stored hash that is not argon2 verifies nothing and does not throw', async () => {
  assert.equal(await verifyPassword('', 'anything at all'), false);
  assert.equal(await verifyPassword('$2b$10$abcdefghijklmnopqrstuv', 'anything at all'), false);
});

test('the defaults are OWASP strength and produce a hash that needs no rehash', async () => {
  assert.ok(DEFAULT_PASSWORD_HASH_PARAMS.memoryKiB >= 19 * 1024 && DEFAULT_PASSWORD_HASH_PARAMS.timeCost >= 2);
  const hash = await hashPassword('a default strength password');
  assert.match(hash, /^\$argon2id\$v=19\$/);
  assert.deepEqual(params(hash), { m: '19456', p: '1', t: '2' });
  assert.equal(needsRehash(hash), false);
  assert.equal(await verifyPassword(hash, 'a default strength password'), true);
});

test('weaker, other-type and malformed hashes need a rehash; stronger ones do not', async () => {
  assert.equal(needsRehash(await hashPassword('some password!', cheap)), true);
  assert.equal(needsRehash(await hashPassword('some password!', cheap), cheap), false);
  assert.equal(needsRehash('$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo'), false);
  assert.equal(needsRehash('$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo'), true);
  assert.equal(needsRehash('$argon2id$v=16$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo'), true);
  assert.equal(needsRehash('$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo'), true);
  assert.equal(needsRehash('not a hash'), true);
});

test('the password policy: 12 to 1024 characters, not one character repeated', () => {
  assert.match(checkPasswordPolicy('short pass1') ?? '', /at least 12/);
  assert.equal(checkPasswordPolicy('twelve chars'), null);
  assert.match(checkPasswordPolicy('x'.repeat(1025)) ?? '', /at most 1024/);
  assert.equal(checkPasswordPolicy('xy'.repeat(512)), null);
  assert.match(checkPasswordPolicy('aaaaaaaaaaaaaaaa') ?? '', /one character repeated/);
  // Characters, not UTF-16 units: 11 emoji are too few even though they are 22 units.
  assert.match(checkPasswordPolicy('\u{1F511}'.repeat(5) + '\u{1F512}'.repeat(6)) ?? '', /at least 12/);
});

test('the dummy verification answers false and costs about what a real one does', async () => {
  const hash = await hashPassword('a real password', cheap);
  assert.equal(await verifyDummyPassword('a real password', cheap), false);
  const time = async (f: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) await f();
    return Number(process.hrtime.bigint() - start);
  };
  // Against a much stronger hash the dummy must be measurably slower than a no-op: it really hashes.
  const strong = { memoryKiB: 8192, timeCost: 2, parallelism: 1 };
  await verifyDummyPassword('warm', strong);
  const dummy = await time(() => verifyDummyPassword('guess', strong));
  const cheapReal = await time(() => verifyPassword(hash, 'guess'));
  assert.ok(dummy > cheapReal * 2, `dummy ${dummy} ns vs cheap ${cheapReal} ns`);
});
