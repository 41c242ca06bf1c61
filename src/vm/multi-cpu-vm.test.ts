import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('a two-CPU VM runs both harts, pauses and resumes them together, and refuses a save it cannot make yet', async () => {
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
    await assert.rejects(vm.save('/nonexistent/x.snap', { resume: false }), (e: Error & { kind?: string }) => e.kind === 'invalid-state' && /2 CPUs/.test(e.message));
    await vm.resume();
    await until('both harts ran on', () => hart0!.instret > parked[0]! + 1e6 && hart1!.instret > parked[1]! + 1e6);
  } finally {
    await vm.stop();
    await running;
    await vm.close();
  }
});
