// Save and restore of a freshly booted Debian guest, on Vireo (through its control API) and on
// QEMU (stop, migrate to a file, -incoming from it), timed alike: from the restoring process's
// start until a line typed at the console is answered. Vireo's restore is also timed inside
// this process, split into reading the non-zero pages and the rest.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readBootFile } from '../src/cli/boot-file.js';
import type { DebianImage } from '../src/images/debian-image.js';
import { VmApiClient } from '../src/vm/api/vm-api-client.js';
import type { Operation } from '../src/vm/api/operation-registry.js';
import { restoreVirtualMachine } from '../src/vm/restore-vm.js';
import { openSnapshot } from '../src/vm/snapshot/open-snapshot.js';
import { BenchError } from './bench-error.js';
import { QemuQmp, queryMigrate, type QemuMigrateInfo } from './qemu-qmp.js';
import { bootToPrompt, guestBoot, MARK, MARK_LINE, MARK_TEXT, pollUntil, qemuBoot, rootOverlay, vireoBoot, vireoRun } from './vm-state-guest.js';
import { VmProcess } from './vm-process.js';

const RESTORE_TIMEOUT_MS = 300_000;

export interface SaveRestore {
  bootSeconds: number;
  fileBytes: number;
  ramBytes: number;
  /** Pages of RAM that are not zero, as the save counted them. */
  nonZeroPages: number;
  pages: number;
  /** The save as the VM reported it: pause to file written. */
  saveMs: number;
  /** Each restore, process start to the console's answer. */
  restoreMs: number[];
}

export interface VireoInProcess {
  /** restoreVirtualMachine: file opened to board ready to run. */
  restoreMs: number;
  /** Reading and decompressing every non-zero page (SnapshotReader.readRam), which a lazy restore spreads over the run. */
  readPagesMs: number;
  pagesRead: number;
  /** From the restore's start until the console answered. */
  answeredMs: number;
  /** `vireo run --help`: the CLI's own start-up, part of every restore from the command line. */
  cliStartMs: number;
}

/** Saves a booted Vireo VM through its API, then restores it `runs` times with `vireo run --restore`. */
export async function vireoSaveRestore(image: DebianImage, dir: string, memoryMiB: number, runs: number): Promise<SaveRestore & { file: string }> {
  const api = join(dir, 'vireo-save.sock');
  const file = join(dir, 'vireo.snap');
  const vm = new VmProcess('vireo', vireoBoot(guestBoot(image, await rootOverlay(image, dir, 'vireo-save'), memoryMiB), api));
  let saved: Record<string, unknown>;
  let bootSeconds: number;
  try {
    bootSeconds = await bootToPrompt(vm);
    const client = new VmApiClient(api);
    const op = await client.follow(await client.call<Operation>('POST', '/vm/save', { path: file }), () => {});
    if (op.state !== 'succeeded' || op.result === undefined) throw new BenchError('vm-failed', `vireo: the save failed: ${JSON.stringify(op.error ?? op)}`);
    saved = op.result;
    await client.call('POST', '/vm/stop');
    await vm.exit(60_000);
  } finally {
    await vm.kill();
  }
  const restoreMs: number[] = [];
  for (let i = 0; i < runs; i++) restoreMs.push(await timeToAnswer(new VmProcess('vireo', vireoRun('--restore', file)), false));
  return {
    file, bootSeconds, fileBytes: statSync(file).size, ramBytes: memoryMiB * 2 ** 20,
    nonZeroPages: Number(saved.nonZeroPages), pages: Number(saved.pages), saveMs: Number(saved.totalMs), restoreMs,
  };
}

/** Types the marker line (at once, or once `ready` resolves) and returns ms from the process's start to the answer. */
async function timeToAnswer(vm: VmProcess, ready: false | (() => Promise<void>)): Promise<number> {
  try {
    if (ready) await ready();
    vm.type(MARK_LINE);
    return (await vm.waitFor(MARK, RESTORE_TIMEOUT_MS)) * 1000;
  } finally {
    await vm.kill();
  }
}

