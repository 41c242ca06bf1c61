import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIMEBASE_HZ, VirtualClock } from './virtual-clock.js';

test('counts 10 MHz ticks from creation on the host clock', () => {
  let ms = 5000.25;
  const clock = new VirtualClock(() => ms);
  assert.equal(TIMEBASE_HZ, 10_000_000);
  assert.equal(clock.now(), 0);
  ms += 1.5;
  assert.equal(clock.now(), 15_000);
  ms += 0.00001; // 0.1 tick: still whole ticks
  assert.equal(clock.now(), 15_000);
  assert.equal(clock.ticksToMs(10_000), 1);
});

test('the default host clock is monotonic and advances', async () => {
  const clock = new VirtualClock();
  const a = clock.now();
  await new Promise((r) => setTimeout(r, 5));
  const b = clock.now();
  assert.ok(b >= a + 40_000, `expected at least 4 ms of ticks, got ${b - a}`);
});

test('the timebase is configurable within sane bounds', () => {
  let ms = 0;
  const clock = new VirtualClock(() => ms, 1_000_000);
  ms = 2.5;
  assert.equal(clock.now(), 2500);
  assert.equal(clock.ticksToMs(1_000_000), 1000);
  assert.throws(() => new VirtualClock(() => 0, 10), /out of range/);
});

test('a paused clock stands still and resumes where it stopped', () => {
  let ms = 100;
  const clock = new VirtualClock(() => ms);
  ms += 2;
  clock.pause();
  ms += 1000;
  assert.equal(clock.now(), 20_000);
  clock.pause(); // pausing twice changes nothing
  clock.resume();
  assert.equal(clock.now(), 20_000);
  ms += 1;
  assert.equal(clock.now(), 30_000);
});
