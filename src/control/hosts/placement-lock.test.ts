import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlacementLock } from './placement-lock.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('holders of one key take turns; other keys run meanwhile; a failure does not block the next', async () => {
  const lock = new PlacementLock();
  const order: string[] = [];
  const held = async (name: string, fail = false) => {
    order.push(`${name}+`);
    await tick();
    order.push(`${name}-`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([
    lock.run('dc1', () => held('a', true)), lock.run('dc1', () => held('b')), lock.run('dc2', () => held('c')),
  ]);
  assert.equal(results[0].status, 'rejected');
  assert.deepEqual(results.slice(1).map((r) => (r as PromiseFulfilledResult<string>).value), ['b', 'c']);
  assert.ok(order.indexOf('a-') < order.indexOf('b+'), `a ends before b starts: ${order.join(' ')}`);
  assert.ok(order.indexOf('c+') < order.indexOf('a-'), `c does not wait for dc1: ${order.join(' ')}`);
});
