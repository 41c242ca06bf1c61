import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from './guest-memory.js';
import { Hart, Mip, StopReason } from './hart.js';
import type { SystemBus } from './system-bus.js';
import { TLB_MODE_DATA } from './hart-state.js';

// Hand-encoded RV64I instructions (Unprivileged ISA chapter 24), enough for small programs.
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const sw = (rs2: number, rs1: number, imm: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 31) << 7) | 0x23;
const lw = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x03;
const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
const csrrw = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73;
const csrrs = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73;
const beq = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
  (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const WFI = 0x10500073;
const LOOP = 0x0000006f; // jal x0, 0

const RAM = 0x80000000;
const noDevices: SystemBus = { read: () => -1, write: () => false };

function boot(program: number[], bus: SystemBus = noDevices): Hart {
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 20, harts: 1 });
  const bytes = new Uint8Array(new Int32Array(program).buffer);
  memory.writeRam(RAM, bytes);
  return new Hart({ memory, hartId: 0, bus, time: { now: () => 0 } });
}

test('run() stops after the budget and counts retired instructions', () => {
  const hart = boot([addi(1, 1, 1), addi(1, 1, 1), addi(1, 1, 1), LOOP]);
  assert.equal(hart.run(2), StopReason.Budget);
  assert.equal(hart.getRegister(1), 2n);
  assert.equal(hart.instret, 2);
  hart.run(10);
  assert.equal(hart.getRegister(1), 3n);
  assert.equal(hart.pc, BigInt(RAM + 12));
});

test('a store over an instruction already executed takes effect without FENCE.I', () => {
  // x2 = address of the patched slot; the loop body runs once, is patched, then runs again.
  const program = [
    auipc(2, 0), // 0: x2 = RAM
    addi(1, 1, 1), // 4: x1 += 1 (patched to x1 += 100)
    lw(3, 2, 28), // 8: x3 = the replacement word
    sw(3, 2, 4), // 12: patch
    addi(4, 4, 1), // 16: x4 counts passes
    addi(5, 0, 1), // 20
    beq(5, 4, -20), // 24: back to 4 on the first pass
    addi(1, 1, 100), // 28: data: the replacement instruction
  ];
  program.push(LOOP);
  const hart = boot(program);
  hart.run(11);
  // First pass: x1 = 1; second pass executes the patched word: x1 = 101.
  assert.equal(hart.getRegister(4), 2n);
  assert.equal(hart.getRegister(1), 101n);
});

test('a page that held code, stored to again and again, is taken for data: stores go through the TLB, and code written there runs', () => {
  const bne = (rs1: number, rs2: number, offset: number) => beq(rs1, rs2, offset) | (1 << 12);
  const jalr = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x67;
  const hart = boot([
    auipc(2, 1), // 0: x2 = RAM + 0x1000, a page of code
    jalr(8, 2, 0), // 4: call it
    lw(3, 2, 0x400), // 8: x3 = the new instruction
    addi(4, 0, 20), // 12: 20 times:
    sw(3, 2, 0), // 16:   patch the callee's first instruction
    addi(4, 4, -1), // 20
    bne(4, 0, -8), // 24
    LOOP, // 28: the first phase ends here
    jalr(8, 2, 0), // 32: call the patched code
    LOOP, // 36
  ]);
  hart.memory.writeRam(RAM + 0x1000, new Uint8Array(new Int32Array([addi(1, 1, 1), jalr(0, 8, 0)]).buffer));
  hart.memory.writeRam(RAM + 0x1400, new Uint8Array(new Int32Array([addi(1, 1, 50)]).buffer));
  const codePage = 0x1000 + hart.ramOffset;
  hart.run(200);
  assert.equal(hart.pc, BigInt(RAM + 28));
  assert.equal(hart.getRegister(1), 1n, 'the callee ran once');
  assert.equal(hart.memory.decodeCache.holds(codePage), false, 'its decoded instructions were dropped');
  assert.ok(hart.writeTlb.hits(RAM + 0x1000, 0, 4, hart.s[TLB_MODE_DATA]!), 'the page is in the write TLB');
  hart.pc = BigInt(RAM + 32);
  hart.run(10);
  assert.equal(hart.getRegister(1), 51n, 'the patched instruction ran');
  assert.equal(hart.memory.decodeCache.holds(codePage), true);
});

test('WFI waits until an enabled interrupt is pending, then the trap is taken', () => {
  const MIE = 0x304, MTVEC = 0x305, MSTATUS = 0x300;
  const hart = boot([
    auipc(1, 1), // x1 = handler address, RAM + 0x1000
    csrrw(0, MTVEC, 1),
    addi(2, 0, 0x80), // MTIE
    csrrw(0, MIE, 2),
    addi(3, 0, 8), // MIE bit in mstatus
    csrrs(0, MSTATUS, 3),
    WFI,
    LOOP,
  ]);
  hart.memory.writeRam(RAM + 0x1000, new Uint8Array(new Int32Array([LOOP]).buffer));
  assert.equal(hart.run(100), StopReason.WaitForInterrupt);
  assert.equal(hart.isWaitingForInterrupt(), true);
  assert.equal(hart.run(100), StopReason.WaitForInterrupt, 'still nothing pending');
  hart.setPending(Mip.MTIP);
  hart.run(1);
  assert.equal(hart.isWaitingForInterrupt(), false);
  assert.equal(hart.pc, 0x80001000n, 'the trap went to the handler');
});

