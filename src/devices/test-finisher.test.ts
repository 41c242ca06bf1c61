import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestFinisher, type FinisherEvent } from './test-finisher.js';

function makeFinisher() {
  const events: FinisherEvent[] = [];
  return { finisher: new TestFinisher((e) => events.push(e)), events };
}

test('0x5555 reports pass', () => {
  const { finisher, events } = makeFinisher();
  finisher.write(0, 4, 0x5555);
  assert.deepEqual(events, [{ kind: 'pass' }]);
});

test('(code << 16) | 0x3333 reports fail with the code', () => {
  const { finisher, events } = makeFinisher();
  finisher.write(0, 4, (42 << 16) | 0x3333);
  finisher.write(0, 4, (0xffff << 16) | 0x3333);
  assert.deepEqual(events, [{ kind: 'fail', code: 42 }, { kind: 'fail', code: 0xffff }]);
});

test('0x7777 reports reset', () => {
  const { finisher, events } = makeFinisher();
  finisher.write(0, 4, 0x7777);
  assert.deepEqual(events, [{ kind: 'reset' }]);
});

test('other values, other offsets and byte stores are ignored; reads are zero', () => {
  const { finisher, events } = makeFinisher();
  finisher.write(0, 4, 0x1234);
  finisher.write(0, 4, 0x5556);
  finisher.write(4, 4, 0x5555);
  finisher.write(0, 1, 0x55);
  assert.deepEqual(events, []);
  assert.equal(finisher.read(0, 4), 0);
});

test('a 16-bit store of a status works', () => {
  const { finisher, events } = makeFinisher();
  finisher.write(0, 2, 0x5555);
  assert.deepEqual(events, [{ kind: 'pass' }]);
});
