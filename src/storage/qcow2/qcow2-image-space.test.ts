// The space guard: every operation that grows the file reserves at least its growth first, and
// a refusal leaves the image byte for byte as it was (and clean for qemu-img check).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Image, type Qcow2SpaceGuard } from './qcow2-image.js';
import { pattern, prng, qemuCheck } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-space-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;

/** A guard that grants reservations while `allow` says so and checks each operation stayed within its reservation. */
function measuringGuard(image: () => Qcow2Image | null, allow: () => boolean): Qcow2SpaceGuard & { refused: number; granted: number } {
  const starts: number[] = [];
  const guard = {
    refused: 0,
    granted: 0,
    reserve(bytes: number): void {
      if (!allow()) {
        guard.refused++;
        throw new Error(`refused ${bytes}`);
      }
      guard.granted++;
      starts.push(image()!.fileSize);
    },
    release(bytes: number): void {
      const start = starts.pop()!;
      const grown = image()!.fileSize - start;
      assert.ok(grown <= bytes, `an operation grew the file by ${grown} bytes but reserved only ${bytes}`);
    },
  };
  return guard;
}

test('each growing operation reserves at least what it grows the file by', async () => {
  const path = join(dir, 'measured.qcow2');
  await (await Qcow2Image.create(path, { size: 64 * MiB, clusterBits: 12 })).close();
  let image: Qcow2Image | null = null;
  const guard = measuringGuard(() => image, () => true);
  image = await Qcow2Image.open(path, { space: guard });
  const random = prng(7);
  for (let i = 0; i < 200; i++) {
    const offset = random(64 * MiB - 300_000);
    const length = 1 + random(300_000);
    const op = random(10);
    if (op < 6) await image.write(offset, pattern(length, i));
    else if (op < 8) await image.writeZeroes(offset, length);
    else await image.discard(offset, length);
    if (i === 50) await image.createSnapshot('a');
    if (i === 120) await image.resize(96 * MiB);
    if (i === 150) await image.revertSnapshot('a');
    if (i === 180) await image.deleteSnapshot('a');
  }
  await image.close();
  assert.ok(guard.granted > 50);
  const check = qemuCheck(path);
  assert.deepEqual({ corruptions: check.corruptions, leaks: check.leaks }, { corruptions: 0, leaks: 0 });
});

test('a refused reservation leaves the image untouched, whatever the operation', async () => {
  const base = join(dir, 'base.qcow2');
  const baseImage = await Qcow2Image.create(base, { size: 4 * MiB });
  await baseImage.write(0, pattern(4 * MiB, 1));
  await baseImage.close();
  const path = join(dir, 'refused.qcow2');
  await (await Qcow2Image.create(path, { backingFile: 'base.qcow2', backingFormat: 'qcow2' })).close();
  let allow = true;
  let image: Qcow2Image | null = null;
  const guard = measuringGuard(() => image, () => allow);
  image = await Qcow2Image.open(path, { space: guard });
  await image.write(0, pattern(100_000, 2));
  await image.createSnapshot('first');
  allow = false;
  const attempts: Array<[string, () => Promise<void>]> = [
    ['write into a new L2 range', () => image!.write(3 * MiB, pattern(5000, 3))],
    ['write over a cluster shared with a snapshot', () => image!.write(0, pattern(10, 4))],
    ['write-zeroes over the backing file', () => image!.writeZeroes(2 * MiB, MiB)],
    ['snapshot', () => image!.createSnapshot('second')],
    ['resize', () => image!.resize(4 * 1024 * MiB)],
    ['revert', () => image!.revertSnapshot('first')],
  ];
  for (const [what, attempt] of attempts) {
    await image.flush();
    const before = readFileSync(path);
    await assert.rejects(attempt(), /refused/, what);
    await image.flush();
    assert.ok(readFileSync(path).equals(before), `a refused ${what} changed the file`);
  }
  assert.equal(guard.refused, attempts.length);
  await image.close();
  const check = qemuCheck(path);
  assert.deepEqual({ corruptions: check.corruptions, leaks: check.leaks }, { corruptions: 0, leaks: 0 });
});
