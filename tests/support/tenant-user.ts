// Test support: a tenant and one of its users (a tenant-user binding on it), made in the
// master's store, and a client logged in as that user (no second factor: not an administrator).

import { hashPassword } from '../../src/control/security/password-hash.js';
import { repositories } from '../../src/control/store/repositories.js';
import { TEST_PASSWORD_HASH, type MasterClient, type TestMaster } from './master-client.js';

export const TENANT_USER_PASSWORD = 'tenant user password 0123';

export interface TenantUser {
  tenantId: string;
  userId: string;
  client: MasterClient;
}

export async function tenantWithUser(m: TestMaster, tenantName: string, userName: string): Promise<TenantUser> {
  const repos = repositories(m.master.services.store.db);
  const tenant = await repos.tenants.create({ name: tenantName });
  const user = await repos.users.create({ name: userName, tenant_id: tenant.id, password_hash: await hashPassword(TENANT_USER_PASSWORD, TEST_PASSWORD_HASH) });
  await repos.roleBindings.grant({ user_id: user.id, role: 'tenant-user', scope_kind: 'tenant', scope_id: tenant.id });
  const client = m.client();
  const reply = await client.logIn(userName, TENANT_USER_PASSWORD);
  if (reply.status !== 201) throw new Error(`${userName} could not log in: ${reply.status} ${reply.text}`);
  return { tenantId: tenant.id, userId: user.id, client };
}
