import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { VirtioTestDriver } from '../testing/virtio-test-driver.js';
import { VirtioRngDevice } from './device.js';
import type { VirtioRngState } from './state.js';

function setup(options: ConstructorParameters<typeof VirtioRngDevice>[0] = {}) {
  const device = new VirtioRngDevice(options);
  const driver = new VirtioTestDriver(device);
  driver.init();
  return { device, driver };
}

test('device id 4, one queue, no features beyond the transport ones, no config', () => {
  const { driver } = setup();
  assert.equal(driver.r(R.DEVICE_ID), 4);
  assert.equal(driver.queues.length, 1);
  assert.equal(driver.deviceFeatures() & 0xffff_ffffn & ~(3n << 28n), 0n);
  assert.equal(driver.transport.read(R.CONFIG, 4), 0);
});

test('fills device-writable buffers with entropy and reports the length', () => {
  let n = 0;
  const { driver, device } = setup({ fill: (into) => into.forEach((_, i) => (into[i] = (n++ * 13) & 0xff)) });
  const { head, addrs } = driver.submit(0, [{ write: 16 }, { write: 8 }]);
  assert.deepEqual(driver.takeUsed(0), [{ id: head, len: 24 }]);
  const got = [...driver.bytes(addrs[0]!, 16), ...driver.bytes(addrs[1]!, 8)];
  assert.deepEqual(got, Array.from({ length: 24 }, (_, i) => (i * 13) & 0xff));
  assert.equal(device.bytesProvided, 24);
  assert.equal(driver.irqLevel, true);
});

test('the host CSPRNG is used by default: two buffers differ and are not all zero', () => {
  const { driver } = setup();
  const a = driver.submit(0, [{ write: 64 }]);
  const b = driver.submit(0, [{ write: 64 }]);
  const x = driver.bytes(a.addrs[0]!, 64);
  const y = driver.bytes(b.addrs[0]!, 64);
  assert.notDeepEqual(x, y);
  assert.ok(x.some((v) => v !== 0));
});

test('requests are bounded: a huge buffer gets at most maxBytesPerRequest', () => {
  const { driver } = setup({ maxBytesPerRequest: 100 });
  const { addrs } = driver.submit(0, [{ write: 4096 }]);
  assert.deepEqual(driver.takeUsed(0).map((u) => u.len), [100]);
  assert.ok(driver.bytes(addrs[0]! + 100, 3996).every((v) => v === 0), 'nothing past the bound');
});

test('hostile buffers: readable-only chains and buffers outside RAM give 0 bytes and a fault', () => {
  const { driver } = setup();
  driver.submit(0, [{ read: new Uint8Array(8) }]);
  const tq = driver.queues[0]!;
  const head = driver.takeDesc(0);
  driver.writeDesc(tq.desc, head, 0x10, 32, 2, 0);
  driver.publish(0, head);
  driver.w(R.QUEUE_NOTIFY, 0);
  assert.deepEqual(driver.takeUsed(0).map((u) => u.len), [0, 0]);
  assert.deepEqual(driver.faultKinds(), ['rng-bad-buffer', 'rng-buffer-outside-ram']);
});

test('save/restore checks the version', () => {
  const device = new VirtioRngDevice();
  device.restore(JSON.parse(JSON.stringify(device.save())));
  assert.throws(() => device.restore({ version: 2 } as unknown as VirtioRngState), /version/);
});
