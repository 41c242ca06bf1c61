// Bearer secrets the master hands out: API tokens, session tokens and CSRF tokens. Only their
// SHA-256 is stored; a plain hash is enough because they are 256 random bits, not passwords.

import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** Random bytes in every secret: 256 bits, 43 base64url characters. */
export const SECRET_BYTES = 32;
/** API tokens start with this, so secret scanners and people recognize a leaked one. */
export const API_TOKEN_PREFIX = 'vireo_';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const API_TOKEN = new RegExp(`^${API_TOKEN_PREFIX}(${UUID})_([A-Za-z0-9_-]{43})$`);

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** The stored form of a secret: SHA-256, hex. */
export function hashToken(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Whether `text` hashes to `storedHash`, compared in constant time. */
export function tokenMatchesHash(text: string, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  const given = createHash('sha256').update(text, 'utf8').digest();
  return stored.length === given.length && timingSafeEqual(stored, given);
}

export interface NewApiToken {
  /** The api_tokens row's id. */
  id: string;
  /** `vireo_<id>_<secret>`: shown once, to the user who created it. */
  token: string;
  /** What the row keeps: hashToken(token). */
  hash: string;
}

export function newApiToken(): NewApiToken {
  const id = randomUUID();
  const token = `${API_TOKEN_PREFIX}${id}_${newSecret()}`;
  return { id, token, hash: hashToken(token) };
}

/**
 * Splits a presented API token into the row id to look up and its secret, or null when the
 * text is not shaped like one. The caller then checks tokenMatchesHash(text, row.token_hash).
 */
export function parseApiToken(text: string): { id: string; secret: string } | null {
  const match = API_TOKEN.exec(text.trim());
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export interface NewSessionTokens {
  /** Goes in the HttpOnly session cookie. */
  sessionToken: string;
  /** The sessions row's token_hash; the row is found by it. */
  sessionHash: string;
  /** Given to the page, which sends it back in a header with every change. */
  csrfToken: string;
  /** The sessions row's csrf_hash. */
  csrfHash: string;
}

export function newSessionTokens(): NewSessionTokens {
  const sessionToken = newSecret();
  const csrfToken = newSecret();
  return { sessionToken, sessionHash: hashToken(sessionToken), csrfToken, csrfHash: hashToken(csrfToken) };
}
