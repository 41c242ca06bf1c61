// The A extension across harts running in parallel on their own threads: every hart hammers
// shared counters with AMOs, LR/SC loops and a spin lock, with no lockstep between them, and
// hart 0 checks that each total is exact (tests/smp/atomics-stress). Run interpreted and
// translated, on 2 and 4 harts; QEMU with as many harts is the reference for the program.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFreestandingProgram, describeRun, QEMU, repoRoot, requireQemu, runOnVireo } from '../support/riscv-toolchain.js';

const program = () => buildFreestandingProgram('smp-atomics', join(repoRoot(), 'tests', 'smp', 'atomics-stress'), [join(repoRoot(), 'tests', 'smp', 'common')]);

for (const cpus of [2, 4]) {
  for (const jit of ['off', 'on']) {
    test(`LR/SC and AMO totals are exact on ${cpus} harts in parallel, ${jit === 'on' ? 'translated' : 'interpreted'}`, async () => {
      const r = await runOnVireo(program(), {
        maxInstructions: 2_000_000_000,
        extraArgs: ['--cpus', String(cpus), '--jit', jit, '--jit-threshold', '1'],
      });
      assert.equal(r.status, 0, describeRun('smp-atomics', `Vireo with ${cpus} harts`, r));
      assert.match(r.output, new RegExp(`harts ${cpus}: PASS`), describeRun('smp-atomics', `Vireo with ${cpus} harts`, r));
    });
  }
}

test('the stress program passes on QEMU with 4 harts (the reference)', () => {
  requireQemu();
  const r = spawnSync(QEMU, ['-M', 'virt', '-smp', '4', '-m', '128', '-bios', 'none', '-kernel', program(), '-nographic', '-monitor', 'none', '-serial', 'stdio'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /harts 4: PASS/);
});
