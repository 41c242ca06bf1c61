import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../core/guest-memory.js';
import { ElfLoaderError, loadKernelImage, parseKernelImage, type ElfLoaderErrorReason } from './elf-loader.js';

const RAM = { base: 0x8000_0000, size: 1024 * 1024 };

interface Seg {
  type?: number;
  vaddr?: bigint;
  paddr: bigint;
  data: number[];
  memsz?: number;
}

/** A minimal ELF64 executable: header, program headers, then each segment's bytes. */
function makeElf(opts: { segments: Seg[]; entry?: bigint; machine?: number; cls?: number; type?: number; data?: number }): Uint8Array {
  const { segments } = opts;
  const phoff = 64;
  let dataOff = phoff + 56 * segments.length;
  const size = dataOff + segments.reduce((n, s) => n + s.data.length, 0);
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 2, opts.data ?? 1, 1]);
  v.setUint16(16, opts.type ?? 2, true);
  v.setUint16(18, opts.machine ?? 243, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, opts.entry ?? segments[0]?.vaddr ?? segments[0]?.paddr ?? 0n, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    const at = phoff + 56 * i;
    v.setUint32(at, s.type ?? 1, true);
    v.setUint32(at + 4, 5, true);
    v.setBigUint64(at + 8, BigInt(dataOff), true);
    v.setBigUint64(at + 16, s.vaddr ?? s.paddr, true);
    v.setBigUint64(at + 24, s.paddr, true);
    v.setBigUint64(at + 32, BigInt(s.data.length), true);
    v.setBigUint64(at + 40, BigInt(s.memsz ?? s.data.length), true);
    bytes.set(s.data, dataOff);
    dataOff += s.data.length;
  });
  return bytes;
}

function rejects(bytes: Uint8Array, reason: ElfLoaderErrorReason, message: RegExp) {
  assert.throws(
    () => parseKernelImage(bytes, RAM),
    (e: unknown) => {
      assert.ok(e instanceof ElfLoaderError, `expected ElfLoaderError, got ${String(e)}`);
      assert.equal(e.kind, 'elf-loader');
      assert.equal(e.reason, reason);
      assert.match(e.message, message);
      return true;
    },
  );
}

test('loads PT_LOAD segments at p_paddr and zero-fills up to p_memsz', () => {
  const memory = new GuestMemory({ ramBase: RAM.base, ramSize: RAM.size, harts: 1 });
  memory.writeRam(0x8000_1000, new Uint8Array(16).fill(0xee)); // stale bytes where .bss goes
  const elf = makeElf({
    segments: [
      { paddr: 0x8000_0000n, data: [0x13, 0x00, 0x00, 0x00] },
      { type: 4, paddr: 0n, data: [9, 9] }, // PT_NOTE: not loaded, not checked against RAM
      { paddr: 0x8000_0ffen, data: [1, 2], memsz: 18 },
    ],
  });
  const image = parseKernelImage(elf, RAM);
  assert.equal(image.format, 'elf');
  assert.equal(image.entry, 0x8000_0000);
  assert.equal(image.end, 0x8000_0ffe + 18);
  loadKernelImage(memory, image);
  assert.deepEqual([...memory.readRam(0x8000_0000, 4)], [0x13, 0, 0, 0]);
  assert.deepEqual([...memory.readRam(0x8000_0ffe, 18)], [1, 2, ...new Array(16).fill(0)]);
});

test('translates a virtual entry point through its segment (vmlinux style)', () => {
  const elf = makeElf({
    segments: [{ vaddr: 0xffff_ffff_8000_0000n, paddr: 0x8000_0000n, data: [0, 0, 0, 0, 0, 0, 0, 0] }],
    entry: 0xffff_ffff_8000_0004n,
  });
  assert.equal(parseKernelImage(elf, RAM).entry, 0x8000_0004);
});

test('a non-ELF file is a flat binary at the start of RAM', () => {
  const image = parseKernelImage(new Uint8Array([0x6f, 0x00, 0x00, 0x00]), RAM);
  assert.equal(image.format, 'flat');
  assert.equal(image.entry, 0x8000_0000);
  assert.deepEqual(image.segments.map((s) => [s.paddr, s.memsz]), [[0x8000_0000, 4]]);
  rejects(new Uint8Array(RAM.size + 1), 'outside-ram', /flat binary is \d+ bytes but RAM is only/);
  rejects(new Uint8Array(0), 'empty', /empty/);
});

