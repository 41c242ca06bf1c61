import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, settle } from '../../../tests/support/fake-clock.js';
import { IoThrottle } from './io-throttle.js';
import type { IoKind } from './io-throttle.js';
import type { IoLimits } from './io-limits.js';
import { QosError } from './qos-error.js';

/**
 * A guest that keeps `depth` requests of `kind` and `size(n)` bytes queued, each completing
 * as soon as it is admitted, for `ms` of fake time. Returns what was admitted before `ms`.
 */
async function drive(
  limits: IoLimits, kind: IoKind, size: (n: number) => number, ms: number, depth = 1,
): Promise<{ ops: number; bytes: number; throttle: IoThrottle; clock: FakeClock }> {
  const clock = new FakeClock();
  const throttle = new IoThrottle(limits, clock);
  let ops = 0;
  let bytes = 0;
  let stopped = false;
  const issue = (): void => {
    if (stopped) return;
    const n = size(ops + throttle.waiting);
    void throttle.admit(kind, n).then(() => {
      // Admitted in [0, ms): one admitted exactly at the end starts the next second.
      if (stopped || clock.now() >= ms) return;
      ops++;
      bytes += n;
      issue();
    });
  };
  for (let i = 0; i < depth; i++) issue();
  await clock.advance(ms);
  stopped = true;
  throttle.close();
  await settle();
  return { ops, bytes, throttle, clock };
}

const MiB = 1024 * 1024;

/** Asserts that the request whose admission is `admitted` starts exactly `ms` from now. */
async function startsAfter(clock: FakeClock, admitted: Promise<void>, ms: number): Promise<void> {
  let started = false;
  void admitted.then(() => (started = true));
  await clock.advance(ms - 1);
  assert.equal(started, false, `started before ${ms} ms`);
  await clock.advance(1);
  assert.equal(started, true, `not started after ${ms} ms`);
}

/** Within `tolerance` (relative) of `expected`. */
function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * expected, `${what}: ${actual}, expected ${expected} within ${tolerance * 100}%`);
}

test('iops: 10 s at 200 IOPS admits the burst and then 200 per second', async () => {
  const { ops } = await drive({ iops: 200 }, 'read', () => 4096, 10_000);
  // The bucket starts full (one second's worth, 200), then refills 2000 over 10 s.
  near(ops, 200 + 2000, 0.001, 'ops');
  const sustained = await drive({ iops: 200, iopsBurst: 1 }, 'write', () => 4096, 10_000, 8);
  near(sustained.ops / 10, 200, 0.01, 'IOPS without burst, 8 in flight');
});

test('iops-rd and iops-wr limit their own kind only', async () => {
  near((await drive({ iopsRead: 50, iopsBurst: 1 }, 'read', () => 512, 10_000)).ops / 10, 50, 0.01, 'read IOPS');
  near((await drive({ iopsWrite: 70, iopsBurst: 1 }, 'write', () => 512, 10_000)).ops / 10, 70, 0.01, 'write IOPS');
  // Writes under a read limit (and reads under a write limit) pass without waiting.
  const clock = new FakeClock();
  const throttle = new IoThrottle({ iopsRead: 1, iopsWrite: 1, iopsBurst: 1 }, clock);
  await throttle.admit('read', 512);
  await throttle.admit('write', 512);
  await startsAfter(clock, throttle.admit('write', 512), 1000);
});

test('bps, bps-rd and bps-wr: 10 s of bytes within 1% of the limit', async () => {
  near((await drive({ bps: 4 * MiB, bpsBurst: 1 }, 'read', () => MiB, 10_000)).bytes / 10, 4 * MiB, 0.01, 'bps, 1 MiB reads');
  near((await drive({ bpsRead: 3 * MiB, bpsBurst: 1 }, 'read', () => 64 * 1024, 10_000)).bytes / 10, 3 * MiB, 0.01, 'bps-rd');
  near((await drive({ bpsWrite: MiB, bpsBurst: 1 }, 'write', () => 4096, 10_000, 4)).bytes / 10, MiB, 0.01, 'bps-wr');
  // Request sizes from 4 KiB to 1 MiB, mixed: the debt of each large one is paid back exactly.
  const sizes = (n: number): number => 4096 * (1 + ((n * 2654435761) >>> 0) % 256);
  near((await drive({ bps: 2 * MiB, bpsBurst: 64 * 1024 }, 'write', sizes, 10_000, 2)).bytes / 10, 2 * MiB, 0.02, 'bps, mixed sizes');
});

test('after idling a burst passes at once, then requests are paced', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ iops: 100, iopsBurst: 20 }, clock);
  const admitted: number[] = [];
  for (let i = 0; i < 25; i++) void throttle.admit('read', 4096).then(() => admitted.push(clock.now()));
  await settle();
  assert.equal(admitted.length, 20);
  assert.equal(throttle.waiting, 5);
  await clock.advance(50);
  assert.deepEqual(admitted.slice(20), [10, 20, 30, 40, 50]);
  // Idle for a second: the bucket is full again, 20 pass at once and no more.
  await clock.advance(1000);
  const before = admitted.length;
  for (let i = 0; i < 21; i++) void throttle.admit('write', 4096).then(() => admitted.push(clock.now()));
  await settle();
  assert.equal(admitted.length - before, 20);
});

