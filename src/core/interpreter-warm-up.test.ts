import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTierWarmUp, runWarmUp } from './interpreter-warm-up.js';

test('the warm-up program runs every instruction through to its end, traps skipped, in M-mode', () => {
  const { hart, end } = runWarmUp();
  assert.equal(hart.pc, BigInt(end), 'the pass ended on the final loop, so no instruction sent it elsewhere');
  assert.equal(hart.priv, 3);
  assert.ok(hart.trapsTaken > 0, 'the instructions that trap (illegal CSRs, ECALL, EBREAK) went through the handler');
  assert.ok(hart.instret > 3 * 150, `${hart.instret} instructions retired over three passes`);
});

test('the hand-over warm-up runs its loop of calls translated, stepping the CSR access through the interpreter', () => {
  const { hart, tier } = runTierWarmUp();
  assert.equal(hart.getRegister(1), 8n, 'every pass of the loop ran');
  assert.equal(hart.pc, 0x80000014n, 'the run ended on the final loop');
  assert.ok(tier.stats.blocks >= 3, `${tier.stats.blocks} blocks translated: the call, the function and the loop`);
  assert.ok(tier.stats.stepped >= 1, 'the CSR access was left to the interpreter');
  assert.equal(hart.instret, 20 * 256, 'each run spent its budget exactly');
});
