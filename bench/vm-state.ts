// VM state on Vireo and on qemu-system-riscv64 in the same run: save and restore of a freshly
// booted 512 MiB Debian guest (file size against RAM, time from process start until a typed
// line is answered), and live migration of a 1 GiB guest running xz -9 (pause, rounds, bytes,
// total time). Targets (issue 9): a restore under 50 ms plus reading the non-zero pages; a
// snapshot a small fraction of RAM; a migration pause of at most 50 ms.
// Usage: npm run bench:vm [-- --runs N]   (N restores of each snapshot, default 3)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../src/images/debian-image.js';
import { BenchError } from './bench-error.js';
import { QEMU, qemuVersion } from './qemu-runner.js';
import { formatTable, median, ratio } from './report.js';
import { MiB } from './vm-state-guest.js';
import { qemuMigration, vireoMigration, type Migration } from './vm-state-migration.js';
import { qemuSaveRestore, vireoInProcess, vireoSaveRestore, type SaveRestore, type VireoInProcess } from './vm-state-restore.js';

const RESTORE_MIB = 512;
const MIGRATE_MIB = 1024;
/** The targets of issue 9, in ms. */
const RESTORE_OVERHEAD_TARGET_MS = 50;
const PAUSE_TARGET_MS = 50;

/** A measurement, or why it could not be made. */
type Outcome<T> = { ok: T } | { failed: string };

async function attempt<T>(what: string, work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await work() };
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    console.error(`${what} failed: ${e.message}`);
    return { failed: e.message.split('\n')[0]! };
  }
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : 'n/a');
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** One row: a label, Vireo's and QEMU's figure (or why missing), and their ratio when both are numbers and it means something. */
function row<T>(label: string, v: Outcome<T>, q: Outcome<T>, pick: (m: T) => number, show: (x: number) => string, compare = true): string[] {
  const cell = (o: Outcome<T>): string => ('ok' in o ? show(pick(o.ok)) : 'failed');
  const both = compare && 'ok' in v && 'ok' in q ? [pick(v.ok), pick(q.ok)] : null;
  return [label, cell(v), cell(q), both && both[1]! > 0 && Number.isFinite(both[0]! / both[1]!) ? ratio(both[0]! / both[1]!) : '-'];
}

function failures(pairs: [string, Outcome<unknown>][]): string[] {
  return pairs.flatMap(([name, o]) => ('failed' in o ? [`${name} failed: ${o.failed}`] : []));
}

function printRestore(runs: number, v: Outcome<SaveRestore>, q: Outcome<SaveRestore>, inProcess: Outcome<VireoInProcess>): void {
  console.log(`\nSave and restore: a freshly booted ${RESTORE_MIB} MiB Debian guest at its shell prompt`);
  console.log(formatTable(['', 'vireo', 'qemu', 'vireo/qemu'], [
    row('boot to the prompt (s)', v, q, (s) => s.bootSeconds, (x) => x.toFixed(1)),
    row('snapshot file (MiB)', v, q, (s) => s.fileBytes, mib),
    row('  share of RAM', v, q, (s) => (100 * s.fileBytes) / s.ramBytes, (x) => `${x.toFixed(1)}%`),
    row('non-zero pages (4 KiB)', v, q, (s) => s.nonZeroPages, (x) => String(x)),
    row('save, as the VM reports it (ms)', v, q, (s) => s.saveMs, ms),
    row(`restore: process start to a typed line answered (ms, median of ${runs})`, v, q, (s) => median(s.restoreMs), ms),
  ]));
  for (const [name, o] of [['vireo', v], ['qemu', q]] as const) if ('ok' in o) console.log(`${name} restores (ms): ${o.ok.restoreMs.map(ms).join(', ')}`);
  if ('ok' in inProcess) {
    const p = inProcess.ok;
    const budget = RESTORE_OVERHEAD_TARGET_MS + p.readPagesMs;
    console.log(`\nvireo's restore inside this process (no CLI start-up): a board ready to run ${ms(p.restoreMs)} ms after opening the file,`);
    console.log(`  with no page read yet: RAM comes in as the guest touches it, the rest in the background;`);
    console.log(`  reading all its ${p.pagesRead} non-zero pages at once would take ${ms(p.readPagesMs)} ms.`);
    console.log(`  The typed line is answered ${ms(p.answeredMs)} ms after the restore began (target: under ${RESTORE_OVERHEAD_TARGET_MS} ms plus reading the`);
    console.log(`  non-zero pages, ${ms(budget)} ms: ${p.answeredMs < budget ? 'met' : 'NOT met'}). The CLI alone starts in ${ms(p.cliStartMs)} ms (vireo run --help).`);
  }
  for (const f of failures([['vireo save/restore', v], ['qemu save/restore', q], ['vireo in-process restore', inProcess]])) console.log(f);
  if ('ok' in v) console.log(`snapshot a small fraction of RAM (under a quarter): ${v.ok.fileBytes < v.ok.ramBytes / 4 ? 'met' : 'NOT met'}`);
}

