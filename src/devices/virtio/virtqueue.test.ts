import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoDevice } from './testing/echo-device.js';
import { TEST_RAM_BASE, VirtioTestDriver } from './testing/virtio-test-driver.js';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, Virtqueue, VirtqueueError } from './virtqueue.js';

const NEXT = VIRTQ_DESC_F_NEXT, WRITE = VIRTQ_DESC_F_WRITE, INDIRECT = VIRTQ_DESC_F_INDIRECT;

/** A standalone queue of `size` entries over fresh test RAM, with the driver's helpers to forge rings. */
function makeQueue(size = 8, maxSize = size) {
  const d = new VirtioTestDriver(new EchoDevice());
  const tq = d.layoutQueue(0, size);
  const vq = new Virtqueue(maxSize);
  vq.size = size;
  vq.descAddr = tq.desc;
  vq.driverAddr = tq.avail;
  vq.deviceAddr = tq.used;
  vq.enable(d.memory);
  return { d, tq, vq, mem: d.memory };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VirtqueueError) return e.reason;
    throw e;
  }
  return 'no error';
}

test('pop returns null on an empty ring and the chain split into readable then writable parts', () => {
  const { d, tq, vq, mem } = makeQueue();
  assert.equal(vq.pop(mem), null);
  assert.equal(vq.hasAvailable(mem), false);
  d.writeDesc(tq.desc, 3, TEST_RAM_BASE + 0x100, 16, NEXT, 5);
  d.writeDesc(tq.desc, 5, TEST_RAM_BASE + 0x200, 100, NEXT, 1);
  d.writeDesc(tq.desc, 1, TEST_RAM_BASE + 0x300, 1, WRITE, 0);
  d.publish(0, 3);
  assert.equal(vq.hasAvailable(mem), true);
  const chain = vq.pop(mem)!;
  assert.equal(chain.head, 3);
  assert.deepEqual(chain.readable, [{ addr: TEST_RAM_BASE + 0x100, len: 16 }, { addr: TEST_RAM_BASE + 0x200, len: 100 }]);
  assert.deepEqual(chain.writable, [{ addr: TEST_RAM_BASE + 0x300, len: 1 }]);
  assert.equal(chain.readableLength, 116);
  assert.equal(chain.writableLength, 1);
  assert.equal(vq.pop(mem), null);
});

test('chain byte access spans descriptors by offset, whatever the framing', () => {
  const { d, tq, vq, mem } = makeQueue();
  d.put(TEST_RAM_BASE + 0x100, Uint8Array.of(1, 2, 3));
  d.put(TEST_RAM_BASE + 0x200, Uint8Array.of(4, 5, 6, 7));
  d.writeDesc(tq.desc, 0, TEST_RAM_BASE + 0x100, 3, NEXT, 1);
  d.writeDesc(tq.desc, 1, TEST_RAM_BASE + 0x200, 4, NEXT, 2);
  d.writeDesc(tq.desc, 2, TEST_RAM_BASE + 0x300, 2, WRITE | NEXT, 3);
  d.writeDesc(tq.desc, 3, TEST_RAM_BASE + 0x400, 3, WRITE, 0);
  d.publish(0, 0);
  const chain = vq.pop(mem)!;
  assert.deepEqual(chain.read(mem, 2, 3), Uint8Array.of(3, 4, 5));
  assert.equal(chain.read(mem, 5, 3), null, 'past the readable end');
  assert.equal(chain.write(mem, 1, Uint8Array.of(9, 8, 7)), true);
  assert.deepEqual(d.bytes(TEST_RAM_BASE + 0x300, 2), Uint8Array.of(0, 9));
  assert.deepEqual(d.bytes(TEST_RAM_BASE + 0x400, 3), Uint8Array.of(8, 7, 0));
  assert.equal(chain.write(mem, 4, Uint8Array.of(1, 2)), false, 'past the writable end');
  assert.deepEqual(chain.ranges('writable', 1, 2), [{ addr: TEST_RAM_BASE + 0x301, len: 1 }, { addr: TEST_RAM_BASE + 0x400, len: 1 }]);
});

test('a buffer outside guest RAM is reported on access, not read', () => {
  const { d, tq, vq, mem } = makeQueue();
  d.writeDesc(tq.desc, 0, 0x1000, 8, NEXT, 1); // below RAM
  d.writeDesc(tq.desc, 1, 2 ** 63, 8, WRITE, 0); // far above
  d.publish(0, 0);
  const chain = vq.pop(mem)!;
  assert.equal(chain.read(mem, 0, 8), null);
  assert.equal(chain.write(mem, 0, new Uint8Array(8)), false);
  // A buffer straddling the end of RAM.
  d.writeDesc(tq.desc, 2, TEST_RAM_BASE + d.ram.length - 4, 8, 0, 0);
  d.publish(0, 2);
  assert.equal(vq.pop(mem)!.read(mem, 0, 8), null);
});

