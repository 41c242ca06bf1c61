// Finds the caller of every API request: an API token (Authorization: Bearer) or a session
// cookie. A session's changes must also carry its CSRF token (X-CSRF-Token), which a page of
// another site cannot read, and come from the master's own origin when the browser says.

import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { MasterServices } from '../master-services.js';
import { hashToken, parseApiToken, tokenMatchesHash } from '../security/secret-tokens.js';
import { repositories } from '../store/repositories.js';
import type { Caller } from './caller.js';
import { MasterApiError } from './master-api-error.js';
import type { MasterEnv } from './master-env.js';

/** `__Host-`: the browser keeps it only if Secure, for this host and path / (RFC 6265bis 4.1.3.2). */
export const SESSION_COOKIE = '__Host-vireo-session';
/** Readable by the page, which echoes it in X-CSRF-Token (double submit, checked against the session's hash). */
export const CSRF_COOKIE = '__Host-vireo-csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Sessions and tokens are touched at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export function authenticate(): MiddlewareHandler<MasterEnv> {
  return async (c, next) => {
    const master = c.get('master');
    const authorization = c.req.header('Authorization');
    if (authorization !== undefined) c.set('caller', await fromToken(master, authorization, sourceIp(c)));
    else c.set('caller', await fromSession(c, master));
    await next();
  };
}

export function sourceIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function fromToken(master: MasterServices, authorization: string, ip: string): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/iu.exec(authorization);
  if (match === null || parseApiToken(match[1]!) === null) {
    throw new MasterApiError('unauthenticated', 'the Authorization header must be "Bearer vireo_..." with an API token (vireo login makes one)');
  }
  const text = match[1]!;
  const now = new Date(master.clock.now()).toISOString();
  const repos = repositories(master.store.db);
  const token = await repos.apiTokens.findUsable(hashToken(text), now);
  if (token === undefined || !tokenMatchesHash(text, token.token_hash)) {
    throw new MasterApiError('unauthenticated', 'the API token is unknown, revoked or expired; log in again (vireo login)');
  }
  const caller = await callerOf(master, token.user_id, 'token', ip);
  if (token.last_used_at === null || Date.parse(now) - Date.parse(token.last_used_at) > TOUCH_EVERY_MS) await repos.apiTokens.touch(token.id, now);
  return { ...caller, tokenId: token.id, tokenScopes: JSON.parse(token.scopes) as string[] };
}

async function fromSession(c: Context<MasterEnv>, master: MasterServices): Promise<Caller | undefined> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie === undefined) return undefined;
  const nowMs = master.clock.now();
  const now = new Date(nowMs).toISOString();
  const repos = repositories(master.store.db);
  const session = await repos.sessions.findUsable(hashToken(cookie), now);
  if (session === undefined || nowMs - Date.parse(session.last_seen_at) > master.sessions.idleMs) {
    // A stale cookie is as good as none: the login page must still work.
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return undefined;
  }
  if (!SAFE_METHODS.has(c.req.method)) checkCsrf(c, session.csrf_hash);
  const caller = await callerOf(master, session.user_id, 'session', sourceIp(c)).catch(() => undefined);
  if (caller === undefined) return undefined;
  if (nowMs - Date.parse(session.last_seen_at) > TOUCH_EVERY_MS) await repos.sessions.touch(session.id, now);
  return { ...caller, sessionId: session.id };
}

function checkCsrf(c: Context, csrfHash: string): void {
  const token = c.req.header(CSRF_HEADER);
  if (token === undefined || !tokenMatchesHash(token, csrfHash)) {
    throw new MasterApiError('csrf-failed', `a change made with a session cookie needs the ${CSRF_HEADER} header from the login answer (or the ${CSRF_COOKIE} cookie)`);
  }
  const origin = c.req.header('Origin');
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    throw new MasterApiError('csrf-failed', `a request from ${origin} may not use this master's session`);
  }
}

/** The caller for a user id: refused when the user is disabled or gone. */
export async function callerOf(master: MasterServices, userId: string, via: Caller['via'], ip: string): Promise<Caller> {
  const repos = repositories(master.store.db);
  const user = await repos.users.get(userId).catch(() => undefined);
  if (user === undefined || user.disabled !== 0) throw new MasterApiError('unauthenticated', 'this user is disabled or no longer exists');
  const bindings = await repos.roleBindings.listForUser(user.id);
  return { userId: user.id, userName: user.name, tenantId: user.tenant_id, bindings, via, sourceIp: ip };
}
