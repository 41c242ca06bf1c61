// API tokens and self-service second factors end to end: scopes, expiry, revocation, and
// enrolling a TOTP secret in two steps.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeBase32 } from '../../src/control/security/base32.js';
import { totpCode } from '../../src/control/security/totp.js';
import { startTestMaster, type MasterClient, type TestMaster } from '../support/master-client.js';
import { logInAs, makeTenant, makeUser, USER_PASSWORD } from '../support/people.js';

let m: TestMaster;
before(async () => { m = await startTestMaster(); });
after(async () => { await m.close(); });

async function makeToken(client: MasterClient, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const reply = await client.call('POST', '/api/v1/tokens', body);
  assert.equal(reply.status, 201, reply.text);
  return { id: reply.body.id, token: reply.body.token };
}

function bearer(token: string): MasterClient {
  const client = m.client();
  client.bearer = token;
  return client;
}

test('a token with scope read reads but cannot change anything; the token text is shown once', async () => {
  const admin = await m.admin();
  const made = await makeToken(admin, { name: 'reader', scopes: ['read'] });
  assert.match(made.token, new RegExp(`^vireo_${made.id}_`, 'u'));
  const listed = await admin.call('GET', '/api/v1/tokens');
  const row = listed.body.items.find((t: { id: string }) => t.id === made.id);
  assert.deepEqual(row.scopes, ['read']);
  assert.ok(!listed.text.includes(made.token.slice(-43)), 'neither the token nor its secret is listed');
  assert.deepEqual(Object.keys(row).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes']);
  const reader = bearer(made.token);
  assert.equal((await reader.call('GET', '/api/v1/data-centers')).status, 200);
  const refused = await reader.call('POST', '/api/v1/data-centers', { name: 'by-token' });
  assert.equal(refused.status, 403, refused.text);
  assert.match(refused.body.detail, /data-center:write/u);
  assert.equal((await reader.call('POST', '/api/v1/tokens', { name: 'wider', scopes: ['admin'] })).status, 403, 'a token makes no wider token');
  assert.equal((await admin.call('POST', '/api/v1/tokens', { name: 'bad', scopes: ['everything'] })).status, 400);
  assert.equal((await admin.call('POST', '/api/v1/tokens', { name: 'long', scopes: ['read'], expiresInDays: 366 })).status, 400);
  assert.equal((await admin.call('POST', '/api/v1/tokens', { name: 'none', scopes: ['read'], expiresInDays: 0 })).status, 400);
});

test('a revoked token fails at once; only its owner, or who may change the owner, revokes it', async () => {
  const admin = await m.admin();
  const tenant = await makeTenant(admin, 'token-tenant');
  const guest = await makeUser(admin, 'token-guest', [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: tenant }], tenant);
  const asGuest = await logInAs(m, guest);
  const guestToken = await makeToken(asGuest, { name: 'mine', scopes: ['admin'] });
  const adminToken = await makeToken(admin, { name: 'ops', scopes: ['admin'] });
  const client = bearer(adminToken.token);
  assert.equal((await client.call('GET', '/api/v1/session')).status, 200);
  assert.equal((await asGuest.call('DELETE', `/api/v1/tokens/${adminToken.id}`)).status, 404, 'another user\'s token is not found');
  assert.equal((await client.call('GET', '/api/v1/session')).status, 200);
  assert.equal((await admin.call('DELETE', `/api/v1/tokens/${adminToken.id}`)).status, 204);
  const after = await client.call('GET', '/api/v1/session');
  assert.equal(after.status, 401, after.text);
  assert.equal((await admin.call('GET', '/api/v1/tokens')).body.items.find((t: { id: string }) => t.id === adminToken.id).revokedAt !== null, true);
  assert.equal((await bearer(guestToken.token).call('GET', '/api/v1/session')).status, 200);
  assert.equal((await admin.call('DELETE', `/api/v1/tokens/${guestToken.id}`)).status, 204, 'an administrator revokes a user\'s token');
  assert.equal((await bearer(guestToken.token).call('GET', '/api/v1/session')).status, 401);
});

test('a second factor is enrolled in two steps: pending until a code from it is confirmed; a wrong code is refused', async () => {
  const admin = await m.admin();
  const user = await makeUser(admin, 'enrolling', [{ role: 'operator', scopeKind: 'global' }]);
  const client = await logInAs(m, user);
  assert.equal((await client.call('POST', '/api/v1/session/totp/confirmation', { code: '123456' })).status, 409, 'nothing pending');
  const pending = await client.call('POST', '/api/v1/session/totp');
  assert.equal(pending.status, 201, pending.text);
  const secret = pending.body.totpSecret as string;
  assert.match(pending.body.otpauthUri, new RegExp(`secret=${secret}`, 'u'));
  await logInAs(m, user); // still without a second factor while it is pending
  const wrongCode = totpCode(decodeBase32(secret), m.clock.now() + 5 * 60_000);
  const wrong = await client.call('POST', '/api/v1/session/totp/confirmation', { code: wrongCode });
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal((await admin.call('GET', `/api/v1/users/${user.id}`)).body.totpEnrolled, false);
  const confirmed = await client.call('POST', '/api/v1/session/totp/confirmation', { code: totpCode(decodeBase32(secret), m.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.body.recoveryCodes.length, 10);
  assert.equal((await admin.call('GET', `/api/v1/users/${user.id}`)).body.totpEnrolled, true);
  m.clock.offsetMs += 6_000;
  assert.equal((await m.client().logIn(user.name, USER_PASSWORD)).status, 401, 'the second factor is now required');
  const enrolled = await logInAs(m, { ...user, totpSecret: secret });
  const audit = await admin.call('GET', '/api/v1/audit?action=user.totp-confirm');
  assert.equal(audit.body.items[0].target, `user:${user.id}`);

  // Replacing an active second factor takes a current code from it, once.
  const bare = await enrolled.call('POST', '/api/v1/session/totp');
  assert.equal(bare.status, 403, bare.text);
  assert.equal(bare.body.field, 'currentCode');
  m.clock.offsetMs += 30_000;
  const code = totpCode(decodeBase32(secret), m.clock.now());
  const wrongOld = await enrolled.call('POST', '/api/v1/session/totp', { currentCode: code === '000000' ? '000001' : '000000' });
  assert.equal(wrongOld.status, 403, wrongOld.text);
  assert.equal((await enrolled.call('POST', '/api/v1/session/totp', { currentCode: code })).status, 201);
  assert.equal((await enrolled.call('POST', '/api/v1/session/totp', { currentCode: code })).status, 403, 'a code is good once');
});

test('a token past its expiry fails', async () => {
  const admin = await m.admin();
  const made = await makeToken(admin, { name: 'short', scopes: ['read'], expiresInDays: 1 });
  const client = bearer(made.token);
  assert.equal((await client.call('GET', '/api/v1/session')).status, 200);
  m.clock.offsetMs += 86_400_000 - 120_000;
  assert.equal((await client.call('GET', '/api/v1/session')).status, 200, 'a minute before expiry');
  m.clock.offsetMs += 180_000;
  const expired = await client.call('GET', '/api/v1/session');
  assert.equal(expired.status, 401, expired.text);
  assert.equal(expired.body.kind, 'unauthenticated');
});
