// Helpers shared by the snapshot tests.

import assert from 'node:assert/strict';
import { randomFillSync, randomInt } from 'node:crypto';
import { PAGE_SIZE } from '../../src/vm/snapshot/page-chunk-layout.js';
import { SnapshotFileError, type SnapshotFileErrorKind } from '../../src/vm/snapshot/snapshot-file-error.js';

/**
 * RAM of `bytes` with `pages` non-zero pages spread over it: a third random (incompressible),
 * the others a repeated pattern (compressible), as in a guest's memory.
 */
export function sparseRam(bytes: number, pages: number): { ram: Uint8Array; nonZero: number } {
  const ram = new Uint8Array(bytes);
  const total = bytes / PAGE_SIZE;
  const chosen = new Set<number>();
  if (pages > total) throw new Error(`cannot fill ${pages} of ${total} pages`);
  while (chosen.size < pages) chosen.add(randomInt(total));
  let n = 0;
  for (const page of chosen) {
    const at = page * PAGE_SIZE;
    if (n++ % 3 === 0) randomFillSync(ram, at, PAGE_SIZE);
    else for (let i = 0; i < PAGE_SIZE; i++) ram[at + i] = (page + i) & 0xff | 1;
  }
  return { ram, nonZero: chosen.size };
}

/** Checks that `promise` rejects with a SnapshotFileError of `kind` whose message matches. */
export async function refused(promise: Promise<unknown>, kind: SnapshotFileErrorKind, message?: RegExp, what = ''): Promise<SnapshotFileError> {
  let caught: unknown;
  await assert.rejects(promise, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof SnapshotFileError, `${what}: expected a SnapshotFileError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, `${what}: ${caught.message}`);
  if (message) assert.match(caught.message, message, what);
  return caught;
}
