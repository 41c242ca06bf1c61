import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { VirtioStatus } from '../virtio-device.js';
import { VirtioTestDriver } from '../testing/virtio-test-driver.js';
import { CONSOLE_RECEIVE_QUEUE as RX, CONSOLE_TRANSMIT_QUEUE as TX, VirtioConsoleConfig as C, VirtioConsoleDevice, VirtioConsoleFeature as F, type VirtioConsoleOptions } from './device.js';
import type { VirtioConsoleState } from './state.js';
import type { ByteSink } from '../../mmio-device.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const text = (b: ArrayLike<number>) => String.fromCharCode(...Array.from(b));

function setup(options: Partial<VirtioConsoleOptions> = {}, init = true) {
  const out: number[] = [];
  const device = new VirtioConsoleDevice({ sink: { write: (b) => out.push(b) }, ...options });
  const driver = new VirtioTestDriver(device);
  if (init) driver.init();
  return { device, driver, out };
}

test('device id 3, two queues, EMERG_WRITE offered, SIZE only when a size is given', () => {
  const { driver } = setup();
  assert.equal(driver.r(R.DEVICE_ID), 3);
  assert.equal(driver.queues.length, 2);
  const f = driver.deviceFeatures();
  assert.equal(f & F.EMERG_WRITE, F.EMERG_WRITE);
  assert.equal(f & (F.SIZE | F.MULTIPORT), 0n);
  const sized = setup({ size: { cols: 132, rows: 43 } });
  assert.equal(sized.driver.deviceFeatures() & F.SIZE, F.SIZE);
  assert.equal(sized.driver.transport.read(R.CONFIG + C.COLS, 2), 132);
  assert.equal(sized.driver.transport.read(R.CONFIG + C.ROWS, 2), 43);
});

test('guest output: transmit chains reach the sink in order', () => {
  const { driver, out } = setup();
  const a = driver.submit(TX, [{ read: ascii('hello, ') }, { read: ascii('world') }]);
  const b = driver.submit(TX, [{ read: ascii('\n') }]);
  assert.equal(text(out), 'hello, world\n');
  assert.deepEqual(driver.takeUsed(TX), [{ id: a.head, len: 0 }, { id: b.head, len: 0 }]);
});

test('emergency write through the config space goes straight to the sink', () => {
  const { driver, out } = setup({}, false);
  driver.transport.write(R.CONFIG + C.EMERG_WR, 4, 0x21);
  assert.equal(text(out), '!');
});

test('host input fills receive buffers at once when the guest has offered them', () => {
  const { driver, device } = setup();
  const buf = driver.submit(RX, [{ write: 8 }]);
  driver.ackInterrupt();
  assert.equal(device.receive(ascii('ls\n')), 3);
  assert.deepEqual(driver.takeUsed(RX), [{ id: buf.head, len: 3 }]);
  assert.equal(text(driver.bytes(buf.addrs[0]!, 3)), 'ls\n');
  assert.equal(driver.irqLevel, true);
});

test('host input waits until buffers arrive, and spreads over several buffers', () => {
  const { driver, device } = setup();
  assert.equal(device.receive(ascii('abcdefghij')), 10);
  assert.equal(device.pendingInput, 10);
  const a = driver.submit(RX, [{ write: 4 }]);
  assert.equal(device.pendingInput, 6);
  const b = driver.submit(RX, [{ write: 4 }], { notify: false });
  const c = driver.submit(RX, [{ write: 4 }]);
  const used = driver.takeUsed(RX);
  assert.deepEqual(used, [{ id: a.head, len: 4 }, { id: b.head, len: 4 }, { id: c.head, len: 2 }]);
  assert.equal(text([...driver.bytes(a.addrs[0]!, 4), ...driver.bytes(b.addrs[0]!, 4), ...driver.bytes(c.addrs[0]!, 2)]), 'abcdefghij');
  assert.equal(device.pendingInput, 0);
  // A buffer offered with nothing to send stays with the device for the next input.
  const d = driver.submit(RX, [{ write: 4 }]);
  assert.deepEqual(driver.takeUsed(RX), []);
  device.receive(ascii('z'));
  assert.deepEqual(driver.takeUsed(RX), [{ id: d.head, len: 1 }]);
});

test('input typed before the driver starts is delivered after DRIVER_OK; the pending buffer is bounded', () => {
  const { driver, device } = setup({ maxPendingInput: 4 }, false);
  assert.equal(device.receive(ascii('early!')), 4, 'only what fits is taken');
  driver.init({ driverOk: false });
  const buf = driver.submit(RX, [{ write: 16 }]);
  assert.deepEqual(driver.takeUsed(RX), [], 'nothing before DRIVER_OK');
  driver.w(R.STATUS, driver.r(R.STATUS) | VirtioStatus.DRIVER_OK);
  assert.deepEqual(driver.takeUsed(RX), [{ id: buf.head, len: 4 }]);
  assert.equal(text(driver.bytes(buf.addrs[0]!, 4)), 'earl');
});

