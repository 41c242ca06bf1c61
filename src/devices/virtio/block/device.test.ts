import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockBackend } from '../../../storage/block-backend.js';
import { FileBlockBackend } from '../../../storage/file-block-backend.js';
import { MemoryBlockBackend } from '../../../storage/memory-block-backend.js';
import { VirtioMmioRegister as R } from '../mmio-transport.js';
import { blockRequestHeader } from '../testing/block-request-header.js';
import { VirtioStatus } from '../virtio-device.js';
import { TEST_RAM_BASE, VirtioTestDriver, type TestBuffer } from '../testing/virtio-test-driver.js';
import { VirtioBlkConfig as C, VirtioBlkFeature as F, VirtioBlockDevice } from './device.js';
import { VirtioBlkStatus as St, VirtioBlkType as T } from './request.js';
import type { VirtioBlockState } from './state.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-blk-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let images = 0;

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

const header = blockRequestHeader;

function segments(list: Array<[sector: number, count: number, flags?: number]>): Uint8Array {
  const out = new Uint8Array(16 * list.length);
  const v = new DataView(out.buffer);
  list.forEach(([sector, count, flags], i) => {
    v.setBigUint64(16 * i, BigInt(sector), true);
    v.setUint32(16 * i + 8, count, true);
    v.setUint32(16 * i + 12, flags ?? 0, true);
  });
  return out;
}

type Backends = { name: string; make: (contents: Uint8Array, readOnly?: boolean) => BlockBackend }[];
const backends: Backends = [
  { name: 'memory', make: (contents, readOnly = false) => new MemoryBlockBackend({ contents, readOnly }) },
  {
    name: 'file',
    make: (contents, readOnly = false) => {
      const path = join(dir, `d${images++}.img`);
      writeFileSync(path, contents);
      return FileBlockBackend.open(path, { readOnly });
    },
  },
];

function setup(backend: BlockBackend, options: { serial?: string; queueSize?: number } = {}) {
  const device = new VirtioBlockDevice({ backend, ...options });
  const driver = new VirtioTestDriver(device);
  const status = driver.init();
  assert.equal(status & VirtioStatus.DRIVER_OK, VirtioStatus.DRIVER_OK);
  /** Submits a request and returns its status byte, used length and the writable buffers' bytes. */
  const request = async (buffers: TestBuffer[], opts: { indirect?: boolean } = {}) => {
    const { head, addrs } = driver.submit(0, buffers, opts);
    await device.drain();
    const used = driver.takeUsed(0);
    assert.equal(used.length, 1);
    assert.equal(used[0]!.id, head);
    const writable = buffers.map((b, i) => ('write' in b ? driver.bytes(addrs[i]!, b.write) : null));
    const last = writable.at(-1);
    return { status: last ? last[last.length - 1] : undefined, len: used[0]!.len, writable };
  };
  return { device, driver, request };
}

