// The source side of live migration (pre-copy): RAM is sent while the guest runs, then in
// rounds only the pages it wrote meanwhile, until what is left fits a short pause; then the
// guest is paused, the disks flushed and handed over, the last pages and the machine state
// sent, and once the destination says it runs the VM, this side is done. Any failure before
// that leaves the VM running here with nothing lost.

import { connect } from 'node:net';
import type { Machine } from '../../machine/machine.js';
import { encodePages } from '../snapshot/page-chunk.js';
import { findNonZeroPages } from '../snapshot/zero-page.js';
import { PAGE_SIZE } from '../snapshot/page-chunk-layout.js';
import type { OperationProgress } from '../api/vm-controller.js';
import type { VmDescription } from '../vm-description.js';
import { MessageType, MigrationChannel, MigrationError } from './migration-channel.js';
import { DiskMirror, type TrackedDisk } from './disk-mirror.js';
import { MIGRATION_PROTOCOL_VERSION, type DiskFacts, type FinalMessage, type HelloMessage } from './migration-protocol.js';

/** What the migration needs of the VM it moves. */
export interface MigrationSource {
  machine: Machine;
  /** The description as the destination must build it (boot file digests included). */
  describe(): VmDescription;
  diskFacts(): DiskFacts[];
  /** Puts each disk behind a tracked one, so the blocks the guest writes can be copied again. */
  trackDisks(): Promise<TrackedDisk[]>;
  /** Flushes the disks while the guest runs, so that the flush in the pause finds little to do. */
  flushDisks(): Promise<void>;
  /** Flushes and closes the disks: the destination opens them next. */
  releaseDisks(): Promise<void>;
  /** Opens them again after a failed handover. */
  reacquireDisks(): Promise<void>;
}

export interface MigrationReport {
  target: string;
  rounds: number;
  /** The largest share of time the guest was held back so that the copy could catch up (0: never). */
  throttle: number;
  /** Bytes sent over the connection. */
  bytes: number;
  pagesSent: number;
  /** How long the guest was paused. */
  pausedMs: number;
  /** Where the pause went: closing the disks, the last pages, the state and the destination's answer. */
  pause: { disksMs: number; lastPages: number; pagesMs: number; handoverMs: number };
  totalMs: number;
}

/** Pre-copy stops once what is left can be sent within this pause. */
const PAUSE_BUDGET_MS = 30;
const MAX_ROUNDS = 30;
/** A round that leaves more than this share of the pages it sent has not converged. */
const CONVERGED_SHARE = 0.5;
const THROTTLE_START = 0.3;
const THROTTLE_STEP = 0.2;
/** The destination has this long to answer each step. */
const ANSWER_TIMEOUT_MS = 60_000;