test('descriptor loops and over-long chains are caught', () => {
  const { d, tq, vq, mem } = makeQueue(4);
  d.writeDesc(tq.desc, 0, TEST_RAM_BASE, 1, NEXT, 1);
  d.writeDesc(tq.desc, 1, TEST_RAM_BASE, 1, NEXT, 0);
  d.publish(0, 0);
  assert.equal(reasonOf(() => vq.pop(mem)), 'chain-too-long');
});

test('loops inside an indirect table, and indirect tables longer than the queue, are caught', () => {
  const { d, tq, vq, mem } = makeQueue(4);
  vq.indirect = true;
  const table = d.alloc(16 * 2, 16);
  d.writeDesc(table, 0, TEST_RAM_BASE, 1, NEXT, 1);
  d.writeDesc(table, 1, TEST_RAM_BASE, 1, NEXT, 0);
  d.writeDesc(tq.desc, 0, table, 32, INDIRECT, 0);
  d.publish(0, 0);
  assert.equal(reasonOf(() => vq.pop(mem)), 'chain-too-long');

  const b = makeQueue(4);
  b.vq.indirect = true;
  const long = b.d.alloc(16 * 8, 16);
  for (let i = 0; i < 8; i++) b.d.writeDesc(long, i, TEST_RAM_BASE, 1, i < 7 ? NEXT : 0, i + 1);
  b.d.writeDesc(b.tq.desc, 0, long, 16 * 8, INDIRECT, 0);
  b.d.publish(0, 0);
  assert.equal(reasonOf(() => b.vq.pop(b.mem)), 'chain-too-long');
});

test('indirect descriptors: a valid table, nested, not negotiated, bad length, with NEXT', () => {
  const { d, tq, vq, mem } = makeQueue();
  const table = d.alloc(16 * 2, 16);
  d.writeDesc(table, 0, TEST_RAM_BASE + 0x100, 4, NEXT, 1);
  d.writeDesc(table, 1, TEST_RAM_BASE + 0x200, 4, WRITE, 0);
  d.writeDesc(tq.desc, 0, table, 32, INDIRECT, 0);
  d.publish(0, 0);
  assert.equal(reasonOf(() => vq.pop(mem)), 'indirect-not-negotiated');

  const cases: Array<[string, (x: ReturnType<typeof makeQueue>, table: number) => void]> = [
    ['nested-indirect', (x, t) => x.d.writeDesc(t, 1, t, 16, INDIRECT, 0)],
    ['bad-indirect-table', (x, t) => x.d.writeDesc(x.tq.desc, 0, t, 24, INDIRECT, 0)],
    ['bad-indirect-table', (x, t) => x.d.writeDesc(x.tq.desc, 0, t, 32, INDIRECT | NEXT, 1)],
    ['ring-outside-ram', (x) => x.d.writeDesc(x.tq.desc, 0, 0x10, 32, INDIRECT, 0)],
    ['bad-descriptor-index', (x, t) => x.d.writeDesc(t, 0, TEST_RAM_BASE, 4, NEXT, 2)],
  ];
  const ok = makeQueue();
  ok.vq.indirect = true;
  const t0 = ok.d.alloc(32, 16);
  ok.d.writeDesc(t0, 0, TEST_RAM_BASE + 0x100, 4, NEXT, 1);
  ok.d.writeDesc(t0, 1, TEST_RAM_BASE + 0x200, 4, WRITE, 0);
  ok.d.writeDesc(ok.tq.desc, 0, t0, 32, INDIRECT, 0);
  ok.d.publish(0, 0);
  const chain = ok.vq.pop(ok.mem)!;
  assert.equal(chain.head, 0);
  assert.deepEqual(chain.readable, [{ addr: TEST_RAM_BASE + 0x100, len: 4 }]);
  assert.deepEqual(chain.writable, [{ addr: TEST_RAM_BASE + 0x200, len: 4 }]);

  for (const [reason, forge] of cases) {
    const x = makeQueue();
    x.vq.indirect = true;
    const t = x.d.alloc(32, 16);
    x.d.writeDesc(t, 0, TEST_RAM_BASE + 0x100, 4, NEXT, 1);
    x.d.writeDesc(t, 1, TEST_RAM_BASE + 0x200, 4, WRITE, 0);
    x.d.writeDesc(x.tq.desc, 0, t, 32, INDIRECT, 0);
    forge(x, t);
    x.d.publish(0, 0);
    assert.equal(reasonOf(() => x.vq.pop(x.mem)), reason);
  }
});

test('bad indices: head or next outside the table, avail idx too far ahead, readable after writable', () => {
  let x = makeQueue();
  x.d.publish(0, 8);
  assert.equal(reasonOf(() => x.vq.pop(x.mem)), 'bad-descriptor-index');

  x = makeQueue();
  x.d.writeDesc(x.tq.desc, 0, TEST_RAM_BASE, 4, NEXT, 200);
  x.d.publish(0, 0);
  assert.equal(reasonOf(() => x.vq.pop(x.mem)), 'bad-descriptor-index');

  x = makeQueue();
  x.d.view.setUint16(x.tq.avail - TEST_RAM_BASE + 2, 9, true);
  assert.equal(reasonOf(() => x.vq.pop(x.mem)), 'avail-index');

  x = makeQueue();
  x.d.writeDesc(x.tq.desc, 0, TEST_RAM_BASE, 4, WRITE | NEXT, 1);
  x.d.writeDesc(x.tq.desc, 1, TEST_RAM_BASE, 4, 0, 0);
  x.d.publish(0, 0);
  assert.equal(reasonOf(() => x.vq.pop(x.mem)), 'readable-after-writable');
});