for (const { name, make } of backends) {
  test(`${name}: config space and features describe the disk`, async () => {
    const { driver, device } = setup(make(new Uint8Array(64 * 512)));
    const t = driver.transport;
    assert.equal(driver.r(R.DEVICE_ID), 2);
    assert.equal(t.read(R.CONFIG + C.CAPACITY, 4), 64);
    assert.equal(t.read(R.CONFIG + C.CAPACITY + 4, 4), 0);
    assert.equal(t.read(R.CONFIG + C.SEG_MAX, 4), 254);
    assert.equal(t.read(R.CONFIG + C.SIZE_MAX, 4), 1 << 20);
    assert.equal(t.read(R.CONFIG + C.BLK_SIZE, 4), 512);
    assert.ok(t.read(R.CONFIG + C.MAX_DISCARD_SECTORS, 4) > 0);
    assert.ok(t.read(R.CONFIG + C.MAX_DISCARD_SEG, 4) > 0);
    const f = driver.deviceFeatures();
    for (const bit of [F.FLUSH, F.SEG_MAX, F.SIZE_MAX, F.DISCARD, F.WRITE_ZEROES]) assert.equal(f & bit, bit);
    assert.equal(f & F.RO, 0n);
    assert.equal(device.capacity, 64);
  });

  test(`${name}: read (T_IN) returns the disk's sectors, across several guest buffers`, async () => {
    const disk = pattern(64 * 512, 3);
    const { request, device } = setup(make(disk));
    const r = await request([{ read: header(T.IN, 5) }, { write: 512 }, { write: 1024 }, { write: 1 }]);
    assert.equal(r.status, St.OK);
    assert.equal(r.len, 1536 + 1);
    assert.deepEqual(r.writable[1], disk.subarray(5 * 512, 6 * 512));
    assert.deepEqual(r.writable[2], disk.subarray(6 * 512, 8 * 512));
    assert.equal(device.stats.reads, 1);
    assert.equal(device.stats.bytesRead, 1536);
  });

  test(`${name}: write (T_OUT) then read back; flush (T_FLUSH) succeeds`, async () => {
    const backend = make(new Uint8Array(64 * 512));
    const { request } = setup(backend);
    const data = pattern(2048, 9);
    const w = await request([{ read: header(T.OUT, 10) }, { read: data.subarray(0, 1000) }, { read: data.subarray(1000) }, { write: 1 }]);
    assert.equal(w.status, St.OK);
    assert.equal(w.len, 1, 'only the status byte is written');
    assert.equal((await request([{ read: header(T.FLUSH, 0) }, { write: 1 }])).status, St.OK);
    const r = await request([{ read: header(T.IN, 10) }, { write: 2048 }, { write: 1 }], { indirect: true });
    assert.equal(r.status, St.OK);
    assert.deepEqual(r.writable[1], data);
    const direct = new Uint8Array(2048);
    await backend.read(10 * 512, direct);
    assert.deepEqual(direct, data);
  });

  test(`${name}: header, data and status may share descriptors in any framing`, async () => {
    const backend = make(new Uint8Array(16 * 512));
    const { request } = setup(backend);
    const data = pattern(512, 1);
    const joined = new Uint8Array(16 + 512);
    joined.set(header(T.OUT, 2));
    joined.set(data, 16);
    assert.equal((await request([{ read: joined.subarray(0, 7) }, { read: joined.subarray(7) }, { write: 1 }])).status, St.OK);
    const r = await request([{ read: header(T.IN, 2) }, { write: 513 }]);
    assert.equal(r.status, St.OK);
    assert.deepEqual(r.writable[1]!.subarray(0, 512), data);
  });

  test(`${name}: get id (T_GET_ID) answers the 20-byte serial`, async () => {
    const { request } = setup(make(new Uint8Array(8 * 512)), { serial: 'disk-0042' });
    const r = await request([{ read: header(T.GET_ID, 0) }, { write: 20 }, { write: 1 }]);
    assert.equal(r.status, St.OK);
    assert.equal(r.len, 21);
    const expected = new Uint8Array(20);
    expected.set(new TextEncoder().encode('disk-0042'));
    assert.deepEqual(r.writable[1], expected);
  });

  test(`${name}: discard and write-zeroes clear sectors; bad segments and flags are refused`, async () => {
    const backend = make(pattern(64 * 512, 5));
    const { request } = setup(backend);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: segments([[4, 2], [10, 1]]) }, { write: 1 }])).status, St.OK);
    assert.equal((await request([{ read: header(T.WRITE_ZEROES, 0) }, { read: segments([[20, 3, 0]]) }, { write: 1 }])).status, St.OK);
    assert.equal((await request([{ read: header(T.WRITE_ZEROES, 0) }, { read: segments([[30, 1, 1]]) }, { write: 1 }])).status, St.OK);
    const all = new Uint8Array(backend.size);
    await backend.read(0, all);
    const zero = (s: number, n: number) => assert.deepEqual(all.subarray(s * 512, (s + n) * 512), new Uint8Array(n * 512), `sectors ${s}+${n}`);
    zero(4, 2);
    zero(10, 1);
    zero(20, 3);
    zero(30, 1);
    assert.deepEqual(all.subarray(6 * 512, 10 * 512), pattern(64 * 512, 5).subarray(6 * 512, 10 * 512), 'neighbours kept');
    // Unmap on a discard, unknown flags, too many sectors, past the end, a ragged segment array.
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: segments([[0, 1, 1]]) }, { write: 1 }])).status, St.UNSUPP);
    assert.equal((await request([{ read: header(T.WRITE_ZEROES, 0) }, { read: segments([[0, 1, 4]]) }, { write: 1 }])).status, St.UNSUPP);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: segments([[0, 100000]]) }, { write: 1 }])).status, St.IOERR);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: segments([[63, 2]]) }, { write: 1 }])).status, St.IOERR);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: new Uint8Array(10) }, { write: 1 }])).status, St.IOERR);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { write: 1 }])).status, St.IOERR, 'no segments');
  });

  test(`${name}: read-only disk offers RO, reads work, writes and discards fail with IOERR and change nothing`, async () => {
    const disk = pattern(16 * 512, 2);
    const backend = make(disk, true);
    const { request, driver } = setup(backend);
    const f = driver.deviceFeatures();
    assert.equal(f & F.RO, F.RO);
    assert.equal(f & F.DISCARD, 0n);
    assert.equal((await request([{ read: header(T.IN, 0) }, { write: 512 }, { write: 1 }])).status, St.OK);
    assert.equal((await request([{ read: header(T.OUT, 0) }, { read: new Uint8Array(512) }, { write: 1 }])).status, St.IOERR);
    assert.equal((await request([{ read: header(T.DISCARD, 0) }, { read: segments([[0, 1]]) }, { write: 1 }])).status, St.UNSUPP);
    assert.equal((await request([{ read: header(T.WRITE_ZEROES, 0) }, { read: segments([[0, 1]]) }, { write: 1 }])).status, St.UNSUPP);
    assert.equal((await request([{ read: header(T.FLUSH, 0) }, { write: 1 }])).status, St.OK);
    const all = new Uint8Array(backend.size);
    await backend.read(0, all);
    assert.deepEqual(all, disk);
  });
}

