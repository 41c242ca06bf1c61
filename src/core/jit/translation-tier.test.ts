import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../guest-memory.js';
import { Hart } from '../hart.js';
import type { SystemBus } from '../system-bus.js';
import { TranslationTier, type TranslationTierOptions } from './translation-tier.js';

// Hand-encoded RV64I (Unprivileged ISA chapter 24).
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const sw = (rs2: number, rs1: number, imm: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 31) << 7) | 0x23;
const lw = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x03;
const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
const bne = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) |
  (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const LOOP = 0x0000006f;

const RAM = 0x80000000;
const noDevices: SystemBus = { read: () => -1, write: () => false };

function boot(program: number[], options: TranslationTierOptions = { hotThreshold: 1 }): { hart: Hart; tier: TranslationTier; memory: GuestMemory } {
  const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 20, harts: 1 });
  const tier = new TranslationTier(memory, options);
  memory.writeRam(RAM, new Uint8Array(new Int32Array(program).buffer));
  const hart = new Hart({ memory, hartId: 0, bus: noDevices, time: { now: () => 0 }, tier });
  return { hart, tier, memory };
}

/** x1 counts 1000 passes of a loop whose body adds x3 to x2 (the instruction at RAM + 8). */
const COUNTING_LOOP = [
  addi(1, 0, 0), // 0
  addi(4, 0, 1000), // 4
  addi(2, 2, 1), // 8: the loop body, patched by the tests
  addi(1, 1, 1), // 12
  bne(1, 4, -8), // 16
  LOOP, // 20
];

test('a hot loop runs translated and gives the interpreter\'s result', () => {
  const { hart, tier } = boot(COUNTING_LOOP);
  hart.run(10_000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.equal(hart.getRegister(2), 1000n);
  assert.ok(tier.stats.blocks >= 1, 'the loop was translated');
  assert.equal(hart.instret, 10_000, 'the budget is spent exactly, translated instructions counted');
});

test('DMA over translated code replaces it', () => {
  const { hart, tier, memory } = boot(COUNTING_LOOP);
  hart.run(1000);
  const before = hart.getRegister(2);
  assert.ok(tier.stats.blocks >= 1);
  // The body becomes x2 += 100, written as a device would (through the decode cache's drop).
  memory.writeRam(RAM + 8, new Uint8Array(new Int32Array([addi(2, 2, 100)]).buffer));
  const passesBefore = hart.getRegister(1);
  hart.run(30);
  const passes = hart.getRegister(1) - passesBefore;
  assert.ok(passes > 0n);
  assert.equal(hart.getRegister(2) - before, 100n * passes, 'every later pass ran the new instruction');
  assert.ok(tier.stats.invalidations >= 1);
});

test('a store by the guest into its own translated loop takes effect at once', () => {
  // The loop stores a new body over itself on pass 500: x2 += 1 becomes x2 += 7.
  const program = [
    auipc(5, 0), // 0: x5 = RAM
    lw(6, 5, 48), // 4: x6 = the replacement word
    addi(1, 0, 0), // 8
    addi(4, 0, 1000), // 12
    addi(7, 0, 500), // 16
    addi(2, 2, 1), // 20: the body
    addi(1, 1, 1), // 24
    bne(1, 7, 8), // 28: skip the patch except on pass 500
    sw(6, 5, 20), // 32: patch the body
    bne(1, 4, -16), // 36: back to the body
    LOOP, // 40
    LOOP, // 44
    addi(2, 2, 7), // 48: data: the replacement
  ];
  const { hart, tier } = boot(program);
  hart.run(20_000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.equal(hart.getRegister(2), 500n + 7n * 500n);
  assert.ok(tier.stats.invalidations >= 1, 'the store dropped the translation');
});

test('a page whose code keeps being rewritten is left to the interpreter instead of compiled again and again', () => {
  // Every pass stores into a word of the loop's own page (past the code), which drops the
  // page's translations each time.
  const program = [
    auipc(5, 0), // 0: x5 = RAM
    addi(1, 0, 0), // 4
    addi(4, 0, 2000), // 8
    addi(1, 1, 1), // 12: the loop
    sw(1, 5, 64), // 16: a store into this page
    bne(1, 4, -8), // 20
    LOOP, // 24
  ];
  const { hart, tier, memory } = boot(program);
  hart.run(20_000);
  assert.equal(hart.getRegister(1), 2000n);
  assert.equal(memory.readRam(RAM + 64, 4)[0], 2000 & 0xff);
  assert.ok(tier.stats.invalidations <= 8, `${tier.stats.invalidations} drops: the page was given up after a few`);
  assert.ok(tier.stats.blocks <= 16, `${tier.stats.blocks} blocks compiled for one loop`);
});

/** Lets the event loop run until `done` holds (modules compiled in the background get installed). */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), 'the background compilation finished');
}

