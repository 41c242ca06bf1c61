// The benchmark programs in bench/programs/ and how they are built: each C file with the
// shared start-up code, runtime and linker script, at a size chosen by a compile-time define
// (and REPEAT, the number of times crt0 runs main), into a cache outside the repository keyed
// by a hash of every input.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.js';

export const GCC = 'riscv64-unknown-elf-gcc';

const GCC_FLAGS = [
  '-O2', '-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany',
  '-ffreestanding', '-nostdlib', '-nostartfiles', '-static', '-Wall', '-Wextra',
];

/** Sources every program links with. */
const SHARED_SOURCES = ['crt0.S', 'runtime.c'];
const SHARED_INPUTS = [...SHARED_SOURCES, 'runtime.h', 'link.ld'];

export interface BenchmarkProgram {
  /** File name in bench/programs/ without `.c`, and the name `--program` takes. */
  name: string;
  /** What the program exercises, for the listing. */
  summary: string;
  /** The define that sets the amount of work. */
  sizeDefine: string;
  /** Its value for a full run (about 300 million instructions) and for --quick (about a tenth). */
  full: number;
  quick: number;
}

export const BENCHMARKS: readonly BenchmarkProgram[] = [
  { name: 'crc32', summary: 'table-driven CRC-32 over 64 KiB (byte loads, table lookups)', sizeDefine: 'ROUNDS', full: 400, quick: 40 },
  { name: 'sieve', summary: 'sieve of Eratosthenes below 10^6 (byte stores, strided loops)', sizeDefine: 'ROUNDS', full: 16, quick: 2 },
  { name: 'sort', summary: 'quicksort and heapsort of 50000 64-bit keys (compares, branches)', sizeDefine: 'ROUNDS', full: 12, quick: 1 },
  { name: 'matmul', summary: '96x96 64-bit integer matrix multiply (64-bit mul)', sizeDefine: 'ROUNDS', full: 40, quick: 4 },
  { name: 'bytecode', summary: 'register bytecode machine, switch dispatch (indirect jumps)', sizeDefine: 'LIMIT', full: 12500, quick: 1400 },
];

/** Exits at once; its QEMU run time is QEMU's start-up and shutdown. */
export const EMPTY_PROGRAM = 'empty';

/** The repository root: the nearest ancestor of this module holding package.json and bench/programs. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench', 'programs'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new BenchError('usage', 'cannot find the repository root (a directory with package.json and bench/programs/)');
    dir = parent;
  }
}

export function programsDir(): string {
  return join(repoRoot(), 'bench', 'programs');
}

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vireo', 'bench');
}

let compilerVersion: string | null = null;

/** The compiler's version line; throws a BenchError when it does not run. */
export function requireCompiler(): string {
  if (compilerVersion !== null) return compilerVersion;
  const r = spawnSync(GCC, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new BenchError(
      'toolchain-missing',
      `${GCC} does not run (${r.error?.message ?? `exit status ${r.status}`}); install a bare-metal RISC-V GCC (Debian: apt-get install gcc-riscv64-unknown-elf)`,
      { cause: r.error },
    );
  }
  compilerVersion = r.stdout.split('\n')[0] ?? '';
  return compilerVersion;
}

/**
 * Compiles bench/programs/<name>.c with `-D<name>=<value>` for each define (a missing one
 * keeps the source's default) and returns the ELF's path in the cache.
 */
export function buildProgram(name: string, defines: Record<string, number> = {}): string {
  const version = requireCompiler();
  const dir = programsDir();
  const source = join(dir, `${name}.c`);
  if (!existsSync(source)) throw new BenchError('usage', `no benchmark program ${source}`);
  const settings = Object.entries(defines).sort(([a], [b]) => (a < b ? -1 : 1));
  const args = [...GCC_FLAGS, ...settings.map(([k, v]) => `-D${k}=${v}`)];

  const hash = createHash('sha256');
  hash.update(`${version}\0${args.join(' ')}\0`);
  for (const f of [...SHARED_INPUTS, `${name}.c`]) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(join(dir, f)));
  }
  const label = settings.map(([k, v]) => `-${k.toLowerCase()}${v}`).join('');
  const out = join(cacheDir(), `${name}${label}-${hash.digest('hex').slice(0, 16)}.elf`);
  if (existsSync(out)) return out;

  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(
    GCC,
    [...args, '-T', join(dir, 'link.ld'), ...SHARED_SOURCES.map((f) => join(dir, f)), source, '-o', tmp],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new BenchError('compile-failed', `${GCC} failed on ${source}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`, { cause: r.error });
  }
  // Rename is atomic: a concurrent run never sees a half-written ELF.
  renameSync(tmp, out);
  return out;
}
