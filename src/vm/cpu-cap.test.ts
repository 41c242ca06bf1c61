import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuCap, CpuCapError } from './cpu-cap.js';

/** A process whose CPU use the test sets: `use(percent, ms)` moves time and CPU on together. */
function fakeProcess() {
  let ms = 0;
  let micros = 0;
  return {
    now: () => ms,
    cpuMicros: () => micros,
    use(percent: number, forMs: number) {
      ms += forMs;
      micros += percent * 10 * forMs;
    },
  };
}

test('usedPercent is the process\'s CPU over the last second', () => {
  const p = fakeProcess();
  const board = { cpuThrottle: 0 };
  const cap = new CpuCap(board, { harts: 1, ...p });
  p.use(50, 500);
  assert.equal(cap.usedPercent, 50);
  for (let i = 0; i < 8; i++) {
    p.use(20, 250);
    cap.tick();
  }
  assert.equal(cap.usedPercent, 20);
});

test('a cap is checked and put in force at once; null lets the guest run free', () => {
  const p = fakeProcess();
  const board = { cpuThrottle: 0 };
  const cap = new CpuCap(board, { harts: 1, ...p });
  for (const bad of [4.9, 101, NaN, Infinity]) assert.throws(() => cap.set(bad), (e: unknown) => e instanceof CpuCapError && e.kind === 'bad-cap' && /5 to 100/.test(e.message));
  assert.equal(cap.capPercent, null);
  cap.set(30);
  assert.equal(cap.capPercent, 30);
  assert.ok(cap.freeShare > 0.15 && cap.freeShare < 0.3, `free share ${cap.freeShare}`);
  // At the start of the period the guest runs; past its free share it is held.
  assert.equal(board.cpuThrottle, 0);
  p.use(0, 50);
  cap.set(30);
  assert.ok(board.cpuThrottle >= 0.9, `held at ${board.cpuThrottle}`);
  cap.set(null);
  assert.equal(board.cpuThrottle, 0);
  assert.equal(cap.freeShare, 1);
  assert.equal(new CpuCap(board, { harts: 2, ...p }).maxPercent, 200);
});

test('the free share follows the measured use: down when over the cap, up when under, within bounds', () => {
  const p = fakeProcess();
  const cap = new CpuCap({ cpuThrottle: 0 }, { harts: 1, ...p });
  cap.set(30);
  const first = cap.freeShare;
  for (let i = 0; i < 4; i++) {
    p.use(45, 250);
    cap.tick();
  }
  const lowered = cap.freeShare;
  assert.ok(lowered < first, `over the cap: ${lowered} < ${first}`);
  // A guest under its cap: the share grows, but only so far from the first guess.
  for (let i = 0; i < 40; i++) {
    p.use(20, 250);
    cap.tick();
  }
  assert.ok(cap.freeShare > first && cap.freeShare <= first + 0.31, `under: ${cap.freeShare}`);
});

test('while held (a migration drives the throttle) the cap leaves it alone, and comes back after', () => {
  const p = fakeProcess();
  const board = { cpuThrottle: 0 };
  const cap = new CpuCap(board, { harts: 1, ...p });
  cap.set(20);
  cap.hold();
  const start = board.cpuThrottle;
  assert.ok(start > 0.5, 'auto-converge starts from the cap\'s average hold');
  board.cpuThrottle = 0.9;
  p.use(80, 250);
  cap.tick();
  cap.set(25);
  assert.equal(board.cpuThrottle, 0.9, 'the migration\'s throttle stays while held');
  board.cpuThrottle = 0;
  cap.release();
  assert.equal(cap.capPercent, 25);
  p.use(0, 99);
  cap.release();
  assert.ok(board.cpuThrottle >= 0.9, 'the cap is back in force');
});

test('under a cap, an idle guest lets it rest (no hold, no timers); a busy one brings it back at once', () => {
  const p = fakeProcess();
  const board = { cpuThrottle: 0 };
  const cap = new CpuCap(board, { harts: 1, ...p });
  cap.set(30);
  for (let i = 0; i < 8; i++) {
    p.use(0, 250);
    cap.tick();
  }
  p.use(0, 80); // late in a 100 ms period, where a cap in force holds the guest
  cap.tick();
  assert.equal(cap.resting, true);
  assert.equal(board.cpuThrottle, 0);
  for (let i = 0; i < 2; i++) {
    p.use(100, 250);
    cap.tick();
  }
  assert.equal(cap.resting, false, 'busy: the cap is in force again');
  assert.ok(board.cpuThrottle >= 0.9, `held late in the period: ${board.cpuThrottle}`);
});

test('with no cap in force no timer samples the process; usedPercent samples when read', () => {
  const p = fakeProcess();
  const cap = new CpuCap({ cpuThrottle: 0 }, { harts: 1, ...p });
  cap.start();
  try {
    assert.equal(cap.sampling, false, 'no cap: nothing runs');
    p.use(10, 2000);
    assert.equal(cap.usedPercent, 10);
    // Read rarely: the figure spans back to the newest reading at least a second old.
    p.use(40, 3000);
    assert.equal(cap.usedPercent, 40);
    p.use(60, 1500);
    assert.equal(cap.usedPercent, 60);
    cap.set(50);
    assert.equal(cap.sampling, true, 'a cap in force samples the use');
    cap.set(null);
    assert.equal(cap.sampling, false, 'the cap lifted: the sampler stops');
  } finally {
    cap.stop();
  }
  cap.set(30);
  assert.equal(cap.sampling, false, 'a stopped cap samples nothing, cap or not');
});
