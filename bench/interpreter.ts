// Interpreter benchmark (`npm run bench`): builds the programs in bench/programs/, runs each on
// Vireo in this process and on qemu-system-riscv64, checks both give the program's own
// verified output, and prints MIPS and the Vireo/QEMU speed ratio.

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { BenchError } from './bench-error.js';
import { BENCHMARKS, EMPTY_PROGRAM, buildProgram, cacheDir, requireCompiler, type BenchmarkProgram } from './benchmark-programs.js';
import { QEMU, qemuVersion, runOnQemu, type QemuRun } from './qemu-runner.js';
import { formatTable, geometricMean, grouped, mips, rate, ratio, seconds } from './report.js';
import { runOnVireo, type VireoRun } from './vireo-runner.js';

const USAGE = `usage: npm run bench -- [options]

  --quick          about a tenth of the work per program (for a smoke test)
  --program NAME   run only this program (repeatable): ${BENCHMARKS.map((b) => b.name).join(', ')}
  --runs N         timed runs per program and machine; the best counts (default 3)
  --no-qemu        skip the QEMU comparison
  --jit on|off     Vireo with its translation tier (default) or interpreting only
  --help           this text`;

/** Guards against a guest that never finishes (a broken interpreter can loop forever). */
const RUN_LIMITS = { maxInstructions: 5_000_000_000, timeoutMs: 600_000 };
/** Whether Vireo runs with its translation tier (--jit). */
let translation: 'on' | 'off' = 'on';
/** QEMU runs of the empty program used to measure its start-up. */
const STARTUP_RUNS = 5;
/** Instructions a QEMU run should execute (through REPEAT) to last well beyond its start-up. */
const QEMU_TARGET_INSTRUCTIONS = { full: 1_500_000_000, quick: 800_000_000 };
/** Below this much time beyond start-up, a QEMU run is within start-up noise and is not timed. */
const QEMU_MIN_RELIABLE_SECONDS = 0.1;

interface Options {
  quick: boolean;
  programs: BenchmarkProgram[];
  runs: number;
  qemu: boolean;
  translation: 'on' | 'off';
}

interface Result {
  program: BenchmarkProgram;
  instructions: number;
  vireoSeconds: number | null;
  /** Net of start-up; null when QEMU did not run, failed or was too quick to time. */
  qemuSeconds: number | null;
  qemuTooShort: boolean;
  problems: string[];
}

