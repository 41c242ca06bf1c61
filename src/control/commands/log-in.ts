// Logging in: throttled per address, locked per account after repeated failures, a password
// and (for anyone enrolled, and always for administrators) a TOTP code or a recovery code.
// Every attempt, good or bad, is in the audit log.

import type { MasterServices } from '../master-services.js';
import { accountLockState, afterFailure, afterSuccess } from '../security/login-throttle.js';
import { hashPassword, needsRehash, verifyDummyPassword, verifyPassword } from '../security/password-hash.js';
import { findRecoveryCode } from '../security/recovery-codes.js';
import { open } from '../security/secret-box.js';
import { newSessionTokens } from '../security/secret-tokens.js';
import { verifyTotp } from '../security/totp.js';
import { appendAudit } from '../store/audit-log.js';
import { repositories } from '../store/repositories.js';
import type { User } from '../store/users.js';
import { MasterApiError } from '../api/master-api-error.js';

export interface LogInRequest {
  name: string;
  password: string;
  totp?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface LoggedIn {
  user: User;
  sessionId: string;
  sessionToken: string;
  csrfToken: string;
  expiresAt: string;
}

export function totpAssociatedData(userId: string): string {
  return `users.totp_secret:${userId}`;
}

export async function logIn(master: MasterServices, request: LogInRequest, sourceIp: string): Promise<LoggedIn> {
  const throttle = master.loginThrottle.take(sourceIp);
  if (!throttle.allowed) {
    const seconds = Math.ceil(throttle.retryAfterMs / 1000);
    await audit(master, null, request.name, 'failure', sourceIp, { reason: 'too many attempts from this address' });
    throw new MasterApiError('too-many-requests', `too many login attempts from ${sourceIp}; try again in ${seconds} s`, { retryAfter: seconds });
  }
  const nowMs = master.clock.now();
  const user = await repositories(master.store.db).users.getByName(request.name).catch(() => undefined);
  if (user === undefined || user.disabled !== 0) {
    await verifyDummyPassword(request.password, master.passwordHash);
    return refuse(master, null, request.name, sourceIp, user === undefined ? 'unknown user' : 'user disabled');
  }
  const lock = accountLockState(user, nowMs);
  if (lock.locked) {
    await audit(master, user.id, user.name, 'failure', sourceIp, { reason: 'account locked', until: lock.until });
    throw new MasterApiError('too-many-requests', `this account is locked after repeated failed logins until ${lock.until}`, { retryAfter: Math.ceil(lock.retryAfterMs / 1000) });
  }
  if (!(await verifyPassword(user.password_hash, request.password))) return fail(master, user, sourceIp, 'wrong password');
  const second = await checkSecondFactor(master, user, request, nowMs);
  if (second !== null) return fail(master, user, sourceIp, second);

  const tokens = newSessionTokens();
  const expiresAt = new Date(nowMs + master.sessions.lifetimeMs).toISOString();
  const rehash = needsRehash(user.password_hash, master.passwordHash) ? await hashPassword(request.password, master.passwordHash) : undefined;
  const session = await master.store.transaction(async (tx) => {
    const repos = repositories(tx);
    const fresh = await repos.users.get(user.id);
    await repos.users.update(user.id, fresh.version, { ...afterSuccess(), ...(rehash === undefined ? {} : { password_hash: rehash }) });
    const created = await repos.sessions.create({ user_id: user.id, token_hash: tokens.sessionHash, csrf_hash: tokens.csrfHash, expires_at: expiresAt });
    await appendAudit(tx, { actor_id: user.id, actor_name: user.name, action: 'login', target: `user:${user.id}`, outcome: 'success', source_ip: sourceIp, detail: { session: created.id } });
    return created;
  });
  return { user, sessionId: session.id, sessionToken: tokens.sessionToken, csrfToken: tokens.csrfToken, expiresAt };
}

/** Null when the second factor is satisfied (or not needed), else why not. Consumes what it accepts. */
async function checkSecondFactor(master: MasterServices, user: User, request: LogInRequest, nowMs: number): Promise<string | null> {
  const repos = repositories(master.store.db);
  if (user.totp_secret_sealed === null) {
    const bindings = await repos.roleBindings.listForUser(user.id);
    return bindings.some((b) => b.role === 'administrator') ? 'an administrator without a TOTP second factor may not log in' : null;
  }
  if (request.totp !== undefined && request.totp !== '') {
    const secret = open(master.key, user.totp_secret_sealed, totpAssociatedData(user.id));
    const result = verifyTotp(secret, request.totp, nowMs, user.totp_last_step);
    if (!result.ok) return 'wrong or reused TOTP code';
    const fresh = await repos.users.get(user.id);
    await repos.users.update(user.id, fresh.version, { totp_last_step: result.step });
    return null;
  }
  if (request.recoveryCode !== undefined && request.recoveryCode !== '') {
    const codes = await repos.recoveryCodes.listForUser(user.id);
    const id = findRecoveryCode(request.recoveryCode, codes);
    const used = id === null ? undefined : codes.find((c) => c.id === id);
    if (used === undefined || !(await repos.recoveryCodes.use(user.id, used.code_hash, new Date(nowMs).toISOString()))) return 'wrong or used recovery code';
    return null;
  }
  return 'a TOTP code (or a recovery code) is required';
}

async function fail(master: MasterServices, user: User, sourceIp: string, reason: string): Promise<never> {
  await master.store.transaction(async (tx) => {
    const repos = repositories(tx);
    const fresh = await repos.users.get(user.id);
    await repos.users.update(user.id, fresh.version, afterFailure(fresh, master.clock.now()));
    await appendAudit(tx, { actor_id: user.id, actor_name: user.name, action: 'login-failed', target: `user:${user.id}`, outcome: 'failure', source_ip: sourceIp, detail: { reason } });
  });
  return refuse(master, user.id, user.name, sourceIp, reason, false);
}

async function refuse(master: MasterServices, userId: string | null, name: string, sourceIp: string, reason: string, record = true): Promise<never> {
  if (record) await audit(master, userId, name, 'failure', sourceIp, { reason });
  // The same answer whatever failed, so a guess learns nothing about names or which factor was wrong.
  throw new MasterApiError('unauthenticated', 'the name, password or second factor is wrong');
}

async function audit(master: MasterServices, userId: string | null, name: string, outcome: 'failure', sourceIp: string, detail: Record<string, unknown>): Promise<void> {
  await appendAudit(master.store.db, { actor_id: userId, actor_name: name, action: 'login-failed', target: userId === null ? `user-name:${name}` : `user:${userId}`, outcome, source_ip: sourceIp, detail });
}
