#!/usr/bin/env node
// Long differential campaigns: generates seeded random programs (tests/differential), runs each
// on Vireo and on QEMU and compares their final state. Reports programs, instructions and every
// mismatch with its reproducer (seed, source path, and the first block where the runs part).
// Needs a build (`npx tsc -p .`), riscv64-unknown-elf-gcc and qemu-system-riscv64.
//
// Usage: node scripts/fuzz-differential.js [--seeds N] [--start S] [--minutes M] [--jobs J]
//                                          [--keep] [--json FILE] [--vireo-arg ARG]...
// --vireo-arg passes an argument to `vireo run`, e.g. `--vireo-arg=--jit-threshold=2` so that
// most of each program runs translated.

import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runner = join(root, 'dist', 'tests', 'differential', 'differential-runner.js');
if (!existsSync(runner)) {
  console.error('fuzz-differential: no compiled runner; build first with `npx tsc -p .`');
  process.exit(2);
}
const { runSeed } = await import(runner);

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    start: { type: 'string', default: '1' },
    minutes: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    'vireo-arg': { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: node scripts/fuzz-differential.js [--seeds N] [--start S] [--minutes M] [--jobs J] [--keep] [--json FILE] [--vireo-arg ARG]...');
  process.exit(0);
}
const count = Number(values.seeds);
const start = Number(values.start);
const jobs = Math.max(1, Number(values.jobs));
const deadline = values.minutes ? Date.now() + Number(values.minutes) * 60_000 : Infinity;
if (![count, start, jobs].every(Number.isSafeInteger)) {
  console.error('fuzz-differential: --seeds, --start and --jobs take whole numbers');
  process.exit(2);
}

const vireoArgs = values['vireo-arg'];
const began = Date.now();
const totals = { programs: 0, instructions: 0, items: 0, matches: 0 };
const mismatches = [];
const errors = [];
let next = start;

/** Re-runs a mismatching seed with a state line after every block to find where runs part. */
async function locate(seed) {
  try {
    const traced = await runSeed(seed, { trace: true, keep: true, vireoArgs });
    const lines = traced.report.match(/first difference at state line (\d+)/);
    const vireoCheckpoints = traced.vireo.output.split('\n').filter((l) => l.startsWith('checkpoint'));
    const qemuCheckpoints = traced.qemu.output.split('\n').filter((l) => l.startsWith('checkpoint'));
    let block = vireoCheckpoints.findIndex((l, i) => l !== qemuCheckpoints[i]);
    if (block < 0 && vireoCheckpoints.length !== qemuCheckpoints.length) block = Math.min(vireoCheckpoints.length, qemuCheckpoints.length);
    return {
      tracedSource: traced.sourcePath,
      firstDifferentBlock: block,
      tracedVerdict: traced.verdict,
      tracedFirstLine: lines ? Number(lines[1]) : -1,
    };
  } catch (e) {
    return { tracedSource: '', firstDifferentBlock: -1, tracedVerdict: 'error', error: String(e) };
  }
}

async function worker() {
  while (next < start + count && Date.now() < deadline) {
    const seed = next++;
    let r;
    try {
      r = await runSeed(seed, { keep: values.keep, vireoArgs });
    } catch (e) {
      errors.push({ seed, report: String(e?.message ?? e) });
      console.log(`seed ${seed}: error: ${String(e?.message ?? e).split('\n')[0]}`);
      continue;
    }
    totals.programs++;
    totals.instructions += r.instructions;
    totals.items += r.items;
    if (r.verdict === 'match') {
      totals.matches++;
    } else if (r.verdict === 'error') {
      errors.push({ seed, source: r.sourcePath, report: r.report });
      console.log(`seed ${seed}: error (no state to compare); source ${r.sourcePath}\n${r.report}\n`);
    } else {
      const where = await locate(seed);
      mismatches.push({ seed, source: r.sourcePath, report: r.report, ...where });
      console.log(`seed ${seed}: MISMATCH; source ${r.sourcePath}`);
      if (where.firstDifferentBlock >= 0) {
        console.log(`  traced run ${where.tracedSource}: first differs after block ${where.firstDifferentBlock} (gen_block${where.firstDifferentBlock})`);
      }
      console.log(`${r.report}\n`);
    }
    if (totals.programs % 25 === 0) progress();
  }
}

function progress() {
  const s = (Date.now() - began) / 1000;
  console.log(
    `[${s.toFixed(0)} s] ${totals.programs} programs, ${totals.instructions} instructions ` +
      `(${(totals.instructions / s / 1e6).toFixed(2)} M/s), ${mismatches.length} mismatches, ${errors.length} errors`,
  );
}

await Promise.all(Array.from({ length: jobs }, () => worker()));

const seconds = (Date.now() - began) / 1000;
console.log('\n== differential campaign' + (vireoArgs.length ? ` (vireo run ${vireoArgs.join(' ')})` : ''));
console.log(`seeds ${start}..${next - 1}: ${totals.programs} programs, ${totals.items} random items, ` +
  `${totals.instructions} instructions retired on Vireo, ${seconds.toFixed(0)} s`);
console.log(`matches ${totals.matches}, mismatches ${mismatches.length}, errors ${errors.length}`);
for (const m of mismatches) {
  console.log(`  mismatch: seed ${m.seed}, source ${m.source}` +
    (m.firstDifferentBlock >= 0 ? `, first differs after block ${m.firstDifferentBlock} (traced: ${m.tracedSource})` : ''));
}
for (const e of errors) console.log(`  error: seed ${e.seed}${e.source ? `, source ${e.source}` : ''}`);
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ start, next, seconds, ...totals, mismatches, errors }, null, 2));
}
process.exit(mismatches.length > 0 || errors.length > 0 ? 1 : 0);
