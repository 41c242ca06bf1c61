// Passwords: argon2id hashes in PHC string form, the policy a new password must meet, and a
// dummy verification so a login for an unknown name costs as long as one for a known name.

import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

export interface PasswordHashParams {
  /** Memory in KiB. */
  memoryKiB: number;
  /** Passes over the memory. */
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id baseline (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. */
export const DEFAULT_PASSWORD_HASH_PARAMS: Readonly<PasswordHashParams> = Object.freeze({ memoryKiB: 19 * 1024, timeCost: 2, parallelism: 1 });

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

// The same password typed on two systems can arrive composed or decomposed; NFC makes them one.
function normalize(password: string): string {
  return password.normalize('NFC');
}

export function hashPassword(password: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS): Promise<string> {
  return argon2.hash(normalize(password), {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  });
}

/** True when `password` matches `hash`; false for a wrong password and for a hash that is not argon2 (nobody can log in with it). */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, normalize(password));
  } catch {
    return false;
  }
}

interface Argon2Fields {
  type: string;
  version: number;
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
}

// $argon2id$v=19$m=19456,t=2,p=1$salt$hash; the parameters may come in any order.
const PHC = /^\$(argon2(?:id|i|d))\$v=(\d+)\$([a-z]=[^$]*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

function parseHash(hash: string): Argon2Fields | null {
  const match = PHC.exec(hash);
  if (!match) return null;
  const params = new Map(match[3]!.split(',').map((pair) => pair.split('=') as [string, string]));
  const number = (name: string) => (/^\d+$/.test(params.get(name) ?? '') ? Number(params.get(name)) : NaN);
  const fields = { type: match[1]!, version: Number(match[2]), memoryKiB: number('m'), timeCost: number('t'), parallelism: number('p') };
  return Number.isNaN(fields.memoryKiB + fields.timeCost + fields.parallelism) ? null : fields;
}

/**
 * True when a stored hash should be replaced at the next successful login: not argon2id
 * version 0x13, or weaker in memory or passes than `params`. A stronger hash is kept.
 */
export function needsRehash(hash: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS): boolean {
  const fields = parseHash(hash);
  if (!fields) return true;
  return fields.type !== 'argon2id' || fields.version !== 0x13 || fields.memoryKiB < params.memoryKiB || fields.timeCost < params.timeCost;
}

/** Why `password` cannot be set, as a message for the person choosing it; null when it can. */
export function checkPasswordPolicy(password: string): string | null {
  const chars = [...normalize(password)];
  if (chars.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (chars.length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  if (chars.every((c) => c === chars[0])) return 'a password cannot be one character repeated';
  return null;
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * Runs a full verification against a hash nobody knows the password of, with the same
 * parameters as real hashes, and answers false: a login for a name that does not exist takes
 * as long as a wrong password for one that does.
 */
export async function verifyDummyPassword(password: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH_PARAMS): Promise<false> {
  const key = `${params.memoryKiB},${params.timeCost},${params.parallelism}`;
  let hash = dummyHashes.get(key);
  if (!hash) {
    hash = hashPassword(randomBytes(32).toString('base64'), params);
    dummyHashes.set(key, hash);
  }
  await verifyPassword(await hash, password);
  return false;
}
