// One-time passwords: RFC 4226 HOTP and RFC 6238 TOTP with SHA-1, 6 digits and 30 s steps (what
// every authenticator app does by default), one step of clock drift either way, no replays.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { encodeBase32 } from './base32.js';
import { SecurityError } from './security-error.js';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one (RFC 6238 section 5.2: at most one is recommended). */
export const TOTP_WINDOW = 1;
/** RFC 4226 section 4 asks for at least 128 bits and recommends 160: the size of SHA-1's output. */
export const TOTP_SECRET_BYTES = 20;

export type TotpResult = { ok: true; step: number } | { ok: false };

export function generateTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/** RFC 4226 section 5.3: HMAC-SHA-1 over the 8-byte counter, dynamic truncation, modulo 10^digits. */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new SecurityError('bad-argument', `hotp: counter ${counter} is not a whole number >= 0`);
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new SecurityError('bad-argument', `hotp: ${digits} digits; RFC 4226 allows 6 to 10`);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[19]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** The RFC 6238 time step T = floor(unix seconds / 30) at `timeMs`. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_PERIOD_SECONDS);
}

export function totpCode(secret: Uint8Array, timeMs: number): string {
  return hotp(secret, totpStep(timeMs));
}

/**
 * Checks a code against the steps around `timeMs`. A step at or before `lastAcceptedStep` is
 * refused even when its code matches (RFC 6238 section 5.2: a code is accepted once); on success
 * the caller stores the returned step as the new last accepted one.
 */
export function verifyTotp(secret: Uint8Array, code: string, timeMs: number, lastAcceptedStep: number | null): TotpResult {
  const given = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(given)) return { ok: false };
  const givenBytes = Buffer.from(given);
  const now = totpStep(timeMs);
  let accepted: number | null = null;
  // Every candidate is computed and compared, match or not, so the time taken says nothing.
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (step < 0) continue;
    const matches = timingSafeEqual(Buffer.from(hotp(secret, step)), givenBytes);
    const fresh = lastAcceptedStep === null || step > lastAcceptedStep;
    if (matches && fresh && accepted === null) accepted = step;
  }
  return accepted === null ? { ok: false } : { ok: true, step: accepted };
}

/**
 * The otpauth:// URI authenticator apps read from a QR code (Google Authenticator's Key Uri
 * Format): label "issuer:account", the secret in base32, and the parameters spelled out.
 */
export function otpauthUri(secret: Uint8Array, account: string, issuer: string): string {
  for (const [what, value] of [['account', account], ['issuer', issuer]] as const) {
    if (value === '' || value.includes(':')) throw new SecurityError('bad-argument', `otpauth: the ${what} ${JSON.stringify(value)} must be non-empty and contain no colon (the label's separator)`);
  }
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = `secret=${encodeBase32(secret)}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
  return `otpauth://totp/${label}?${query}`;
}