test('a store to an address where nothing answers raises a store access fault', () => {
  const MCAUSE = 0x342, MTVAL = 0x343, MTVEC = 0x305;
  const hart = boot([
    auipc(1, 0),
    addi(1, 1, 0x100), // handler at RAM + 0x100
    csrrw(0, MTVEC, 1),
    lui(2, 0x40000), // 0x40000000: nothing there
    sw(0, 2, 0),
  ]);
  const handler = new Int32Array([csrrs(10, MCAUSE, 0), csrrs(11, MTVAL, 0), LOOP]);
  hart.memory.writeRam(RAM + 0x100, new Uint8Array(handler.buffer));
  hart.run(20);
  assert.equal(hart.getRegister(10), 7n);
  assert.equal(hart.getRegister(11), 0x40000000n);
});

test('an MMIO write can stop the run after the current instruction', () => {
  let hart: Hart | undefined;
  const bus: SystemBus = {
    read: () => -1,
    write: (paddr) => {
      if (paddr !== 0x100000) return false;
      hart!.requestStop();
      return true;
    },
  };
  hart = boot([lui(1, 0x100), sw(0, 1, 0), addi(2, 0, 1), LOOP], bus);
  assert.equal(hart.run(1000), StopReason.Stop);
  assert.equal(hart.instret, 2);
  assert.equal(hart.getRegister(2), 0n);
});

test('an aligned 8-byte load or store reaches a device as one access when the bus offers it', () => {
  const ld = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03;
  const sd = (rs2: number, rs1: number, imm: number) =>
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23;
  const accesses: string[] = [];
  const bus: SystemBus = {
    read: (paddr, size) => (accesses.push(`read ${size} @${paddr.toString(16)}`), 0),
    write: (paddr, size) => (accesses.push(`write ${size} @${paddr.toString(16)}`), true),
    read64: (paddr) => (accesses.push(`read64 @${paddr.toString(16)}`), [0x89abcdef, 0x01234567]),
    write64: (paddr, lo, hi) => (accesses.push(`write64 @${paddr.toString(16)} ${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`), true),
  };
  const hart = boot([lui(1, 0x100), ld(2, 1, 8), sd(2, 1, 16), ld(3, 1, 4), LOOP], bus);
  hart.run(4);
  assert.equal(hart.getRegister(2), 0x0123456789abcdefn);
  // A 4-aligned but not 8-aligned doubleword still goes as two words.
  assert.deepEqual(accesses, ['read64 @100008', 'write64 @100010 1234567:89abcdef', 'read 4 @100004', 'read 4 @100008']);
});

test('a satp write takes effect for the very next instruction fetch', () => {
  const slli = (rd: number, rs1: number, sh: number) => (sh << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x13;
  const or = (rd: number, rs1: number, rs2: number) => (rs2 << 20) | (rs1 << 15) | (6 << 12) | (rd << 7) | 0x33;
  const MRET = 0x30200073;
  const MTVEC = 0x305, MEPC = 0x341, MSTATUS = 0x300, MCAUSE = 0x342, SATP = 0x180;
  const hart = boot([
    auipc(1, 0), addi(1, 1, 0x100), csrrw(0, MTVEC, 1), // 0: trap handler at RAM + 0x100
    addi(2, 0, -1), csrrw(0, 0x3b0, 2), addi(2, 0, 0x1f), csrrw(0, 0x3a0, 2), // 12: PMP: S may use everything
    auipc(3, 0), addi(3, 3, 0x200 - 28), csrrw(0, MEPC, 3), // 28: S-mode code at RAM + 0x200
    addi(4, 0, 1), slli(4, 4, 11), csrrs(0, MSTATUS, 4), // 40: MPP = S
    addi(5, 0, 1), slli(5, 5, 63), lui(6, 0x80), addi(6, 6, 3), or(5, 5, 6), // 52: Sv39, root at RAM + 0x3000 (empty)
    MRET,
  ]);
  const write = (offset: number, words: number[]) =>
    hart.memory.writeRam(RAM + offset, new Uint8Array(new Int32Array(words).buffer));
  write(0x100, [csrrs(10, MCAUSE, 0), csrrs(11, MEPC, 0), LOOP]);
  write(0x200, [csrrw(0, SATP, 5), addi(7, 0, 1), LOOP]);
  hart.run(100);
  assert.equal(hart.getRegister(10), 12n, 'instruction page fault');
  assert.equal(hart.getRegister(11), BigInt(RAM + 0x204), 'at the instruction after the satp write');
  assert.equal(hart.getRegister(7), 0n);
});

test('RAM beyond 2 GiB: loads and stores through the TLB reach the right bytes', () => {
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 3 * 1024 * 1024 * 1024, harts: 1 });
  const ld = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03;
  const sd = (rs2: number, rs1: number, imm: number) =>
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 31) << 7) | 0x23;
  const slli = (rd: number, rs1: number, sh: number) => (sh << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x13;
  // x1 = RAM + 0xb0000000 (guest-memory offset above 2^31): 0x13 << 28.
  const program = [addi(1, 0, 0x13), slli(1, 1, 28), addi(2, 0, 0x5a5), sd(2, 1, 8), sd(2, 1, 8), ld(3, 1, 8), ld(4, 1, 8), LOOP];
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  const hart = new Hart({ memory, hartId: 0, bus: noDevices, time: { now: () => 0 } });
  hart.run(program.length - 1);
  assert.equal(hart.getRegister(1), 0x130000000n);
  assert.equal(hart.getRegister(3), 0x5a5n, 'slow-path load');
  assert.equal(hart.getRegister(4), 0x5a5n, 'TLB-hit load');
  assert.equal(memory.view.getUint32(memory.ramOffset + 0xb0000008, true), 0x5a5);
});