function printMigration(v: Outcome<Migration>, q: Outcome<Migration>): void {
  console.log(`\nLive migration over TCP on this host: a ${MIGRATE_MIB} MiB Debian guest running xz -9 in a loop (QEMU: its default downtime limit, 300 ms; bandwidth cap lifted)`);
  console.log(formatTable(['', 'vireo', 'qemu', 'vireo/qemu'], [
    row('boot to the prompt (s)', v, q, (m) => m.bootSeconds, (x) => x.toFixed(1)),
    row('pause (ms)', v, q, (m) => m.pausedMs, ms),
    row('rounds (qemu: dirty bitmap syncs)', v, q, (m) => m.rounds, (x) => String(x)),
    row('sent (MiB)', v, q, (m) => m.bytes, mib),
    row('total (ms)', v, q, (m) => m.totalMs, ms),
    row('xz -9 round finished at the destination', v, q, (m) => m.roundAfter.round, (x) => `#${x}`, false),
    row('  its compressed size (bytes)', v, q, (m) => m.roundAfter.size, (x) => String(x), false),
  ]));
  if ('ok' in v) {
    if (v.ok.pauseParts) console.log(`vireo's pause: ${v.ok.pauseParts}`);
    console.log(`pause at most ${PAUSE_TARGET_MS} ms: ${v.ok.pausedMs <= PAUSE_TARGET_MS ? 'met' : 'NOT met'}`);
  }
  if ('ok' in v && 'ok' in q) {
    const [a, b] = [v.ok.roundAfter.size, q.ok.roundAfter.size];
    console.log(a === b ? `xz -9's result is the same on both destinations (${a} bytes)` : `the two guests compressed the same input to different sizes (${a}, ${b}): one of them computed wrongly`);
  }
  for (const f of failures([['vireo migration', v], ['qemu migration', q]])) console.log(f);
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError('usage', `--runs wants a whole number of restores of at least 1, not ${process.argv[runsArg + 1]}`);
  const image = await ensureDebianImage({ onProgress: (step, detail) => step !== 'check' && step !== 'done' && console.error(`${step}: ${detail}`) });
  const qemu = qemuVersion();
  const noQemu: Outcome<never> = { failed: `${QEMU} is not installed (Debian: qemu-system-misc)` };
  const dir = mkdtempSync(join(tmpdir(), 'vireo-bench-vm-state-'));
  try {
    const vSave = await attempt('vireo save/restore', () => vireoSaveRestore(image, dir, RESTORE_MIB, runs));
    const inProcess = 'ok' in vSave ? await attempt('vireo in-process restore', () => vireoInProcess(vSave.ok.file)) : vSave;
    const qSave = qemu ? await attempt('qemu save/restore', () => qemuSaveRestore(image, dir, RESTORE_MIB, runs)) : noQemu;
    const vMigration = await attempt('vireo migration', () => vireoMigration(image, dir, MIGRATE_MIB));
    const qMigration = qemu ? await attempt('qemu migration', () => qemuMigration(image, dir, MIGRATE_MIB)) : noQemu;

    console.log(`\nDebian ${image.versions.kernelRelease}, one hart, root disk a qcow2 overlay on virtio-blk; ${qemu ?? 'QEMU not measured'}`);
    console.log('Each figure is one run on a noisy 2-core host shared with other work: read ratios, not digits.');
    printRestore(runs, vSave, qSave, inProcess);
    printMigration(vMigration, qMigration);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
