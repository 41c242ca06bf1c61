// Random-instruction differential test: a few seeded programs run on Vireo and on QEMU must end
// in the same architectural state. Long campaigns: scripts/fuzz-differential.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSize, compareOutputs, normaliseQemuStatus, normaliseQemuTrap } from './output-compare.js';
import { runSeed } from './differential-runner.js';
import { generateProgram } from './program-generator.js';

/** Seeds run in CI: each a different mix of M/S/U blocks, Sv39/Sv48 and delegations. */
const CI_SEEDS = [1, 7, 23, 42, 1009];

function trap(who: number, cause: number, epc: bigint, tval: bigint, status: bigint, insn: number): string {
  const h = (v: bigint | number) => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
  return `trap ${h(who)} ${h(cause)} ${h(epc)} ${h(tval)} ${h(status)} ${h(insn)}`;
}

const AMOADD_D = 0x0062_b02f; // amoadd.d x0, x6, (x5)
const LD = 0x0002_b303; // ld x6, 0(x5)
const EBREAK = 0x0010_0073;

test('an AMO fault reported with the load cause by QEMU compares equal to the store/AMO cause', () => {
  const qemu = trap(0, 13, 0x8000_c000n, 0x2800_0000n, 0n, AMOADD_D);
  assert.equal(normaliseQemuTrap(qemu), trap(0, 15, 0x8000_c000n, 0x2800_0000n, 0n, AMOADD_D));
  // A plain load keeps its cause; Vireo reporting 13 for an AMO still differs from QEMU's.
  assert.equal(normaliseQemuTrap(trap(0, 13, 0x8000_c000n, 0x2800_0000n, 0n, LD)), trap(0, 13, 0x8000_c000n, 0x2800_0000n, 0n, LD));
  const cmp = compareOutputs(`${trap(0, 13, 0x8000_c000n, 0x2800_0000n, 0n, AMOADD_D)}\n`, `${qemu}\n`);
  assert.equal(cmp.equal, false);
});

test("ebreak's tval: QEMU's 0 stands for the pc; any other value must match", () => {
  const vireo = trap(0, 3, 0x8000_c010n, 0x8000_c010n, 0n, EBREAK);
  assert.equal(compareOutputs(vireo, trap(0, 3, 0x8000_c010n, 0n, 0n, EBREAK)).equal, true);
  // Vireo documents the pc: a Vireo record with 0 is a difference.
  assert.equal(compareOutputs(trap(0, 3, 0x8000_c010n, 0n, 0n, EBREAK), trap(0, 3, 0x8000_c010n, 0n, 0n, EBREAK)).equal, false);
  assert.equal(compareOutputs(trap(0, 3, 0x8000_c010n, 0x1234n, 0n, EBREAK), trap(0, 3, 0x8000_c010n, 0n, 0n, EBREAK)).equal, false);
});

test("a misaligned access's fault address rounded down by QEMU matches only Vireo's own address", () => {
  const v = trap(0, 13, 0x8000_c000n, 0x2800_0ffcn, 0n, LD);
  assert.equal(compareOutputs(v, trap(0, 13, 0x8000_c000n, 0x2800_0ff8n, 0n, LD)).equal, true);
  // Any other pair of addresses is a difference.
  assert.equal(compareOutputs(v, trap(0, 13, 0x8000_c000n, 0x2800_1000n, 0n, LD)).equal, false);
  assert.equal(compareOutputs(trap(0, 13, 0x8000_c000n, 0x2800_0ff8n, 0n, LD), v).equal, false);
});

test('FS = Dirty on Vireo where QEMU keeps Initial is accepted; the reverse and other bits are not', () => {
  const initial = 0x0000_000a_0000_2000n;
  const dirty = 0x8000_000a_0000_6000n;
  assert.equal(normaliseQemuStatus(initial, dirty), dirty);
  assert.equal(normaliseQemuStatus(dirty, initial), dirty);
  assert.equal(normaliseQemuStatus(initial, dirty | (1n << 18n)), initial);
  assert.equal(compareOutputs('mstatus 0000000a00000000\n', 'mstatus 0000000a00006000\n').equal, false);
});

test("QEMU's extra A bit is accepted only on pages where an AMO faulted", () => {
  const vireo = (mask: number) => `amofaults ${mask.toString(16).padStart(16, '0')}\npte39.low3 0000000020010083\n`;
  const qemu = (mask: number) => `amofaults ${mask.toString(16).padStart(16, '0')}\npte39.low3 00000000200100c3\n`;
  assert.equal(compareOutputs(vireo(1 << 3), qemu(1 << 3)).equal, true);
  assert.equal(compareOutputs(vireo(1 << 4), qemu(1 << 4)).equal, false);
  // Vireo setting A where QEMU does not is always a difference.
  assert.equal(compareOutputs(qemu(1 << 3), vireo(1 << 3)).equal, false);
});

test('the comparison reports the first differing line with both values', () => {
  const vireo = 'x1 0000000000000001\nx2 0000000000000002\nx3 0000000000000003\n';
  const qemu = 'x1 0000000000000001\nx2 0000000000000022\nx3 0000000000000003\n';
  const cmp = compareOutputs(vireo, qemu);
  assert.equal(cmp.equal, false);
  assert.equal(cmp.firstDifference, 1);
  assert.match(cmp.report, /vireo: x2 0000000000000002/);
  assert.match(cmp.report, /qemu: {2}x2 0000000000000022/);
  assert.equal(compareOutputs('', '').equal, false, 'no state at all is not a match');
});

test('access sizes are decoded from 32-bit and compressed encodings', () => {
  assert.equal(accessSize(LD), 8);
  assert.equal(accessSize(0x0002_9303), 2); // lh
  assert.equal(accessSize(0x0062_a023), 4); // sw
  assert.equal(accessSize(0x0002_b007), 8); // fld
  assert.equal(accessSize(0x660a), 8); // c.ldsp
  assert.equal(accessSize(0x4398), 4); // c.lw
  assert.equal(accessSize(0x0505), 0); // c.addi
  assert.equal(accessSize(0x0062_82b3), 0); // add
});

test('a program is a function of its seed', () => {
  const a = generateProgram(5);
  assert.equal(generateProgram(5).source, a.source);
  assert.notEqual(generateProgram(6).source, a.source);
  assert.ok(a.items > 0 && a.blocks >= 12);
  // Both paging modes and all three privileges are used across a few seeds.
  const all = [1, 2, 3, 4].map((s) => generateProgram(s).source).join('\n');
  for (const text of ['M-mode', 'S-mode', 'U-mode', 'amo', 'lr.', 'sc.', 'fmadd', 'c.', 'csrw satp']) {
    assert.ok(all.includes(text), `generated programs contain ${text}`);
  }
});

for (const seed of CI_SEEDS) {
  test(`seed ${seed}: Vireo and QEMU end in the same state`, async () => {
    const r = await runSeed(seed);
    assert.equal(r.verdict, 'match', `seed ${seed} (source ${r.sourcePath}):\n${r.report}`);
    assert.ok(r.instructions > 10_000, `the program ran (${r.instructions} instructions)`);
  });
}

test('trace mode (a state line after every block) matches too', async () => {
  const r = await runSeed(CI_SEEDS[0]!, { trace: true, blocks: 6 });
  assert.equal(r.verdict, 'match', `seed ${CI_SEEDS[0]} traced (source ${r.sourcePath}):\n${r.report}`);
  assert.ok(r.vireo.output.includes('checkpoint'));
});
