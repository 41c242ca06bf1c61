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
