// The behaviour every BlockBackend promises, as one suite of node:test tests. Each backend's
// test file calls runBlockBackendConformance() with a factory for that backend.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockBackendError, SECTOR_SIZE, type BlockBackend, type BlockBackendErrorKind } from './block-backend.js';

export interface ConformanceSubject {
  backend: BlockBackend;
  /** Releases what the factory made (files, descriptors). */
  close(): void;
}

/** Makes a backend whose initial bytes are `contents` (a multiple of 512 bytes long). */
export type BackendFactory = (contents: Uint8Array, options: { readOnly: boolean }) => ConformanceSubject;

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function throwsKind(fn: () => void, kind: BlockBackendErrorKind): void {
  assert.throws(fn, (e: unknown) => e instanceof BlockBackendError && e.kind === kind);
}

export function runBlockBackendConformance(name: string, factory: BackendFactory): void {
  const withBackend = (contents: Uint8Array, readOnly: boolean, body: (b: BlockBackend) => void) => {
    const subject = factory(contents, { readOnly });
    try {
      body(subject.backend);
    } finally {
      subject.close();
    }
  };

  test(`${name}: reports its size and reads its initial contents`, () => {
    const contents = pattern(8 * SECTOR_SIZE, 7);
    withBackend(contents, false, (b) => {
      assert.equal(b.size, contents.length);
      assert.equal(b.readOnly, false);
      const all = new Uint8Array(b.size);
      b.read(0, all);
      assert.deepEqual(all, contents);
      const middle = new Uint8Array(100);
      b.read(1000, middle);
      assert.deepEqual(middle, contents.subarray(1000, 1100));
    });
  });

  test(`${name}: writes read back, at sector and at odd offsets, without touching neighbours`, () => {
    withBackend(new Uint8Array(16 * SECTOR_SIZE), false, (b) => {
      const data = pattern(3 * SECTOR_SIZE, 1);
      b.write(2 * SECTOR_SIZE, data);
      b.write(5, Uint8Array.of(0xaa, 0xbb));
      b.flush();
      const back = new Uint8Array(data.length);
      b.read(2 * SECTOR_SIZE, back);
      assert.deepEqual(back, data);
      const head = new Uint8Array(8);
      b.read(0, head);
      assert.deepEqual(head, Uint8Array.of(0, 0, 0, 0, 0, 0xaa, 0xbb, 0));
      const after = new Uint8Array(SECTOR_SIZE);
      b.read(5 * SECTOR_SIZE, after);
      assert.deepEqual(after, new Uint8Array(SECTOR_SIZE));
      b.write(b.size - 1, Uint8Array.of(0x5a));
      const last = new Uint8Array(1);
      b.read(b.size - 1, last);
      assert.equal(last[0], 0x5a);
    });
  });

  test(`${name}: accesses past the end fail with out-of-range and change nothing`, () => {
    withBackend(new Uint8Array(4 * SECTOR_SIZE), false, (b) => {
      throwsKind(() => b.read(b.size - 10, new Uint8Array(11)), 'out-of-range');
      throwsKind(() => b.write(b.size, Uint8Array.of(1)), 'out-of-range');
      throwsKind(() => b.write(b.size - 1, Uint8Array.of(1, 2)), 'out-of-range');
      throwsKind(() => b.read(-1, new Uint8Array(1)), 'out-of-range');
      throwsKind(() => b.read(2 ** 60, new Uint8Array(1)), 'out-of-range');
      if (b.discard) throwsKind(() => b.discard!(0, b.size + SECTOR_SIZE), 'out-of-range');
      const last = new Uint8Array(1);
      b.read(b.size - 1, last);
      assert.equal(last[0], 0, 'the refused write left no partial data');
      b.read(b.size, new Uint8Array(0));
    });
  });

  test(`${name}: discard makes the range read as zeros`, (t) => {
    withBackend(pattern(8 * SECTOR_SIZE, 3), false, (b) => {
      if (!b.discard) {
        t.skip('no discard');
        return;
      }
      b.discard(SECTOR_SIZE, 2 * SECTOR_SIZE);
      const all = new Uint8Array(b.size);
      b.read(0, all);
      assert.deepEqual(all.subarray(SECTOR_SIZE, 3 * SECTOR_SIZE), new Uint8Array(2 * SECTOR_SIZE));
      assert.deepEqual(all.subarray(0, SECTOR_SIZE), pattern(8 * SECTOR_SIZE, 3).subarray(0, SECTOR_SIZE));
      assert.deepEqual(all.subarray(3 * SECTOR_SIZE), pattern(8 * SECTOR_SIZE, 3).subarray(3 * SECTOR_SIZE));
    });
  });

  test(`${name}: a read-only backend reads but refuses writes and discards`, () => {
    const contents = pattern(4 * SECTOR_SIZE, 9);
    withBackend(contents, true, (b) => {
      assert.equal(b.readOnly, true);
      throwsKind(() => b.write(0, Uint8Array.of(1)), 'read-only');
      if (b.discard) throwsKind(() => b.discard!(0, SECTOR_SIZE), 'read-only');
      b.flush();
      const all = new Uint8Array(b.size);
      b.read(0, all);
      assert.deepEqual(all, contents);
    });
  });
}
