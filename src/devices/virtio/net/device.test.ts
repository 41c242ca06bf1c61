import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioNet, VirtioNetError, VIRTIO_NET_RX_QUEUE as RX, VIRTIO_NET_TX_QUEUE as TX } from './device.js';
import type { VirtioNetBackend } from './device.js';
import { VIRTIO_NET_HDR_BYTES } from './header.js';
import { VirtioMmioRegister as R, VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING } from '../mmio-transport.js';
import { VirtioFeature, VirtioStatus } from '../virtio-device.js';
import { VIRTQ_AVAIL_F_NO_INTERRUPT } from '../virtqueue.js';
import { TEST_RAM_BASE, VirtioTestDriver } from '../testing/virtio-test-driver.js';

const MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const RAM_BYTES = 1 << 20;

class QueueBackend implements VirtioNetBackend {
  readonly sent: Uint8Array[] = [];
  readonly incoming: Uint8Array[] = [];
  accept = true;
  send(frame: Uint8Array): boolean {
    if (!this.accept) return false;
    this.sent.push(frame.slice());
    return true;
  }
  receive(): Uint8Array | undefined {
    return this.incoming.shift();
  }
  get pending(): number {
    return this.incoming.length;
  }
}

/** An Ethernet frame with `payload` bytes counting up from `seed`. */
function frame(payload: number, seed = 0): Uint8Array {
  const f = new Uint8Array(14 + payload);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  for (let i = 14; i < f.length; i++) f[i] = (seed + i) & 0xff;
  return f;
}

function withHeader(f: Uint8Array, header = new Uint8Array(VIRTIO_NET_HDR_BYTES)): Uint8Array {
  const out = new Uint8Array(VIRTIO_NET_HDR_BYTES + f.length);
  out.set(header);
  out.set(f, VIRTIO_NET_HDR_BYTES);
  return out;
}

/** Everything offered except EVENT_IDX, so avail.flags decides about interrupts. */
const acceptNet = (offered: bigint) => offered & ~VirtioFeature.EVENT_IDX;

function setup(options: { init?: boolean } = {}) {
  const backend = new QueueBackend();
  const net = new VirtioNet({ mac: MAC, backend });
  const driver = new VirtioTestDriver(net, { ramBytes: RAM_BYTES });
  if (options.init ?? true) driver.init({ accept: acceptNet, queueSizes: [16, 16] });
  return { backend, net, driver };
}

const config = (driver: VirtioTestDriver, offset: number, size: 1 | 2 | 4) => driver.transport.read(R.CONFIG + offset, size);

/** Posts one receive buffer of `length` bytes, split into pieces of `pieces` bytes; returns head and address of each piece. */
function postRx(driver: VirtioTestDriver, pieces: number[]) {
  return driver.submit(RX, pieces.map((write) => ({ write })), { notify: false });
}

/** Makes a chain of raw descriptors (any address or length) available on `q`. */
function offerRaw(driver: VirtioTestDriver, q: number, descs: Array<{ addr: number; len: number; write?: boolean }>): number {
  const ids = descs.map(() => driver.takeDesc(q));
  descs.forEach((d, i) => driver.writeDesc(driver.queues[q]!.desc, ids[i]!, d.addr, d.len, (d.write ? 2 : 0) | (i + 1 < descs.length ? 1 : 0), ids[i + 1] ?? 0));
  driver.publish(q, ids[0]!);
  return ids[0]!;
}

test('identity and config space: device id 1, MAC and STATUS offered, MAC and link up in config', () => {
  const { driver } = setup({ init: false });
  assert.equal(driver.r(R.DEVICE_ID), 1);
  const offered = driver.deviceFeatures();
  assert.equal(offered & (1n << 5n), 1n << 5n, 'VIRTIO_NET_F_MAC');
  assert.equal(offered & (1n << 16n), 1n << 16n, 'VIRTIO_NET_F_STATUS');
  assert.equal(offered & ((1n << 0n) | (1n << 15n) | (1n << 17n)), 0n, 'no CSUM, MRG_RXBUF, CTRL_VQ');
  assert.equal(offered & VirtioFeature.VERSION_1, VirtioFeature.VERSION_1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => config(driver, i, 1)), MAC);
  assert.equal(config(driver, 6, 2), 1, 'VIRTIO_NET_S_LINK_UP');
  assert.equal(config(driver, 0, 4), 0x00000002);
  assert.equal(config(driver, 8, 2), 0, 'nothing past status');
  driver.transport.write(R.CONFIG, 1, 0xff);
  assert.equal(config(driver, 0, 1), 0x02, 'config is read-only with VERSION_1');
  assert.equal(driver.r(R.QUEUE_NUM_MAX), 256);
});

