// Test support for the master's people: users made through the API by an administrator, and
// clients logged in as them.

import assert from 'node:assert/strict';
import type { MasterClient, TestMaster } from './master-client.js';

export const USER_PASSWORD = 'a long enough password';

export interface Binding {
  role: 'administrator' | 'operator' | 'tenant-user' | 'auditor';
  scopeKind: 'global' | 'data-center' | 'tenant';
  scopeId?: string;
}

export interface MadeUser {
  id: string;
  name: string;
  /** Set for a user made with an administrator role. */
  totpSecret?: string;
  body: any;
}

export async function makeTenant(admin: MasterClient, name: string): Promise<string> {
  const reply = await admin.call('POST', '/api/v1/tenants', { name });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.id as string;
}

export async function makeUser(admin: MasterClient, name: string, roles: Binding[], tenantId?: string): Promise<MadeUser> {
  const reply = await admin.call('POST', '/api/v1/users', { name, password: USER_PASSWORD, roles, ...(tenantId === undefined ? {} : { tenantId }) });
  assert.equal(reply.status, 201, reply.text);
  return { id: reply.body.id, name, body: reply.body, ...(reply.body.totpSecret === undefined ? {} : { totpSecret: reply.body.totpSecret }) };
}

/**
 * A client logged in as `user`. The master's clock moves on a little first, so the per-address
 * login throttle (10 at once, 10 a minute) never refuses a suite's many logins.
 */
export async function logInAs(m: TestMaster, user: MadeUser, password = USER_PASSWORD): Promise<MasterClient> {
  m.clock.offsetMs += 6_000;
  const client = m.client();
  const reply = await client.logIn(user.name, password, user.totpSecret === undefined ? undefined : m.clock.nextTotp(user.totpSecret));
  assert.equal(reply.status, 201, `${user.name} logs in: ${reply.text}`);
  return client;
}
