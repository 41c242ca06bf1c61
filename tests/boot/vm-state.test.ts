// Whole-VM snapshots of a booted Debian guest, driven through the control API as a user would:
// save a VM in the middle of a CPU-heavy command, stop it, restore it in a new process, and
// find the file written before the save, the command's correct result, a clock that did not go
// backwards and a disk qemu-img finds clean. A corrupt snapshot is refused with a clear error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import type { Operation } from '../../src/vm/api/operation-registry.js';
import { CliVm } from '../support/cli-vm.js';
import { qemuCheck, qemuImg } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;
/** Zeros the guest hashes while it is saved: a CPU-heavy command of several seconds. */
const HASHED_BYTES = 48 << 20;

/** Saves through the control API and waits for the operation; returns its result. */
async function save(api: VmApiClient, path: string): Promise<Record<string, unknown>> {
  const started = await api.call<Operation>('POST', '/vm/save', { path });
  const ended = await api.follow(started, () => {});
  assert.equal(ended.state, 'succeeded', JSON.stringify(ended));
  return ended.result as Record<string, unknown>;
}

test('a Debian VM saved mid-command and restored in a new process carries on where it was', { timeout: 900_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-vm-state-'));
  let first: CliVm | undefined;
  let second: CliVm | undefined;
  try {
    const root = join(dir, 'root.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
    const api = join(dir, 'first.sock');
    first = new CliVm(['--disk', root, '--api', api]);
    await first.waitFor(PROMPT, BOOT_MS);
    await first.run('echo written-before-the-save > /root/before.txt && sync');
    const uptimeBefore = Number((await first.run('cut -d" " -f1 /proc/uptime')).trim());
    first.type(`head -c ${HASHED_BYTES} /dev/zero | sha256sum > /root/sum.txt; echo hashed-$((6*7))`);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const client = new VmApiClient(api);
    assert.equal((await client.status()).state, 'running');
    const snapshot = join(dir, 'vm.snap');
    const saved = await save(client, snapshot);
    assert.equal(saved.state, 'paused');
    assert.equal((await client.status()).state, 'paused');
    const ramBytes = 512 << 20;
    const fileBytes = readFileSync(snapshot).length;
    assert.ok(fileBytes < ramBytes / 2, `a freshly booted guest's snapshot takes ${fileBytes} bytes, not a small fraction of its RAM`);
    await client.call('POST', '/vm/stop');
    await first.exited;
    first = undefined;
    // The disk the snapshot owns is consistent as saved.
    assert.doesNotThrow(() => qemuCheck(root));

    second = new CliVm(['--restore', snapshot, '--api', join(dir, 'second.sock')]);
    await second.waitFor(/hashed-42/, 180_000);
    const sum = createHash('sha256').update(new Uint8Array(HASHED_BYTES)).digest('hex');
    assert.match(await second.run('cat /root/sum.txt'), new RegExp(`^${sum}  -`));
    assert.equal((await second.run('cat /root/before.txt')).trim(), 'written-before-the-save');
    const uptimeAfter = Number((await second.run('cut -d" " -f1 /proc/uptime')).trim());
    assert.ok(uptimeAfter > uptimeBefore, `the guest's clock went from ${uptimeBefore} s to ${uptimeAfter} s`);
    await second.run('echo written-after-the-restore > /root/after.txt && sync');
    assert.equal((await second.run('cat /root/after.txt')).trim(), 'written-after-the-restore');
    second.type('poweroff');
    const exit = await second.exited;
    second = undefined;
    assert.equal(exit.code, 0);
    // The restored VM wrote to an overlay next to the snapshot; the base it reads through did not change.
    const overlay = `${snapshot}.disk0.qcow2`;
    assert.doesNotThrow(() => qemuCheck(overlay));
    assert.doesNotThrow(() => qemuCheck(root));

    // A damaged snapshot is refused before anything runs.
    const damaged = join(dir, 'damaged.snap');
    const bytes = readFileSync(snapshot);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(damaged, bytes);
    const refused = new CliVm(['--restore', damaged]);
    const refusedExit = await refused.exited;
    assert.equal(refusedExit.code, 1, refused.output);
    assert.match(refused.output, /vireo: cannot restore .*damaged\.snap/);
  } finally {
    await first?.kill();
    await second?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