test('truncated files are rejected, not read past their end', () => {
  const elf = makeElf({ segments: [{ paddr: 0x8000_0000n, data: [1, 2, 3, 4] }] });
  rejects(elf.subarray(0, 40), 'truncated', /shorter than the 64-byte ELF64 header/);
  rejects(elf.subarray(0, 100), 'truncated', /program headers .* run past the end/);
  rejects(elf.subarray(0, elf.length - 1), 'truncated', /segment 0 .* needs bytes/);
});

test('wrong machine, class, byte order and type are named', () => {
  const seg = [{ paddr: 0x8000_0000n, data: [0, 0, 0, 0] }];
  rejects(makeElf({ segments: seg, machine: 62 }), 'wrong-machine', /machine 62 \(x86-64\), not RISC-V/);
  rejects(makeElf({ segments: seg, cls: 1 }), 'not-64-bit', /32-bit/);
  rejects(makeElf({ segments: seg, data: 2 }), 'not-little-endian', /little-endian/);
  rejects(makeElf({ segments: seg, type: 3 }), 'wrong-type', /position-independent/);
  rejects(makeElf({ segments: seg, type: 1 }), 'wrong-type', /type 1, not an executable/);
});

test('a segment outside RAM is named with its index and addresses', () => {
  rejects(
    makeElf({ segments: [{ paddr: 0x8000_0000n, data: [0] }, { paddr: 0x8010_0000n - 2n, data: [1, 2, 3] }] }),
    'outside-ram',
    /ELF segment 1 \(PT_LOAD\) occupies 0x800ffffe-0x80100000, outside RAM 0x80000000-0x800fffff/,
  );
  rejects(makeElf({ segments: [{ paddr: 0x1000n, data: [0] }] }), 'outside-ram', /segment 0 .* 0x1000-0x1000/);
});

test('other malformed headers: filesz > memsz, overlap, entry outside, no segments', () => {
  rejects(makeElf({ segments: [{ paddr: 0x8000_0000n, data: [1, 2], memsz: 1 }] }), 'bad-segment', /file size 2 larger than its memory size 1/);
  rejects(
    makeElf({ segments: [{ paddr: 0x8000_0000n, data: [1, 2, 3, 4] }, { paddr: 0x8000_0002n, data: [5] }] }),
    'overlap',
    /segments 0 and 1 overlap/,
  );
  rejects(makeElf({ segments: [{ paddr: 0x8000_0000n, data: [1] }], entry: 0x9000_0000n }), 'bad-entry', /entry point 0x90000000/);
  rejects(makeElf({ segments: [] }), 'bad-program-headers', /no program headers/);
  rejects(makeElf({ segments: [{ type: 4, paddr: 0n, data: [1] }] }), 'empty', /no loadable/);
});

test('accepts what riscv64-unknown-elf-gcc links', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-elf-'));
  try {
    writeFileSync(join(dir, 'a.S'), '.globl _start\n_start: j _start\n.bss\n.space 4096\n');
    const out = join(dir, 'a.elf');
    const r = spawnSync('riscv64-unknown-elf-gcc', ['-nostdlib', '-march=rv64gc', '-mabi=lp64d', '-Wl,-Ttext-segment=0x80000000', '-o', out, join(dir, 'a.S')], { encoding: 'utf8' });
    if (r.error) throw new Error(`cannot run riscv64-unknown-elf-gcc (${r.error.message}); install gcc-riscv64-unknown-elf`);
    assert.equal(r.status, 0, r.stderr);
    const image = parseKernelImage(readFileSync(out), RAM);
    assert.ok(image.entry > 0x8000_0000 && image.entry < 0x8000_1000, 'entry just past the ELF headers');
    assert.ok(image.end >= 0x8000_0000 + 4096, 'bss counted in the image end');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('65,534 segments load, and an overlap among them is found, without quadratic work', { timeout: 20_000 }, () => {
  // A hostile file's largest program header table. The 20 s timeout only catches a loader
  // that compares every segment with every other (about 2 billion checks); it is not a speed target.
  const count = 65_534;
  const segments: Seg[] = [];
  for (let i = 0; i < count; i++) segments.push({ paddr: 0x8000_0000n + BigInt(i * 8), data: [i & 0xff] });
  const image = parseKernelImage(makeElf({ segments }), RAM);
  assert.equal(image.segments.length, count);
  assert.equal(image.end, 0x8000_0000 + (count - 1) * 8 + 1);
  // The last segment lands on the first one's bytes, in reverse header order.
  segments[count - 1] = { paddr: 0x8000_0000n, data: [1] };
  rejects(makeElf({ segments }), 'overlap', new RegExp(`segments 0 and ${count - 1} overlap at 0x80000000`));
});
