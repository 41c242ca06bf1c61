// The master's API end to end over HTTPS: login with password and TOTP, sessions and CSRF,
// deny by default on every route of the OpenAPI document, problems, ETags.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type TestMaster } from '../support/master-client.js';

let m: TestMaster;
before(async () => { m = await startTestMaster(); });
after(async () => { await m.close(); });

test('a wrong TOTP code fails the login and is audited; the right one logs in', async () => {
  const client = m.client();
  const wrong = await client.call('POST', '/api/v1/session', { name: ADMIN, password: ADMIN_PASSWORD, totp: '000000' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['content-type'], 'application/problem+json');
  assert.equal(wrong.body.kind, 'unauthenticated');
  const missing = await client.call('POST', '/api/v1/session', { name: ADMIN, password: ADMIN_PASSWORD });
  assert.equal(missing.status, 401, 'an administrator needs the second factor');
  const code = m.clock.nextTotp(m.totpSecret);
  const ok = await client.logIn(ADMIN, ADMIN_PASSWORD, code);
  const replayed = await m.client().logIn(ADMIN, ADMIN_PASSWORD, code);
  assert.equal(replayed.status, 401, 'a code is accepted once (RFC 6238 5.2)');
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.user.name, ADMIN);
  assert.ok(String(ok.headers['set-cookie']).includes('HttpOnly'));
  assert.ok(String(ok.headers['set-cookie']).includes('SameSite=Strict'));
  assert.ok(String(ok.headers['set-cookie']).includes('Secure'));
  const who = await client.call('GET', '/api/v1/session');
  assert.equal(who.status, 200);
  assert.equal(who.body.roles[0].role, 'administrator');
  const audit = await client.call('GET', '/api/v1/audit?action=login-failed');
  assert.equal(audit.status, 200, audit.text);
  const reasons = (audit.body.items as Array<{ detail: { reason?: string } }>).map((e) => e.detail.reason);
  assert.ok(reasons.includes('wrong or reused TOTP code'), JSON.stringify(reasons));
  assert.ok(reasons.includes('a TOTP code (or a recovery code) is required'));
});

test('every route in the OpenAPI document refuses a request without credentials', async () => {
  const doc = await m.client().call('GET', '/api/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  const anonymous = m.client();
  let checked = 0;
  for (const [path, methods] of Object.entries(doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (Array.isArray(operation.security) && operation.security.length === 0) continue; // public: the login
      const concrete = path.replace(/\{[^}]+\}/gu, '00000000-0000-4000-8000-000000000000');
      const reply = await anonymous.call(method.toUpperCase(), concrete, method === 'get' || method === 'delete' ? undefined : {});
      assert.equal(reply.status, 401, `${method.toUpperCase()} ${path} without credentials: ${reply.text}`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `checked ${checked} routes`);
});

test('a change through a session needs its CSRF token; a stale ETag is refused', async () => {
  const admin = await m.admin();
  const noCsrf = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-csrf' }, { 'x-csrf-token': 'forged' });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.kind, 'csrf-failed');
  const created = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-one', description: 'first' });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id as string;
  const etag = created.headers['etag'] as string;
  const noIfMatch = await admin.call('PATCH', `/api/v1/data-centers/${id}`, { description: 'x' });
  assert.equal(noIfMatch.status, 428);
  const changed = await admin.call('PATCH', `/api/v1/data-centers/${id}`, { description: 'second' }, { 'if-match': etag });
  assert.equal(changed.status, 200, changed.text);
  const stale = await admin.call('PATCH', `/api/v1/data-centers/${id}`, { description: 'third' }, { 'if-match': etag });
  assert.equal(stale.status, 412);
  assert.equal(stale.body.kind, 'version-conflict');
  const taken = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-one' });
  assert.equal(taken.status, 409);
  const bad = await admin.call('POST', '/api/v1/data-centers', { name: 'Not A Name!' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.detail, /name/u);
});
