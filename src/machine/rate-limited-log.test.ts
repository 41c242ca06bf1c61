import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedLog } from './rate-limited-log.js';

function setup() {
  const lines: string[] = [];
  let now = 0;
  const log = new RateLimitedLog((line) => lines.push(line), { burst: 3, windowMs: 1000, now: () => now });
  return { log, lines, advance: (ms: number) => (now += ms) };
}

test('a key prints its budget, then only counts; the count is one line when it next logs after the window', () => {
  const { log, lines, advance } = setup();
  for (let i = 0; i < 100_000; i++) log.line('blk: bad-desc', `bad descriptor ${i}`);
  assert.deepEqual(lines, ['bad descriptor 0', 'bad descriptor 1', 'bad descriptor 2']);
  advance(999);
  assert.equal(log.line('blk: bad-desc', 'still inside the window'), false);
  advance(1);
  assert.equal(log.line('blk: bad-desc', 'next window'), true);
  assert.deepEqual(lines.slice(3), ['blk: bad-desc: 99998 similar lines suppressed', 'next window']);
});

test('keys have separate budgets', () => {
  const { log, lines } = setup();
  for (let i = 0; i < 5; i++) {
    log.line('net: a', `a${i}`);
    log.line('blk: a', `b${i}`);
  }
  assert.deepEqual(lines, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
});

test('flush reports what was suppressed, once', () => {
  const { log, lines } = setup();
  for (let i = 0; i < 4; i++) log.line('k', 'x');
  log.flush();
  log.flush();
  assert.deepEqual(lines, ['x', 'x', 'x', 'k: 1 similar line suppressed']);
});
