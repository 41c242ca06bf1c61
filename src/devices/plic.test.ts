import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plic, PlicError } from './plic.js';
import type { PlicState } from './plic.js';

const priority = (id: number) => 4 * id;
const pendingWord = (word: number) => 0x1000 + 4 * word;
const enableWord = (context: number, word: number) => 0x2000 + 0x80 * context + 4 * word;
const threshold = (context: number) => 0x200000 + 0x1000 * context;
const claim = (context: number) => threshold(context) + 4;

/** A PLIC with `contexts` outputs whose levels are logged, as the virt board wires hart 0 M and S. */
function makePlic(contexts = 2, sources?: number) {
  const logs = Array.from({ length: contexts }, () => [] as boolean[]);
  const plic = new Plic({ ...(sources === undefined ? {} : { sources }), contexts: logs.map((log) => ({ set: (l: boolean) => log.push(l) })) });
  const level = (context: number) => logs[context]!.at(-1) ?? false;
  const enable = (context: number, ...ids: number[]) => {
    for (const id of ids) {
      const at = enableWord(context, id >> 5);
      plic.write(at, 4, plic.read(at, 4) | (1 << (id & 31)));
    }
  };
  const setPriority = (id: number, p: number) => plic.write(priority(id), 4, p);
  return { plic, logs, level, enable, setPriority };
}

test('defaults to 95 sources: priorities of ids 1..95 are writable, 96 and up read zero', () => {
  const { plic } = makePlic();
  assert.equal(plic.sourceCount, 95);
  plic.write(priority(95), 4, 5);
  plic.write(priority(96), 4, 5);
  assert.equal(plic.read(priority(95), 4), 5);
  assert.equal(plic.read(priority(96), 4), 0);
  assert.equal(Plic.WINDOW_SIZE, 0x4000000);
});

test('priority and threshold are WARL with three bits; source 0 has no priority', () => {
  const { plic } = makePlic();
  plic.write(priority(3), 4, 0xffffffff);
  assert.equal(plic.read(priority(3), 4), 7);
  plic.write(priority(0), 4, 3);
  assert.equal(plic.read(priority(0), 4), 0);
  plic.write(threshold(1), 4, 0x1234);
  assert.equal(plic.read(threshold(1), 4), 4);
});

test('enable bits exist only for sources 1..N: bit 0 and bits above N are hardwired to zero', () => {
  const { plic } = makePlic(2, 40);
  plic.write(enableWord(0, 0), 4, 0xffffffff);
  plic.write(enableWord(0, 1), 4, 0xffffffff);
  plic.write(enableWord(0, 2), 4, 0xffffffff);
  assert.equal(plic.read(enableWord(0, 0), 4), 0xfffffffe);
  assert.equal(plic.read(enableWord(0, 1), 4), 0x1ff, 'ids 32..40');
  assert.equal(plic.read(enableWord(0, 2), 4), 0);
  assert.equal(plic.read(enableWord(1, 0), 4), 0, 'contexts have separate enables');
});

test('a raised line sets its pending bit and raises the output of each context that enables it', () => {
  const { plic, level, enable, setPriority } = makePlic();
  setPriority(10, 1);
  plic.source(10).set(true);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 10);
  assert.equal(level(0), false, 'pending but not enabled anywhere');
  enable(1, 10);
  assert.equal(level(1), true);
  assert.equal(level(0), false);
  // Multicast: every context that enables the source is notified.
  enable(0, 10);
  assert.equal(level(0), true);
  assert.equal(plic.read(claim(0), 4), 10);
  assert.equal(level(0), false);
  assert.equal(level(1), false, 'once claimed, no other context can claim it');
  assert.equal(plic.read(claim(1), 4), 0);
});