test('TX: the header is stripped and the frame reaches the backend, however the driver splits it', () => {
  const { backend, net, driver } = setup();
  const f1 = frame(100, 1);
  const c1 = driver.submit(TX, [{ read: withHeader(f1) }], { notify: false });
  const f2 = frame(1500, 2);
  const p2 = withHeader(f2);
  // Header alone, then the frame split inside its Ethernet header.
  const c2 = driver.submit(TX, [{ read: p2.subarray(0, 12) }, { read: p2.subarray(12, 20) }, { read: p2.subarray(20) }], { notify: false });
  const f3 = frame(46, 3);
  const c3 = driver.submit(TX, [{ read: withHeader(f3).subarray(0, 30) }, { read: withHeader(f3).subarray(30) }], { indirect: true });
  assert.deepEqual(backend.sent, [f1, f2, f3]);
  assert.deepEqual(driver.takeUsed(TX), [c1, c2, c3].map(({ head }) => ({ id: head, len: 0 })));
  assert.equal(driver.ackInterrupt(), VIRTIO_MMIO_INT_VRING);
  assert.deepEqual(net.counters, { txFrames: 3, txBytes: 114 + 1514 + 60, txDropped: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 });
});

test('TX: a frame the backend refuses is completed and counted as dropped', () => {
  const { backend, net, driver } = setup();
  backend.accept = false;
  const { head } = driver.submit(TX, [{ read: withHeader(frame(50)) }]);
  assert.deepEqual(driver.takeUsed(TX), [{ id: head, len: 0 }]);
  assert.equal(net.counters.txDropped, 1);
});

