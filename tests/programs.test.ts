// Runs every bare-metal test program (tests/programs/*.S) on Vireo's hart via
// `vireo run --bios none` and expects the finisher's pass status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, describeRun, listPrograms, runOnVireo } from './support/riscv-toolchain.js';

for (const name of listPrograms()) {
  test(`program ${name} passes on Vireo`, async () => {
    const elf = buildProgram(name);
    const r = await runOnVireo(elf, { maxInstructions: 50_000_000 });
    assert.equal(r.status, 0, describeRun(name, 'Vireo', r));
    assert.match(r.output, /PASS/, describeRun(name, 'Vireo', r));
  });
}
