// A booted Debian guest's state moving between processes, driven through the control API as a
// user would, in one chain of VMs: save a VM in the middle of a CPU-heavy command and restore
// it in a new process (the file written before the save, the command's correct result, a clock
// that did not go backwards, a clean disk); migrate it while a destination is killed midway
// (the source carries on), then for real while a workload runs (its result is right at the
// destination, and the disk came along); fork two VMs from the snapshot (they diverge, with
// their own MAC addresses and random numbers). A corrupt snapshot is refused with a clear error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  const others: CliVm[] = [];
  try {
    const root = join(dir, 'root.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
    const api = join(dir, 'first.sock');
    first = new CliVm(['--disk', root, '--net', 'host', '--api', api]);
    await first.waitFor(PROMPT, BOOT_MS);
    await first.run('echo written-before-the-save > /root/before.txt && sync');
    const PING = /2 packets transmitted, 2 (packets )?received/;
    assert.match(await first.run('ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ping -c 2 -W 5 10.0.2.2'), PING);
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
    assert.match(await second.run('ping -c 2 -W 5 10.0.2.2'), PING, 'the network does not work after the restore');
    assert.equal((await second.run('cat /root/after.txt')).trim(), 'written-after-the-restore');

    // A migration whose destination dies midway: the source carries on with nothing lost.
    const secondApi = new VmApiClient(join(dir, 'second.sock'));
    const doomed = new CliVm(['--incoming', 'tcp:127.0.0.1:0']);
    const doomedPort = Number((await doomed.waitFor(/waiting for a VM on tcp:127\.0\.0\.1:(\d+)/, 60_000))[1]);
    let op = await secondApi.call<Operation>('POST', '/vm/migrate', { target: `tcp:127.0.0.1:${doomedPort}` });
    while (op.state === 'running' && !op.progress?.phase.startsWith('copying memory')) op = await secondApi.operation(op.id, 30, op.revision);
    await doomed.kill();
    op = await secondApi.follow(op, () => {});
    assert.equal(op.state, 'failed', JSON.stringify(op));
    assert.equal((await secondApi.status()).state, 'running');
    assert.equal((await second.run('cat /root/after.txt')).trim(), 'written-after-the-restore');

    // A real migration while a workload runs: it finishes at the destination, correctly.
    // The destination does not share the source's storage: it copies the disk as it goes.
    const copies = join(dir, 'copies');
    mkdirSync(copies);
    const third = new CliVm(['--incoming', 'tcp:127.0.0.1:0', '--disk-dir', copies, '--api', join(dir, 'third.sock')]);
    others.push(third);
    const port = Number((await third.waitFor(/waiting for a VM on tcp:127\.0\.0\.1:(\d+)/, 60_000))[1]);
    // A workload in the background, writing to the disk, that runs until told to stop (at the destination).
    second.type('(i=0; while [ ! -e /root/stop ]; do i=$((i+1)); seq 1 100000 > /root/seq-$((i%4)).txt; seq 1 400000 | sha256sum > /root/sum-$((i%4)).txt; sync; done; echo loops-$i > /root/loops.txt) &');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    op = await secondApi.follow(await secondApi.call<Operation>('POST', '/vm/migrate', { target: `tcp:127.0.0.1:${port}` }), () => {});
    assert.equal(op.state, 'succeeded', JSON.stringify(op));
    const report = op.result as { rounds: number; bytes: number; pausedMs: number; totalMs: number };
    assert.ok(report.rounds >= 2 && report.bytes > 0 && report.pausedMs >= 0 && report.totalMs >= report.pausedMs, JSON.stringify(report));
    const sourceExit = await second.exited;
    assert.equal(sourceExit.code, 0, second.output.slice(-2000));
    assert.match(second.output, /vireo: migrated to tcp:127\.0\.0\.1:\d+: \d+ rounds, \d+ pages, \d+ bytes, paused [\d.]+ ms/);
    second = undefined;
    await third.run('touch /root/stop; wait');
    assert.match(await third.run('cat /root/loops.txt'), /^loops-[1-9]\d*$/m);
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.equal((await third.run('cat /root/sum-*.txt | sort -u')).trim(), `${digest(lines(400000))}  -`);
    assert.equal((await third.run('cat /root/after.txt')).trim(), 'written-after-the-restore');
    assert.match(await third.run('ping -c 2 -W 5 10.0.2.2'), PING, 'the network does not work at the destination');
    // What the guest wrote while it moved is on the copied disk, not only in its page cache.
    // (The kernel logs the drop on the console too.)
    const copied = await third.run('echo 3 > /proc/sys/vm/drop_caches; for f in /root/seq-*.txt; do sha256sum < $f; done | sort -u');
    assert.deepEqual(copied.split('\n').filter((l) => /^[0-9a-f]{64}/.test(l)), [`${digest(lines(100000))}  -`]);
    third.type('poweroff');
    assert.equal((await third.exited).code, 0);
    assert.doesNotThrow(() => qemuCheck(join(copies, '0-vm.snap.disk0.qcow2')));
    // The restored VM wrote to an overlay next to the snapshot; the base it reads through did not change.
    const overlay = `${snapshot}.disk0.qcow2`;
    assert.doesNotThrow(() => qemuCheck(overlay));
    assert.doesNotThrow(() => qemuCheck(root));

    // Two forks of the snapshot, side by side: each continues the saved VM, then they diverge.
    const forks = [0, 1].map(() => new CliVm(['--restore', snapshot, '--fork']));
    others.push(...forks);
    for (const fork of forks) await fork.waitFor(/hashed-42/, 180_000);
    const seen = [];
    for (const [i, fork] of forks.entries()) {
      assert.match(await fork.run('cat /root/sum.txt'), new RegExp(`^${sum}  -`));
      await fork.run(`echo fork-${i} > /root/fork.txt && sync`);
      // The NIC's new MAC address is the device's; a guest driver takes it when it binds again.
      const mac = await fork.run('d=$(basename $(readlink /sys/class/net/eth0/device)); echo $d > /sys/bus/virtio/drivers/virtio_net/unbind; echo $d > /sys/bus/virtio/drivers/virtio_net/bind; sleep 1; cat /sys/class/net/eth0/address');
      assert.match(await fork.run('ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ping -c 2 -W 5 10.0.2.2'), PING, 'a fork\'s network with its new MAC address');
      seen.push({ mac: mac.trim(), uuid: (await fork.run('cat /proc/sys/kernel/random/uuid')).trim(), file: (await fork.run('cat /root/fork.txt')).trim() });
    }
    assert.notEqual(seen[0]!.mac, seen[1]!.mac);
    assert.match(seen[0]!.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    assert.notEqual(seen[0]!.uuid, seen[1]!.uuid, 'the forks share their random numbers');
    for (const fork of forks) {
      // One change of the generation ID: one interrupt to the kernel's vmgenid driver, one reseed, no storm.
      assert.match(await fork.run('dmesg | grep -c "crng reseeded due to virtual machine fork"'), /^1$/m);
      assert.match(await fork.run('grep vmgenid /proc/interrupts'), /^\s*\d+:\s+1\s/m);
    }
    assert.deepEqual(seen.map((f) => f.file), ['fork-0', 'fork-1']);
    for (const fork of forks) {
      fork.type('poweroff');
      assert.equal((await fork.exited).code, 0);
    }
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
    for (const vm of others) await vm.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
