// The VM generation ID with Debian's own kernel: its vmgenid driver binds to the board's
// microsoft,vmgenid node, and a change of the ID reaches it as one interrupt that makes the
// kernel reseed its random number generator at once (what each copy of a forked VM needs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { openDiskImage } from '../../src/storage/disk-image.js';
import { GuestSession } from '../support/guest-session.js';
import { qemuImg } from '../storage/qemu-img.js';

const BOOT_MS = 300_000;
const PROMPT = /root@vireo:[^\n]*# $/;

/** The guest's count of vmgenid interrupts, from /proc/interrupts. */
async function vmgenidInterrupts(guest: GuestSession): Promise<number> {
  const line = (await guest.run('grep vmgenid /proc/interrupts')).trim();
  const count = /^\s*\d+:\s+(\d+)\s/.exec(line);
  assert.ok(count, `no vmgenid line in /proc/interrupts: ${JSON.stringify(line)}`);
  return Number(count[1]);
}

test('Debian binds vmgenid to the device and reseeds once per change of the ID', { timeout: 900_000 }, async () => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-vmgenid-'));
  let guest: GuestSession | undefined;
  try {
    // A copy-on-write overlay: the cached root disk is never written.
    const root = join(dir, 'root.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', img.rootDisk, '-F', 'raw', root);
    const disk = await openDiskImage(root);
    guest = new GuestSession({
      firmware: readFileSync(img.firmware),
      kernel: readFileSync(img.kernel),
      initrd: readFileSync(img.initrd),
      ramMiB: 512,
      bootargs: 'console=ttyS0 root=/dev/vda rw quiet',
      virtio: { disks: [{ backend: disk, serial: 'vireo-root' }] },
    });
    await guest.waitFor(PROMPT, BOOT_MS);

    assert.match(await guest.run('ls -1 /sys/bus/platform/drivers/vmgenid/'), /^102000\.rng$/m);
    assert.equal(await vmgenidInterrupts(guest), 0);

    guest.machine.generationId.change();
    // The interrupt is taken while the shell waits in the kernel; the next command sees it.
    assert.equal(await vmgenidInterrupts(guest), 1);
    assert.match(await guest.run('dmesg | grep -i "virtual machine fork"'), /crng reseeded due to virtual machine fork/);
    assert.equal(guest.machine.generationId.pending, false, 'the driver read the new ID');
    assert.equal(await vmgenidInterrupts(guest), 1, 'the interrupt did not repeat: no storm without an acknowledge register');

    guest.machine.generationId.change();
    assert.equal(await vmgenidInterrupts(guest), 2);

    guest.type('poweroff');
    assert.equal((await guest.exit(120_000)).reason, 'pass');
  } finally {
    await guest?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
