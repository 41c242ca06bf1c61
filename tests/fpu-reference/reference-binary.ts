// Compiles reference.c with the host gcc into a cache directory keyed by a hash of the source
// and flags, so repeated test runs compile once.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FpuReferenceError } from './fpu-reference-error.js';

// -O0 and volatile keep every operation at run time under the dynamic rounding mode;
// -ffp-contract=off forbids fusing a*b+c behind our back.
const FLAGS = ['-O0', '-frounding-math', '-ffp-contract=off', '-std=gnu11', '-Wall'];

/** reference.c, found beside this module or, when running compiled code from dist/, in the source tree. */
export function referenceSourcePath(): string {
  const candidates = [
    new URL('./reference.c', import.meta.url),
    new URL('../../../tests/fpu-reference/reference.c', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new FpuReferenceError('source-missing', candidates[0]!, `reference.c not found (looked in ${candidates.join(', ')})`);
  }
  return found;
}

/** Builds (or reuses) the reference binary and returns its path. Throws if gcc is missing. */
export function buildReferenceBinary(compiler = process.env['CC'] ?? 'gcc'): string {
  const source = referenceSourcePath();
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text).update(FLAGS.join(' ')).update(compiler).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'vireo-fpu-reference');
  const binary = join(dir, `reference-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = spawnSync(compiler, [...FLAGS, source, '-o', partial, '-lm'], { encoding: 'utf8' });
  if (cc.error !== undefined) {
    const missing = (cc.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FpuReferenceError(
      missing ? 'compiler-missing' : 'compile-failed',
      source,
      missing
        ? `C compiler '${compiler}' not found: the FPU reference tests need a host gcc (apt-get install gcc) or CC set`
        : `running '${compiler}' failed: ${cc.error.message}`,
      { cause: cc.error },
    );
  }
  if (cc.status !== 0) {
    throw new FpuReferenceError('compile-failed', source, `${compiler} failed on ${source}:\n${cc.stderr}`);
  }
  renameSync(partial, binary); // atomic: concurrent test processes never see a half-written file
  return binary;
}
