// Login throttling. Per account: a lock after 5 consecutive failures, 15 minutes, doubling with
// each further lock up to a cap, kept in the user row's `failed_logins` and `locked_until`. Per
// source address: a token bucket in memory, so one address cannot try many accounts quickly.

import { isIPv4, isIPv6 } from 'node:net';
import type { UserTable } from '../store/tables.js';

export interface LockoutPolicy {
  /** Consecutive failures that lock the account; every further multiple locks it again. */
  maxFailures: number;
  /** The first lock's length; each further lock doubles it. */
  lockMs: number;
  /** The longest lock: a lock is also a lever to keep the owner out, so it stays bounded. */
  maxLockMs: number;
}

export const DEFAULT_LOCKOUT_POLICY: Readonly<LockoutPolicy> = Object.freeze({ maxFailures: 5, lockMs: 15 * 60_000, maxLockMs: 4 * 60 * 60_000 });

export type AccountLockFields = Pick<UserTable, 'failed_logins' | 'locked_until'>;
export type AccountLockState = { locked: false } | { locked: true; until: string; retryAfterMs: number };

/** Whether the account is locked at `now` (ms since the epoch); a locked account is refused before its password is checked. */
export function accountLockState(row: AccountLockFields, now: number): AccountLockState {
  if (row.locked_until === null) return { locked: false };
  const until = Date.parse(row.locked_until);
  // An unreadable time is treated as a lock that is over: the failure count still applies.
  if (Number.isNaN(until) || until <= now) return { locked: false };
  return { locked: true, until: row.locked_until, retryAfterMs: until - now };
}

/**
 * The row's new fields after a wrong password or code. While a lock is in force nothing changes
 * (attempts then are refused unchecked and do not lengthen it).
 */
export function afterFailure(row: AccountLockFields, now: number, policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY): AccountLockFields {
  if (accountLockState(row, now).locked) return { failed_logins: row.failed_logins, locked_until: row.locked_until };
  const failed = row.failed_logins + 1;
  if (failed % policy.maxFailures !== 0) return { failed_logins: failed, locked_until: null };
  const lockNumber = failed / policy.maxFailures;
  const ms = Math.min(policy.lockMs * 2 ** Math.min(lockNumber - 1, 30), policy.maxLockMs);
  return { failed_logins: failed, locked_until: new Date(now + ms).toISOString() };
}

/** The row's new fields after a complete login: the count starts again. */
export function afterSuccess(): AccountLockFields {
  return { failed_logins: 0, locked_until: null };
}

/**
 * What counts as one source: an IPv4 address, or an IPv6 address's /64 (one subscriber's
 * network holds 2^64 addresses, so single IPv6 addresses would be no limit at all).
 */
export function addressKey(address: string): string {
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  return `${expandIpv6(bare).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const toHextets = (part: string): string[] => {
    if (part === '') return [];
    return part.split(':').flatMap((h) => {
      if (!h.includes('.')) return [h.toLowerCase().padStart(4, '0')];
      const [a, b, c, d] = h.split('.').map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16).padStart(4, '0'), ((c << 8) | d).toString(16).padStart(4, '0')];
    });
  };
  const [head = '', tail] = address.split('::');
  const front = toHextets(head);
  const back = tail === undefined ? [] : toHextets(tail);
  return [...front, ...Array<string>(8 - front.length - back.length).fill('0000'), ...back];
}

export interface AddressThrottleOptions {
  /** Attempts an address may make at once. */
  burst: number;
  /** Attempts it earns back per minute. */
  perMinute: number;
  /** Addresses remembered; beyond it the least recently seen is forgotten. */
  maxAddresses: number;
}

export const DEFAULT_ADDRESS_THROTTLE: Readonly<AddressThrottleOptions> = Object.freeze({ burst: 10, perMinute: 10, maxAddresses: 10_000 });

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per source address, with bounded memory. */
export class AddressThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: AddressThrottleOptions;

  constructor(
    private readonly clock: { now(): number },
    options: Partial<AddressThrottleOptions> = {},
  ) {
    this.options = { ...DEFAULT_ADDRESS_THROTTLE, ...options };
  }

  /** Takes one attempt for `address`: allowed, or refused with the time until one is earned. */
  take(address: string): ThrottleDecision {
    const key = addressKey(address);
    const now = this.clock.now();
    const perMs = this.options.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    // Re-inserted so the map's order is least recently seen first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.options.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.buckets.size;
  }
}
