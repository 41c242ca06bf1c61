// A guest printing into a pipe nobody reads must not grow the host: `vireo run` with a
// bare-metal program that floods UART0, its stdout a pipe the test does not read, while the
// test samples the process's resident memory. A guest that polls LSR instead must wait for the
// reader and lose nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, repoRoot } from '../support/riscv-toolchain.js';

const SOURCES = join(repoRoot(), 'tests', 'hostile');
/** What uart-polled.S writes. */
const POLLED_TOTAL = 4 << 20;
/** Growth allowed over a run; without flow control the flood grew it by about 16 MB a second. */
const MAX_GROWTH_KB = 20 * 1024;

interface Vireo {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
}

/** `vireo run --bios none --kernel ELF`, stdout a pipe this side reads only when told to. */
function startVireo(elf: string, extra: string[] = []): Vireo {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'vireo.js'), 'run', '--bios', 'none', '--kernel', elf, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.pause();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const started = performance.now();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() - started }));
  });
  return { child, stderr: () => stderr, exited };
}

/** Resident memory of a live process in KiB (Linux /proc), or undefined once it is gone. */
function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Samples RSS every 200 ms for `ms`; returns the samples taken after the first `settleMs`, by when
 * the process has loaded and warmed up, even on a busy host (start-up itself takes tens of MB).
 */
async function sampleRss(pid: number, ms: number, settleMs = 3000): Promise<number[]> {
  const samples: number[] = [];
  for (let t = 0; t < ms; t += 200) {
    await sleep(200);
    const kb = rssKb(pid);
    if (kb === undefined) break;
    if (t + 200 >= settleMs) samples.push(kb);
  }
  return samples;
}

function killWithin(vireo: Vireo, ms: number): NodeJS.Timeout {
  return setTimeout(() => vireo.child.kill('SIGKILL'), ms);
}

const skipOnOtherHosts = process.platform !== 'linux' ? 'needs /proc (Linux)' : false;

test('a guest writing THR in a loop into an unread pipe: memory stays bounded, the run ends on --timeout', { skip: skipOnOtherHosts, timeout: 60_000 }, async () => {
  const vireo = startVireo(buildProgram('uart-flood', SOURCES), ['--timeout', '9']);
  const guard = killWithin(vireo, 30_000);
  const samples = await sampleRss(vireo.child.pid!, 8500);
  assert.ok(samples.length >= 20, `vireo died early: ${vireo.stderr()}`);
  const growth = Math.max(...samples) - samples[0]!;
  process.stdout.write(`# uart-flood: RSS ${samples[0]} kB after 3 s, ${Math.max(...samples)} kB at most over the next 5.5 s (growth ${growth} kB)\n`);
  assert.ok(growth < MAX_GROWTH_KB, `RSS grew by ${growth} kB: ${samples.join(' ')}`);
  const end = await vireo.exited;
  clearTimeout(guard);
  assert.equal(end.code, 124, `expected the --timeout status; stderr: ${vireo.stderr()}`);
  assert.match(vireo.stderr(), /wall-time limit reached/);
  // The output nobody reads is given up on a few seconds after the guest stops.
  assert.ok(end.atMs < 9000 + 5000, `exited ${Math.round(end.atMs)} ms after starting`);
});

test('SIGTERM stops a flooding guest and the process exits though its stdout is full', { skip: skipOnOtherHosts, timeout: 60_000 }, async () => {
  const vireo = startVireo(buildProgram('uart-flood', SOURCES));
  const guard = killWithin(vireo, 30_000);
  await sleep(2000);
  assert.notEqual(rssKb(vireo.child.pid!), undefined, 'still running');
  const killedAt = performance.now();
  vireo.child.kill('SIGTERM');
  const end = await vireo.exited;
  clearTimeout(guard);
  assert.equal(end.code, 130, `stderr: ${vireo.stderr()}`);
  assert.ok(performance.now() - killedAt < 6000, 'ended within a few seconds');
});

test('a guest that polls LSR goes on once the reader reads after a stall, and loses nothing', { skip: skipOnOtherHosts, timeout: 120_000 }, async () => {
  const vireo = startVireo(buildProgram('uart-polled', SOURCES), ['--timeout', '90']);
  const guard = killWithin(vireo, 100_000);
  const samples = await sampleRss(vireo.child.pid!, 5000);
  assert.ok(samples.length >= 7, `vireo ended while its output could not go anywhere: ${vireo.stderr()}`);
  assert.ok(Math.max(...samples) - samples[0]! < MAX_GROWTH_KB, `RSS grew: ${samples.join(' ')}`);

  const chunks: Buffer[] = [];
  const drained = new Promise((resolve) => vireo.child.stdout.once('end', resolve));
  vireo.child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  vireo.child.stdout.resume();
  const [end] = await Promise.all([vireo.exited, drained]);
  clearTimeout(guard);
  assert.equal(end.code, 0, `stderr: ${vireo.stderr()}`);
  const out = Buffer.concat(chunks);
  assert.equal(out.length, POLLED_TOTAL, 'every byte arrived');
  const bad = out.findIndex((b, i) => b !== (i % 64 === 63 ? 0x0a : 0x30 + (i % 64)));
  assert.equal(bad, -1, `byte ${bad} is out of order or corrupt`);
});
