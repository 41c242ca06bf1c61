import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from './guest-memory.js';
import { Hart } from './hart.js';

const RAM = 0x80000000;
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
const sw = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 31) << 7) | 0x23;
const amoadd = (rd: number, rs1: number, rs2: number) => (0 << 27) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x2f;
const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;

/** Stores to page 4, an AMO on page 6, forever. */
function board(): { memory: GuestMemory; hart: Hart } {
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 20, harts: 1 });
  const program = [auipc(1, 4), auipc(2, 6), addi(3, 3, 1), sw(3, 1, 8), amoadd(0, 2, 3), jal(0, -12)];
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  return { memory, hart: new Hart({ memory, hartId: 0, bus: { read: () => -1, write: () => false }, time: { now: () => 0 } }) };
}

test('the dirty log sees every page the guest stores to, again after each read, through the TLB fast path too', () => {
  const { memory, hart } = board();
  hart.run(100); // the write TLB now maps pages 4 and 6
  memory.dirtyLog.start();
  assert.deepEqual(memory.dirtyLog.take(), []);
  hart.run(100);
  assert.deepEqual(memory.dirtyLog.take(), [4, 6]);
  assert.deepEqual(memory.dirtyLog.take(), [], 'nothing was written in between');
  hart.run(100);
  assert.deepEqual(memory.dirtyLog.take(), [4, 6], 'stores after a read were missed (the write TLB still mapped the pages)');
  memory.dirtyLog.stop();
  hart.run(100);
  assert.deepEqual(memory.dirtyLog.take(), []);
});

test('DMA and marks past the end of RAM are bounded', () => {
  const { memory } = board();
  memory.dirtyLog.start();
  memory.dirtyLog.mark(memory.ramOffset + 4095, 2);
  memory.dirtyLog.mark(memory.ramOffset + memory.ramSize - 1, 4096);
  assert.deepEqual(memory.dirtyLog.take(), [0, 1, 255]);
});
