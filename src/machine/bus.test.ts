import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, BusError } from './bus.js';
import type { AccessSize, MmioDevice } from '../devices/mmio-device.js';

/** A device that records accesses and answers with its own offset. */
function probe() {
  const writes: Array<[number, AccessSize, number]> = [];
  const device: MmioDevice = {
    read: (offset) => offset,
    write: (offset, size, value) => {
      writes.push([offset, size, value]);
    },
  };
  return { device, writes };
}

test('accesses reach the device with offsets relative to its base', () => {
  const bus = new Bus();
  const a = probe();
  const b = probe();
  bus.map(0x1000_0000, 0x100, a.device, 'uart0');
  bus.map(0x0200_0000, 0x1_0000, b.device, 'clint');
  assert.equal(bus.read(0x1000_0005, 1), 5);
  assert.equal(bus.read(0x0200_bff8, 4), 0xbff8);
  assert.equal(bus.write(0x1000_0000, 1, 0x41), true);
  assert.deepEqual(a.writes, [[0, 1, 0x41]]);
  assert.deepEqual(bus.list().map((m) => m.name), ['clint', 'uart0']);
});

test('unmapped accesses return -1 / false and are counted', () => {
  const bus = new Bus();
  bus.map(0x1000, 0x100, probe().device, 'dev');
  assert.equal(bus.read(0x0, 4), -1);
  assert.equal(bus.read(0x1100, 1), -1);
  assert.equal(bus.write(0xfff, 1, 0), false);
  assert.equal(bus.unmappedReads, 2);
  assert.equal(bus.unmappedWrites, 1);
});

test('an access running past the end of a window finds nothing', () => {
  const bus = new Bus();
  bus.map(0x1000, 0x100, probe().device, 'dev');
  assert.equal(bus.read(0x10fe, 2), 0xfe);
  assert.equal(bus.read(0x10fe, 4), -1);
});

test('overlapping windows are rejected with both names and ranges', () => {
  const bus = new Bus();
  bus.map(0x1000, 0x1000, probe().device, 'first');
  for (const [base, size] of [[0x1000, 0x10], [0x0800, 0x1000], [0x1fff, 1], [0x0, 0x10000]] as const) {
    assert.throws(
      () => bus.map(base, size, probe().device, 'second'),
      (e: unknown) => e instanceof BusError && e.kind === 'bus' && e.device === 'second' && /overlaps first at 0x1000-0x1fff/.test(e.message),
    );
  }
  bus.map(0x2000, 0x10, probe().device, 'adjacent');
  bus.map(0x0, 0x1000, probe().device, 'below');
  assert.equal(bus.list().length, 3);
});

test('invalid windows are rejected', () => {
  const bus = new Bus();
  assert.throws(() => bus.map(0x1000, 0, probe().device, 'empty'), BusError);
  assert.throws(() => bus.map(-1, 4, probe().device, 'negative'), BusError);
  assert.throws(() => bus.map(0.5, 4, probe().device, 'fraction'), BusError);
});