test('the default burst is one second of the limit', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ bps: 8192 }, clock);
  let passed = 0;
  for (let i = 0; i < 3; i++) void throttle.admit('read', 4096).then(() => passed++);
  await settle();
  assert.equal(passed, 2);
  await clock.advance(500);
  assert.equal(passed, 3);
});

test('a request larger than the burst passes once the bucket is full, and its debt delays the next', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ bps: 1000, bpsBurst: 1000 }, clock);
  await throttle.admit('write', 5000); // full bucket: passes, 4000 in debt
  await startsAfter(clock, throttle.admit('write', 1000), 5000);
  // Bigger than the bucket after the bucket was emptied: waits until it is full again.
  await startsAfter(clock, throttle.admit('read', 3000), 1000);
  assert.equal(clock.now(), 6000);
});

test('flush and discard (other) count one operation in the total IOPS and no bytes', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ bps: 1000, bpsBurst: 1000, iopsRead: 1, iopsWrite: 1, iopsBurst: 1 }, clock);
  for (let i = 0; i < 10; i++) await throttle.admit('other', 1 << 30); // neither bytes nor read/write ops
  assert.equal(clock.now(), 0);
  near((await drive({ iops: 10, iopsBurst: 1 }, 'other', () => 1 << 20, 10_000)).ops / 10, 10, 0.01, 'other ops');
  // And reads and writes take from the same total bucket as flushes.
  const shared = new IoThrottle({ iops: 1, iopsBurst: 1 }, clock);
  await shared.admit('other', 0);
  await startsAfter(clock, shared.admit('read', 512), 1000);
});

test('requests start in the order they were admitted, whatever their kind', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ iopsRead: 1, iopsBurst: 1 }, clock);
  const order: string[] = [];
  const admit = (kind: IoKind, name: string): void => void throttle.admit(kind, 512).then(() => order.push(name));
  admit('read', 'r1');
  admit('read', 'r2');
  admit('write', 'w1'); // unlimited, but behind r2
  admit('other', 'f1');
  admit('read', 'r3');
  await settle();
  assert.deepEqual(order, ['r1']);
  assert.equal(throttle.waiting, 4);
  await clock.advance(1000);
  assert.deepEqual(order, ['r1', 'r2', 'w1', 'f1']);
  await clock.advance(1000);
  assert.deepEqual(order, ['r1', 'r2', 'w1', 'f1', 'r3']);
  assert.equal(throttle.waiting, 0);
});

test('setLimits while requests wait judges them again at once', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ iops: 1, iopsBurst: 1 }, clock);
  await throttle.admit('read', 512);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) void throttle.admit('read', 512).then(() => times.push(clock.now()));
  await clock.advance(100);
  assert.equal(times.length, 0);
  // 0.1 token gathered at 1/s; 0.9 more at 100/s takes 9 ms, then 10 ms each.
  throttle.setLimits({ iops: 100, iopsBurst: 1 });
  assert.deepEqual(throttle.limits, { iops: 100, iopsBurst: 1 });
  await clock.advance(30);
  assert.deepEqual(times, [109, 119, 129]);
  // A slower limit holds back what waits; no limit lets it all through.
  throttle.setLimits({ iops: 0.5, iopsBurst: 1 });
  for (let i = 0; i < 3; i++) void throttle.admit('read', 512).then(() => times.push(clock.now()));
  await clock.advance(1000);
  assert.equal(times.length, 3);
  throttle.setLimits({});
  await settle();
  assert.equal(times.length, 6);
  assert.equal(throttle.waiting, 0);
});

test('close() lets every waiting request start at once; later ones are still throttled', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({ iopsWrite: 1, iopsBurst: 1 }, clock);
  let started = 0;
  for (let i = 0; i < 5; i++) void throttle.admit('write', 512).then(() => started++);
  await settle();
  assert.equal(started, 1);
  throttle.close();
  await settle();
  assert.equal(started, 5);
  assert.equal(throttle.waiting, 0);
  await startsAfter(clock, throttle.admit('write', 512), 1000);
});

test('without limits nothing waits; bad lengths and limits are refused', async () => {
  const clock = new FakeClock();
  const throttle = new IoThrottle({}, clock);
  for (let i = 0; i < 1000; i++) await throttle.admit('write', MiB);
  assert.equal(clock.pending, 0);
  await assert.rejects(throttle.admit('read', -1), (e: unknown) => e instanceof QosError && e.kind === 'bad-request');
  await assert.rejects(throttle.admit('read', 1.5), (e: unknown) => e instanceof QosError && e.kind === 'bad-request');
  assert.throws(() => new IoThrottle({ iops: -1 }, clock), (e: unknown) => e instanceof QosError && e.kind === 'bad-limit' && e.key === 'iops');
  assert.throws(() => throttle.setLimits({ bps: Number.NaN }), (e: unknown) => e instanceof QosError && e.kind === 'bad-limit' && e.key === 'bps');
});