test('file backend: writes reach the image file and a flush fsyncs', async () => {
  const path = join(dir, 'persist.img');
  writeFileSync(path, new Uint8Array(8 * 512));
  const backend = FileBlockBackend.open(path);
  const { request } = setup(backend);
  assert.equal((await request([{ read: header(T.OUT, 1) }, { read: pattern(512, 4) }, { write: 1 }])).status, St.OK);
  assert.equal((await request([{ read: header(T.FLUSH, 0) }, { write: 1 }])).status, St.OK);
  await backend.close();
  assert.deepEqual([...readFileSync(path).subarray(512, 1024)], [...pattern(512, 4)]);
});

test('hostile requests end as IOERR/UNSUPP with a fault, and the device keeps working', async () => {
  const backend = new MemoryBlockBackend({ contents: pattern(64 * 512, 1) });
  const { request, driver, device } = setup(backend);
  const cases: Array<[string, TestBuffer[], number]> = [
    ['unknown type', [{ read: header(99, 0) }, { write: 1 }], St.UNSUPP],
    ['short header', [{ read: new Uint8Array(8) }, { write: 1 }], St.IOERR],
    ['read past the end', [{ read: header(T.IN, 63) }, { write: 1024 }, { write: 1 }], St.IOERR],
    ['huge sector number', [{ read: header(T.IN, 2 ** 60) }, { write: 512 }, { write: 1 }], St.IOERR],
    ['length not a sector multiple', [{ read: header(T.IN, 0) }, { write: 100 }, { write: 1 }], St.IOERR],
    ['write with data in the device-writable part', [{ read: header(T.OUT, 0) }, { write: 512 }, { write: 1 }], St.IOERR],
    ['read with data in the device-readable part', [{ read: header(T.IN, 0) }, { read: new Uint8Array(512) }, { write: 1 }], St.IOERR],
    ['flush with data', [{ read: header(T.FLUSH, 0) }, { write: 512 }, { write: 1 }], St.IOERR],
    ['get-lifetime (not offered)', [{ read: header(T.GET_LIFETIME, 0) }, { write: 16 }, { write: 1 }], St.UNSUPP],
  ];
  for (const [name, buffers, expected] of cases) assert.equal((await request(buffers)).status, expected, name);
  assert.ok(driver.faultKinds().includes('blk-bad-layout'));
  assert.ok(driver.faultKinds().includes('blk-out-of-range'));
  assert.equal(device.stats.errors, cases.length);
  assert.equal(driver.r(R.STATUS) & VirtioStatus.DEVICE_NEEDS_RESET, 0, 'request errors do not fail the device');
  assert.deepEqual(backend.bytes, pattern(64 * 512, 1), 'nothing was written');
  assert.equal((await request([{ read: header(T.IN, 0) }, { write: 512 }, { write: 1 }])).status, St.OK);
});

