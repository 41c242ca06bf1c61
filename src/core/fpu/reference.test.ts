// Every public operation, and the exact bigint path behind it, against vectors computed by the
// host's IEEE 754 hardware and libm (tests/fpu-reference). Compares result bits and exact fflags.
// Fails, not skips, when the host C compiler is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceVectors } from '../../../tests/fpu-reference/reference-vectors.js';
import type { ReferenceVector } from '../../../tests/fpu-reference/reference-vectors.js';
import { takeFlags } from './index.js';
import { EXACT, PUBLIC } from '../../../tests/fpu-reference/fpu-adapters.js';
import type { Impl } from '../../../tests/fpu-reference/fpu-adapters.js';

const hex = (x: bigint): string => '0x' + x.toString(16);

function mismatches(vectors: readonly ReferenceVector[], impl: Impl): string[] {
  const found: string[] = [];
  let count = 0;
  takeFlags();
  for (const v of vectors) {
    const result = impl(v);
    const flags = takeFlags();
    if (result !== v.result || flags !== v.flags) {
      count++;
      if (found.length < 12) {
        found.push(
          `${v.op} rm=${v.rm} a=${hex(v.a)} b=${hex(v.b)} c=${hex(v.c)}: ` +
            `got ${hex(result)} flags ${flags}, want ${hex(v.result)} flags ${v.flags}`,
        );
      }
    }
  }
  if (count > found.length) found.push(`... ${count - found.length} more`);
  return found;
}

const vectors = referenceVectors();
const byOp = new Map<string, ReferenceVector[]>();
for (const v of vectors) {
  let list = byOp.get(v.op);
  if (list === undefined) byOp.set(v.op, (list = []));
  list.push(v);
}

test('the reference covers every public operation', () => {
  assert.deepEqual([...byOp.keys()].sort(), Object.keys(PUBLIC).sort());
  for (const list of byOp.values()) assert.ok(list.length > 2000);
});

for (const [op, list] of byOp) {
  test(`${op} matches the host reference (${list.length} vectors)`, () => {
    assert.deepEqual(mismatches(list, PUBLIC[op]!), []);
  });
  const exact = EXACT[op];
  if (exact !== undefined) {
    test(`${op} exact path matches the host reference`, () => {
      assert.deepEqual(mismatches(list, exact), []);
    });
  }
}
