// A VM process held to a CPU cap, measured from outside as the host sees it: --cpu-cap at
// start, then PUT /vm/cpu while it runs. The guest computes without end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import type { CpuStatus } from '../../src/vm/api/vm-resources.js';
import { CliVm } from '../support/cli-vm.js';
import { measureCpuPercent } from '../support/process-cpu.js';

// addi t0, t0, 1; j .-4
const SPIN = new Uint8Array(new Uint32Array([0x00128293, 0xffdff06f]).buffer);

test('a busy VM process capped at 30% uses about 30% of a core; PUT /vm/cpu changes it while it runs', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-cpu-cap-'));
  const kernel = join(dir, 'spin.bin');
  writeFileSync(kernel, SPIN);
  const api = join(dir, 'vm.sock');
  const vm = new CliVm(['--bios', 'none', '--kernel', kernel, '--cpu-cap', '30', '--api', api]);
  try {
    const client = new VmApiClient(api);
    for (let i = 0; ; i++) {
      try {
        await client.call('GET', '/vm');
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // Past the start (loading, the first translations), then a few seconds of steady running.
    await new Promise((r) => setTimeout(r, 1500));
    const capped = await measureCpuPercent(vm.child.pid!, 4000);
    assert.ok(capped > 15 && capped < 40, `capped at 30%, the process used ${capped.toFixed(1)}%`);
    const reported = await client.call<CpuStatus>('GET', '/vm/cpu');
    assert.equal(reported.capPercent, 30);
    assert.ok(reported.usedPercent > 15 && reported.usedPercent < 40, `GET /vm/cpu says ${reported.usedPercent}%`);
    assert.equal((await client.call<CpuStatus>('PUT', '/vm/cpu', { capPercent: 10 })).capPercent, 10);
    await new Promise((r) => setTimeout(r, 1500));
    const lower = await measureCpuPercent(vm.child.pid!, 4000);
    assert.ok(lower < 18 && lower < capped, `capped at 10%, the process used ${lower.toFixed(1)}% (${capped.toFixed(1)}% at 30%)`);
    process.stderr.write(`cpu cap: 30% -> ${capped.toFixed(1)}%, 10% -> ${lower.toFixed(1)}%\n`);
  } finally {
    await vm.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