function parseOptions(argv: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        program: { type: 'string', multiple: true },
        runs: { type: 'string', default: '3' },
        'no-qemu': { type: 'boolean', default: false },
        jit: { type: 'string', default: 'on' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new BenchError('usage', `${(e as Error).message}\n\n${USAGE}`, { cause: e });
  }
  const v = parsed.values;
  if (v.help) return null;
  const runs = Number(v.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError('usage', `--runs ${v.runs} is not a positive whole number`);
  const names = v.program ?? BENCHMARKS.map((b) => b.name);
  const programs = names.map((name) => {
    const program = BENCHMARKS.find((b) => b.name === name);
    if (!program) throw new BenchError('usage', `no benchmark program "${name}"; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return program;
  });
  if (v.jit !== 'on' && v.jit !== 'off') throw new BenchError('usage', `--jit takes on or off, got ${v.jit}`);
  return { quick: v.quick ?? false, programs, runs, qemu: !v['no-qemu'], translation: v.jit };
}

function indentOutput(output: string): string {
  const text = output.trimEnd();
  return text === '' ? '    (no output)' : text.split('\n').map((l) => `    | ${l}`).join('\n');
}

function describeVireoRun(r: VireoRun): string {
  if (r.reason === 'fail') return `the guest failed with code ${r.code}`;
  return `the run ended with "${r.reason}" after ${grouped(r.instructions)} instructions`;
}

function describeQemuRun(r: QemuRun): string {
  return r.timedOut ? 'QEMU timed out' : `QEMU exited with status ${r.status}`;
}

/** QEMU's start-up and shutdown: the best time of the empty program. Null (with a note) if it fails. */
async function measureQemuStartup(): Promise<number | null> {
  const elf = buildProgram(EMPTY_PROGRAM);
  let best = Infinity;
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const r = await runOnQemu(elf);
    if (r.status !== 0 || !r.output.includes('empty ok')) {
      console.log(`QEMU cannot run the empty program (${describeQemuRun(r)}); skipping QEMU.\n${indentOutput(r.output)}`);
      return null;
    }
    best = Math.min(best, r.seconds);
  }
  return best;
}

/** Times the program on Vireo into `result`; returns the verified run, or null after a failure. */
async function timeOnVireo(kernel: Uint8Array, runs: number, result: Result): Promise<VireoRun | null> {
  // A whole untimed run first: V8 optimises and re-optimises the interpreter loop (each time it
  // meets a new type or path) for the first tens of millions of instructions.
  const warmup = await runOnVireo(kernel, { ...RUN_LIMITS, translation });
  if (warmup.reason !== 'pass') {
    result.problems.push(`Vireo: ${describeVireoRun(warmup)}`);
    console.log(`  vireo: FAILED: ${describeVireoRun(warmup)}; guest output:\n${indentOutput(warmup.output)}`);
    return null;
  }
  console.log(indentOutput(warmup.output));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnVireo(kernel, { ...RUN_LIMITS, translation });
    if (r.reason !== 'pass' || r.instructions !== warmup.instructions || r.output !== warmup.output) {
      const what = r.reason !== 'pass' ? describeVireoRun(r) : `${grouped(r.instructions)} instructions where the warm-up run took ${grouped(warmup.instructions)}`;
      result.problems.push(`Vireo: timed run ${i + 1} differs from the warm-up run: ${what}`);
      console.log(`  vireo: FAILED: timed run ${i + 1} differs from the warm-up run: ${what}; guest output:\n${indentOutput(r.output)}`);
      return null;
    }
    times.push(r.seconds);
  }
  result.instructions = warmup.instructions;
  result.vireoSeconds = Math.min(...times);
  console.log(
    `  vireo: ${grouped(result.instructions)} instructions; warm-up ${seconds(warmup.seconds)} s, runs ${times.map(seconds).join(' ')} s; ` +
      `best ${seconds(result.vireoSeconds)} s = ${rate(mips(result.instructions, result.vireoSeconds))} MIPS`,
  );
  return warmup;
}

async function benchmark(program: BenchmarkProgram, options: Options, qemuStartup: number | null): Promise<Result> {
  const size = options.quick ? program.quick : program.full;
  const kernel = readFileSync(buildProgram(program.name, { [program.sizeDefine]: size }));
  const result: Result = { program, instructions: 0, vireoSeconds: null, qemuSeconds: null, qemuTooShort: false, problems: [] };
  console.log(`\n${program.name} (${program.sizeDefine}=${size}): ${program.summary}`);

  const expected = await timeOnVireo(kernel, options.runs, result);
  // QEMU runs even when Vireo failed: it tells a broken program from a broken interpreter.
  if (qemuStartup !== null) await timeOnQemu(program, size, expected, options, qemuStartup, result);
  return result;
}

/**
 * Times the program on QEMU into `result`. QEMU is an order of magnitude faster, so its build
 * runs main REPEAT times to run long enough to time against its start-up; the time of one
 * repetition is the one compared. Its output must be Vireo's, REPEAT times.
 */
async function timeOnQemu(
  program: BenchmarkProgram,
  size: number,
  expected: VireoRun | null,
  options: Options,
  startup: number,
  result: Result,
): Promise<void> {
  const target = options.quick ? QEMU_TARGET_INSTRUCTIONS.quick : QEMU_TARGET_INSTRUCTIONS.full;
  const repeat = expected === null ? 1 : Math.max(1, Math.ceil(target / expected.instructions));
  const elf = buildProgram(program.name, { [program.sizeDefine]: size, REPEAT: repeat });
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const q = await runOnQemu(elf);
    if (q.status !== 0) {
      result.problems.push(`QEMU: ${describeQemuRun(q)}`);
      console.log(`  qemu:  FAILED: ${describeQemuRun(q)}; output:\n${indentOutput(q.output)}`);
      return;
    }
    if (expected === null) {
      console.log(`  qemu:  passes, so the failure above is Vireo's; output:\n${indentOutput(q.output)}`);
      return;
    }
    if (q.output !== expected.output.repeat(repeat)) {
      result.problems.push('QEMU and Vireo print different results');
      console.log(`  qemu:  output differs from Vireo's (REPEAT=${repeat}):\n${indentOutput(q.output)}`);
      return;
    }
    times.push(q.seconds);
  }
  const best = Math.min(...times);
  const net = best - startup;
  const runs = `REPEAT=${repeat}, runs ${times.map(seconds).join(' ')} s, output matches`;
  if (result.vireoSeconds === null) return;
  if (net < QEMU_MIN_RELIABLE_SECONDS) {
    result.qemuTooShort = true;
    console.log(`  qemu:  ${runs}; best ${seconds(best)} s is within start-up noise of the empty program's ${seconds(startup)} s: too short to time`);
    return;
  }
  result.qemuSeconds = net / repeat;
  const qemuMips = mips(result.instructions, result.qemuSeconds);
  const vireoMips = mips(result.instructions, result.vireoSeconds);
  console.log(
    `  qemu:  ${runs}; (best ${seconds(best)} s - ${seconds(startup)} s start-up) / ${repeat} = ` +
      `${seconds(result.qemuSeconds)} s = ${rate(qemuMips)} MIPS; vireo/qemu ${ratio(vireoMips / qemuMips)}`,
  );
}

function summary(results: Result[], withQemu: boolean): string {
  const rows: string[][] = [];
  const vireoRates: number[] = [];
  const qemuRates: number[] = [];
  const ratios: number[] = [];
  let tooShort = false;
  for (const r of results) {
    const ok = r.problems.length === 0;
    const vireoMips = ok && r.vireoSeconds !== null ? mips(r.instructions, r.vireoSeconds) : null;
    const qemuMips = ok && r.qemuSeconds !== null ? mips(r.instructions, r.qemuSeconds) : null;
    const row = [r.program.name, r.instructions ? grouped(r.instructions) : '-'];
    row.push(vireoMips !== null ? seconds(r.vireoSeconds!) : '-', vireoMips !== null ? rate(vireoMips) : '-');
    if (vireoMips !== null) vireoRates.push(vireoMips);
    if (withQemu) {
      const missing = r.qemuTooShort ? 'short' : '-';
      tooShort ||= r.qemuTooShort;
      row.push(qemuMips !== null ? seconds(r.qemuSeconds!) : missing, qemuMips !== null ? rate(qemuMips) : missing);
      row.push(vireoMips !== null && qemuMips !== null ? ratio(vireoMips / qemuMips) : '-');
      if (vireoMips !== null && qemuMips !== null) {
        qemuRates.push(qemuMips);
        ratios.push(vireoMips / qemuMips);
      }
    }
    row.push(ok ? 'ok' : 'FAILED');
    rows.push(row);
  }
  const header = ['program', 'instructions', 'vireo s', 'vireo MIPS'];
  if (withQemu) header.push('qemu s', 'qemu MIPS', 'vireo/qemu');
  header.push('check');
  if (results.length > 1) {
    const mean = ['geomean', '', '', vireoRates.length ? rate(geometricMean(vireoRates)) : '-'];
    if (withQemu) mean.push('', qemuRates.length ? rate(geometricMean(qemuRates)) : '-', ratios.length ? ratio(geometricMean(ratios)) : '-');
    mean.push('');
    rows.push(mean);
  }
  const notes = [`Times are the best run. check: the program verified its own result${withQemu ? ' and QEMU printed the same' : ''}.`];
  if (withQemu) notes.push('vireo/qemu = Vireo MIPS / QEMU MIPS (1 = as fast as QEMU); QEMU times exclude its start-up and are per repetition of main (see REPEAT).');
  if (tooShort) notes.push(`short = QEMU needed under ${QEMU_MIN_RELIABLE_SECONDS} s beyond its start-up, too little to time.`);
  return `${formatTable(header, rows)}\n\n${notes.join('\n')}`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const compiler = requireCompiler();
  const qemu = options.qemu ? qemuVersion() : null;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  translation = options.translation;
  console.log(`Vireo benchmark, translation tier ${translation} (${options.quick ? 'quick' : 'full'}): best of ${options.runs} runs (Vireo after a warm-up run)`);
  console.log(`host: ${cpu}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; Node ${process.version}`);
  console.log(`compiler: ${compiler}; programs cached in ${cacheDir()}`);
  if (options.qemu && qemu === null) {
    console.log(`${QEMU} is not installed or does not run: no QEMU comparison, Vireo figures only (Debian: apt-get install qemu-system-misc).`);
  } else if (qemu !== null) {
    console.log(`reference: ${qemu}`);
  }

  let qemuStartup: number | null = null;
  if (qemu !== null) {
    qemuStartup = await measureQemuStartup();
    if (qemuStartup !== null) console.log(`QEMU start-up and shutdown (empty program, best of ${STARTUP_RUNS}): ${seconds(qemuStartup)} s`);
  }

  const results: Result[] = [];
  for (const program of options.programs) results.push(await benchmark(program, options, qemuStartup));

  console.log(`\n${summary(results, qemuStartup !== null)}`);
  if (options.qemu && qemuStartup === null) console.log(`No QEMU comparison: ${QEMU} did not run (see above).`);
  const failed = results.filter((r) => r.problems.length > 0);
  for (const r of failed) console.log(`${r.program.name}: ${r.problems.join('; ')}`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    if (e instanceof BenchError) {
      console.error(`bench: ${e.message}`);
      process.exitCode = e.kind === 'usage' ? 2 : 1;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
