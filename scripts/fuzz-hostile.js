#!/usr/bin/env node
// Long campaigns of the hostile guest (tests/hostile/device-attack/): runs it for seed after
// seed against one read-only and one scratch disk, and stops at the first seed the host does not
// survive, with the command that replays it. Runs over the compiled code: build first with
// `npx tsc -p .`.
// Usage: node scripts/fuzz-hostile.js [--seeds N] [--start S] [--rounds R] [--minutes M]
//                                     [--rss-limit MIB] [--timeout SECONDS] [--jit on|off|lockstep]

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runner = join(root, 'dist', 'tests', 'hostile', 'run-hostile-guest.js');

const usage = 'usage: node scripts/fuzz-hostile.js [--seeds N] [--start S] [--rounds R] [--minutes M] [--rss-limit MIB] [--timeout SECONDS] [--jit on|off|lockstep]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      start: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2000' },
      minutes: { type: 'string' },
      'rss-limit': { type: 'string', default: '300' },
      timeout: { type: 'string', default: '120' },
      jit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`fuzz-hostile: ${e.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const number = (name) => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < (name === 'start' ? 0 : 1)) {
    console.error(`fuzz-hostile: --${name} must be a whole number${name === 'start' ? '' : ' above 0'}, got '${values[name]}'\n${usage}`);
    process.exit(2);
  }
  return n;
};
const seeds = number('seeds');
const start = number('start');
const rounds = number('rounds');
const timeoutSeconds = number('timeout');
const rssLimitMiB = number('rss-limit');
const minutes = values.minutes === undefined ? Infinity : number('minutes');
// Passed to `vireo run` as is; it rejects a bad value with status 2, which stops the campaign.
const extraArgs = values.jit === undefined ? [] : ['--jit', values.jit];

if (!existsSync(runner)) {
  console.error('fuzz-hostile: the tests are not compiled; run `npx tsc -p .` first');
  process.exit(1);
}
const { buildHostileGuest, createMarkedDisk, hostProblems, replayCommand, runHostileGuest, sha256 } = await import(pathToFileURL(runner).href);

const elf = buildHostileGuest();
const dir = mkdtempSync(join(tmpdir(), 'vireo-fuzz-hostile-'));
const disk = join(dir, 'disk.img');
const scratchDisk = join(dir, 'scratch.img');
const diskHash = createMarkedDisk(disk, 4096);
createMarkedDisk(scratchDisk, 2048);
const began = Date.now();
const total = { runs: 0, instructions: 0, peakRssKiB: 0, limits: 0, interrupted: 0, guestCrashes: [], resets: 0, mmio: 0, notifies: 0 };
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
const millions = (n) => `${(n / 1e6).toFixed(1)}M`;
const count = (n) => n.toLocaleString('en-US');

console.log(`fuzz-hostile: seeds ${start}..${start + seeds - 1}, ${rounds} rounds each, RSS limit ${rssLimitMiB} MiB${minutes === Infinity ? '' : `, at most ${minutes} min`}${extraArgs.length ? `, ${extraArgs.join(' ')}` : ''}`);
console.log(`guest ${elf}\ndisks ${disk} (read-only, sha256 ${diskHash.slice(0, 16)}...) and ${scratchDisk}`);

let failed = false;
for (let seed = start; seed < start + seeds; seed++) {
  if (Date.now() - began > minutes * 60_000) {
    console.log(`fuzz-hostile: ${minutes} min are up`);
    break;
  }
  let r = await runHostileGuest({ elf, disk, scratchDisk, seed, rounds, timeoutSeconds, extraArgs });
  // Status 130 is a stop by signal; on a shared machine that may come from outside: run it again.
  if (r.status === 130) {
    console.log(`seed ${seed}: stopped by a signal after ${(r.elapsedMs / 1000).toFixed(1)} s; running it again`);
    total.interrupted++;
    r = await runHostileGuest({ elf, disk, scratchDisk, seed, rounds, timeoutSeconds, extraArgs });
  }
  const problems = hostProblems(r, { peakRssLimitKiB: rssLimitMiB * 1024 });
  if (sha256(disk) !== diskHash) problems.push('the read-only disk changed');
  if (statSync(scratchDisk).size !== 2048 * 512) problems.push(`the scratch disk's size changed to ${statSync(scratchDisk).size} bytes`);
  if (r.report === null) problems.push('the guest printed no report: the attack may never have started');

  total.runs++;
  total.instructions += r.instructions ?? 0;
  total.peakRssKiB = Math.max(total.peakRssKiB, r.peakRssKiB);
  if (r.status === 124) total.limits++;
  if (r.guestFatal) total.guestCrashes.push(seed);
  total.resets += r.report?.resets ?? 0;
  total.mmio += (r.report?.mmioReads ?? 0) + (r.report?.mmioWrites ?? 0);
  total.notifies += r.report?.notifies ?? 0;
  const how = r.status === 0 ? 'powered off' : r.status === 124 ? 'limit reached' : `status ${r.status ?? r.signal}`;
  console.log(
    `seed ${seed}: ${how}, ${r.report?.rounds ?? 0} rounds, ${millions(r.instructions ?? 0)} instructions, ` +
      `peak RSS ${mib(r.peakRssKiB)}, ${(r.elapsedMs / 1000).toFixed(1)} s${r.guestFatal ? `; the guest crashed itself: ${r.guestFatal}` : ''}`,
  );
  if (problems.length > 0) {
    failed = true;
    console.log(`\nFAILED at seed ${seed}:\n  ${problems.join('\n  ')}`);
    console.log(`last report: ${JSON.stringify(r.report)}`);
    console.log(`replay: ${replayCommand(r)}`);
    console.log(`stderr (tail):\n${r.stderr.slice(-4000)}`);
    console.log(`the disks are kept in ${dir}`);
    break;
  }
}

const elapsed = (Date.now() - began) / 1000;
console.log(
  `\n${total.runs} runs (seeds ${start}..${start + total.runs - 1}) in ${(elapsed / 60).toFixed(1)} min: ` +
    `${millions(total.instructions)} instructions, ${count(total.mmio)} MMIO accesses, ${count(total.notifies)} queue notifies, ` +
    `${total.resets} board resets; peak RSS ${mib(total.peakRssKiB)}; ${total.limits} runs ended at a limit; ` +
    `${total.interrupted} stopped by a signal and run again; ` +
    `guest self-crashes: ${total.guestCrashes.length ? total.guestCrashes.join(', ') : 'none'}`,
);
if (!failed) rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
