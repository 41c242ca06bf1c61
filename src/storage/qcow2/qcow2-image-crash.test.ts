// Crash consistency: a process changing an image is killed with SIGKILL at random moments; the
// image must then hold at most leaked clusters (qemu-img check and Vireo's check agree), never a
// cluster referenced more often than its refcount says or a reference past the end of the file.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Qcow2Image } from './qcow2-image.js';
import { qemuCheck } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const worker = join(dirname(fileURLToPath(import.meta.url)), '../../../tests/storage/qcow2-crash-worker.js');

/** Starts the worker, waits until it is changing the image, lets it run `ms` more, kills it. */
function runAndKill(path: string, seed: number, mode: 'data' | 'snapshots', ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, path, String(seed), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the worker stopped by itself (code ${code}): ${stderr}`));
    });
  });
}

for (const mode of ['data', 'snapshots'] as const) {
  test(`SIGKILL during ${mode === 'data' ? 'writes, zeroes and discards' : 'snapshot creation, revert and deletion'} leaves at most leaked clusters`, async () => {
    const path = join(dir, `${mode}.qcow2`);
    const image = await Qcow2Image.create(path, { size: 8 * 1024 * 1024, clusterBits: 12 });
    await image.close();
    for (let round = 0; round < 3; round++) {
      await runAndKill(path, 1000 * round + 7, mode, 30 + round * 45);
      const qemu = qemuCheck(path);
      const reopened = await Qcow2Image.open(path);
      const ours = await reopened.check();
      const harmful = ours.problems.filter((p) => !/^leaked cluster/.test(p) && !(mode === 'snapshots' && /copied flag is clear but the refcount is 1/.test(p)));
      assert.deepEqual(harmful, [], `round ${round}: ${harmful.join('; ')}`);
      if (mode === 'data') assert.equal(qemu.corruptions, 0, `round ${round}: qemu-img check found corruptions`);
      assert.equal(ours.leaks, qemu.leaks, 'Vireo and qemu-img count the same leaks');
      await reopened.check({ repair: true });
      await reopened.close();
      assert.equal(qemuCheck(path).leaks, 0, 'repair leaves no leaks');
    }
  });
}
