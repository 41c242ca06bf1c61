// The behaviour every BlockBackend promises, as one suite of node:test tests. Each backend's
// test file calls runBlockBackendConformance() with a factory for that backend.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockBackendError, SECTOR_SIZE, type BlockBackend, type BlockBackendErrorKind } from './block-backend.js';

export interface ConformanceSubject {
  backend: BlockBackend;
  /** Releases what the factory made (files, descriptors). */
  close(): Promise<void> | void;
}

/** Makes a backend whose initial bytes are `contents` (a multiple of 512 bytes long). */
export type BackendFactory = (contents: Uint8Array, options: { readOnly: boolean }) => ConformanceSubject | Promise<ConformanceSubject>;

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function rejectsKind(promise: Promise<unknown>, kind: BlockBackendErrorKind): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof BlockBackendError && e.kind === kind);
}

export function runBlockBackendConformance(name: string, factory: BackendFactory): void {
  const withBackend = async (contents: Uint8Array, readOnly: boolean, body: (b: BlockBackend) => Promise<void>) => {
    const subject = await factory(contents, { readOnly });
    try {
      await body(subject.backend);
    } finally {
      await subject.close();
    }
  };

  test(`${name}: reports its size and reads its initial contents`, async () => {
    const contents = pattern(8 * SECTOR_SIZE, 7);
    await withBackend(contents, false, async (b) => {
      assert.equal(b.size, contents.length);
      assert.equal(b.readOnly, false);
      const all = new Uint8Array(b.size);
      await b.read(0, all);
      assert.deepEqual(all, contents);
      const middle = new Uint8Array(100);
      await b.read(1000, middle);
      assert.deepEqual(middle, contents.subarray(1000, 1100));
    });
  });

  test(`${name}: writes read back, at sector and at odd offsets, without touching neighbours`, async () => {
    await withBackend(new Uint8Array(16 * SECTOR_SIZE), false, async (b) => {
      const data = pattern(3 * SECTOR_SIZE, 1);
      await b.write(2 * SECTOR_SIZE, data);
      await b.write(5, Uint8Array.of(0xaa, 0xbb));
      await b.flush();
      const back = new Uint8Array(data.length);
      await b.read(2 * SECTOR_SIZE, back);
      assert.deepEqual(back, data);
      const head = new Uint8Array(8);
      await b.read(0, head);
      assert.deepEqual(head, Uint8Array.of(0, 0, 0, 0, 0, 0xaa, 0xbb, 0));
      const after = new Uint8Array(SECTOR_SIZE);
      await b.read(5 * SECTOR_SIZE, after);
      assert.deepEqual(after, new Uint8Array(SECTOR_SIZE));
      await b.write(b.size - 1, Uint8Array.of(0x5a));
      const last = new Uint8Array(1);
      await b.read(b.size - 1, last);
      assert.equal(last[0], 0x5a);
    });
  });

  test(`${name}: accesses past the end fail with out-of-range and change nothing`, async () => {
    await withBackend(new Uint8Array(4 * SECTOR_SIZE), false, async (b) => {
      await rejectsKind(b.read(b.size - 10, new Uint8Array(11)), 'out-of-range');
      await rejectsKind(b.write(b.size, Uint8Array.of(1)), 'out-of-range');
      await rejectsKind(b.write(b.size - 1, Uint8Array.of(1, 2)), 'out-of-range');
      await rejectsKind(b.read(-1, new Uint8Array(1)), 'out-of-range');
      await rejectsKind(b.read(2 ** 60, new Uint8Array(1)), 'out-of-range');
      if (b.discard) await rejectsKind(b.discard!(0, b.size + SECTOR_SIZE), 'out-of-range');
      const last = new Uint8Array(1);
      await b.read(b.size - 1, last);
      assert.equal(last[0], 0, 'the refused write left no partial data');
      await b.read(b.size, new Uint8Array(0));
    });
  });

  test(`${name}: discard makes the range read as zeros`, async (t) => {
    await withBackend(pattern(8 * SECTOR_SIZE, 3), false, async (b) => {
      if (!b.discard) {
        t.skip('no discard');
        return;
      }
      await b.discard(SECTOR_SIZE, 2 * SECTOR_SIZE);
      const all = new Uint8Array(b.size);
      await b.read(0, all);
      assert.deepEqual(all.subarray(SECTOR_SIZE, 3 * SECTOR_SIZE), new Uint8Array(2 * SECTOR_SIZE));
      assert.deepEqual(all.subarray(0, SECTOR_SIZE), pattern(8 * SECTOR_SIZE, 3).subarray(0, SECTOR_SIZE));
      assert.deepEqual(all.subarray(3 * SECTOR_SIZE), pattern(8 * SECTOR_SIZE, 3).subarray(3 * SECTOR_SIZE));
    });
  });

  test(`${name}: a read-only backend reads but refuses writes and discards`, async () => {
    const contents = pattern(4 * SECTOR_SIZE, 9);
    await withBackend(contents, true, async (b) => {
      assert.equal(b.readOnly, true);
      await rejectsKind(b.write(0, Uint8Array.of(1)), 'read-only');
      if (b.discard) await rejectsKind(b.discard!(0, SECTOR_SIZE), 'read-only');
      await b.flush();
      const all = new Uint8Array(b.size);
      await b.read(0, all);
      assert.deepEqual(all, contents);
    });
  });

  test(`${name}: write-zeroes makes the range read as zeros`, async () => {
    await withBackend(pattern(8 * SECTOR_SIZE, 4), false, async (b) => {
      assert.ok(b.writeZeroes, 'every disk backend offers write-zeroes');
      await b.writeZeroes(2 * SECTOR_SIZE, 3 * SECTOR_SIZE);
      const all = new Uint8Array(b.size);
      await b.read(0, all);
      const expected = pattern(8 * SECTOR_SIZE, 4);
      expected.fill(0, 2 * SECTOR_SIZE, 5 * SECTOR_SIZE);
      assert.deepEqual(all, expected);
    });
  });

  test(`${name}: requests in flight together all land`, async () => {
    await withBackend(new Uint8Array(64 * SECTOR_SIZE), false, async (b) => {
      await Promise.all(Array.from({ length: 32 }, (_, i) => b.write(i * 2 * SECTOR_SIZE, pattern(SECTOR_SIZE, i))));
      await b.flush();
      const back = Array.from({ length: 32 }, () => new Uint8Array(SECTOR_SIZE));
      await Promise.all(back.map((into, i) => b.read(i * 2 * SECTOR_SIZE, into)));
      back.forEach((got, i) => assert.deepEqual(got, pattern(SECTOR_SIZE, i), `sector ${i * 2}`));
    });
  });

  test(`${name}: resize grows the disk, keeps its data and refuses to shrink`, async () => {
    const contents = pattern(4 * SECTOR_SIZE, 5);
    await withBackend(contents, false, async (b) => {
      assert.ok(b.resize, 'every disk backend can grow');
      await rejectsKind(b.resize(2 * SECTOR_SIZE), 'out-of-range');
      await rejectsKind(b.resize(4 * SECTOR_SIZE + 1), 'out-of-range');
      await b.resize(8 * SECTOR_SIZE);
      assert.equal(b.size, 8 * SECTOR_SIZE);
      const all = new Uint8Array(b.size);
      await b.read(0, all);
      assert.deepEqual(all.subarray(0, contents.length), contents);
      assert.deepEqual(all.subarray(contents.length), new Uint8Array(4 * SECTOR_SIZE));
      await b.write(7 * SECTOR_SIZE, Uint8Array.of(9));
    });
    await withBackend(contents, true, async (b) => {
      if (b.resize) await rejectsKind(b.resize(8 * SECTOR_SIZE), 'read-only');
    });
  });

  test(`${name}: a closed backend refuses every access`, async () => {
    const subject = await factory(new Uint8Array(4 * SECTOR_SIZE), { readOnly: false });
    await subject.backend.close();
    await rejectsKind(subject.backend.read(0, new Uint8Array(1)), 'closed');
    await rejectsKind(subject.backend.write(0, new Uint8Array(1)), 'closed');
    await subject.close();
  });
}
