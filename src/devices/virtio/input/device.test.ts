import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { VirtioStatus } from '../virtio-device.js';
import { VirtioTestDriver } from '../testing/virtio-test-driver.js';
import { VirtioInputDevice, VirtioInputConfig as C, VirtioInputConfigSelect as S, EV_KEY, EV_SYN, KEY_POWER, BUS_VIRTUAL } from './device.js';
import type { VirtioInputState } from './state.js';

function setup(options: ConstructorParameters<typeof VirtioInputDevice>[0] = {}, driverOk = true) {
  const device = new VirtioInputDevice(options);
  const driver = new VirtioTestDriver(device);
  driver.init({ driverOk });
  return { device, driver };
}

/** Selects a config query as Linux's virtio_input does (two byte writes), returns size and union bytes. */
function query(driver: VirtioTestDriver, select: number, subsel: number): { size: number; bytes: number[] } {
  driver.transport.write(R.CONFIG + C.SELECT, 1, select);
  driver.transport.write(R.CONFIG + C.SUBSEL, 1, subsel);
  const size = driver.transport.read(R.CONFIG + C.SIZE, 1);
  const bytes = Array.from({ length: size }, (_, i) => driver.transport.read(R.CONFIG + C.UNION + i, 1));
  return { size, bytes };
}

/** Offers `n` event buffers; returns their guest addresses. */
function offerEvents(driver: VirtioTestDriver, n: number): number[] {
  return Array.from({ length: n }, () => driver.submit(0, [{ write: 8 }]).addrs[0]!);
}

function eventAt(driver: VirtioTestDriver, addr: number): [number, number, number] {
  const view = new DataView(driver.bytes(addr, 8).buffer);
  return [view.getUint16(0, true), view.getUint16(2, true), view.getInt32(4, true)];
}

const PRESS: Array<[number, number, number]> = [[EV_KEY, KEY_POWER, 1], [EV_SYN, 0, 0], [EV_KEY, KEY_POWER, 0], [EV_SYN, 0, 0]];

test('device id 18, an event queue and a status queue, no device features', () => {
  const { driver } = setup();
  assert.equal(driver.r(R.DEVICE_ID), 18);
  assert.equal(driver.queues.length, 2);
  assert.equal(driver.deviceFeatures() & 0xffff_ffffn & ~(3n << 28n), 0n);
});

test('config queries: name, serial, device ids, EV_KEY with only KEY_POWER, EV_SYN; size 0 for the rest', () => {
  const { driver } = setup({ serial: 'pb-7' });
  assert.equal(String.fromCharCode(...query(driver, S.ID_NAME, 0).bytes), 'Vireo Power Button');
  assert.equal(String.fromCharCode(...query(driver, S.ID_SERIAL, 0).bytes), 'pb-7');
  const ids = query(driver, S.ID_DEVIDS, 0);
  assert.equal(ids.size, 8);
  assert.equal(ids.bytes[0]! | (ids.bytes[1]! << 8), BUS_VIRTUAL);
  const keys = query(driver, S.EV_BITS, EV_KEY);
  const set = keys.bytes.flatMap((b, i) => Array.from({ length: 8 }, (_, bit) => ((b >> bit) & 1 ? i * 8 + bit : -1))).filter((k) => k >= 0);
  assert.deepEqual(set, [KEY_POWER]);
  assert.deepEqual(query(driver, S.EV_BITS, EV_SYN).bytes, [1]);
  for (const [select, subsel] of [[S.UNSET, 0], [S.PROP_BITS, 0], [S.EV_BITS, 2], [S.EV_BITS, 3], [S.ABS_INFO, 0], [S.ID_NAME, 1], [0x7f, 0]] as const) {
    assert.equal(query(driver, select, subsel).size, 0, `select ${select} subsel ${subsel}`);
  }
  // The union is cleared between queries: no stale name bytes after a smaller answer.
  query(driver, S.ID_NAME, 0);
  query(driver, S.EV_BITS, EV_SYN);
  assert.equal(driver.transport.read(R.CONFIG + C.UNION + 1, 1), 0);
});

