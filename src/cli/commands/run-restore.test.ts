// `vireo run --restore` end to end on a small bare-metal guest: a saved VM continues in a new
// process, and damaged, truncated, future-version and foreign files are refused clearly, before
// anything runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualMachine } from '../../vm/virtual-machine.js';
import { VM_DESCRIPTION_VERSION } from '../../vm/vm-description.js';

const VIREO = join(fileURLToPath(new URL('../../../../', import.meta.url)), 'bin', 'vireo.js');

// Writes "c" to UART0 forever: x6 = UART0, x7 = 'c'.
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const sb = (rs2: number, rs1: number, imm: number) => (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | ((imm & 31) << 7) | 0x23;
const jal = (rd: number, offset: number) =>
  (((offset >> 20) & 1) << 31) | (((offset >> 1) & 0x3ff) << 21) | (((offset >> 11) & 1) << 20) | (((offset >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
const PROGRAM = new Uint8Array(new Int32Array([lui(6, 0x10000), addi(7, 0, 0x63), sb(7, 6, 0), jal(0, -4)]).buffer);

const dir = mkdtempSync(join(tmpdir(), 'vireo-restore-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A snapshot of the program after it has run a little. */
async function savedVm(): Promise<string> {
  const kernel = join(dir, 'program.bin');
  writeFileSync(kernel, PROGRAM);
  const vm = await VirtualMachine.create(
    { version: VM_DESCRIPTION_VERSION, ramMiB: 4, boot: { kernel: { path: kernel } }, disks: [], network: null, shares: [], console: 'ttyS0', translation: 'on' },
    { kernel: PROGRAM },
    { serial: { write() {} } },
  );
  const run = vm.run();
  await new Promise((r) => setTimeout(r, 20));
  const path = join(dir, 'vm.snap');
  await vm.save(path, { resume: false });
  await vm.stop();
  await run;
  await vm.close();
  return path;
}

function restore(path: string) {
  const r = spawnSync(process.execPath, [VIREO, 'run', '--restore', path, '--max-instructions', '200000'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

test('a saved VM continues in a new process; damaged, truncated, future and foreign files are refused', async () => {
  const path = await savedVm();
  const ok = restore(path);
  assert.equal(ok.status, 124, ok.stderr);
  assert.match(ok.stdout, /^c+$/);
  assert.match(ok.stderr, /restored .*vm\.snap in \d+ ms/);

  const bytes = readFileSync(path);
  const variant = (name: string, change: (b: Buffer) => Buffer): string => {
    const file = join(dir, name);
    writeFileSync(file, change(Buffer.from(bytes)));
    return file;
  };
  const cases: Array<[string, RegExp]> = [
    [variant('truncated.snap', (b) => b.subarray(0, Math.floor(b.length / 2))), /truncated/],
    [variant('future.snap', (b) => (b.writeUInt32LE(2, 8), b)), /version 2/],
    [variant('header.snap', (b) => ((b[60] = b[60]! ^ 0xff), b)), /CRC32 mismatch|damaged/],
    [variant('foreign.snap', () => Buffer.from('this is not a snapshot, just text\n'.repeat(10))), /not a|VIREOSNP/],
    [join(dir, 'missing.snap'), /no such file/],
  ];
  for (const [file, reason] of cases) {
    const r = restore(file);
    assert.equal(r.status, 1, `${file}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'the guest ran from a refused file');
    assert.match(r.stderr, new RegExp(`^vireo: cannot restore ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    assert.match(r.stderr, reason, r.stderr);
  }
});
