// Runs every bare-metal test program on QEMU's virt board. This validates the programs
// themselves against the reference machine; tests/programs.test.ts runs them on Vireo.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, describeRun, listPrograms, runOnQemu } from './support/riscv-toolchain.js';

/**
 * Soft checks that QEMU 7.2 fails on purpose: see the header of each program for why.
 * Every other program, and every other check of these, must pass on QEMU.
 */
const KNOWN_QEMU_DIFFERENCES: Record<string, number[]> = {
  // misaligned AMO cause 4 instead of 6 (1, 2); AMO access fault cause 5, not 7 (16); misaligned SC does not trap (3, 4, 5);
  // ebreak and c.ebreak write mtval = 0 where Vireo writes the pc (7, 9); MRET/SRET
  // keep MPRV (10, 11); MPP keeps the reserved value 2 (13); interrupts taken lowest
  // cause first (21, 23, 24); AMO page fault cause 13, not 15 (31); satp takes Sv57 (33);
  // a minstret write counts its own instruction (14).
  'qemu-differences': [1, 2, 16, 3, 4, 5, 7, 9, 10, 11, 13, 21, 23, 24, 31, 33, 14],
};

function failCodes(output: string): number[] {
  return [...output.matchAll(/^FAIL (\d+)/gm)].map((m) => Number(m[1]));
}

for (const name of listPrograms()) {
  const known = KNOWN_QEMU_DIFFERENCES[name];
  const title = known
    ? `program ${name} fails on QEMU exactly at its known differences`
    : `program ${name} passes on QEMU`;
  test(title, async () => {
    const elf = buildProgram(name);
    const r = await runOnQemu(elf);
    if (known) {
      assert.deepEqual(failCodes(r.output), known, describeRun(name, 'QEMU', r));
      assert.equal(r.status, known[0], describeRun(name, 'QEMU', r));
      return;
    }
    assert.equal(r.status, 0, describeRun(name, 'QEMU', r));
    assert.match(r.output, /PASS/, describeRun(name, 'QEMU', r));
  });
}
