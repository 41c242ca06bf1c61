import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { VirtioStatus } from '../virtio-device.js';
import { VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_NEXT } from '../virtqueue.js';
import { TEST_RAM_BASE, VirtioTestDriver } from '../testing/virtio-test-driver.js';
import { BalloonFeature, BalloonQueue, VirtioBalloonDevice, type FreePageSink } from './device.js';
import type { VirtioBalloonState } from './state.js';

const RAM = 4 << 20;
const PAGE = 4096;

/** A sink over the test driver's RAM: zeroes what it is given, as a discard does. */
class ZeroingSink implements FreePageSink {
  readonly ranges: Array<[number, number]> = [];
  ram: Uint8Array | null = null;
  discard(paddr: number, length: number): number {
    const offset = paddr - TEST_RAM_BASE;
    if (this.ram === null || offset < 0 || offset + length > this.ram.length) return -1;
    this.ranges.push([paddr, length]);
    this.ram.fill(0, offset, offset + length);
    return length;
  }
}

function setup(accept?: (offered: bigint) => bigint) {
  const sink = new ZeroingSink();
  const device = new VirtioBalloonDevice({ sink, queueSize: 64 });
  const driver = new VirtioTestDriver(device, { ramBytes: RAM });
  sink.ram = driver.ram;
  const status = driver.init(accept ? { accept } : {});
  return { device, driver, sink, status };
}

/** Publishes one chain of device-writable descriptors naming the given ranges, as Linux's report does. */
function report(driver: VirtioTestDriver, ranges: Array<[number, number]>): number {
  const tq = driver.queues[BalloonQueue.REPORTING]!;
  const ids = ranges.map(() => driver.takeDesc(BalloonQueue.REPORTING));
  ranges.forEach(([addr, len], i) => driver.writeDesc(tq.desc, ids[i]!, addr, len, VIRTQ_DESC_F_WRITE | (i + 1 < ranges.length ? VIRTQ_DESC_F_NEXT : 0), ids[i + 1] ?? 0));
  driver.publish(BalloonQueue.REPORTING, ids[0]!);
  driver.w(R.QUEUE_NOTIFY, BalloonQueue.REPORTING);
  return ids[0]!;
}

function pfnArray(pfns: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * pfns.length);
  const view = new DataView(bytes.buffer);
  pfns.forEach((pfn, i) => view.setUint32(4 * i, pfn, true));
  return bytes;
}

test('device id 5 offers free page reporting and deflate-on-OOM, three queues, num_pages 0', () => {
  const { driver, status } = setup();
  assert.equal(driver.r(R.DEVICE_ID), 5);
  assert.ok(status & VirtioStatus.DRIVER_OK);
  const features = driver.deviceFeatures();
  assert.equal(features & BalloonFeature.REPORTING, BalloonFeature.REPORTING);
  assert.equal(features & BalloonFeature.DEFLATE_ON_OOM, BalloonFeature.DEFLATE_ON_OOM);
  assert.equal(features & (1n << 1n), 0n, 'no stats queue, so reporting_vq stays at index 2');
  assert.equal(features & (1n << 3n), 0n, 'no free page hinting');
  assert.equal(driver.queues.length, 3);
  assert.equal(driver.transport.read(R.CONFIG, 4), 0);
});

test('the driver writes actual; num_pages is read-only; partial writes change their bytes only', () => {
  const { driver, device } = setup();
  driver.transport.write(R.CONFIG + 4, 4, 0x1234_5678);
  driver.transport.write(R.CONFIG, 4, 99);
  assert.equal(driver.transport.read(R.CONFIG + 4, 4), 0x1234_5678);
  assert.equal(driver.transport.read(R.CONFIG, 4), 0);
  driver.transport.write(R.CONFIG + 5, 1, 0xab);
  assert.equal(device.actualPages, 0x1234_ab78);
});

test('reported ranges are discarded, read back as zero, and counted; the buffer returns with 0 bytes', () => {
  const { driver, device, sink } = setup();
  const a = TEST_RAM_BASE + 0x10_0000;
  const b = TEST_RAM_BASE + 0x30_0000;
  driver.ram.fill(0xaa, a - TEST_RAM_BASE, a - TEST_RAM_BASE + 0x2_0000);
  driver.ram.fill(0xbb, b - TEST_RAM_BASE - PAGE, b - TEST_RAM_BASE + 2 * PAGE);
  const head = report(driver, [[a, 0x1_0000], [b, PAGE]]);
  assert.deepEqual(driver.takeUsed(BalloonQueue.REPORTING), [{ id: head, len: 0 }]);
  assert.deepEqual(sink.ranges, [[a, 0x1_0000], [b, PAGE]]);
  assert.ok(driver.bytes(a, 0x1_0000).every((v) => v === 0));
  assert.ok(driver.bytes(a + 0x1_0000, 0x1_0000).every((v) => v === 0xaa), 'the rest of the block is untouched');
  assert.ok(driver.bytes(b - PAGE, PAGE).every((v) => v === 0xbb) && driver.bytes(b + PAGE, PAGE).every((v) => v === 0xbb), 'neighbours untouched');
  assert.equal(device.counters.reportedBytes, 0x1_0000 + PAGE);
  assert.equal(device.counters.discardedBytes, 0x1_0000 + PAGE);
  assert.equal(driver.irqLevel, true);
  assert.deepEqual(driver.faultKinds(), []);
});

