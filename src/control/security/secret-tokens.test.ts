import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { hashToken, newApiToken, newSessionTokens, parseApiToken, tokenMatchesHash } from './secret-tokens.js';

test('an API token reads vireo_<id>_<secret> with a 256-bit secret, and its hash is its SHA-256', () => {
  const { id, token, hash } = newApiToken();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(token.startsWith(`vireo_${id}_`));
  const secret = token.slice(`vireo_${id}_`.length);
  assert.equal(Buffer.from(secret, 'base64url').length, 32);
  assert.equal(hash, createHash('sha256').update(token).digest('hex'));
  assert.equal(hashToken(token), hash);
  assert.ok(!token.includes(hash));
});

test('parsing gives back the id and secret, even when the secret holds underscores and dashes', () => {
  for (let i = 0; i < 50; i++) {
    const { id, token } = newApiToken();
    assert.deepEqual(parseApiToken(token), { id, secret: token.slice(43) });
  }
  const id = '123e4567-e89b-42d3-a456-426614174000';
  const secret = '_-' + 'a'.repeat(39) + '-_';
  assert.deepEqual(parseApiToken(`vireo_${id}_${secret}`), { id, secret });
  assert.deepEqual(parseApiToken(` vireo_${id}_${secret}\n`), { id, secret });
});

test('text not shaped like an API token parses to null', () => {
  const { token } = newApiToken();
  for (const bad of ['', 'vireo_', token.replace('vireo_', 'other_'), token.slice(0, -1), `${token}x`, token.replace(/_(?=[^_]*$)/, '.'), token.toUpperCase(), `Bearer ${token}`]) {
    assert.equal(parseApiToken(bad), null, bad);
  }
});

test('a token matches its own hash only', () => {
  const a = newApiToken();
  const b = newApiToken();
  assert.equal(tokenMatchesHash(a.token, a.hash), true);
  assert.equal(tokenMatchesHash(b.token, a.hash), false);
  assert.equal(tokenMatchesHash(a.token.slice(0, -1), a.hash), false);
  assert.equal(tokenMatchesHash(a.token, ''), false);
  assert.equal(tokenMatchesHash(a.token, 'not hex'), false);
  assert.equal(tokenMatchesHash(a.token, a.hash.slice(0, 62)), false);
});

test('session and CSRF tokens are distinct 256-bit secrets with their own hashes', () => {
  const s = newSessionTokens();
  const t = newSessionTokens();
  assert.equal(Buffer.from(s.sessionToken, 'base64url').length, 32);
  assert.equal(Buffer.from(s.csrfToken, 'base64url').length, 32);
  assert.notEqual(s.sessionToken, s.csrfToken);
  assert.notEqual(s.sessionToken, t.sessionToken);
  assert.equal(s.sessionHash, hashToken(s.sessionToken));
  assert.equal(s.csrfHash, hashToken(s.csrfToken));
  assert.equal(tokenMatchesHash(s.csrfToken, s.csrfHash), true);
  assert.equal(tokenMatchesHash(s.sessionToken, s.csrfHash), false);
});