test('DMA outside guest RAM: data buffers fail with IOERR, a lost status byte still completes the request', async () => {
  const backend = new MemoryBlockBackend({ contents: pattern(16 * 512, 1) });
  const { driver, device } = setup(backend);
  const tq = driver.queues[0]!;
  const hdr = driver.alloc(16);
  const status = driver.alloc(1);
  const ramEnd = TEST_RAM_BASE + driver.ram.length;
  // A read whose data buffer straddles the end of RAM.
  driver.put(hdr, header(T.IN, 0));
  driver.writeDesc(tq.desc, 0, hdr, 16, 1, 1);
  driver.writeDesc(tq.desc, 1, ramEnd - 256, 512, 3, 2);
  driver.writeDesc(tq.desc, 2, status, 1, 2, 0);
  driver.publish(0, 0);
  // A write whose data lies below RAM.
  driver.put(hdr + 0, header(T.OUT, 0));
  driver.writeDesc(tq.desc, 3, hdr, 16, 1, 4);
  driver.writeDesc(tq.desc, 4, 0x2000, 512, 1, 5);
  driver.writeDesc(tq.desc, 5, status, 1, 2, 0);
  driver.publish(0, 3);
  // A request whose status byte is outside RAM.
  driver.writeDesc(tq.desc, 6, hdr, 16, 1, 7);
  driver.writeDesc(tq.desc, 7, 0xdead_0000_0000, 1, 2, 0);
  driver.publish(0, 6);
  driver.w(R.QUEUE_NOTIFY, 0);
  await device.drain();
  const used = driver.takeUsed(0);
  assert.deepEqual(used.map((u) => u.id), [0, 3, 6]);
  assert.equal(used[2]!.len, 0);
  assert.equal(driver.bytes(status, 1)[0], St.IOERR);
  assert.deepEqual(backend.bytes, pattern(16 * 512, 1));
  assert.ok(driver.faultKinds().includes('blk-buffer-outside-ram'));
  assert.ok(driver.faultKinds().includes('blk-status-outside-ram'));
  assert.equal(device.stats.errors, 3);
});

test('oversized requests: more data than seg_max * size_max is refused', async () => {
  const backend = new MemoryBlockBackend({ size: 4096 * 512 });
  const device = new VirtioBlockDevice({ backend, queueSize: 4, sizeMax: 4096 });
  const driver = new VirtioTestDriver(device);
  driver.init();
  // seg_max = 2, size_max = 4096: at most 8 KiB per request.
  assert.equal(driver.transport.read(R.CONFIG + C.SEG_MAX, 4), 2);
  driver.submit(0, [{ read: header(T.IN, 0) }, { write: 8192 }, { write: 1 }]);
  const r = driver.submit(0, [{ read: header(T.IN, 0) }, { write: 8704 }, { write: 1 }]);
  await device.drain();
  // Requests complete in any order.
  assert.deepEqual(driver.takeUsed(0).sort((a, b) => b.len - a.len).map((u) => u.len), [8193, 1]);
  assert.equal(driver.bytes(r.addrs[2]!, 1)[0], St.IOERR);
  assert.ok(driver.faultKinds().includes('blk-request-too-large'));
});

test('a large read is moved in pieces and arrives intact', async () => {
  const disk = pattern(2048 * 512, 11);
  const { request } = setup(new MemoryBlockBackend({ contents: disk }));
  const r = await request([{ read: header(T.IN, 0) }, { write: 1 << 20 }, { write: 1 }]);
  assert.equal(r.status, St.OK);
  assert.deepEqual(r.writable[1], disk.subarray(0, 1 << 20));
});

test('save/restore: state names the disk; a different disk is refused', async () => {
  const { device } = setup(new MemoryBlockBackend({ size: 8 * 512 }), { serial: 'abc' });
  const state: VirtioBlockState = JSON.parse(JSON.stringify(device.save()));
  assert.deepEqual(state, { version: 1, capacity: 8, readOnly: false, serial: 'abc' });
  new VirtioBlockDevice({ backend: new MemoryBlockBackend({ size: 8 * 512 }) }).restore(state);
  assert.throws(() => new VirtioBlockDevice({ backend: new MemoryBlockBackend({ size: 16 * 512 }) }).restore(state), /same disk/);
  assert.throws(() => device.restore({ ...state, version: 2 } as unknown as VirtioBlockState), /version/);
});