test('hostile reports: unaligned, empty and out-of-RAM ranges are faults, the good ones still go, the buffer returns', () => {
  const { driver, device, sink } = setup();
  const good = TEST_RAM_BASE + 0x20_0000;
  report(driver, [
    [TEST_RAM_BASE + 0x10_0800, PAGE],
    [TEST_RAM_BASE + 0x10_0000, 100],
    [TEST_RAM_BASE + 0x10_0000, 0],
    [TEST_RAM_BASE + RAM - PAGE, 2 * PAGE],
    [0x1_0000_0000_0000, PAGE],
    [0, PAGE],
    [good, PAGE],
  ]);
  assert.equal(driver.takeUsed(BalloonQueue.REPORTING).length, 1);
  assert.deepEqual(sink.ranges, [[good, PAGE]]);
  assert.deepEqual(driver.faultKinds(), [
    'balloon-report-unaligned', 'balloon-report-unaligned', 'balloon-report-unaligned',
    'balloon-report-outside-ram', 'balloon-report-outside-ram', 'balloon-report-outside-ram',
  ]);
  assert.equal(device.counters.reportedBytes, PAGE);
  assert.equal(device.counters.faults, 6);
  assert.ok(!(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET), 'a bad range is not a broken ring');
});

test('a chain longer than the queue is a broken ring, not a host exception', () => {
  const { driver, sink } = setup();
  const tq = driver.queues[BalloonQueue.REPORTING]!;
  // A loop: descriptor 0 chains to itself.
  driver.writeDesc(tq.desc, 0, TEST_RAM_BASE + 0x10_0000, PAGE, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
  driver.publish(BalloonQueue.REPORTING, 0);
  driver.w(R.QUEUE_NOTIFY, BalloonQueue.REPORTING);
  assert.deepEqual(sink.ranges, []);
  assert.ok(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET);
});

test('inflate discards the pages named (runs of consecutive pages at once); deflate only counts', () => {
  const { driver, device, sink } = setup();
  const base = TEST_RAM_BASE / PAGE;
  driver.ram.fill(0xcc, 0x20_0000, 0x20_0000 + 4 * PAGE);
  driver.submit(BalloonQueue.INFLATE, [{ read: pfnArray([base + 0x200, base + 0x201, base + 0x203]) }]);
  assert.deepEqual(driver.takeUsed(BalloonQueue.INFLATE).map((u) => u.len), [0]);
  assert.deepEqual(sink.ranges, [[TEST_RAM_BASE + 0x20_0000, 2 * PAGE], [TEST_RAM_BASE + 0x20_3000, PAGE]]);
  assert.ok(driver.bytes(TEST_RAM_BASE + 0x20_2000, PAGE).every((v) => v === 0xcc), 'the page not named keeps its bytes');
  assert.equal(device.counters.inflatedPages, 3);
  assert.equal(device.counters.discardedBytes, 3 * PAGE);
  driver.submit(BalloonQueue.DEFLATE, [{ read: pfnArray([base + 0x200, base + 0x201]) }]);
  assert.equal(driver.takeUsed(BalloonQueue.DEFLATE).length, 1);
  assert.equal(device.counters.deflatedPages, 2);
  assert.equal(sink.ranges.length, 2, 'deflate discards nothing');
});

test('hostile inflate: ragged or oversized arrays and PFNs outside RAM are faults', () => {
  const sink = new ZeroingSink();
  const device = new VirtioBalloonDevice({ sink, maxPfnsPerRequest: 4 });
  const driver = new VirtioTestDriver(device, { ramBytes: RAM });
  sink.ram = driver.ram;
  driver.init();
  driver.submit(BalloonQueue.INFLATE, [{ read: new Uint8Array(6) }]);
  driver.submit(BalloonQueue.INFLATE, [{ read: pfnArray([1, 2, 3, 4, 5]) }]);
  driver.submit(BalloonQueue.INFLATE, [{ read: pfnArray([0, 0xffff_ffff, TEST_RAM_BASE / PAGE]) }]);
  assert.equal(driver.takeUsed(BalloonQueue.INFLATE).length, 3);
  assert.deepEqual(driver.faultKinds(), ['balloon-bad-pfn-array', 'balloon-bad-pfn-array', 'balloon-pfn-outside-ram']);
  assert.deepEqual(sink.ranges, [[TEST_RAM_BASE, PAGE]]);
  assert.equal(device.counters.inflatedPages, 1);
});

test('without REPORTING negotiated the driver still sets up inflate and deflate', () => {
  const { driver, status } = setup((offered) => offered & ~BalloonFeature.REPORTING);
  assert.ok(status & VirtioStatus.DRIVER_OK);
  driver.submit(BalloonQueue.DEFLATE, [{ read: pfnArray([7]) }]);
  assert.equal(driver.takeUsed(BalloonQueue.DEFLATE).length, 1);
});

test('save/restore keeps actual and the counters, and refuses bad states', () => {
  const { driver, device } = setup();
  driver.transport.write(R.CONFIG + 4, 4, 42);
  report(driver, [[TEST_RAM_BASE + 0x10_0000, PAGE]]);
  const saved = JSON.parse(JSON.stringify(device.save())) as VirtioBalloonState;
  const copy = new VirtioBalloonDevice({ sink: new ZeroingSink() });
  copy.restore(saved);
  assert.equal(copy.actualPages, 42);
  assert.deepEqual(copy.counters, device.counters);
  assert.throws(() => copy.restore({ ...saved, version: 2 } as unknown as VirtioBalloonState), /version/);
  assert.throws(() => copy.restore({ ...saved, actual: -1 }), /actual/);
  assert.throws(() => copy.restore({ ...saved, counters: { ...saved.counters, reportedBytes: 1.5 } }), /reportedBytes/);
  device.reset();
  assert.equal(device.actualPages, 0, 'a reset empties the balloon');
});
