import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioRegister as R, VIRTIO_MMIO_MAGIC, VIREO_VENDOR_ID } from './mmio-transport.js';
import { VirtioFeature, VirtioStatus as S } from './virtio-device.js';
import { EchoDevice } from './testing/echo-device.js';
import { VirtioTestDriver } from './testing/virtio-test-driver.js';

const ascii = (s: string) => new TextEncoder().encode(s);

function setup(queueMaxSizes: number[] = [8]) {
  const device = new EchoDevice(queueMaxSizes);
  const driver = new VirtioTestDriver(device);
  return { device, driver, t: driver.transport };
}

test('identification registers: magic, version 2, device and vendor IDs', () => {
  const { driver } = setup();
  assert.equal(driver.r(R.MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
  assert.equal(driver.r(R.VERSION), 2);
  assert.equal(driver.r(R.DEVICE_ID), 0x3f);
  assert.equal(driver.r(R.VENDOR_ID), VIREO_VENDOR_ID);
  assert.equal(driver.r(R.STATUS), 0);
  assert.equal(driver.r(R.SHM_LEN_LOW), 0xffff_ffff, 'no shared memory regions');
});

test('device features: VERSION_1 and ring features are always offered with the device bits', () => {
  const { driver } = setup();
  const f = driver.deviceFeatures();
  assert.equal(f & VirtioFeature.VERSION_1, VirtioFeature.VERSION_1);
  assert.equal(f & VirtioFeature.INDIRECT_DESC, VirtioFeature.INDIRECT_DESC);
  assert.equal(f & VirtioFeature.EVENT_IDX, VirtioFeature.EVENT_IDX);
  assert.equal(f & 1n, 1n);
  driver.w(R.DEVICE_FEATURES_SEL, 2);
  assert.equal(driver.r(R.DEVICE_FEATURES), 0, 'selector beyond 64 bits reads 0');
});

test('Linux init sequence: ACK, DRIVER, features, FEATURES_OK, queues, DRIVER_OK activates the model', () => {
  const { driver, device } = setup([8, 4]);
  const status = driver.init();
  assert.equal(status, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
  assert.equal(device.activations, 1);
  assert.equal(driver.queues.length, 2);
  assert.equal(device.context!.features & VirtioFeature.VERSION_1, VirtioFeature.VERSION_1);
  driver.w(R.QUEUE_SEL, 1);
  assert.equal(driver.r(R.QUEUE_NUM_MAX), 4);
  assert.equal(driver.r(R.QUEUE_READY), 1);
  driver.w(R.QUEUE_SEL, 2);
  assert.equal(driver.r(R.QUEUE_NUM_MAX), 0, 'a missing queue has max size 0');
  assert.equal(driver.r(R.QUEUE_READY), 0);
});

test('FEATURES_OK is refused without VERSION_1 or with features never offered', () => {
  const { driver, device } = setup();
  let status = driver.init({ accept: (f) => f & ~VirtioFeature.VERSION_1 });
  assert.equal(status & S.FEATURES_OK, 0);
  status = driver.init({ accept: (f) => f | (1n << 40n) });
  assert.equal(status & S.FEATURES_OK, 0);
  assert.equal(device.activations, 0);
  assert.ok(driver.faultKinds().includes('features-refused'));
  // DRIVER_OK without FEATURES_OK does not start the device.
  driver.w(R.STATUS, S.ACKNOWLEDGE | S.DRIVER | S.DRIVER_OK);
  assert.equal(driver.r(R.STATUS) & S.DRIVER_OK, 0);
  assert.equal(device.activations, 0);
});

test('a request round trip raises the level IRQ until InterruptACK', () => {
  const { driver } = setup();
  driver.init();
  const { head, addrs } = driver.submit(0, [{ read: ascii('ping') }, { write: 4 }]);
  assert.deepEqual(driver.takeUsed(0), [{ id: head, len: 4 }]);
  assert.deepEqual(driver.bytes(addrs[1]!, 4), ascii('ping'));
  assert.equal(driver.irqLevel, true);
  assert.equal(driver.r(R.INTERRUPT_STATUS), 1);
  assert.equal(driver.ackInterrupt(), 1);
  assert.equal(driver.irqLevel, false);
  assert.equal(driver.r(R.INTERRUPT_STATUS), 0);
});

test('writing 0 to Status resets the device, its queues and the IRQ', () => {
  const { driver, device } = setup();
  driver.init();
  driver.submit(0, [{ read: ascii('x') }, { write: 1 }]);
  assert.equal(driver.irqLevel, true);
  driver.w(R.STATUS, 0);
  assert.equal(driver.r(R.STATUS), 0);
  assert.equal(driver.irqLevel, false);
  assert.equal(device.context, null);
  assert.ok(device.resets >= 1);
  driver.w(R.QUEUE_SEL, 0);
  assert.equal(driver.r(R.QUEUE_READY), 0);
  // And the device comes up again with fresh rings.
  driver.init();
  const { head } = driver.submit(0, [{ read: ascii('y') }, { write: 1 }]);
  assert.deepEqual(driver.takeUsed(0), [{ id: head, len: 1 }]);
});

test('notifications before DRIVER_OK are held until DRIVER_OK', () => {
  const { driver, device } = setup();
  driver.init({ driverOk: false });
  const { head } = driver.submit(0, [{ read: ascii('early') }, { write: 5 }]);
  assert.equal(device.handled, 0);
  driver.w(R.STATUS, driver.r(R.STATUS) | S.DRIVER_OK);
  assert.equal(device.handled, 1);
  assert.deepEqual(driver.takeUsed(0), [{ id: head, len: 5 }]);
});

test('config space at 0x100 is the model, at any width; ConfigGeneration reads', () => {
  const { driver, t, device } = setup();
  assert.equal(t.read(R.CONFIG, 1), 0x11);
  assert.equal(t.read(R.CONFIG + 2, 2), 0x4433);
  assert.equal(t.read(R.CONFIG + 4, 4), 0x88776655);
  assert.equal(t.read(R.CONFIG + 8, 4), 0, 'past the config image reads 0');
  t.write(R.CONFIG + 1, 1, 0xab);
  assert.deepEqual(device.configWrites, [[1, 1, 0xab]]);
  driver.init();
  const before = driver.r(R.CONFIG_GENERATION);
  device.context!.configChanged();
  assert.equal(driver.r(R.CONFIG_GENERATION), before + 1);
  assert.equal(driver.r(R.INTERRUPT_STATUS), 2);
  assert.equal(driver.irqLevel, true);
});

test('bad register accesses are ignored, counted and never throw', () => {
  const { driver, t } = setup();
  assert.equal(t.read(R.MAGIC_VALUE, 1), 0, 'byte read of a control register');
  assert.equal(t.read(0x002, 4), 0, 'misaligned read');
  t.write(R.MAGIC_VALUE, 4, 0);
  t.write(R.STATUS, 2, 1);
  assert.equal(driver.r(R.STATUS), 0);
  t.write(R.QUEUE_NOTIFY, 4, 99);
  assert.equal(t.read(0xff8, 4), 0);
  assert.ok((t.metrics.faults['bad-register-access'] ?? 0) >= 3);
  assert.equal(t.metrics.faults['bad-queue-notify'], 1);
});

test('queue registers cannot change while the queue is enabled', () => {
  const { driver } = setup();
  driver.init();
  driver.w(R.QUEUE_SEL, 0);
  driver.w(R.QUEUE_DESC_LOW, 0x1234_0000);
  const { head } = driver.submit(0, [{ read: ascii('ok') }, { write: 2 }]);
  assert.deepEqual(driver.takeUsed(0), [{ id: head, len: 2 }], 'the ring still works');
  assert.ok(driver.faultKinds().includes('bad-register-access'));
});

test('enabling a queue with a bad size or a ring outside RAM sets DEVICE_NEEDS_RESET', () => {
  for (const [name, program] of [
    ['size not a power of two', (d: VirtioTestDriver) => d.w(R.QUEUE_NUM, 6)],
    ['size above max', (d: VirtioTestDriver) => d.w(R.QUEUE_NUM, 16)],
    ['desc outside RAM', (d: VirtioTestDriver) => d.w(R.QUEUE_DESC_LOW, 0x1000)],
    ['used ring above 4 GiB', (d: VirtioTestDriver) => d.w(R.QUEUE_DEVICE_HIGH, 0xffff_ffff)],
  ] as const) {
    const { driver } = setup();
    driver.init({ driverOk: false });
    driver.w(R.QUEUE_SEL, 0);
    driver.w(R.QUEUE_READY, 0);
    program(driver);
    driver.w(R.QUEUE_READY, 1);
    assert.equal(driver.r(R.QUEUE_READY), 0, name);
    assert.ok(driver.r(R.STATUS) & S.DEVICE_NEEDS_RESET, name);
  }
});

test('ring addresses are what the driver wrote, whatever high word they passed through', () => {
  // With a high word of 0x6fd34f81 the address is above 2^62, where a number rounds the low word
  // 0x7ffffff0 up to 0x80000000: that must not survive the high word returning to 0.
  for (const [low, high] of [
    [R.QUEUE_DESC_LOW, R.QUEUE_DESC_HIGH],
    [R.QUEUE_DRIVER_LOW, R.QUEUE_DRIVER_HIGH],
    [R.QUEUE_DEVICE_LOW, R.QUEUE_DEVICE_HIGH],
  ] as const) {
    const { driver } = setup();
    driver.init({ driverOk: false });
    driver.w(R.QUEUE_SEL, 0);
    driver.w(R.QUEUE_READY, 0);
    driver.w(high, 0x6fd3_4f81);
    driver.w(low, 0x7fff_fff0);
    driver.w(high, 0);
    driver.w(R.QUEUE_READY, 1);
    assert.equal(driver.r(R.QUEUE_READY), 0, `register 0x${low.toString(16)}: a ring at 0x7ffffff0 lies below RAM`);
    assert.ok(driver.faultKinds().includes('virtqueue-ring-outside-ram'));
  }
});

test('a malformed ring fails the device: NEEDS_RESET, config interrupt, no more processing', () => {
  const { driver, device } = setup();
  driver.init();
  const tq = driver.queues[0]!;
  driver.writeDesc(tq.desc, 0, tq.desc, 16, 1 /* NEXT */, 0); // loops to itself
  driver.publish(0, 0);
  driver.w(R.QUEUE_NOTIFY, 0);
  assert.ok(driver.r(R.STATUS) & S.DEVICE_NEEDS_RESET);
  assert.equal(driver.r(R.INTERRUPT_STATUS) & 2, 2);
  assert.equal(driver.irqLevel, true);
  assert.ok(driver.faultKinds().includes('virtqueue-chain-too-long'));
  // Further work is ignored; the driver cannot clear NEEDS_RESET by writing Status...
  driver.w(R.STATUS, driver.r(R.STATUS) & ~S.DEVICE_NEEDS_RESET);
  assert.ok(driver.r(R.STATUS) & S.DEVICE_NEEDS_RESET);
  driver.submit(0, [{ read: ascii('z') }, { write: 1 }]);
  assert.equal(device.handled, 0);
  // ...only a reset recovers.
  driver.init();
  assert.equal(driver.r(R.STATUS) & S.DEVICE_NEEDS_RESET, 0);
  driver.submit(0, [{ read: ascii('z') }, { write: 1 }]);
  assert.equal(device.handled, 1);
});

test('disabling a queue (QueueReady 0) reads back 0 and keeps its registers', () => {
  const { driver } = setup();
  driver.init();
  driver.w(R.QUEUE_SEL, 0);
  driver.w(R.QUEUE_READY, 0);
  assert.equal(driver.r(R.QUEUE_READY), 0);
  driver.w(R.QUEUE_READY, 1);
  assert.equal(driver.r(R.QUEUE_READY), 1);
});

test('save/restore carries registers, queue positions and device state', () => {
  const a = setup();
  a.driver.init();
  a.driver.submit(0, [{ read: ascii('one') }, { write: 3 }]);
  const state = JSON.parse(JSON.stringify(a.t.save()));
  // A fresh transport over a copy of the same RAM continues where the first stopped.
  const b = setup();
  b.driver.ram.set(a.driver.ram);
  b.t.restore(state);
  assert.equal(b.device.handled, 1);
  assert.equal(b.device.activations, 1, 'a running device is re-activated');
  assert.equal(b.driver.irqLevel, true, 'pending interrupt restored');
  assert.equal(b.driver.r(R.STATUS), a.driver.r(R.STATUS));
  // Continue driving b with a's ring bookkeeping.
  b.driver.queues.push(...a.driver.queues.map((q) => ({ ...q })));
  (b.driver as unknown as { heap: number }).heap = (a.driver as unknown as { heap: number }).heap;
  const { head } = b.driver.submit(0, [{ read: ascii('two') }, { write: 3 }]);
  assert.deepEqual(b.driver.takeUsed(0), [{ id: 0, len: 3 }, { id: head, len: 3 }]);
  assert.throws(() => b.t.restore({ ...state, version: 2 }), /version/);
  assert.throws(() => b.t.restore({ ...state, queues: [] }), /queues/);
});

test('a flood of faults is counted in full but logged sparsely', () => {
  const { driver, t } = setup();
  for (let i = 0; i < 1000; i++) t.read(R.MAGIC_VALUE, 1);
  assert.equal(t.metrics.faults['bad-register-access'], 1000);
  const logged = driver.faults.map((f) => f.count);
  assert.deepEqual(logged, [...Array.from({ length: 16 }, (_, i) => i + 1), 32, 64, 128, 256, 512]);
});
