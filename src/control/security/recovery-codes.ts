// One-time recovery codes for a lost second factor: ten `xxxxx-xxxxx` codes of 50 random bits
// each in Crockford's base32 alphabet (no i, l, o, u), stored as SHA-256 hashes.

import { randomBytes } from 'node:crypto';
import type { RecoveryCodeTable } from '../store/tables.js';
import { hashToken, tokenMatchesHash } from './secret-tokens.js';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_CHARS = 10;

/** A new code: 10 characters of 5 bits each, from 7 random bytes (the low 6 bits unused). */
function newCode(): string {
  const bytes = randomBytes(7);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let code = '';
  for (let i = 0; i < CODE_CHARS; i++) code += ALPHABET[Number((bits >> BigInt(51 - 5 * i)) & 31n)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * The canonical form of what someone typed: lower case, without dashes and spaces, with the
 * letters people confuse for digits read as those digits (Crockford: o is 0, i and l are 1).
 * Null when it cannot be a code at all.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '').toLowerCase().replace(/o/g, '0').replace(/[il]/g, '1');
  if (code.length !== CODE_CHARS) return null;
  for (const c of code) if (!ALPHABET.includes(c)) return null;
  return code;
}

export function hashRecoveryCode(code: string): string {
  return hashToken(normalizeRecoveryCode(code) ?? code);
}

/** Ten new codes to show the user once, and the hashes to store in their place. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, newCode);
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/**
 * The id of the unused code `input` matches, or null. Every stored hash is compared, in
 * constant time, so the time taken does not tell how many codes are left or which matched.
 */
export function findRecoveryCode(input: string, stored: readonly Pick<RecoveryCodeTable, 'id' | 'code_hash' | 'used_at'>[]): string | null {
  const code = normalizeRecoveryCode(input);
  let found: string | null = null;
  for (const row of stored) {
    const matches = tokenMatchesHash(code ?? '', row.code_hash);
    if (matches && code !== null && row.used_at === null && found === null) found = row.id;
  }
  return found;
}
