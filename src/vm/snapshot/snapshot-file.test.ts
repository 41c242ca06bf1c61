import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSnapshot, writeSnapshot, SNAPSHOT_FORMAT_VERSION, PAGE_SIZE } from './snapshot-file.js';
import { refused, sparseRam } from '../../../tests/snapshot/snapshot-test-support.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-snapshot-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const description = { name: 'test-vm', harts: 1, memory: { bytes: 64 * 1024 * 1024 } };
const state = { harts: [{ pc: '0x80200000', block: Buffer.alloc(4096, 7).toString('base64') }], uart: { fifo: [1, 2, 3] } };

describe('snapshot files', () => {
  it('round-trip a sparse 64 MiB RAM exactly, storing only its non-zero pages', async () => {
    const { ram, nonZero } = sparseRam(64 * 1024 * 1024, 1500);
    const path = join(dir, 'round-trip.snap');
    const written: [number, number][] = [];
    const result = await writeSnapshot(path, { description, state, ram }, { onProgress: (done, total) => written.push([done, total]) });
    assert.equal(result.pages, ram.length / PAGE_SIZE);
    assert.equal(result.nonZeroPages, nonZero);
    assert.equal(result.bytes, statSync(path).size);
    assert.ok(result.bytes < ram.length / 4, `file of ${result.bytes} bytes is not much smaller than the RAM`);
    assert.ok(result.ms >= 0);
    checkProgress(written, nonZero * PAGE_SIZE);

    const snapshot = await openSnapshot(path);
    try {
      assert.equal(snapshot.version, SNAPSHOT_FORMAT_VERSION);
      assert.deepEqual(snapshot.description, description);
      assert.deepEqual(snapshot.state, state);
      assert.equal(snapshot.ramSize, ram.length);
      assert.equal(snapshot.nonZeroPages, nonZero);
      const target = new Uint8Array(ram.length);
      const read: [number, number][] = [];
      const r = await snapshot.readRam(target, { onProgress: (done, total) => read.push([done, total]) });
      assert.equal(r.pages, nonZero);
      checkProgress(read, nonZero * PAGE_SIZE);
      assert.ok(Buffer.from(target).equals(Buffer.from(ram)), 'RAM read back differs from RAM written');
    } finally {
      await snapshot.close();
    }
  });

  it('store an all-zero RAM in a few hundred bytes', async () => {
    const path = join(dir, 'zero.snap');
    const ram = new Uint8Array(16 * 1024 * 1024);
    const result = await writeSnapshot(path, { description, state: {}, ram });
    assert.equal(result.nonZeroPages, 0);
    assert.ok(result.bytes < 1024, `${result.bytes} bytes`);
    const snapshot = await openSnapshot(path);
    const target = new Uint8Array(ram.length);
    assert.equal((await snapshot.readRam(target)).pages, 0);
    assert.ok(target.every((b) => b === 0));
    await snapshot.close();
  });

  it('open without reading the RAM section, and name the damaged chunk only when RAM is read', async () => {
    const { ram } = sparseRam(8 * 1024 * 1024, 700);
    const path = join(dir, 'lazy.snap');
    await writeSnapshot(path, { description, state, ram });
    const bytes = readFileSync(path);
    const snapshot0 = await openSnapshot(path);
    const chunk1 = snapshot0.chunks[1]!;
    await snapshot0.close();
    bytes[chunk1.offset + chunk1.bytes - 3]! ^= 0x01;
    writeFileSync(path, bytes);

    const snapshot = await openSnapshot(path);
    assert.deepEqual(snapshot.state, state, 'metadata is readable though a RAM chunk is damaged');
    await refused(snapshot.readRam(new Uint8Array(ram.length)), 'corrupt', /chunk 1 at byte \d+: CRC32 mismatch/);
    const target = new Uint8Array(ram.length);
    assert.equal(await snapshot.readChunk(0, target), snapshot.chunks[0]!.dataPages, 'undamaged chunks still read one by one');
    await snapshot.close();
    await refused(snapshot.readRam(target), 'bad-argument', /closed/);
  });

  it('find the chunk of any page, so pages can be read on demand', async () => {
    const ram = new Uint8Array(1024 * PAGE_SIZE);
    const stored = [10, 11, ...Array.from({ length: 300 }, (_, i) => 400 + i), 900]; // two chunks
    for (const page of stored) ram.fill((page & 0xff) | 1, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const path = join(dir, 'find.snap');
    await writeSnapshot(path, { description, state, ram });
    const snapshot = await openSnapshot(path);
    try {
      assert.equal(snapshot.chunks.length, 2);
      assert.equal(snapshot.findChunk(0), -1);
      assert.equal(snapshot.findChunk(300), 0);
      assert.equal(snapshot.findChunk(800), 1, 'a zero page inside a chunk range');
      assert.equal(snapshot.findChunk(901), -1);
      const target = new Uint8Array(ram.length);
      const read = new Set<number>();
      for (const page of stored) {
        const chunk = snapshot.findChunk(page);
        assert.ok(chunk >= 0, `page ${page} has a chunk`);
        if (!read.has(chunk)) await snapshot.readChunk(chunk, target);
        read.add(chunk);
      }
      assert.ok(Buffer.from(target).equals(Buffer.from(ram)));
    } finally {
      await snapshot.close();
    }
  });

  it('refuse bad arguments', async () => {
    const path = join(dir, 'bad-arg.snap');
    await refused(writeSnapshot(path, { description, state, ram: new Uint8Array(PAGE_SIZE + 1) }), 'bad-argument', /multiple of 4096/);
    await refused(writeSnapshot(path, { description, state: { n: 1n }, ram: new Uint8Array(PAGE_SIZE) }), 'bad-argument', /JSON/);
    await refused(writeSnapshot(path, { description, state: undefined, ram: new Uint8Array(PAGE_SIZE) }), 'bad-argument');
    await refused(writeSnapshot(join(dir, 'no-such-dir', 'x.snap'), { description, state, ram: new Uint8Array(PAGE_SIZE) }), 'io', /could not create/);
    await refused(openSnapshot(join(dir, 'missing.snap')), 'io', /no such file/);

    await writeSnapshot(path, { description, state, ram: new Uint8Array(2 * PAGE_SIZE) });
    const snapshot = await openSnapshot(path);
    await refused(snapshot.readRam(new Uint8Array(PAGE_SIZE)), 'bad-argument', /into 4096 bytes/);
    await snapshot.close();
  });
});

function checkProgress(calls: [number, number][], total: number): void {
  assert.ok(calls.length > 1, 'progress reported more than once');
  for (let i = 0; i < calls.length; i++) {
    assert.equal(calls[i]![1], total);
    if (i > 0) assert.ok(calls[i]![0] > calls[i - 1]![0], 'progress only moves forward');
  }
  assert.equal(calls[calls.length - 1]![0], total, 'progress ends at the total');
}
