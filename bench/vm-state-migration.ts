// Live migration of a Debian guest running `xz -9` in a loop, between two processes on this
// host, on Vireo (`vireo run --incoming`, POST /vm/migrate) and on QEMU (-incoming tcp, QMP
// migrate): the pause, rounds, bytes and total time as each VM reports them, and the
// workload's next result printed by the destination.

import { createServer } from 'node:net';
import { join } from 'node:path';
import type { DebianImage } from '../src/images/debian-image.js';
import { VmApiClient } from '../src/vm/api/vm-api-client.js';
import type { Operation } from '../src/vm/api/operation-registry.js';
import { BenchError } from './bench-error.js';
import { QemuQmp, queryMigrate } from './qemu-qmp.js';
import { bootToPrompt, guestBoot, pollUntil, qemuBoot, rootOverlay, sleep, vireoBoot, vireoRun } from './vm-state-guest.js';
import { VmProcess } from './vm-process.js';

/** Compresses the first MiB of /usr/bin's files with xz -9 (674 MiB of working memory), over and over, printing each result. */
const WORKLOAD = 'n=0; while :; do n=$((n+1)); echo "xz-round $n $(cat /usr/bin/* 2>/dev/null | head -c 1048576 | xz -9 | wc -c)"; done';
/** A whole line: the size may arrive in pieces. */
const ROUND = /xz-round (\d+) (\d+)\r?\n/;
/** Time for the workload to start and take its memory before the migration starts. */
const WARM_UP_MS = 15_000;
const MIGRATION_TIMEOUT_MS = 600_000;
/** QEMU's bandwidth cap lifted (bytes/s), as Vireo has none: both send as fast as the host allows. */
const QEMU_MAX_BANDWIDTH = 8 * 2 ** 30;

export interface Migration {
  bootSeconds: number;
  pausedMs: number;
  /** Vireo: where the pause went. */
  pauseParts?: string;
  rounds: number;
  bytes: number;
  totalMs: number;
  /** The workload's first round finished by the destination: its number and the compressed size. */
  roundAfter: { round: number; size: number };
}

/** Waits for the next workload result printed from `from` on. */
async function nextRound(vm: VmProcess, from: number): Promise<{ round: number; size: number }> {
  await vm.waitFor(ROUND, MIGRATION_TIMEOUT_MS, from);
  const m = ROUND.exec(vm.output.slice(from))!;
  return { round: Number(m[1]), size: Number(m[2]) };
}

export async function vireoMigration(image: DebianImage, dir: string, memoryMiB: number): Promise<Migration> {
  const api = join(dir, 'vireo-migrate.sock');
  const source = new VmProcess('vireo', vireoBoot(guestBoot(image, await rootOverlay(image, dir, 'vireo-migrate'), memoryMiB), api));
  const bootSeconds = await bootToPrompt(source);
  const destination = new VmProcess('vireo', vireoRun('--incoming', 'tcp:127.0.0.1:0'));
  try {
    const listening = /waiting for a VM on (tcp:127\.0\.0\.1:\d+)/;
    await destination.waitFor(listening, 60_000);
    const target = listening.exec(destination.output)![1]!;
    source.type(WORKLOAD);
    await sleep(WARM_UP_MS);
    const client = new VmApiClient(api);
    const op = await client.follow(await client.call<Operation>('POST', '/vm/migrate', { target }), () => {});
    if (op.state !== 'succeeded' || op.result === undefined) throw new BenchError('vm-failed', `vireo: the migration failed: ${JSON.stringify(op.error ?? op)}`);
    const r = op.result as { rounds: number; bytes: number; pausedMs: number; totalMs: number; pause?: { disksMs: number; lastPages: number; pagesMs: number; handoverMs: number } };
    await destination.waitFor(/the VM arrived and runs here/, 60_000);
    const from = destination.output.length;
    const { status } = await source.exit(60_000);
    if (status !== 0) throw new BenchError('vm-failed', `vireo: the migrated source exited with status ${status}`);
    const p = r.pause;
    return {
      bootSeconds, pausedMs: r.pausedMs, rounds: r.rounds, bytes: r.bytes, totalMs: r.totalMs,
      ...(p ? { pauseParts: `disks ${p.disksMs.toFixed(1)} ms, last ${p.lastPages} pages ${p.pagesMs.toFixed(1)} ms, handover ${p.handoverMs.toFixed(1)} ms` } : {}),
      roundAfter: await nextRound(destination, from),
    };
  } finally {
    await source.kill();
    await destination.kill();
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new BenchError('usage', 'no free TCP port'))));
    });
  });
}

export async function qemuMigration(image: DebianImage, dir: string, memoryMiB: number): Promise<Migration> {
  const boot = guestBoot(image, await rootOverlay(image, dir, 'qemu-migrate'), memoryMiB);
  const sourceQmp = join(dir, 'qemu-source.qmp');
  const source = new VmProcess('qemu', qemuBoot(boot, sourceQmp));
  const bootSeconds = await bootToPrompt(source);
  const port = await freePort();
  const destinationQmp = join(dir, 'qemu-destination.qmp');
  const destination = new VmProcess('qemu', qemuBoot(boot, destinationQmp, '-incoming', `tcp:127.0.0.1:${port}`));
  const qmps: QemuQmp[] = [];
  try {
    // Its monitor answers once it listens for the incoming VM.
    qmps.push(await QemuQmp.connect(destinationQmp));
    const qmp = await QemuQmp.connect(sourceQmp);
    qmps.push(qmp);
    source.type(WORKLOAD);
    await sleep(WARM_UP_MS);
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': QEMU_MAX_BANDWIDTH });
    const from = destination.output.length;
    await qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
    const info = await pollUntil('qemu: the migration', MIGRATION_TIMEOUT_MS, 20, async () => {
      const now = await queryMigrate(qmp);
      if (now.status === 'failed' || now.status === 'cancelled') throw new BenchError('qemu-failed', `qemu: the migration ${now.status}`);
      return now.status === 'completed' ? now : undefined;
    });
    return {
      bootSeconds, pausedMs: info.downtime ?? NaN, rounds: info.ram?.['dirty-sync-count'] ?? NaN,
      bytes: info.ram?.transferred ?? NaN, totalMs: info['total-time'] ?? NaN,
      roundAfter: await nextRound(destination, from),
    };
  } finally {
    for (const q of qmps) q.close();
    await source.kill();
    await destination.kill();
  }
}