const BACKGROUND: TranslationTierOptions = { hotThreshold: 2, batchSize: 1, compileInBackground: true };

test('modules compiled in the background are installed when the event loop runs, and give the same result', async () => {
  const { hart, tier } = boot(COUNTING_LOOP, BACKGROUND);
  hart.run(100);
  assert.equal(tier.stats.blocks, 0, 'nothing is installed while the guest runs');
  await settle(() => tier.stats.blocks > 0);
  const entered = tier.stats.blocks;
  hart.run(10_000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.equal(hart.getRegister(2), 1000n);
  assert.equal(hart.instret, 10_100);
  assert.ok(entered >= 1);
});

test('a module whose code was written while it compiled is not installed', async () => {
  const { hart, tier, memory } = boot(COUNTING_LOOP, BACKGROUND);
  hart.run(100);
  // The body becomes x2 += 100 before the compiled loop arrives.
  memory.writeRam(RAM + 8, new Uint8Array(new Int32Array([addi(2, 2, 100)]).buffer));
  await settle(() => tier.stats.modules > 0);
  const passesBefore = hart.getRegister(1);
  const before = hart.getRegister(2);
  hart.run(300);
  const passes = hart.getRegister(1) - passesBefore;
  assert.ok(passes > 0n);
  assert.equal(hart.getRegister(2) - before, 100n * passes, 'every later pass ran the new instruction');
});

test('an instruction that runs into the next page is interpreted inside its block, not left out of translation', () => {
  const jal = (rd: number, offset: number) =>
    (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
  const { hart, tier, memory } = boot([addi(1, 0, 0), addi(4, 0, 1000), jal(0, 0xff2)]);
  // The loop, from 0xffa: x2 += 1; x1 += 1 (at 0xffe, its upper half in the next page); bne.
  const loop = new DataView(new ArrayBuffer(16));
  [addi(2, 2, 1), addi(1, 1, 1), bne(1, 4, -8), LOOP].forEach((word, i) => loop.setInt32(4 * i, word, true));
  memory.writeRam(RAM + 0xffa, new Uint8Array(loop.buffer));
  hart.run(5000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.equal(hart.getRegister(2), 1000n);
  assert.equal(hart.instret, 5000);
  assert.equal(tier.stats.untranslatable, 0, 'every hot block was translated');
  assert.ok(tier.stats.stepped >= 1, 'the crossing instruction is stepped from translated code');
});

/** LR, SC and every AMO, .W and .D, over values that change sign, in a hot loop; data in the page after the code's. */
function atomicsProgram(): number[] {
  const amo = (funct5: number, wide: boolean, rd: number, rs1: number, rs2: number) =>
    (funct5 << 27) | (rs2 << 20) | (rs1 << 15) | ((wide ? 3 : 2) << 12) | (rd << 7) | 0x2f;
  const add = (rd: number, rs1: number, rs2: number) => (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33;
  const body: number[] = [];
  // x6 = (x1 - 100) * 0x01000001: both words change sign over the passes.
  body.push(addi(6, 1, -100), add(7, 6, 6), add(6, 7, 6));
  const [LR, SC] = [0x02, 0x03];
  const AMOS = [0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c]; // swap add xor and or min max minu maxu
  let rd = 10;
  AMOS.forEach((funct5, i) => {
    for (const wide of [false, true]) {
      body.push(addi(9, 5, 16 * i + (wide ? 8 : 0)), amo(funct5, wide, rd, 9, 6));
      rd = rd === 27 ? 10 : rd + 1;
    }
  });
  // A reserved update that succeeds (x28 = 0), then an SC with no reservation that fails (x29 = 1).
  body.push(addi(9, 5, 512), amo(LR, true, 30, 9, 0), add(30, 30, 1), amo(SC, true, 28, 9, 30));
  body.push(amo(SC, false, 29, 9, 6));
  // An LR then an SC to another address: it fails, and the reservation is gone.
  body.push(amo(LR, false, 31, 9, 0), addi(8, 9, 8), amo(SC, false, 29, 8, 6));
  const program = [auipc(5, 2), addi(1, 0, 0), addi(4, 0, 300), ...body, addi(1, 1, 1)];
  program.push(bne(1, 4, -4 * (body.length + 1)), LOOP);
  return program;
}

test('LR, SC and the AMOs give the same registers and memory translated, interpreted and in lockstep', () => {
  const runs = [
    { hotThreshold: 1 },
    { hotThreshold: 1, lockstep: true },
    null,
  ].map((options) => {
    const memory = new GuestMemory({ ramBase: RAM, ramSize: 1 << 20, harts: 1 });
    const tier = options === null ? null : new TranslationTier(memory, options);
    memory.writeRam(RAM, new Uint8Array(new Int32Array(atomicsProgram()).buffer));
    const hart = new Hart({ memory, hartId: 0, bus: noDevices, time: { now: () => 0 }, tier });
    hart.run(30_000);
    return { registers: Array.from({ length: 32 }, (_, i) => hart.getRegister(i)), data: memory.readRam(RAM + 0x2000, 1024), tier };
  });
  const [translated, lockstep, interpreted] = runs as [typeof runs[0], typeof runs[0], typeof runs[0]];
  assert.equal(interpreted.registers[1], 300n, 'the loop ran to the end');
  assert.equal(interpreted.registers[28], 0n, 'the reserved update succeeded');
  assert.equal(interpreted.registers[29], 1n, 'the SC without reservation failed');
  assert.deepEqual(translated.registers, interpreted.registers);
  assert.deepEqual(translated.data, interpreted.data);
  assert.deepEqual(lockstep.registers, interpreted.registers);
  assert.deepEqual(lockstep.data, interpreted.data);
  assert.ok(translated.tier!.stats.blocks >= 1 && translated.tier!.stats.stepped < 10, `atomics ran inline (${translated.tier!.stats.stepped} stepped)`);
});

const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
const jalr = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x67;

/** Writes `words` at byte `offset` of RAM. */
function place(memory: GuestMemory, offset: number, words: number[]): void {
  memory.writeRam(RAM + offset, new Uint8Array(new Int32Array(words).buffer));
}

test('the blocks a hot block leads to in its page are compiled with it, before they are hot', () => {
  // A loop whose exit path (0x18) and whose far branch target (0x20) never run while it loops.
  const { hart, tier } = boot([
    addi(1, 0, 0), addi(4, 0, 1000), // 0, 4
    addi(1, 1, 1), // 8: the loop
    bne(1, 4, -4), // 12
    bne(0, 0, 12), // 16: falls through to 0x14 (never taken)
    LOOP, // 20
    LOOP, // 24
    addi(9, 0, 1), // 28: reached by nothing
  ], { hotThreshold: 1, compileInBackground: false });
  hart.run(5000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.ok(tier.stats.blocks >= 3, `${tier.stats.blocks} blocks: the loop, its exit and what the exit leads to`);
});

test('a block compiled later tail-calls the blocks of its page compiled before it, and they run exactly', () => {
  const { hart, tier, memory } = boot([], { hotThreshold: 1, compileInBackground: false });
  // O counts passes in x1 and calls N1, N2 and N3 in turn through registers, so each becomes
  // hot on its own, after the page's blocks were compiled again with the first two; N3 jumps
  // straight back to O.
  place(memory, 0, [auipc(5, 0), addi(6, 5, 0x100), addi(7, 5, 0x200), addi(8, 5, 0x300), addi(1, 0, 0), addi(4, 0, 1000), jal(0, 8)]);
  place(memory, 0x20, [addi(1, 1, 1), bne(1, 4, 8), LOOP, jalr(0, 6, 0)]);
  place(memory, 0x100, [addi(2, 2, 3), jalr(0, 7, 0)]);
  place(memory, 0x200, [addi(3, 3, 5), jalr(0, 8, 0)]);
  place(memory, 0x300, [addi(9, 9, 7), jal(0, 0x20 - 0x304)]);
  hart.run(777);
  assert.ok(tier.stats.imported >= 1, 'N3 imported O from a module compiled before');
  hart.run(50_000 - 777);
  assert.equal(hart.getRegister(1), 1000n);
  assert.deepEqual([hart.getRegister(2), hart.getRegister(3), hart.getRegister(9)], [3n * 999n, 5n * 999n, 7n * 999n]);
  assert.equal(hart.instret, 50_000, 'budgets are kept exactly across imported tail calls');
});

test('trim forgets every translation and lets go of its functions; the code is translated again when hot', () => {
  const { hart, tier } = boot(COUNTING_LOOP);
  hart.run(10_000);
  const modules = tier.stats.modules;
  assert.ok(modules >= 1 && tier.functionCount >= 1);
  tier.trim();
  assert.equal(tier.functionCount, 0, 'no function is held');
  hart.reset(BigInt(RAM));
  hart.run(10_000);
  assert.equal(hart.getRegister(1), 1000n);
  assert.equal(hart.getRegister(2), 1000n);
  assert.ok(tier.stats.modules > modules, 'the loop was translated again');
});

/** 199 jumps back to the body at RAM + 8, then (from RAM + 20) 200 more: 399 in all. */
const TWO_LAPS = [
  addi(1, 0, 0), // 0
  addi(4, 0, 200), // 4
  addi(2, 2, 1), // 8: the body
  addi(1, 1, 1), // 12
  bne(1, 4, -8), // 16
  addi(4, 4, 200), // 20
  bne(1, 4, -16), // 24: back to the body
  LOOP, // 28
];
const FIRST_LAP = 2 + 200 * 3;
const SECOND_LAP = 2 + 200 * 3;

function twoLaps(pause: (tier: TranslationTier) => void, countHalfLifeMs: number): TranslationTier {
  const { hart, tier } = boot(TWO_LAPS, { hotThreshold: 256, batchSize: 1, compileInBackground: false, countHalfLifeMs });
  hart.run(FIRST_LAP);
  assert.equal(tier.stats.blocks, 0, '199 jumps are not yet hot');
  pause(tier);
  hart.run(SECOND_LAP);
  assert.equal(hart.getRegister(2), 400n);
  return tier;
}

test('a block becomes hot by the jumps it gets, counted up to the threshold', () => {
  const tier = twoLaps(() => {}, 3_600_000);
  assert.ok(tier.stats.blocks >= 1, '399 jumps in quick succession make it hot');
});

test('jump counts halve with time, so code that runs now and then stays interpreted', () => {
  const tier = twoLaps((t) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 450);
    t.flush(); // as the run loop does after every slice
  }, 200);
  assert.equal(tier.stats.blocks, 0, 'after two half-lives the first lap counts 49, and 249 jumps are not hot');
});
