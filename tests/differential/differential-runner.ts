// Runs one generated program on Vireo and on QEMU and compares their final state. Sources go
// to a cache directory outside the repository; on a mismatch they are kept as the reproducer.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, runOnQemu, runOnVireo, type RunResult } from '../support/riscv-toolchain.js';
import { compareOutputs, retiredInstructions } from './output-compare.js';
import { generateProgram, type GeneratorOptions } from './program-generator.js';

export type Verdict = 'match' | 'mismatch' | 'error';

export interface SeedResult {
  seed: number;
  verdict: Verdict;
  /** Instructions Vireo retired (from the program's own minstret read at the end). */
  instructions: number;
  items: number;
  /** The generated source (kept on disk unless the run matched and keep was false). */
  sourcePath: string;
  /** Why it did not match, with context; empty on a match. */
  report: string;
  vireo: RunResult;
  qemu: RunResult;
}

export function differentialCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vireo', 'differential');
}

export async function runSeed(
  seed: number,
  options: GeneratorOptions & { keep?: boolean; dir?: string; vireoArgs?: string[] } = {},
): Promise<SeedResult> {
  const dir = options.dir ?? differentialCacheDir();
  mkdirSync(dir, { recursive: true });
  const program = generateProgram(seed, options);
  const name = `diff-${seed}${options.trace ? '-trace' : ''}`;
  const sourcePath = join(dir, `${name}.S`);
  writeFileSync(sourcePath, program.source);
  const elf = buildProgram(name, dir);
  const [vireo, qemu] = await Promise.all([
    runOnVireo(elf, { maxInstructions: 20_000_000, timeoutMs: 120_000, extraArgs: options.vireoArgs ?? [] }),
    runOnQemu(elf, { timeoutMs: 60_000 }),
  ]);
  const instructions = retiredInstructions(vireo.output);
  const cmp = compareOutputs(vireo.output, qemu.output);
  const statusText = `exit status: vireo ${vireo.timedOut ? 'timed out' : vireo.status}, qemu ${qemu.timedOut ? 'timed out' : qemu.status}`;
  let verdict: Verdict = 'match';
  let report = '';
  if (vireo.timedOut || qemu.timedOut || cmp.vireoLines.length === 0 || cmp.qemuLines.length === 0) {
    // No state to compare: a hang, or a run that never started (e.g. dist/ being rebuilt).
    verdict = 'error';
    report = `${statusText}\nvireo output:\n${vireo.output.slice(-2000)}\nqemu output:\n${qemu.output.slice(-2000)}`;
  } else if (!cmp.equal || vireo.status !== qemu.status) {
    // Equal exit statuses other than 0 (e.g. both saw a nested trap) with equal state match.
    verdict = 'mismatch';
    report = [statusText, cmp.report].filter(Boolean).join('\n');
  }
  if (verdict === 'match' && !options.keep) {
    rmSync(sourcePath, { force: true });
    rmSync(elf, { force: true });
  }
  return { seed, verdict, instructions, items: program.items, sourcePath, report, vireo, qemu };
}