test('pushUsed fills the used ring and its idx; indices wrap at 2^16', () => {
  const { d, tq, vq, mem } = makeQueue(4);
  d.writeDesc(tq.desc, 2, TEST_RAM_BASE, 4, WRITE, 0);
  for (let i = 0; i < 70000; i++) {
    d.publish(0, 2);
    const chain = vq.pop(mem)!;
    assert.equal(chain.head, 2);
    vq.pushUsed(mem, chain.head, i & 0xff);
  }
  assert.equal(d.usedIdx(0), 70000 & 0xffff);
  const last = (70000 - 1) % 4;
  assert.equal(d.view.getUint32(tq.used - TEST_RAM_BASE + 4 + 8 * last + 4, true), (70000 - 1) & 0xff);
});

test('undoPop hands the same chain out again', () => {
  const { d, tq, vq, mem } = makeQueue();
  d.writeDesc(tq.desc, 4, TEST_RAM_BASE, 4, WRITE, 0);
  d.publish(0, 4);
  assert.equal(vq.pop(mem)!.head, 4);
  vq.undoPop();
  assert.equal(vq.pop(mem)!.head, 4);
  assert.equal(vq.pop(mem), null);
});

test('interrupt suppression: VRING_AVAIL_F_NO_INTERRUPT without EVENT_IDX', () => {
  const { d, tq, vq, mem } = makeQueue();
  assert.equal(vq.needsInterrupt(mem), false, 'nothing pushed yet');
  vq.pushUsed(mem, 0, 0);
  assert.equal(vq.needsInterrupt(mem), true);
  d.view.setUint16(tq.avail - TEST_RAM_BASE, VIRTQ_AVAIL_F_NO_INTERRUPT, true);
  vq.pushUsed(mem, 0, 0);
  assert.equal(vq.needsInterrupt(mem), false);
});

test('EVENT_IDX: interrupt only when used_event is crossed; avail_event tracks the device', () => {
  const { d, tq, vq, mem } = makeQueue();
  vq.eventIdx = true;
  const usedEventAt = tq.avail - TEST_RAM_BASE + 4 + 2 * tq.size;
  const availEventAt = tq.used - TEST_RAM_BASE + 4 + 8 * tq.size;
  d.view.setUint16(usedEventAt, 2, true); // interrupt when used idx passes 2
  d.view.setUint16(tq.avail - TEST_RAM_BASE, VIRTQ_AVAIL_F_NO_INTERRUPT, true); // ignored with EVENT_IDX
  d.writeDesc(tq.desc, 0, TEST_RAM_BASE, 4, WRITE, 0);
  const step = () => {
    d.publish(0, 0);
    vq.pushUsed(mem, vq.pop(mem)!.head, 0);
    return vq.needsInterrupt(mem);
  };
  assert.equal(step(), false); // used idx 1
  assert.equal(d.view.getUint16(availEventAt, true), 1);
  assert.equal(step(), false); // 2
  assert.equal(step(), true); // 3: crossed used_event 2
  assert.equal(step(), false);
  assert.equal(d.view.getUint16(availEventAt, true), 4);
});

test('save/restore keeps ring positions; bad state is refused', () => {
  const { d, tq, vq, mem } = makeQueue();
  d.writeDesc(tq.desc, 0, TEST_RAM_BASE, 4, WRITE, 0);
  d.publish(0, 0);
  d.publish(0, 0);
  vq.pushUsed(mem, vq.pop(mem)!.head, 0);
  const copy = new Virtqueue(8);
  copy.restore(JSON.parse(JSON.stringify(vq.save())));
  assert.equal(copy.pop(mem)!.head, 0);
  assert.equal(copy.pop(mem), null);
  copy.pushUsed(mem, 0, 0);
  assert.equal(d.usedIdx(0), 2);
  assert.throws(() => copy.restore({ ...vq.save(), size: 64 }), VirtqueueError);
  assert.throws(() => new Virtqueue(3), VirtqueueError);
});

test('an indirect table as long as the maximum queue size is accepted (Linux: seg_max + 2 entries)', () => {
  const { d, tq, vq, mem } = makeQueue(4, 8);
  vq.indirect = true;
  const table = d.alloc(16 * 8, 16);
  for (let i = 0; i < 8; i++) d.writeDesc(table, i, TEST_RAM_BASE, 1, (i < 7 ? NEXT : 0) | (i === 7 ? WRITE : 0), i + 1);
  d.writeDesc(tq.desc, 0, table, 16 * 8, INDIRECT, 0);
  d.publish(0, 0);
  const chain = vq.pop(mem)!;
  assert.equal(chain.readable.length + chain.writable.length, 8);
});
