// Builds the bare-metal test programs in tests/programs/ with the RISC-V cross toolchain and
// runs them on QEMU (the reference) or on Vireo, returning exit status and UART output.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GCC = 'riscv64-unknown-elf-gcc';
export const QEMU = 'qemu-system-riscv64';

const GCC_FLAGS = ['-march=rv64gc', '-mabi=lp64d', '-nostdlib', '-nostartfiles', '-static'];

/**
 * QEMU's default rv64 cpu has extensions Vireo lacks; these switch them off so both run
 * the same RV64GC + Sstc + Zicntr machine.
 */
export const QEMU_CPU =
  'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false,sstc=true';

export type ToolchainErrorKind = 'toolchain-missing' | 'compile-failed' | 'program-missing';

export class ToolchainError extends Error {
  constructor(
    readonly kind: ToolchainErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ToolchainError';
  }
}

export interface RunResult {
  /** Process exit status (the finisher's code); null when killed. */
  status: number | null;
  /** Everything the guest wrote to the UART (stdout), plus stderr. */
  output: string;
  timedOut: boolean;
}

/** The repository root: the nearest ancestor of this module holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tests', 'programs'))) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('riscv-toolchain: cannot find the repository root');
    dir = parent;
  }
}

export function programsDir(): string {
  return join(repoRoot(), 'tests', 'programs');
}

/** Names (without .S) of every test program. */
export function listPrograms(): string[] {
  return readdirSync(programsDir())
    .filter((f) => f.endsWith('.S'))
    .map((f) => f.slice(0, -2))
    .sort();
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vireo', 'riscv-programs');
}

let toolchainChecked = false;

function requireTool(cmd: string, hint: string): void {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new ToolchainError(
      'toolchain-missing',
      `${cmd} is not available (${r.error?.message ?? `exit ${r.status}`}); ${hint}`,
      { cause: r.error },
    );
  }
}

/** Throws a ToolchainError unless the cross compiler runs. */
export function requireToolchain(): void {
  if (toolchainChecked) return;
  requireTool(GCC, 'install it (Debian: apt-get install gcc-riscv64-unknown-elf) to build tests/programs');
  toolchainChecked = true;
}

/** Throws a ToolchainError unless qemu-system-riscv64 runs. */
export function requireQemu(): void {
  requireTool(QEMU, 'install it (Debian: apt-get install qemu-system-misc) to run the reference checks');
}

/**
 * Compiles <dir>/<name>.S (tests/programs by default) with the shared header and linker
 * script; returns the ELF path. Cached outside the repository, keyed by a hash of every input.
 */
export function buildProgram(name: string, sourceDir = programsDir()): string {
  requireToolchain();
  const dir = programsDir();
  const source = join(sourceDir, `${name}.S`);
  if (!existsSync(source)) {
    throw new ToolchainError('program-missing', `no test program ${source}`);
  }
  const inputs = [source, join(dir, 'test-macros.h'), join(dir, 'link.ld')];
  const hash = createHash('sha256');
  hash.update(GCC_FLAGS.join(' '));
  for (const f of inputs) hash.update(readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const out = join(cacheDir(), `${name}-${key}.elf`);
  if (existsSync(out)) return out;

  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(
    GCC,
    [...GCC_FLAGS, '-T', join(dir, 'link.ld'), '-I', dir, source, '-o', tmp],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new ToolchainError(
      'compile-failed',
      `${GCC} failed on ${source}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`,
      { cause: r.error },
    );
  }
  // Rename is atomic, so parallel test processes never see a half-written ELF.
  renameSync(tmp, out);
  return out;
}

/** Freestanding C: no libc, code anywhere in RAM, and no loop turned into a call to memset. */
const FREESTANDING_FLAGS = ['-O2', '-ffreestanding', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-mcmodel=medany', '-Wall', '-Werror'];

/**
 * Compiles every .c and .S file of `sourceDir` into one bare-metal ELF named `name`, linked with
 * tests/programs/link.ld (the sources bring their own _start); returns its path. Cached like
 * buildProgram, keyed by every file in the directory and in `includedDirs` (what they #include).
 */
export function buildFreestandingProgram(name: string, sourceDir: string, includedDirs: string[] = []): string {
  requireToolchain();
  const linkScript = join(programsDir(), 'link.ld');
  const files = readdirSync(sourceDir).sort().map((f) => join(sourceDir, f));
  // Files the sources #include from elsewhere count toward the cache key too.
  const included = includedDirs.flatMap((dir) => readdirSync(dir).sort().map((f) => join(dir, f)));
  const sources = files.filter((f) => f.endsWith('.c') || f.endsWith('.S'));
  if (sources.length === 0) throw new ToolchainError('program-missing', `no .c or .S sources in ${sourceDir}`);
  const hash = createHash('sha256');
  hash.update([...GCC_FLAGS, ...FREESTANDING_FLAGS].join(' '));
  for (const f of [linkScript, ...files, ...included]) hash.update(f.slice(sourceDir.length)).update(readFileSync(f));
  const out = join(cacheDir(), `${name}-${hash.digest('hex').slice(0, 16)}.elf`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(GCC, [...GCC_FLAGS, ...FREESTANDING_FLAGS, '-T', linkScript, '-I', sourceDir, ...sources, '-o', tmp], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new ToolchainError('compile-failed', `${GCC} failed on ${sourceDir}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`, { cause: r.error });
  }
  renameSync(tmp, out);
  return out;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ToolchainError('toolchain-missing', `cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, timedOut });
    });
  });
}

/** Runs an ELF on QEMU's virt board (the reference machine). */
export function runOnQemu(elf: string, options: { timeoutMs?: number } = {}): Promise<RunResult> {
  requireQemu();
  const args = [
    '-M', 'virt', '-cpu', QEMU_CPU, '-smp', '1', '-m', '128',
    '-bios', 'none', '-kernel', elf,
    // Count instructions exactly (instret) and derive time from them: deterministic runs.
    '-icount', 'shift=0',
    '-nographic', '-monitor', 'none', '-serial', 'stdio',
  ];
  return run(QEMU, args, options.timeoutMs ?? 20_000);
}

/** Runs an ELF on Vireo's bare-metal runner (`vireo run --bios none`). */
export function runOnVireo(
  elf: string,
  options: { maxInstructions?: number; timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<RunResult> {
  const args = [
    join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf,
    '--max-instructions', String(options.maxInstructions ?? 50_000_000),
    ...(options.extraArgs ?? []),
  ];
  return run(process.execPath, args, options.timeoutMs ?? 120_000);
}

/** A failure message with the guest's UART output, for assertions. */
export function describeRun(name: string, where: string, r: RunResult): string {
  const how = r.timedOut ? 'timed out' : `exited with status ${r.status}`;
  return `${name} on ${where} ${how}; UART output:\n${r.output || '(none)'}`;
}
