import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWarmUp } from './interpreter-warm-up.js';

test('the warm-up program runs every instruction through to its end, traps skipped, in M-mode', () => {
  const { hart, end } = runWarmUp();
  assert.equal(hart.pc, BigInt(end), 'the pass ended on the final loop, so no instruction sent it elsewhere');
  assert.equal(hart.priv, 3);
  assert.ok(hart.trapsTaken > 0, 'the instructions that trap (illegal CSRs, ECALL, EBREAK) went through the handler');
  assert.ok(hart.instret > 3 * 150, `${hart.instret} instructions retired over three passes`);
});