export async function sendVm(source: MigrationSource, target: { host: string; port: number }, progress: (p: OperationProgress) => void): Promise<MigrationReport> {
  const started = performance.now();
  const where = `tcp:${target.host}:${target.port}`;
  const channel = await open(target, where);
  const { machine } = source;
  const log = machine.memory.dirtyLog;
  let paused = false;
  let released = false;
  try {
    const hello: HelloMessage = { version: MIGRATION_PROTOCOL_VERSION, description: source.describe(), ramSize: machine.ram.length, disks: source.diskFacts() };
    await channel.send(MessageType.HELLO, hello);
    const ready = await channel.receiveJson<{ copyDisks?: boolean }>(MessageType.READY, ANSWER_TIMEOUT_MS);
    // A destination that does not see these disks keeps copies: they go first, while the guest runs.
    let mirror: DiskMirror | null = null;
    if (ready.copyDisks === true) {
      mirror = new DiskMirror(channel, await source.trackDisks());
      await mirror.copyAll((done, total) => progress({ phase: 'copying disks', done, total }));
    }

    // Round 1: every page that is not zero (the destination's RAM starts zeroed).
    await machine.startDirtyLog();
    const ram = machine.ram;
    let pages: ArrayLike<number> = findNonZeroPages(ram, ram.length / PAGE_SIZE);
    let pagesSent = 0;
    let rounds = 0;
    let bytesPerMs = 0;
    let throttle = 0;
    for (;;) {
      rounds++;
      const roundStart = performance.now();
      const before = channel.bytesSent;
      await sendPages(channel, ram, pages, (done) => progress({ phase: `copying memory, round ${rounds}`, done, total: pages.length }));
      const blocks = (await mirror?.sendDirty()) ?? 0;
      await channel.send(MessageType.ROUND_END, { round: rounds });
      await channel.receiveJson(MessageType.ROUND_APPLIED, ANSWER_TIMEOUT_MS);
      pagesSent += pages.length;
      const ms = Math.max(1, performance.now() - roundStart);
      if (pages.length + blocks > 64) bytesPerMs = (channel.bytesSent - before) / ms;
      const previous = pages.length;
      pages = await machine.takeDirtyPages();
      const leftMs = bytesPerMs > 0 ? (pages.length * PAGE_SIZE + (mirror?.pendingBytes() ?? 0)) / bytesPerMs : 0;
      if (leftMs <= PAUSE_BUDGET_MS || rounds >= MAX_ROUNDS) break;
      // The guest writes about as fast as its memory goes out: hold it back, more each round.
      if (rounds >= 2 && pages.length > previous * CONVERGED_SHARE) machine.cpuThrottle = machine.cpuThrottle === 0 ? THROTTLE_START : machine.cpuThrottle + THROTTLE_STEP;
      throttle = machine.cpuThrottle;
    }

    // Stop-and-copy: the guest pauses, its disks are handed over, the rest goes.
    progress({ phase: 'pausing', done: 0, total: 1 });
    await source.flushDisks();
    await machine.pause();
    paused = true;
    const pausedAt = performance.now();
    await mirror?.sendDirty();
    await source.releaseDisks();
    released = true;
    const disksAt = performance.now();
    // What the last round left, and what the guest wrote since.
    const last = [...new Set([...Array.from(pages), ...(await machine.takeDirtyPages())])];
    await sendPages(channel, ram, last, () => {});
    pagesSent += last.length;
    const pagesAt = performance.now();
    const final: FinalMessage = { state: machine.saveState(), description: source.describe() };
    await channel.send(MessageType.FINAL, final);
    await channel.receiveJson(MessageType.RUNNING, ANSWER_TIMEOUT_MS);
    const resumedAt = performance.now();
    log.stop();
    machine.cpuThrottle = 0;
    channel.close();
    return {
      target: where,
      rounds: rounds + 1,
      throttle,
      bytes: channel.bytesSent,
      pagesSent,
      pausedMs: round1(resumedAt - pausedAt),
      pause: { disksMs: round1(disksAt - pausedAt), lastPages: last.length, pagesMs: round1(pagesAt - disksAt), handoverMs: round1(resumedAt - pagesAt) },
      totalMs: round1(performance.now() - started),
    };
  } catch (e) {
    // The VM carries on here: disks back, clock and guest running at full speed.
    log.stop();
    machine.cpuThrottle = 0;
    channel.close();
    if (released) await source.reacquireDisks();
    if (paused) machine.resume();
    throw e instanceof MigrationError ? e : new MigrationError(`migration to ${where} failed: ${(e as Error).message}`, { cause: e });
  }
}

async function open(target: { host: string; port: number }, where: string): Promise<MigrationChannel> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new MigrationChannel(socket, where));
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new MigrationError(`cannot reach ${where}: ${e.message}; is 'vireo run --incoming ${where}' waiting there?`));
    });
  });
}

/** Pages per chunk: small enough that compressing the next overlaps sending this one. */
const CHUNK_PAGES = 1024;

async function sendPages(channel: MigrationChannel, ram: Uint8Array, pages: ArrayLike<number>, onProgress: (done: number) => void): Promise<void> {
  let previous: { chunk: Promise<Uint8Array>; end: number } | null = null;
  for (let at = 0; at < pages.length; at += CHUNK_PAGES) {
    const slice = Array.from({ length: Math.min(CHUNK_PAGES, pages.length - at) }, (_, i) => pages[at + i]!);
    // encodePages takes its copy of the pages now and compresses on the thread pool meanwhile.
    const current = { chunk: encodePages(ram, slice), end: at + slice.length };
    current.chunk.catch(() => {}); // awaited below; a send that fails first must not leave it unhandled
    if (previous) {
      await channel.send(MessageType.PAGES, await previous.chunk);
      onProgress(previous.end);
    }
    previous = current;
  }
  if (previous) {
    await channel.send(MessageType.PAGES, await previous.chunk);
    onProgress(previous.end);
  }
}

/** Milliseconds to a tenth, for reports. */
export function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