test('claim takes the highest priority first, ties go to the lowest id, and claims clear pending bits', () => {
  const { plic, level, enable, setPriority } = makePlic();
  for (const [id, p] of [[5, 2], [9, 6], [40, 6], [3, 2]] as const) {
    setPriority(id, p);
    enable(1, id);
    plic.source(id).set(true);
  }
  assert.equal(plic.read(pendingWord(0), 4), (1 << 3) | (1 << 5) | (1 << 9));
  assert.equal(plic.read(pendingWord(1), 4), 1 << 8);
  const order: number[] = [];
  for (let id = plic.read(claim(1), 4); id !== 0; id = plic.read(claim(1), 4)) order.push(id);
  assert.deepEqual(order, [9, 40, 3, 5]);
  assert.equal(plic.read(pendingWord(0), 4), 0);
  assert.equal(plic.read(pendingWord(1), 4), 0);
  assert.equal(level(1), false);
});

test('the threshold masks priorities at or below it, for notification and claim alike', () => {
  const { plic, level, enable, setPriority } = makePlic();
  setPriority(1, 3);
  setPriority(2, 5);
  enable(1, 1, 2);
  plic.write(threshold(1), 4, 5);
  plic.source(1).set(true);
  plic.source(2).set(true);
  assert.equal(level(1), false);
  assert.equal(plic.read(claim(1), 4), 0);
  plic.write(threshold(1), 4, 4);
  assert.equal(level(1), true);
  assert.equal(plic.read(claim(1), 4), 2);
  assert.equal(level(1), false, 'source 1 (priority 3) is still masked');
  plic.write(threshold(1), 4, 0);
  assert.equal(level(1), true);
  assert.equal(plic.read(claim(1), 4), 1);
});

test('priority 0 never interrupts, even with threshold 0; raising it later makes the request claimable', () => {
  const { plic, level, enable, setPriority } = makePlic();
  enable(0, 7);
  plic.source(7).set(true);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 7, 'the request is latched');
  assert.equal(level(0), false);
  assert.equal(plic.read(claim(0), 4), 0);
  setPriority(7, 1);
  assert.equal(level(0), true);
  setPriority(7, 0);
  assert.equal(level(0), false, 'lowering the priority withdraws the notification');
});

test('a level source is not re-pended while in service, and pends again on complete if still high', () => {
  const { plic, level, enable, setPriority } = makePlic();
  const line = plic.source(4);
  setPriority(4, 1);
  enable(1, 4);
  line.set(true);
  assert.equal(plic.read(claim(1), 4), 4);
  // Still high, and toggling it while in service does not make a new request.
  line.set(false);
  line.set(true);
  assert.equal(plic.read(pendingWord(0), 4), 0);
  assert.equal(level(1), false);
  plic.write(claim(1), 4, 4);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 4);
  assert.equal(level(1), true);
  assert.equal(plic.read(claim(1), 4), 4);
  // Dropped before completion: nothing new after complete.
  line.set(false);
  plic.write(claim(1), 4, 4);
  assert.equal(plic.read(pendingWord(0), 4), 0);
  assert.equal(level(1), false);
  // And the next assertion is a fresh request.
  line.set(true);
  assert.equal(level(1), true);
});

test('a request stays pending if the line drops before it is claimed (the gateway cannot retract it)', () => {
  const { plic, level, enable, setPriority } = makePlic();
  setPriority(2, 1);
  enable(1, 2);
  plic.source(2).set(true);
  plic.source(2).set(false);
  assert.equal(level(1), true);
  assert.equal(plic.read(claim(1), 4), 2);
  plic.write(claim(1), 4, 2);
  assert.equal(level(1), false);
});

test('completion is ignored for a source not enabled on the completing context', () => {
  const { plic, enable, setPriority } = makePlic();
  setPriority(6, 1);
  enable(1, 6);
  plic.source(6).set(true);
  assert.equal(plic.read(claim(1), 4), 6);
  plic.write(claim(0), 4, 6);
  assert.equal(plic.read(pendingWord(0), 4), 0, 'context 0 does not enable 6: still in service');
  // Completing an id that does not exist is ignored too.
  plic.write(claim(1), 4, 0);
  plic.write(claim(1), 4, 1000);
  plic.write(claim(1), 4, 6);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 6);
});

