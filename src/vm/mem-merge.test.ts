import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { VirtualMachine } from './virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from './vm-description.js';

/** `j .` as a flat binary. */
const LOOP = new Uint8Array([0x6f, 0x00, 0x00, 0x00]);
const RAM_MIB = 16;

const description: VmDescription = {
  version: VM_DESCRIPTION_VERSION, ramMiB: RAM_MIB, boot: { kernel: { path: '/loop.bin' } },
  disks: [], network: null, shares: [], console: 'ttyS0', translation: 'off',
};

/** Bytes of this process's mappings offered to same-page merging (VmFlags "mg" in /proc/self/smaps). */
function mergeableBytes(): number {
  let total = 0;
  let size = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const sized = /^Size:\s+(\d+) kB/.exec(line);
    if (sized) size = Number(sized[1]) * 1024;
    else if (line.startsWith('VmFlags:') && line.split(/\s+/).includes('mg')) total += size;
  }
  return total;
}

test('a VM offers its guest RAM to the host\'s same-page merging, unless its description says memMerge false', async () => {
  const logged: string[] = [];
  const io = { serial: { write() {} }, log: (line: string) => logged.push(line) };
  const before = mergeableBytes();
  const vm = await VirtualMachine.create(description, { kernel: LOOP }, io);
  const offered = mergeableBytes() - before;
  await vm.close();
  if (existsSync('/sys/kernel/mm/ksm/run')) {
    assert.ok(offered >= RAM_MIB * 2 ** 20, `${offered} bytes offered for ${RAM_MIB} MiB of guest RAM`);
    assert.deepEqual(logged, []);
  } else {
    assert.match(logged.join('\n'), /not offered for merging: this host kernel has no KSM/);
  }

  const beforeOff = mergeableBytes();
  const off = await VirtualMachine.create({ ...description, memMerge: false }, { kernel: LOOP }, io);
  assert.equal(mergeableBytes() - beforeOff, 0, 'nothing offered');
  await off.close();
});
