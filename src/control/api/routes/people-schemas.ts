// The shapes users, role bindings and second factors take in the API, shared by their routes.
// Hashes and sealed secrets never leave the master; secrets it hands out appear once.

import { z } from '@hono/zod-openapi';
import type { IssuedTotp } from '../../commands/issue-totp.js';
import type { RoleBinding } from '../../store/role-bindings.js';
import type { User } from '../../store/users.js';

/** No colon: the name is the account in otpauth:// URIs, whose label separates with one. */
export const USER_NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/u).openapi({ description: 'Letters, digits, dots, dashes, underscores and @' });

export const PASSWORD = z.string().min(1).max(1024).openapi({ description: 'At least 12 characters, not one repeated' });

export const ROLE_BINDING_REQUEST = z.object({
  role: z.enum(['administrator', 'operator', 'tenant-user', 'auditor']),
  scopeKind: z.enum(['global', 'data-center', 'tenant']),
  scopeId: z.string().uuid().nullable().optional().openapi({ description: 'The data center or tenant; absent for global' }),
}).strict().openapi('RoleBindingRequest');

export const ROLE_BINDING = z.object({
  id: z.string(), role: z.string(), scopeKind: z.string(), scopeId: z.string().nullable(), createdAt: z.string(),
}).openapi('RoleBinding');

export const USER = z.object({
  id: z.string(), name: z.string(), tenantId: z.string().nullable(), disabled: z.boolean(),
  totpEnrolled: z.boolean(), lockedUntil: z.string().nullable(), createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('User');

const ISSUED_TOTP = {
  totpSecret: z.string().optional().openapi({ description: 'Base32; for a new administrator, shown this once' }),
  otpauthUri: z.string().optional(),
  recoveryCodes: z.array(z.string()).optional().openapi({ description: 'One-time codes for a lost authenticator, shown this once' }),
};

export const CREATED_USER = USER.extend({ roles: z.array(ROLE_BINDING), ...ISSUED_TOTP }).openapi('CreatedUser');

export const GRANTED_ROLE = ROLE_BINDING.extend(ISSUED_TOTP).openapi('GrantedRole');

export function userView(row: User): z.infer<typeof USER> {
  return {
    id: row.id, name: row.name, tenantId: row.tenant_id, disabled: row.disabled !== 0, totpEnrolled: row.totp_secret_sealed !== null,
    lockedUntil: row.locked_until, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

export function roleBindingView(row: RoleBinding): z.infer<typeof ROLE_BINDING> {
  return { id: row.id, role: row.role, scopeKind: row.scope_kind, scopeId: row.scope_id, createdAt: row.created_at };
}

export function issuedTotpView(totp: IssuedTotp | undefined): Partial<IssuedTotp> {
  return totp === undefined ? {} : { totpSecret: totp.totpSecret, otpauthUri: totp.otpauthUri, recoveryCodes: totp.recoveryCodes };
}
