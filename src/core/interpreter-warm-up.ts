// Runs every instruction the interpreter knows once, on a scratch hart, before a guest does.
// V8 optimizes the interpreter's big dispatch function from the type feedback it has seen;
// a case that first runs after that makes it deoptimize and start over, which happened about
// twenty times in the first second of a Debian boot, at a fraction of full speed meanwhile.
// It also goes through what only a running guest met before: device accesses, and jumps
// handed over to translated code. Each deoptimization costs a new compilation of the
// dispatch function (about a second of a host core), which with harts on threads takes a
// core from the guest in every thread.

import { Format, INSTRUCTIONS, Op } from './decode/instruction-table.js';
import { GuestMemory } from './guest-memory.js';
import { Hart } from './hart.js';
import { TranslationTier } from './jit/translation-tier.js';

const RAM = 0x80000000;
/** Instructions that would leave the program (return from a trap, wait) are left out. */
const SKIPPED = new Set([Op.ILLEGAL, Op.JALR, Op.MRET, Op.SRET, Op.WFI]);
const MSCRATCH = 0x340;
const MTVEC = 0x305;
const MEPC = 0x341;
const MSTATUS = 0x300;
const DATA = 0x7f8; // from the program's start: x6 points there, 8-aligned
const PASSES = 3;
/** Where loads and stores reach a device (not RAM): x28 holds it. */
const DEVICE = 0x10000000;
/** Loops of the hand-over program (see runTierWarmUp). */
const TIER_RUNS = 20;

const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const auipc = (rd: number) => (rd << 7) | 0x17;
const lui = (rd: number, imm20: number) => (imm20 << 12) | (rd << 7) | 0x37;
const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
const jalr = (rd: number, rs1: number) => (rs1 << 15) | (rd << 7) | 0x67;
const bne = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) |
  (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const csr = (funct3: number, rd: number, number: number, rs1: number) => (number << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x73;
const MRET = 0x30200073;
const C_NOP = 0x0001;

let warm = false;

/**
 * Once per thread (each has a V8 isolate of its own): gives the interpreter type feedback for
 * every instruction, on memory like the guest's (`shared` for harts on threads).
 */
export function warmUpInterpreter(shared = false): void {
  if (warm) return;
  warm = true;
  runWarmUp(shared);
  runTierWarmUp(shared);
}

/**
 * Runs the warm-up program on a scratch hart (over shared memory with `shared`) and returns
 * it, stopped on the program's final `j .` when every instruction ran through (each trap
 * skipped by the handler).
 */
export function runWarmUp(shared = false): { hart: Hart; end: number } {
  const body: number[] = [];
  for (const spec of INSTRUCTIONS) {
    if (!SKIPPED.has(spec.op)) body.push(...instancesOf(spec.format, spec.match, spec.mask));
  }
  const handler = 4 * (9 + body.length + 2);
  const program = [
    auipc(6), addi(6, 6, DATA), // x6: data for loads, stores and atomics
    addi(7, 0, 1),
    auipc(8), addi(8, 8, handler - 12), csr(1, 0, MTVEC, 8), // mtvec: skip what traps
    lui(9, 6), csr(2, 0, MSTATUS, 9), // FS on
    lui(28, DEVICE >>> 12), // x28: a device for loads and stores
    ...body,
    C_NOP | (C_NOP << 16),
    0x0000006f, // j . (the budget ends the pass)
    csr(2, 10, MEPC, 0), addi(10, 10, 4), csr(1, 0, MEPC, 10), MRET,
  ];
  if (4 * program.length > DATA) throw new Error('interpreter-warm-up: the program overlaps its data');
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 16, harts: 1, shared });
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  // The device answers every access, as the board's do.
  const hart = new Hart({ memory, hartId: 0, bus: { read: () => 0, write: () => true }, time: { now: () => 0 } });
  hart.reset(BigInt(RAM));
  // The TLBs stay filled from one pass to the next, so the later passes take the fast paths.
  for (let pass = 0; pass < PASSES; pass++) {
    hart.pc = BigInt(RAM);
    hart.run(4 * program.length);
  }
  return { hart, end: RAM + handler - 4 };
}

/**
 * Runs a loop of calls on a hart with a translation tier that translates each block at
 * once: the interpreter hands jumps (JAL, JALR, branches) over to translated code, which
 * gives a CSR access back to it, and the run loop goes back and forth between them.
 * Returns the hart and its tier.
 */
export function runTierWarmUp(shared = false): { hart: Hart; tier: TranslationTier } {
  const program = [
    addi(1, 0, 0), // 0
    addi(4, 0, 8), // 4
    jal(5, 16), // 8: call 24
    addi(1, 1, 1), // 12
    bne(1, 4, -8), // 16
    0x0000006f, // 20: j .
    csr(2, 6, MSCRATCH, 0), // 24: left to the interpreter by translated code
    jalr(0, 5), // 28: return
  ];
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 16, harts: 1, shared });
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  const tier = new TranslationTier(memory, { hotThreshold: 1 });
  const hart = new Hart({ memory, hartId: 0, bus: { read: () => 0, write: () => true }, time: { now: () => 0 }, tier });
  hart.reset(BigInt(RAM));
  for (let run = 0; run < TIER_RUNS; run++) {
    hart.pc = BigInt(RAM);
    hart.run(4 * program.length * 8);
  }
  return { hart, tier };
}

/** Encodings of one instruction with operands that run (x5 = result, x6 = data, x7 = 1; x28 a device for loads and stores). */
function instancesOf(format: Format, match: number, mask: number): number[] {
  const free = (fields: number) => match | (fields & ~mask);
  switch (format) {
    // Offset 4: on either way; with unequal and equal operands, so both halves are compared.
    case Format.B: return [free((6 << 15) | (7 << 20) | (1 << 9)), free((7 << 15) | (7 << 20) | (1 << 9))];
    case Format.J: return [free(1 << 22)]; // offset 4
    case Format.S: return [free((6 << 15) | (7 << 20)), free((28 << 15) | (7 << 20))];
    // Misaligned (offset 7), aligned, and from a device.
    case Format.Load: return [free((5 << 7) | (6 << 15) | (7 << 20)), free((5 << 7) | (6 << 15)), free((5 << 7) | (28 << 15))];
    case Format.Csr: case Format.CsrImm: return [free((5 << 7) | (7 << 15) | (MSCRATCH << 20)), free((5 << 7) | (7 << 15) | (7 << 20))];
    default: return [free((5 << 7) | (6 << 15) | (7 << 20))];
  }
}