test('resize announces a config change', () => {
  const { driver, device } = setup({ size: { cols: 80, rows: 24 } });
  const gen = driver.r(R.CONFIG_GENERATION);
  device.resize(100, 30);
  assert.equal(driver.transport.read(R.CONFIG + C.COLS, 2), 100);
  assert.equal(driver.r(R.CONFIG_GENERATION), gen + 1);
  assert.equal(driver.ackInterrupt() & 2, 2);
});

test('hostile buffers: wrong direction, outside RAM, oversized transmit', () => {
  const { driver, device, out } = setup({ maxTransmitChain: 4 });
  driver.submit(RX, [{ read: ascii('no room') }]);
  device.receive(ascii('x'));
  assert.deepEqual(driver.takeUsed(RX).map((u) => u.len), [0]);
  assert.equal(device.pendingInput, 1, 'input kept for a proper buffer');
  const tq = driver.queues[TX]!;
  const head = driver.takeDesc(TX);
  driver.writeDesc(tq.desc, head, 0x100, 4, 0, 0);
  driver.publish(TX, head);
  driver.submit(TX, [{ read: ascii('abcdefgh') }]);
  assert.equal(text(out), 'abcd');
  assert.deepEqual(driver.faultKinds(), ['console-bad-receive-buffer', 'console-buffer-outside-ram', 'console-transmit-too-large']);
  assert.equal(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET, 0);
});

test('save/restore keeps pending input and size', () => {
  const a = setup({ size: { cols: 90, rows: 20 } });
  a.device.receive(ascii('hi'));
  const state: VirtioConsoleState = JSON.parse(JSON.stringify(a.device.save()));
  assert.deepEqual(state, { version: 2, pendingInput: [0x68, 0x69], transmitOffset: 0, cols: 90, rows: 20 });
  const b = setup({ size: { cols: 80, rows: 24 } });
  b.device.restore(state);
  assert.equal(b.device.pendingInput, 2);
  assert.equal(b.driver.transport.read(R.CONFIG + C.COLS, 2), 90);
  assert.throws(() => b.device.restore({ ...state, version: 3 } as unknown as VirtioConsoleState), /version/);
  const { transmitOffset: _offset, ...v1 } = state;
  b.device.restore({ ...v1, version: 1 });
  assert.equal(b.device.save().transmitOffset, 0);
  assert.throws(() => b.device.restore({ ...state, transmitOffset: 1 << 30 }), /transmit offset/);
});

/** A sink that takes `room` more bytes, then is not ready until the test gives it more. */
function limitedSink(room: number) {
  const out: number[] = [];
  const listeners = new Set<() => void>();
  let limit = room;
  const sink: ByteSink = {
    write: (b) => {
      assert.ok(out.length < limit, 'nothing is written to a sink that is not ready');
      out.push(b);
    },
    ready: () => out.length < limit,
    onReady: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const grow = (more: number) => {
    limit += more;
    for (const listener of listeners) listener();
  };
  return { sink, out, grow };
}

test('guest output waits in the ring while the sink is not ready, and resumes when it is', () => {
  const slow = limitedSink(0);
  const device = new VirtioConsoleDevice({ sink: slow.sink });
  const driver = new VirtioTestDriver(device);
  driver.init();
  const chains = Array.from({ length: 10 }, (_, i) => driver.submit(TX, [{ read: ascii(`line ${i}\n`) }]));
  assert.deepEqual(driver.takeUsed(TX), [], 'nothing consumed while the sink is full');
  assert.deepEqual(slow.out, []);
  driver.ackInterrupt();
  slow.grow(1 << 20);
  assert.deepEqual(driver.takeUsed(TX).map((u) => u.id), chains.map((c) => c.head));
  assert.equal(text(slow.out), Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));
  assert.equal(driver.irqLevel, true, 'the driver hears its buffers came back');
});

test('a chain the sink fills up in the middle is finished later, without repeating or losing bytes', () => {
  const slow = limitedSink(5);
  const device = new VirtioConsoleDevice({ sink: slow.sink });
  const driver = new VirtioTestDriver(device);
  driver.init();
  const a = driver.submit(TX, [{ read: ascii('hello, ') }, { read: ascii('world') }]);
  const b = driver.submit(TX, [{ read: ascii('!\n') }]);
  assert.equal(text(slow.out), 'hello');
  assert.deepEqual(driver.takeUsed(TX), []);
  assert.equal(device.save().transmitOffset, 5);
  slow.grow(4);
  assert.equal(text(slow.out), 'hello, wo');
  assert.deepEqual(driver.takeUsed(TX), []);
  slow.grow(100);
  assert.equal(text(slow.out), 'hello, world!\n');
  assert.deepEqual(driver.takeUsed(TX), [{ id: a.head, len: 0 }, { id: b.head, len: 0 }]);
  assert.equal(device.save().transmitOffset, 0);
});

test('emergency writes to a sink that is not ready are dropped and counted', () => {
  const slow = limitedSink(1);
  const device = new VirtioConsoleDevice({ sink: slow.sink });
  const driver = new VirtioTestDriver(device);
  for (const c of ascii('abc')) driver.transport.write(R.CONFIG + C.EMERG_WR, 4, c);
  assert.equal(text(slow.out), 'a');
  assert.equal(device.emergencyWritesDropped, 2);
});