test('the output follows enables: disabling the only claimable source lowers it', () => {
  const { plic, logs, level, enable, setPriority } = makePlic();
  setPriority(33, 2);
  plic.source(33).set(true);
  enable(0, 33);
  assert.equal(level(0), true);
  plic.write(enableWord(0, 1), 4, 0);
  assert.equal(level(0), false);
  assert.deepEqual(logs[0], [false, true, false], 'the output is driven only when it changes');
});

test('bad accesses are ignored: narrow, misaligned, absent contexts, pending writes, reserved words', () => {
  const { plic, logs, enable, setPriority } = makePlic();
  setPriority(1, 1);
  enable(0, 1);
  plic.source(1).set(true);
  assert.equal(plic.read(priority(1), 1), 0);
  assert.equal(plic.read(priority(1) + 2, 2), 0);
  plic.write(priority(1), 2, 7);
  plic.write(priority(1) + 1, 4, 7);
  assert.equal(plic.read(priority(1), 4), 1);
  // A narrow read of claim must not claim.
  assert.equal(plic.read(claim(0), 2), 0);
  plic.write(pendingWord(0), 4, 0);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 1);
  // Context 2 does not exist on a two-context PLIC.
  assert.equal(plic.read(enableWord(2, 0), 4), 0);
  plic.write(threshold(2), 4, 1);
  assert.equal(plic.read(threshold(2), 4), 0);
  assert.equal(plic.read(claim(2), 4), 0);
  assert.equal(plic.read(threshold(0) + 8, 4), 0);
  assert.equal(plic.read(0x1f0000, 4), 0);
  assert.equal(plic.read(-4, 4), 0);
  assert.equal(plic.read(Plic.WINDOW_SIZE, 4), 0);
  assert.equal(plic.read(claim(0), 4), 1, 'the source is still claimable');
  assert.equal(logs.length, 2);
});

test('construction and source lookup reject wiring mistakes', () => {
  const { plic } = makePlic();
  assert.throws(() => plic.source(0), PlicError);
  assert.throws(() => plic.source(96), /sources are 1 to 95/);
  assert.throws(() => new Plic({ sources: 1024, contexts: [{ set() {} }] }), PlicError);
  assert.throws(() => new Plic({ contexts: [] }), /context outputs/);
});

test('reset clears the registers but keeps line levels: a high line pends again', () => {
  const { plic, level, enable, setPriority } = makePlic();
  setPriority(8, 3);
  enable(0, 8);
  plic.source(8).set(true);
  assert.equal(plic.read(claim(0), 4), 8);
  plic.reset();
  assert.equal(plic.read(priority(8), 4), 0);
  assert.equal(plic.read(enableWord(0, 0), 4), 0);
  assert.equal(plic.read(pendingWord(0), 4), 1 << 8);
  assert.equal(level(0), false);
});

test('save/restore round-trips priorities, enables, thresholds, pending and in-service sources', () => {
  const a = makePlic();
  a.setPriority(3, 2);
  a.setPriority(70, 5);
  a.enable(1, 3, 70);
  a.plic.write(threshold(0), 4, 7);
  a.plic.write(threshold(1), 4, 1);
  a.plic.source(3).set(true);
  a.plic.source(70).set(true);
  assert.equal(a.plic.read(claim(1), 4), 70);
  const state = JSON.parse(JSON.stringify(a.plic.save())) as PlicState;
  assert.deepEqual(state.inService, [70]);
  assert.deepEqual(state.pending, [3]);

  const b = makePlic();
  b.plic.restore(state);
  assert.deepEqual(b.plic.save(), state);
  assert.equal(b.level(1), true, 'source 3 is claimable on context 1');
  assert.equal(b.plic.read(threshold(0), 4), 7);
  assert.equal(b.plic.read(claim(1), 4), 3);
  // Source 70 is still in service: completing it re-pends it, its line being high.
  b.plic.write(claim(1), 4, 70);
  assert.equal(b.plic.read(claim(1), 4), 70);

  assert.throws(() => b.plic.restore({ ...state, version: 2 as 1 }), /version 2/);
  assert.throws(() => b.plic.restore({ ...state, contexts: state.contexts.slice(1) }), /1 contexts/);
  assert.throws(() => b.plic.restore({ ...state, pending: [96] }), /out of range/);
});
