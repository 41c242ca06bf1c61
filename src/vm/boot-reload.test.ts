import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualMachine } from './virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from './vm-description.js';
import type { BootRole } from './boot-files.js';

// lui t0, 0x100; li t1, 0x7777; sw t1, 0(t0); j .: asks the finisher for a board reset, forever.
const RESETTER = new Uint8Array(new Uint32Array([0x001002b7, 0x00007337, 0x77730313, 0x0062a023, 0x0000006f]).buffer);

const description: VmDescription = {
  version: VM_DESCRIPTION_VERSION, ramMiB: 2, boot: { kernel: { path: '/resetter.bin' } },
  disks: [], network: null, shares: [], console: 'ttyS0', translation: 'off',
};

test('a VM given readBoot reads its kernel again at each guest reset, checked against its digest', async () => {
  const reads: string[] = [];
  const readBoot = (role: BootRole, path: string) => {
    reads.push(`${role} ${path}`);
    return RESETTER.slice();
  };
  const vm = await VirtualMachine.create(description, { kernel: RESETTER }, { serial: { write() {} }, maxInstructions: 100 }, { readBoot });
  const result = await vm.run();
  await vm.close();
  assert.equal(result.reason, 'instruction-limit');
  assert.ok(result.resets >= 5, `the guest reset ${result.resets} times`);
  assert.equal(reads.length, result.resets);
  assert.equal(reads[0], 'kernel /resetter.bin');
});

test('a kernel file changed since the start fails the reset with the reason, not a boot of other code', async () => {
  const changed = RESETTER.slice();
  changed[19] = 0x10;
  const vm = await VirtualMachine.create(description, { kernel: RESETTER }, { serial: { write() {} }, maxInstructions: 100 }, { readBoot: () => changed });
  await assert.rejects(vm.run(), /kernel \/resetter\.bin is not the one the VM was started from/);
  await vm.close();
});
