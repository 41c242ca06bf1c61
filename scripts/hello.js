#!/usr/bin/env node
// Builds examples/hello.S with the RISC-V cross compiler (outside the repository) and runs it
// on Vireo: the quickest end-to-end check that a checkout works. Usage: npm run hello

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'vireo-hello-'));
const elf = join(dir, 'hello.elf');
try {
  const gcc = spawnSync('riscv64-unknown-elf-gcc', [
    '-march=rv64gc', '-mabi=lp64d', '-nostdlib', '-static',
    '-T', join(root, 'examples', 'link.ld'), '-o', elf, join(root, 'examples', 'hello.S'),
  ], { stdio: 'inherit' });
  if (gcc.error || gcc.status !== 0) {
    console.error('hello: building the example needs riscv64-unknown-elf-gcc (Debian: apt-get install gcc-riscv64-unknown-elf)');
    process.exitCode = 1;
  } else {
    const run = spawnSync(process.execPath, [join(root, 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf], { stdio: 'inherit' });
    process.exitCode = run.status ?? 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
