import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreVirtualMachine } from './restore-vm.js';
import { VirtualMachine } from './virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from './vm-description.js';

// addi t0, t0, 1; j .-4: every hart computes forever.
const SPIN = new Uint8Array(new Uint32Array([0x00128293, 0xffdff06f]).buffer);

const until = async (what: string, done: () => boolean): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test('a two-CPU VM runs both harts and pauses and resumes them together', async () => {
  const description: VmDescription = {
    version: VM_DESCRIPTION_VERSION, ramMiB: 2, cpus: 2, boot: { kernel: { path: '/spin.bin' } },
    disks: [], network: null, shares: [], console: 'ttyS0', translation: 'on',
  };
  const vm = await VirtualMachine.create(description, { kernel: SPIN }, { serial: { write() {} } });
  const running = vm.run();
  try {
    const [hart0, hart1] = vm.machine.harts;
    await until('both harts ran', () => hart0!.instret > 1e6 && hart1!.instret > 1e6);
    await vm.pause();
    const parked = [hart0!.instret, hart1!.instret];
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual([hart0!.instret, hart1!.instret], parked, 'no hart runs while paused');
    await vm.resume();
    await until('both harts ran on', () => hart0!.instret > parked[0]! + 1e6 && hart1!.instret > parked[1]! + 1e6);
  } finally {
    await vm.stop();
    await running;
    await vm.close();
  }
});

test('a two-CPU VM saved while running restores with each hart where it was, and both run on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmp-'));
  const description: VmDescription = {
    version: VM_DESCRIPTION_VERSION, ramMiB: 2, cpus: 2, boot: { kernel: { path: '/spin.bin' } },
    disks: [], network: null, shares: [], console: 'ttyS0', translation: 'on',
  };
  const vm = await VirtualMachine.create(description, { kernel: SPIN }, { serial: { write() {} } });
  const running = vm.run();
  const file = join(dir, 'two.snap');
  let saved: Array<{ pc: bigint; t0: bigint }>;
  try {
    const [hart0, hart1] = vm.machine.harts;
    await until('both harts ran', () => hart0!.instret > 1e5 && hart1!.instret > 1e5);
    await vm.save(file, { resume: false });
    saved = vm.machine.harts.map((h) => ({ pc: h.pc, t0: h.getRegister(5) }));
    assert.ok(saved.every((h) => h.t0 > 0n), 'each hart counted');
    assert.notEqual(saved[0]!.t0, saved[1]!.t0, 'the harts counted on their own');
  } finally {
    await vm.stop();
    await running;
    await vm.close();
  }
  const { vm: restored } = await restoreVirtualMachine(file, { readBoot: () => SPIN, io: { serial: { write() {} } } });
  try {
    assert.deepEqual(restored.machine.harts.map((h) => ({ pc: h.pc, t0: h.getRegister(5) })), saved);
    const again = restored.run();
    const [hart0, hart1] = restored.machine.harts;
    await until('both restored harts counted on', () => hart0!.getRegister(5) > saved[0]!.t0 + 100_000n && hart1!.getRegister(5) > saved[1]!.t0 + 100_000n);
    await restored.stop();
    await again;
  } finally {
    await restored.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
