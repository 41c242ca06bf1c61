import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCompressedTable } from '../decode/compressed.js';
import { blockSuccessors } from './block-translator.js';

const COMPRESSED = buildCompressedTable();
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const beq = (offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const jal = (offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | 0x6f;
const RET = 0x00008067;

/** A 4 KiB page holding `words` from byte `at`, as the halfwords blockSuccessors reads. */
function page(at: number, words: number[]): Uint16Array {
  const u16 = new Uint16Array(2048);
  new Int32Array(u16.buffer, at, words.length).set(words);
  return u16;
}

test('a conditional branch leads to its target and the next instruction, a JAL to its target, a return nowhere', () => {
  assert.deepEqual(blockSuccessors(page(0x100, [addi(1, 1, 1), beq(-4)]), COMPRESSED, 0, 0x100), [0x100, 0x108]);
  assert.deepEqual(blockSuccessors(page(0x100, [jal(0x40)]), COMPRESSED, 0, 0x100), [0x140]);
  assert.deepEqual(blockSuccessors(page(0x100, [addi(1, 1, 1), RET]), COMPRESSED, 0, 0x100), []);
});

test('targets outside the page are left out, and a block cut at its length goes on where it was cut', () => {
  assert.deepEqual(blockSuccessors(page(0x10, [beq(-0x20)]), COMPRESSED, 0, 0x10), [0x14]);
  assert.deepEqual(blockSuccessors(page(0xffc, [jal(0x40)]), COMPRESSED, 0, 0xffc), []);
  assert.deepEqual(blockSuccessors(page(0, new Array(100).fill(addi(1, 1, 1))), COMPRESSED, 0, 0), [64 * 4]);
});