test('RX: poll writes a zero header with num_buffers = 1 and the frame, then interrupts', () => {
  const { backend, net, driver } = setup();
  const { head, addrs } = driver.submit(RX, [{ write: 1526 }]);
  assert.equal(driver.irqLevel, false, 'nothing to deliver yet');
  const f = frame(200, 7);
  backend.incoming.push(f);
  net.poll();
  assert.deepEqual(driver.takeUsed(RX), [{ id: head, len: 12 + f.length }]);
  assert.deepEqual([...driver.bytes(addrs[0]!, 12)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(driver.bytes(addrs[0]! + 12, f.length), f);
  assert.equal(driver.irqLevel, true);
  assert.equal(driver.ackInterrupt(), VIRTIO_MMIO_INT_VRING);
  assert.equal(driver.irqLevel, false);
  assert.deepEqual(net.counters, { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 1, rxBytes: 214, rxDropped: 0 });
});

test('RX: a chain split across descriptors receives header and frame across them', () => {
  const { backend, net, driver } = setup();
  const { addrs } = postRx(driver, [12, 28, 1486]);
  const f = frame(1500, 3);
  backend.incoming.push(f);
  net.poll();
  assert.equal(driver.takeUsed(RX)[0]!.len, 1526);
  const got = new Uint8Array([...driver.bytes(addrs[0]!, 12), ...driver.bytes(addrs[1]!, 28), ...driver.bytes(addrs[2]!, 1486)]);
  assert.deepEqual(got.subarray(12), f);
});

test('RX: frames wait in the backend until the driver posts buffers, then arrive in order', () => {
  const { backend, net, driver } = setup();
  backend.incoming.push(frame(60, 1), frame(60, 2), frame(60, 3));
  net.poll();
  assert.equal(backend.pending, 3);
  assert.equal(driver.irqLevel, false);
  const a = postRx(driver, [1526]);
  const b = postRx(driver, [1526]);
  driver.w(R.QUEUE_NOTIFY, RX); // the driver's kick delivers without waiting for poll
  assert.equal(backend.pending, 1);
  assert.deepEqual(driver.bytes(a.addrs[0]! + 12, 74), frame(60, 1));
  assert.deepEqual(driver.bytes(b.addrs[0]! + 12, 74), frame(60, 2));
  assert.equal(driver.takeUsed(RX).length, 2);
});

test('RX: a frame larger than the buffer is dropped and the buffer kept for the next frame', () => {
  const { backend, net, driver } = setup();
  const { head, addrs } = postRx(driver, [12 + 100]);
  backend.incoming.push(frame(1000), frame(86, 9));
  net.poll();
  assert.deepEqual(driver.takeUsed(RX), [{ id: head, len: 112 }]);
  assert.deepEqual(driver.bytes(addrs[0]! + 12, 100), frame(86, 9));
  assert.equal(net.counters.rxDropped, 1);
  assert.equal(net.counters.rxFrames, 1);
  assert.deepEqual(driver.faultKinds(), [], 'a small buffer is not a driver bug');
});

test('RX: the interrupt is suppressed when the driver sets NO_INTERRUPT', () => {
  const { backend, net, driver } = setup();
  driver.view.setUint16(driver.queues[RX]!.avail - TEST_RAM_BASE, VIRTQ_AVAIL_F_NO_INTERRUPT, true);
  postRx(driver, [1526]);
  backend.incoming.push(frame(46));
  net.poll();
  assert.equal(driver.takeUsed(RX).length, 1);
  assert.equal(driver.irqLevel, false);
});

test('before the driver is running, arriving frames are dropped rather than kept stale', () => {
  const { backend, net } = setup({ init: false });
  backend.incoming.push(frame(46), frame(46));
  net.poll();
  assert.equal(backend.pending, 0);
  assert.equal(net.counters.rxDropped, 2);
});

test('link down: status bit clears with a config interrupt, and frames are dropped both ways', () => {
  const { backend, net, driver } = setup();
  net.setLinkUp(false);
  assert.equal(config(driver, 6, 2), 0);
  assert.equal(driver.ackInterrupt(), VIRTIO_MMIO_INT_CONFIG);
  assert.equal(driver.r(R.CONFIG_GENERATION), 1);
  driver.submit(TX, [{ read: withHeader(frame(46)) }]);
  postRx(driver, [1526]);
  backend.incoming.push(frame(46));
  net.poll();
  assert.deepEqual(backend.sent, []);
  assert.equal(driver.takeUsed(RX).length, 0);
  assert.deepEqual(net.counters, { txFrames: 0, txBytes: 0, txDropped: 1, rxFrames: 0, rxBytes: 0, rxDropped: 1 });
  net.setLinkUp(true);
  assert.equal(config(driver, 6, 2), 1);
  backend.incoming.push(frame(46));
  net.poll();
  assert.equal(driver.takeUsed(RX).length, 1);
});

test('hostile TX chains become faults and used buffers, never exceptions; good frames still pass', () => {
  const { backend, net, driver } = setup();
  const heads = [
    // shorter than a header plus an Ethernet header
    driver.submit(TX, [{ read: new Uint8Array(20) }], { notify: false }).head,
    // claims 4 GiB: refused before anything is read
    offerRaw(driver, TX, [{ addr: driver.alloc(64), len: 0xffffffff }]),
    // a normal length, but outside guest RAM
    offerRaw(driver, TX, [{ addr: TEST_RAM_BASE - 0x1000, len: 100 }]),
    // asks for segmentation offload that was never negotiated
    driver.submit(TX, [{ read: withHeader(frame(46), Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) }], { notify: false }).head,
    // asks for checksum offload that was never negotiated
    driver.submit(TX, [{ read: withHeader(frame(46), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) }], { notify: false }).head,
  ];
  const good = frame(46, 5);
  const goodHead = driver.submit(TX, [{ read: withHeader(good) }], { notify: false }).head;
  assert.doesNotThrow(() => driver.w(R.QUEUE_NOTIFY, TX));
  assert.deepEqual(driver.takeUsed(TX), [...heads, goodHead].map((id) => ({ id, len: 0 })));
  assert.deepEqual(backend.sent, [good]);
  assert.deepEqual(driver.faultKinds(), ['net-tx-too-short', 'net-tx-too-long', 'net-tx-outside-ram', 'net-tx-offload-not-negotiated', 'net-tx-offload-not-negotiated']);
  assert.equal(net.counters.txDropped, 5);
  assert.equal(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET, 0, 'bad packets do not fail the device');
});

test('hostile RX chains: outside RAM or too small for any frame are returned empty and the frame dropped', () => {
  const { backend, net, driver } = setup();
  const outside = offerRaw(driver, RX, [{ addr: TEST_RAM_BASE + RAM_BYTES - 8, len: 1526, write: true }]);
  const tiny = postRx(driver, [16]).head;
  const readOnly = offerRaw(driver, RX, [{ addr: driver.alloc(1526), len: 1526 }]);
  const good = postRx(driver, [1526]);
  backend.incoming.push(frame(46, 1), frame(46, 2), frame(46, 3), frame(46, 4));
  assert.doesNotThrow(() => net.poll());
  assert.deepEqual(driver.takeUsed(RX), [
    { id: outside, len: 0 },
    { id: tiny, len: 0 },
    { id: readOnly, len: 0 },
    { id: good.head, len: 72 },
  ]);
  assert.deepEqual(driver.bytes(good.addrs[0]! + 12, 60), frame(46, 4));
  assert.deepEqual(driver.faultKinds(), ['net-rx-outside-ram', 'net-rx-buffer-unusable', 'net-rx-buffer-unusable']);
  assert.equal(net.counters.rxDropped, 3);
});

test('a malformed ring fails the device (DEVICE_NEEDS_RESET) without a host exception, and reset recovers it', () => {
  const { backend, net, driver } = setup();
  driver.view.setUint16(driver.queues[TX]!.avail - TEST_RAM_BASE + 2, 100, true); // 100 new buffers in a 16-entry queue
  assert.doesNotThrow(() => driver.w(R.QUEUE_NOTIFY, TX));
  assert.equal(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET, VirtioStatus.DEVICE_NEEDS_RESET);
  backend.incoming.push(frame(46));
  assert.doesNotThrow(() => net.poll());
  assert.deepEqual(backend.sent, []);
  driver.init({ accept: acceptNet, queueSizes: [16, 16] });
  postRx(driver, [1526]);
  net.poll();
  assert.equal(driver.takeUsed(RX).length, 1, 'the waiting frame arrives after the driver resets the device');
});

test('save/restore keeps the guest-visible MAC and link state; bad state is refused with a kind', () => {
  const { net } = setup();
  net.setLinkUp(false);
  const state = net.save();
  assert.deepEqual(state, { version: 1, mac: '02:00:00:00:00:01', linkUp: false });
  const other = new VirtioNet({ mac: [0x02, 9, 9, 9, 9, 9], backend: new QueueBackend() });
  other.restore(JSON.parse(JSON.stringify(state)));
  assert.equal(other.readConfig(5, 1), 1);
  assert.equal(other.readConfig(6, 2), 0);
  assert.equal(other.isLinkUp, false);
  assert.throws(() => other.restore({ ...state, version: 2 } as never), (e: unknown) => e instanceof VirtioNetError && e.kind === 'virtio-net');
  assert.throws(() => other.restore({ ...state, mac: 'zz' }), VirtioNetError);
});

test('a running device survives a transport save/restore and keeps receiving into buffers posted before it', () => {
  const { driver } = setup();
  const { addrs } = postRx(driver, [1526]);
  const snapshot = JSON.parse(JSON.stringify(driver.transport.save()));
  const backend2 = new QueueBackend();
  const net2 = new VirtioNet({ mac: [0x02, 7, 7, 7, 7, 7], backend: backend2 });
  const driver2 = new VirtioTestDriver(net2, { ramBytes: RAM_BYTES });
  driver2.ram.set(driver.ram);
  driver2.transport.restore(snapshot);
  assert.equal(config(driver2, 5, 1), 1, 'MAC from the snapshot');
  backend2.incoming.push(frame(46, 8));
  net2.poll();
  assert.equal(net2.counters.rxFrames, 1);
  assert.deepEqual(driver2.bytes(addrs[0]! + 12, 60), frame(46, 8));
  assert.equal(driver2.irqLevel, true);
});

test('bad options are host errors', () => {
  const backend = new QueueBackend();
  assert.throws(() => new VirtioNet({ mac: [1, 2, 3], backend }), VirtioNetError);
  assert.throws(() => new VirtioNet({ mac: [0x01, 0, 0x5e, 0, 0, 1], backend }), /multicast/);
  assert.throws(() => new VirtioNet({ mac: [0x02, 0, 0, 0, 0, 256], backend }), VirtioNetError);
});
