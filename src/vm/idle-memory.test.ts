import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleMemory } from './idle-memory.js';
import { RamDiscard } from '../core/ram-discard.js';
import { fullGc } from './full-gc.js';
import { readFileSync } from 'node:fs';

function watch(): { idle: IdleMemory; run: (n: number) => void; trims: () => number } {
  let instructions = 0;
  let trims = 0;
  const idle = new IdleMemory({ instructions: () => instructions, trim: () => (trims++, true), idlePeriods: 3, idleInstructions: 1000 });
  return { idle, run: (n) => (instructions += n), trims: () => trims };
}

test('the memory is trimmed after three idle periods in a row, once per idle spell', () => {
  const { idle, run, trims } = watch();
  idle.tick();
  idle.tick();
  assert.equal(trims(), 0);
  run(5000);
  idle.tick(); // busy: the spell starts over
  idle.tick();
  idle.tick();
  assert.equal(trims(), 0);
  idle.tick();
  assert.equal(trims(), 1);
  idle.tick();
  idle.tick();
  idle.tick();
  assert.equal(trims(), 1, 'not again while the guest stays idle');
  run(999);
  idle.tick();
  assert.equal(trims(), 1, 'a little work is still idle');
  run(1000);
  idle.tick();
  idle.tick();
  idle.tick();
  idle.tick();
  assert.equal(trims(), 2, 'a new spell after the guest got busy');
  assert.equal(idle.trims, 2);
});

test('idle() comes every period of a long enough idle spell, and busy() every period that was not idle', () => {
  let instructions = 0;
  let idles = 0;
  let busies = 0;
  const idle = new IdleMemory({ instructions: () => instructions, trim: () => true, idle: () => idles++, busy: () => busies++, idlePeriods: 2, idleInstructions: 1000 });
  idle.tick();
  assert.equal(idles, 0);
  idle.tick();
  idle.tick();
  assert.equal(idles, 2);
  assert.equal(busies, 0);
  instructions += 1000;
  idle.tick();
  assert.equal(idles, 2, 'a busy period starts the spell over');
  assert.equal(busies, 1);
  idle.tick();
  idle.tick();
  assert.equal(idles, 3);
});

test('a trim with nothing to drop is not counted', () => {
  const idle = new IdleMemory({ instructions: () => 0, trim: () => false, idlePeriods: 1 });
  idle.tick();
  assert.equal(idle.trims, 0);
});

function rssAnon(): number {
  return Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
}

test('a full collection and trimHeap give the C heap free memory back to the host', () => {
  // Many buffers below malloc's mmap threshold fill the heap; all but the last are then freed.
  let buffers: Buffer[] | null = Array.from({ length: 2048 }, () => Buffer.alloc(32 * 1024, 1));
  const last = buffers[buffers.length - 1]!;
  buffers = null;
  fullGc();
  const before = rssAnon();
  RamDiscard.load().trimHeap();
  const after = rssAnon();
  assert.ok(before - after > 16 * 1024 * 1024, `RSS fell by ${((before - after) / 1048576).toFixed(1)} MiB, expected most of 64`);
  assert.equal(last[0], 1);
});
