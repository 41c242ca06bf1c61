import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArpCache } from './arp-cache.js';
import { ipv4Address } from './ipv4.js';
import { localMac } from './mac-address.js';

const ip = (n: number) => ipv4Address(`10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`);

test('full: adding evicts the least recently used entry; get and set make an entry recent', () => {
  const cache = new ArpCache(3);
  cache.set(ip(1), localMac(1));
  cache.set(ip(2), localMac(2));
  cache.set(ip(3), localMac(3));
  assert.equal(cache.get(ip(1)), localMac(1));
  cache.set(ip(4), localMac(4));
  assert.equal(cache.has(ip(2)), false, 'the oldest untouched entry went');
  cache.set(ip(3), localMac(0x33));
  cache.set(ip(5), localMac(5));
  assert.deepEqual([...cache.keys()], [ip(4), ip(3), ip(5)], 'ip 1 was used before ip 4 arrived, so it went next');
  assert.equal(cache.get(ip(3)), localMac(0x33), 'updating refreshed and replaced the MAC');
  assert.equal(cache.size, 3);
  assert.equal(cache.evictions, 2);
});

test('has() does not refresh; updating a known address does not evict', () => {
  const cache = new ArpCache(2);
  cache.set(ip(1), localMac(1));
  cache.set(ip(2), localMac(2));
  assert.equal(cache.has(ip(1)), true);
  cache.set(ip(2), localMac(0x22));
  assert.equal(cache.evictions, 0);
  cache.set(ip(3), localMac(3));
  assert.deepEqual([...cache.keys()], [ip(2), ip(3)]);
});

test('a capacity that is not a positive integer is refused with a kind', () => {
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => new ArpCache(bad), (e: Error & { kind?: string }) => e.kind === 'arp-cache');
});
