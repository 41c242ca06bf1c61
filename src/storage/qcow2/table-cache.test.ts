import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TableCache } from './table-cache.js';

test('TableCache keeps at most its capacity, evicting the least recently used table', () => {
  const cache = new TableCache(2);
  const a = new Uint8Array(1);
  const b = new Uint8Array(1);
  const c = new Uint8Array(1);
  cache.set(0, a);
  cache.set(512, b);
  assert.equal(cache.get(0), a); // 0 is now the most recently used
  cache.set(1024, c);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(512), undefined, 'the least recently used table was evicted');
  assert.equal(cache.get(0), a);
  assert.equal(cache.get(1024), c);
  cache.delete(0);
  assert.equal(cache.get(0), undefined);
  cache.clear();
  assert.equal(cache.size, 0);
});

test('TableCache refuses a capacity below one table', () => {
  assert.throws(() => new TableCache(0), RangeError);
  assert.throws(() => new TableCache(1.5), RangeError);
});