test('a press is four events delivered in order, one per buffer, with an interrupt', () => {
  const { driver, device } = setup();
  const addrs = offerEvents(driver, 6);
  assert.equal(device.press(), true);
  assert.deepEqual(driver.takeUsed(0).map((u) => u.len), [8, 8, 8, 8]);
  assert.deepEqual(addrs.slice(0, 4).map((a) => eventAt(driver, a)), PRESS);
  assert.equal(driver.irqLevel, true);
  assert.equal(device.eventsDelivered, 4);
  // The two spare buffers take the next press.
  driver.ackInterrupt();
  device.press();
  assert.deepEqual(driver.takeUsed(0).map((u) => u.len), [8, 8]);
  assert.deepEqual(addrs.slice(4).map((a) => eventAt(driver, a)), PRESS.slice(0, 2));
  assert.equal(device.pendingEvents, 2);
});

test('events wait for buffers, and for DRIVER_OK', () => {
  const { driver, device } = setup({}, false);
  assert.equal(device.driverReady, false);
  assert.equal(device.press(), true);
  assert.equal(device.pendingEvents, 4);
  driver.w(R.STATUS, driver.r(R.STATUS) | VirtioStatus.DRIVER_OK);
  assert.equal(device.driverReady, true);
  assert.equal(device.pendingEvents, 4, 'no buffers yet');
  const addrs = offerEvents(driver, 1);
  assert.deepEqual(eventAt(driver, addrs[0]!), PRESS[0]);
  const more = offerEvents(driver, 3);
  assert.deepEqual(more.map((a) => eventAt(driver, a)), PRESS.slice(1));
  assert.equal(device.pendingEvents, 0);
});

test('the queue is bounded: presses beyond the limit are refused', () => {
  const { device } = setup({ maxPendingPresses: 2 });
  assert.equal(device.press(), true);
  assert.equal(device.press(), true);
  assert.equal(device.press(), false);
  assert.equal(device.pendingEvents, 8);
});

test('hostile event buffers: readable-only, short and outside RAM give a fault, not a crash, and keep the event', () => {
  const { driver, device } = setup();
  driver.submit(0, [{ read: new Uint8Array(8) }], { notify: false });
  driver.submit(0, [{ write: 4 }], { notify: false });
  const head = driver.takeDesc(0);
  driver.writeDesc(driver.queues[0]!.desc, head, 0x10, 8, 2, 0);
  driver.publish(0, head);
  const good = driver.submit(0, [{ write: 8 }], { notify: false }).addrs[0]!;
  device.press();
  assert.deepEqual(driver.takeUsed(0).map((u) => u.len), [0, 0, 0, 8]);
  assert.deepEqual(driver.faultKinds(), ['input-bad-event-buffer', 'input-bad-event-buffer', 'input-buffer-outside-ram']);
  assert.deepEqual(eventAt(driver, good), PRESS[0]);
  assert.equal(device.pendingEvents, 3);
});

test('the status queue is consumed and every buffer returned', () => {
  const { driver, device } = setup();
  const a = driver.submit(1, [{ read: new Uint8Array([0x11, 0, 0, 0, 1, 0, 0, 0]) }]);
  const b = driver.submit(1, [{ read: new Uint8Array(2) }]);
  assert.deepEqual(driver.takeUsed(1), [{ id: a.head, len: 0 }, { id: b.head, len: 0 }]);
  assert.equal(device.statusBuffers, 2);
  assert.deepEqual(driver.faultKinds(), ['input-bad-status-buffer']);
});

test('a device reset drops pending events and the driver', () => {
  const { driver, device } = setup();
  device.press();
  driver.w(R.STATUS, 0);
  assert.equal(device.driverReady, false);
  assert.equal(device.pendingEvents, 0);
});

test('save/restore keeps pending events and the query, and checks the state', () => {
  const { driver, device } = setup();
  device.press();
  query(driver, S.ID_NAME, 0);
  const saved = JSON.parse(JSON.stringify(device.save())) as VirtioInputState;
  const copy = new VirtioInputDevice();
  copy.restore(saved);
  assert.equal(copy.pendingEvents, 4);
  assert.equal(copy.readConfig(C.SIZE, 1), 'Vireo Power Button'.length);
  assert.throws(() => copy.restore({ ...saved, version: 2 } as unknown as VirtioInputState), /version/);
  assert.throws(() => copy.restore({ ...saved, pendingEvents: Array.from({ length: 17 }, () => ({ type: 1, code: 1, value: 1 })) }), /more than 16/);
  assert.throws(() => copy.restore({ ...saved, pendingEvents: [{ type: -1, code: 0, value: 0 }] }), /malformed/);
  assert.throws(() => copy.restore({ ...saved, select: 300 }), /select/);
});
