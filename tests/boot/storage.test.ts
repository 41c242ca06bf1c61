// Storage in a booted Debian guest, in one boot of each of two VMs running side by side:
// the root disk is a qcow2 overlay qemu-img made over the base image (with an internal
// snapshot), a linked clone of a template virtual LUN, a raw data disk attached read-only to
// both VMs, and host directories shared over virtio-9p, one read-write (both VMs) and one
// read-only. Afterwards: the base and the template are untouched, qemu-img check is clean,
// reverting the snapshot gives the pristine disk back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { openDiskImage } from '../../src/storage/disk-image.js';
import { PhysicalLun } from '../../src/storage/lun/physical-lun.js';
import { main } from '../../src/cli/main.js';
import { CliVm } from '../support/cli-vm.js';
import { GuestSession } from '../support/guest-session.js';
import { qemuCheck, qemuImg, qemuRaw } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;
const APPEND = 'console=ttyS0 root=/dev/vda rw quiet';
const MOUNT = 'mount -t 9p -o trans=virtio,version=9p2000.L';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

test('a Debian guest on qcow2 storage: overlay over a base, snapshot, linked clone, a read-only disk and 9p shares used by two VMs at once', { timeout: 1_200_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-storage-'));
  const disks: Array<{ close(): Promise<void> }> = [];
  let guest: GuestSession | undefined;
  let second: CliVm | undefined;
  try {
    const baseSha = sha256(readFileSync(img.rootDisk));
    // The root disks: overlays qemu-img makes over the cached base, the first with a snapshot of its pristine state.
    const overlay = join(dir, 'root-a.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', overlay);
    qemuImg('snapshot', '-c', 'pristine', overlay);
    const overlayB = join(dir, 'root-b.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', overlayB);

    // A template virtual LUN with known contents and a linked clone of it.
    const pool = await PhysicalLun.create(join(dir, 'pool'), { capacityBytes: 1 << 30 });
    await pool.createLun('template', { size: 16 << 20 });
    const templateData = randomBytes(1 << 20);
    const template = await pool.openLun('template');
    await template.write(0, templateData);
    await template.close();
    await pool.cloneLun('template', 'clone');
    const templateFileSha = sha256(readFileSync(join(dir, 'pool', 'template.qcow2')));

    // A raw data disk both VMs read at once, and the shares.
    const dataDisk = join(dir, 'data.raw');
    const data = randomBytes(4 << 20);
    writeFileSync(dataDisk, data);
    const shared = join(dir, 'shared');
    const readOnlyShare = join(dir, 'readonly');
    const outside = join(dir, 'outside');
    for (const d of [shared, readOnlyShare, outside]) mkdirSync(d);
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    writeFileSync(join(outside, 'secret.txt'), secret);
    writeFileSync(join(shared, 'from-host.txt'), 'written on the host\n');
    writeFileSync(join(readOnlyShare, 'notice.txt'), 'read me\n');
    // A symlink the host left pointing out of the share: the guest resolves it in its own namespace, never the host's.
    symlinkSync(outside, join(shared, 'escape'));

    const root = await openDiskImage(overlay);
    const clone = await pool.openLun('clone');
    const readOnlyData = await openDiskImage(dataDisk, { format: 'raw', readOnly: true });
    disks.push(root, clone, readOnlyData);
    guest = new GuestSession({
      firmware: readFileSync(img.firmware),
      kernel: readFileSync(img.kernel),
      initrd: readFileSync(img.initrd),
      ramMiB: 512,
      bootargs: APPEND,
      virtio: {
        disks: [{ backend: root }, { backend: clone }, { backend: readOnlyData }],
        shares: [{ root: shared, tag: 'shared' }, { root: readOnlyShare, tag: 'ro', readOnly: true }],
      },
    });
    second = new CliVm(['--kernel', img.kernel, '--initrd', img.initrd, '--disk', overlayB, '--disk', `${dataDisk},ro,format=raw`, '--share', `${shared},tag=shared`, '--append', APPEND]);
    await guest.waitFor(PROMPT, BOOT_MS);
    await second.waitFor(PROMPT, BOOT_MS);

    // The overlay is the root file system and takes writes.
    assert.match(await guest.run('cat /proc/mounts'), /^\/dev\/vda \/ ext4 rw/m);
    await guest.run('echo overlay-write > /root/overlay.txt && sync');

    // The clone reads the template's data, then diverges from it.
    assert.equal((await guest.run('head -c 1048576 /dev/vdb | sha256sum')).split(' ')[0], sha256(templateData));
    await guest.run('printf clone-data | dd of=/dev/vdb bs=512 seek=4096 conv=fsync 2>/dev/null');
    assert.equal((await guest.run('dd if=/dev/vdb bs=512 skip=4096 count=1 2>/dev/null | head -c 10')), 'clone-data');

    // The read-only disk: both VMs read it at once; neither can write it.
    const dataSha = sha256(data);
    const [shaA, shaB] = await Promise.all([guest.run('sha256sum /dev/vdc'), second.run('sha256sum /dev/vdb')]);
    assert.equal(shaA.split(' ')[0], dataSha);
    assert.equal(shaB.split(' ')[0], dataSha);
    assert.match(await guest.run('cat /sys/block/vdc/ro; echo x | dd of=/dev/vdc 2>&1 | head -1'), /^1\n.*(Operation not permitted|Read-only)/);

    // 9p: read and write the host directory; the second VM sees what the first wrote.
    await guest.run(`mkdir -p /mnt/shared /mnt/ro && ${MOUNT} shared /mnt/shared && ${MOUNT} ro /mnt/ro`);
    assert.equal(await guest.run('cat /mnt/shared/from-host.txt'), 'written on the host\n');
    await guest.run('echo from-guest-a > /mnt/shared/a.txt && mkdir /mnt/shared/sub && echo deep > /mnt/shared/sub/f');
    assert.equal(readFileSync(join(shared, 'a.txt'), 'utf8'), 'from-guest-a\n');
    assert.equal(readFileSync(join(shared, 'sub', 'f'), 'utf8'), 'deep\n');
    await second.run(`mkdir -p /mnt/shared && ${MOUNT} shared /mnt/shared`);
    assert.equal(await second.run('cat /mnt/shared/a.txt'), 'from-guest-a\n');
    await second.run('echo from-guest-b > /mnt/shared/b.txt');
    assert.equal(await guest.run('cat /mnt/shared/b.txt'), 'from-guest-b\n');

    // The read-only share reads but refuses changes.
    assert.equal(await guest.run('cat /mnt/ro/notice.txt'), 'read me\n');
    assert.match(await guest.run('echo x > /mnt/ro/new.txt; rm /mnt/ro/notice.txt; echo rc=$?'), /Read-only file system[\s\S]*rc=1/);
    assert.equal(readFileSync(join(readOnlyShare, 'notice.txt'), 'utf8'), 'read me\n');

    // Attempts to leave the share reach nothing of the host's.
    const probe = await guest.run('cat /mnt/shared/escape/secret.txt; cat /mnt/shared/../../outside/secret.txt; ln -s / /mnt/shared/slash; ls /mnt/shared/slash/; cat /mnt/shared/slash/etc/hostname');
    assert.doesNotMatch(probe, new RegExp(secret));
    assert.match(probe, /vireo/, 'the guest resolved its own symlink in its own file system');
    assert.equal(readlinkSync(join(shared, 'slash')), '/', 'the guest made a symlink on the host, nothing more');

    await guest.run('umount /mnt/shared /mnt/ro; sync');
    guest.type('poweroff -f');
    assert.equal((await guest.exit(120_000)).reason, 'pass');
    second.type('poweroff -f');
    assert.equal((await second.exited).code, 0);
    for (const disk of disks.splice(0)) await disk.close();
    await pool.close();

    // The base and the template are untouched; every image is consistent.
    assert.equal(sha256(readFileSync(img.rootDisk)), baseSha, 'the base image changed');
    assert.equal(sha256(readFileSync(join(dir, 'pool', 'template.qcow2'))), templateFileSha, 'the template changed');
    for (const image of [overlay, overlayB, join(dir, 'pool', 'clone.qcow2')]) {
      const check = qemuCheck(image);
      assert.deepEqual([check.corruptions, check.leaks], [0, 0], `qemu-img check ${image}`);
    }
    const cloneRaw = qemuRaw(join(dir, 'pool', 'clone.qcow2'));
    assert.equal(cloneRaw.subarray(4096 * 512, 4096 * 512 + 10).toString(), 'clone-data');
    assert.equal(sha256(cloneRaw.subarray(0, 1 << 20)), sha256(templateData));
    assert.ok(qemuRaw(overlay).includes('overlay-write\n'), 'the guest\'s write is in the overlay');

    // Reverting to the snapshot qemu-img took gives the pristine disk back.
    assert.equal(await main(['disk', 'snapshot', 'revert', overlay, 'pristine']), 0);
    assert.equal(sha256(qemuRaw(overlay)), baseSha, 'reverted, the overlay reads as the base');
  } finally {
    await guest?.stop();
    if (second && second.child.exitCode === null) await second.kill();
    for (const disk of disks) await disk.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