/** Restores `file` inside this process: the restore's own time, the pages' share of it, and the time until the console answers. */
export async function vireoInProcess(file: string): Promise<VireoInProcess> {
  const snapshot = await openSnapshot(file);
  let readPagesMs: number;
  const pagesStored = snapshot.nonZeroPages;
  try {
    readPagesMs = (await snapshot.readRam(new Uint8Array(snapshot.ramSize))).ms;
  } finally {
    await snapshot.close();
  }
  let seen = '';
  let answered = 0;
  const started = performance.now();
  const restored = await restoreVirtualMachine(file, {
    readBoot: (role, path) => readBootFile(role, path),
    io: {
      serial: {
        write: (byte) => {
          seen = (seen + String.fromCharCode(byte)).slice(-MARK_TEXT.length);
          if (answered === 0 && seen === MARK_TEXT) {
            answered = performance.now() - started;
            restored.vm.machine.requestStop();
          }
        },
      },
    },
  });
  restored.vm.machine.sendInput(Buffer.from(`${MARK_LINE}\n`));
  const guard = setTimeout(() => restored.vm.machine.requestStop(), RESTORE_TIMEOUT_MS);
  try {
    await restored.vm.run();
  } finally {
    clearTimeout(guard);
    await restored.vm.close();
  }
  if (answered === 0) throw new BenchError('vm-failed', `vireo: the VM restored in this process did not answer ${MARK_LINE}`);
  const cli = new VmProcess('vireo', vireoRun('--help'));
  const { seconds } = await cli.exit(60_000);
  return { restoreMs: restored.restoreMs, readPagesMs, pagesRead: pagesStored, answeredMs: answered, cliStartMs: seconds * 1000 };
}

/** Saves a booted QEMU guest (stop, then migrate to a file), then restores it `runs` times with -incoming. */
export async function qemuSaveRestore(image: DebianImage, dir: string, memoryMiB: number, runs: number): Promise<SaveRestore> {
  const qmpPath = join(dir, 'qemu-save.qmp');
  const file = join(dir, 'qemu.state');
  const boot = guestBoot(image, await rootOverlay(image, dir, 'qemu-save'), memoryMiB);
  const vm = new VmProcess('qemu', qemuBoot(boot, qmpPath));
  let info: QemuMigrateInfo;
  let bootSeconds: number;
  try {
    bootSeconds = await bootToPrompt(vm);
    const qmp = await QemuQmp.connect(qmpPath);
    try {
      await qmp.execute('stop');
      await qmp.execute('migrate', { uri: `exec:cat > ${file}` });
      info = await pollUntil('qemu: the save to a file', RESTORE_TIMEOUT_MS, 5, async () => {
        const now = await queryMigrate(qmp);
        if (now.status === 'failed' || now.status === 'cancelled') throw new BenchError('qemu-failed', `qemu: the save to ${file} ${now.status}`);
        return now.status === 'completed' ? now : undefined;
      });
    } finally {
      qmp.close();
    }
  } finally {
    await vm.kill();
  }
  const restoreMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const restoreQmp = join(dir, `qemu-restore-${i}.qmp`);
    const restored = new VmProcess('qemu', qemuBoot(boot, restoreQmp, '-incoming', `exec:cat ${file}`));
    // The saved guest was stopped, so the restored one waits, paused, for a cont.
    restoreMs.push(await timeToAnswer(restored, async () => {
      const qmp = await QemuQmp.connect(restoreQmp);
      try {
        await pollUntil('qemu: loading the saved state', RESTORE_TIMEOUT_MS, 1, async () => {
          const { status } = await qmp.execute<{ status: string }>('query-status');
          return status === 'inmigrate' ? undefined : status;
        });
        await qmp.execute('cont');
      } finally {
        qmp.close();
      }
    }));
  }
  const ram = info.ram!;
  return {
    bootSeconds, fileBytes: statSync(file).size, ramBytes: memoryMiB * 2 ** 20,
    nonZeroPages: ram.normal, pages: ram.normal + ram.duplicate, saveMs: info['total-time'] ?? NaN, restoreMs,
  };
}
