import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../tests/support/fake-clock.js';
import { accountLockState, addressKey, AddressThrottle, afterFailure, afterSuccess } from './login-throttle.js';
import type { AccountLockFields } from './login-throttle.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

function fail(row: AccountLockFields, now: number, times: number): AccountLockFields {
  for (let i = 0; i < times; i++) row = afterFailure(row, now);
  return row;
}

test('five consecutive failures lock the account for 15 minutes', () => {
  let row: AccountLockFields = { failed_logins: 0, locked_until: null };
  row = fail(row, T0, 4);
  assert.deepEqual(row, { failed_logins: 4, locked_until: null });
  assert.deepEqual(accountLockState(row, T0), { locked: false });
  row = afterFailure(row, T0);
  assert.deepEqual(row, { failed_logins: 5, locked_until: '2026-03-01T12:15:00.000Z' });
  assert.deepEqual(accountLockState(row, T0 + 5 * MIN), { locked: true, until: '2026-03-01T12:15:00.000Z', retryAfterMs: 10 * MIN });
  assert.deepEqual(accountLockState(row, T0 + 15 * MIN), { locked: false });
});

test('failures during a lock change nothing; a success starts the count again', () => {
  const locked = fail({ failed_logins: 0, locked_until: null }, T0, 5);
  assert.deepEqual(fail(locked, T0 + MIN, 20), locked);
  assert.deepEqual(afterSuccess(), { failed_logins: 0, locked_until: null });
  // After a success, four failures do not lock.
  assert.equal(accountLockState(fail(afterSuccess(), T0, 4), T0).locked, false);
});

test('each further lock doubles, up to the cap', () => {
  let row: AccountLockFields = { failed_logins: 0, locked_until: null };
  let now = T0;
  const lengths: number[] = [];
  for (let lock = 0; lock < 8; lock++) {
    row = fail(row, now, 5);
    const state = accountLockState(row, now);
    assert.ok(state.locked);
    lengths.push(state.retryAfterMs / MIN);
    now += state.retryAfterMs;
    // The lock is over at its end; a further failure then counts but does not lock by itself.
    assert.equal(accountLockState(row, now).locked, false);
  }
  assert.deepEqual(lengths, [15, 30, 60, 120, 240, 240, 240, 240]);
});

test('an unreadable locked_until is no lock', () => {
  assert.deepEqual(accountLockState({ failed_logins: 5, locked_until: 'garbage' }, T0), { locked: false });
});

test('an address gets 10 attempts at once, then one every 6 seconds', async () => {
  const clock = new FakeClock();
  const throttle = new AddressThrottle(clock);
  for (let i = 0; i < 10; i++) assert.deepEqual(throttle.take('203.0.113.7'), { allowed: true }, `attempt ${i}`);
  assert.deepEqual(throttle.take('203.0.113.7'), { allowed: false, retryAfterMs: 6000 });
  // Another address is not affected.
  assert.deepEqual(throttle.take('203.0.113.8'), { allowed: true });
  await clock.advance(3000);
  assert.deepEqual(throttle.take('203.0.113.7'), { allowed: false, retryAfterMs: 3000 });
  await clock.advance(3000);
  assert.deepEqual(throttle.take('203.0.113.7'), { allowed: true });
  assert.equal(throttle.take('203.0.113.7').allowed, false);
  // A minute's rest earns all 10 back, not more.
  await clock.advance(10 * MIN);
  let allowed = 0;
  for (let i = 0; i < 20; i++) if (throttle.take('203.0.113.7').allowed) allowed++;
  assert.equal(allowed, 10);
});

test('addresses in one IPv6 /64 share a bucket; IPv4-mapped addresses count as IPv4', () => {
  const throttle = new AddressThrottle(new FakeClock(), { burst: 2 });
  assert.equal(throttle.take('2001:db8:1:2::1').allowed, true);
  assert.equal(throttle.take('2001:db8:1:2:ffff::9').allowed, true);
  assert.equal(throttle.take('2001:0db8:0001:0002:abcd::').allowed, false);
  assert.equal(throttle.take('2001:db8:1:3::1').allowed, true);
  assert.equal(throttle.take('::ffff:192.0.2.1').allowed, true);
  assert.equal(throttle.take('192.0.2.1').allowed, true);
  assert.equal(throttle.take('192.0.2.1').allowed, false);
});

test('address keys', () => {
  assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
  assert.equal(addressKey('::FFFF:192.0.2.1'), '192.0.2.1');
  assert.equal(addressKey('2001:db8::1'), '2001:0db8:0000:0000::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0000:0000:0000::/64');
  assert.equal(addressKey('::1'), '0000:0000:0000:0000::/64');
  assert.equal(addressKey('64:ff9b:1:2:3:4:1.2.3.4'), '0064:ff9b:0001:0002::/64');
  assert.equal(addressKey('unknown'), 'unknown');
});

test('memory stays bounded: the least recently seen address is forgotten first', () => {
  const clock = new FakeClock();
  const throttle = new AddressThrottle(clock, { burst: 1, maxAddresses: 3 });
  assert.equal(throttle.take('10.0.0.1').allowed, true);
  assert.equal(throttle.take('10.0.0.2').allowed, true);
  assert.equal(throttle.take('10.0.0.3').allowed, true);
  // 10.0.0.1 is seen again (refused), so 10.0.0.2 is now the oldest.
  assert.equal(throttle.take('10.0.0.1').allowed, false);
  assert.equal(throttle.take('10.0.0.4').allowed, true);
  assert.equal(throttle.size, 3);
  assert.equal(throttle.take('10.0.0.1').allowed, false);
  assert.equal(throttle.take('10.0.0.2').allowed, true);
  for (let i = 0; i < 1000; i++) throttle.take(`10.1.${i >> 8}.${i & 255}`);
  assert.equal(throttle.size, 3);
});
