import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageFile } from './image-file.js';
import { parseQcow2Header } from './qcow2-header.js';
import { Qcow2Image } from './qcow2-image.js';
import { RefcountTable } from './refcount-table.js';
import { qemuCheck, qemuImg } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-refcounts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function openRefcounts(path: string): Promise<{ file: ImageFile; refcounts: RefcountTable }> {
  const file = await ImageFile.open(path, false);
  const head = new Uint8Array(512);
  await file.readExact(0, head, 'header');
  const header = parseQcow2Header(head, file.size, path);
  const refcounts = await RefcountTable.load(file, header.clusterBits, header.refcountOrder, header.refcountTableOffset, header.refcountTableClusters, 4);
  return { file, refcounts };
}

test('allocation creates refcount blocks and grows the refcount table as the file grows; qemu-img agrees', async () => {
  // 512-byte clusters and 64-bit refcounts (made by qemu-img): a refcount block covers 64
  // clusters, and the first one-cluster table 64 blocks (2 MiB).
  const path = join(dir, 'grow.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512,refcount_bits=64', path, '1M');
  const { file, refcounts } = await openRefcounts(path);
  assert.equal(refcounts.tableEntries, 64);
  const runs: number[] = [];
  for (let i = 0; i < 10; i++) runs.push(await refcounts.allocate(500));
  assert.ok(refcounts.tableEntries > 64, `the table grew (${refcounts.tableEntries} entries)`);
  const sorted = [...runs].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]! >= sorted[i - 1]! + 500 * 512, 'runs do not overlap');
  for (const run of runs) {
    assert.equal(await refcounts.get(run / 512), 1);
    assert.equal(await refcounts.get(run / 512 + 499), 1);
  }
  // Give the last allocated cluster a byte so the file covers every allocation.
  await file.writeAt(sorted[sorted.length - 1]! + 499 * 512, new Uint8Array(512));
  // A freed cluster is the next one handed out.
  const reused = runs[3]! + 17 * 512;
  await refcounts.set(reused / 512, 0);
  assert.equal(await refcounts.allocate(1), reused);
  await refcounts.set(reused / 512, 0);
  await file.sync();
  await file.close();

  const expectedLeaks = 10 * 500 - 1;
  const qemu = qemuCheck(path);
  assert.deepEqual([qemu.corruptions, qemu.leaks], [0, expectedLeaks]);
  const image = await Qcow2Image.open(path);
  const ours = await image.check({ repair: true });
  assert.deepEqual([ours.corruptions, ours.leaks, ours.repairedLeaks], [0, expectedLeaks, expectedLeaks]);
  await image.write(0, new Uint8Array(100_000).fill(7));
  await image.close();
  const after = qemuCheck(path);
  assert.deepEqual([after.corruptions, after.leaks], [0, 0]);
});
