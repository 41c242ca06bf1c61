// Runs every bare-metal test program (tests/programs/*.S) on Vireo's hart via
// `vireo run --bios none` and expects the finisher's pass status: interpreted only, with the
// translation tier (translating at the first jump, so every block that repeats is
// translated), and in lockstep, where each translated block is checked against the interpreter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, describeRun, listPrograms, runOnVireo } from './support/riscv-toolchain.js';

const MODES: Array<{ name: string; args: string[] }> = [
  { name: 'interpreted', args: ['--jit', 'off'] },
  { name: 'translated', args: ['--jit', 'on', '--jit-threshold', '1'] },
  { name: 'in lockstep', args: ['--jit', 'lockstep', '--jit-threshold', '1'] },
];

for (const name of listPrograms()) {
  for (const mode of MODES) {
    test(`program ${name} passes on Vireo, ${mode.name}`, async () => {
      const elf = buildProgram(name);
      const r = await runOnVireo(elf, { maxInstructions: 50_000_000, extraArgs: mode.args });
      assert.equal(r.status, 0, describeRun(name, `Vireo (${mode.name})`, r));
      assert.match(r.output, /PASS/, describeRun(name, `Vireo (${mode.name})`, r));
    });
  }
}
