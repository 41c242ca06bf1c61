// Test support for the decode tests: assembles with GNU as and disassembles with GNU objdump,
// so our decoder is checked against an independent implementation. Files live in os.tmpdir().

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const AS = 'riscv64-unknown-elf-as';
const LD = 'riscv64-unknown-elf-ld';
const OBJCOPY = 'riscv64-unknown-elf-objcopy';
const OBJDUMP = 'riscv64-unknown-elf-objdump';
const MAX_OUTPUT = 512 * 1024 * 1024;

/** Throws, with what to install, unless the RISC-V binutils are on PATH. */
export function requireToolchain(): void {
  for (const tool of [AS, LD, OBJCOPY, OBJDUMP]) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'pipe' });
    } catch (cause) {
      throw new Error(`${tool} is not runnable; these tests need the RISC-V GNU binutils ` +
        `(Debian: apt-get install binutils-riscv64-unknown-elf)`, { cause });
    }
  }
}

function inTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-decode-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Assembles `source` for `march` and links it at `base`, so every pc-relative reference is
 * resolved; returns the bytes of .text.
 */
export function assemble(source: string, march: string, base = 0x80000000n): Buffer {
  return inTempDir((dir) => {
    const src = join(dir, 'in.s'), obj = join(dir, 'in.o'), elf = join(dir, 'in.elf');
    const bin = join(dir, 'in.bin');
    writeFileSync(src, `.option norelax\n${source}\n`);
    execFileSync(AS, [`-march=${march}`, '-mabi=lp64d', '-o', obj, src], { stdio: 'pipe' });
    execFileSync(LD, [`-Ttext=0x${base.toString(16)}`, '-e', '0', '-o', elf, obj], { stdio: 'pipe' });
    execFileSync(OBJCOPY, ['-O', 'binary', '-j', '.text', elf, bin], { stdio: 'pipe' });
    return readFileSync(bin);
  });
}

export interface ObjdumpLine {
  readonly address: bigint;
  /** The instruction as objdump shows it (16 or 32 bits). */
  readonly value: number;
  /** "mnemonic<TAB>operands", without objdump's "<symbol>" and "# comment" notes. */
  readonly text: string;
}

/** Disassembles raw bytes placed at `vma` with objdump -M no-aliases (ABI register names). */
export function objdump(bytes: Uint8Array, vma = 0n): ObjdumpLine[] {
  const out = inTempDir((dir) => {
    const bin = join(dir, 'in.bin');
    writeFileSync(bin, bytes);
    return execFileSync(OBJDUMP, ['-D', '-z', '-b', 'binary', '-m', 'riscv:rv64', '-M', 'no-aliases',
      `--adjust-vma=0x${vma.toString(16)}`, bin], { encoding: 'utf8', maxBuffer: MAX_OUTPUT });
  });
  const lines: ObjdumpLine[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f]+)\s+\t(.*)$/.exec(line);
    if (!m) continue;
    const text = m[3]!.replace(/\s+#.*$/, '').replace(/\s*<[^>]*>$/, '').trimEnd();
    lines.push({ address: BigInt(`0x${m[1]}`), value: parseInt(m[2]!, 16), text });
  }
  return lines;
}
