// Debian with several CPUs: each hart on its own host thread. The kernel brings every CPU up,
// userland sees them, and a parallel workload (one hashing job per CPU) gives the right
// results while every CPU does part of the work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { FileBlockBackend } from '../../src/storage/file-block-backend.js';
import { GuestSession } from '../support/guest-session.js';

const BOOT_MS = 420_000;
const PROMPT = /root@vireo:[^\n]*# $/;
/** sha256 of 16 MiB of zeros. */
const ZEROS_16M_SHA256 = '080acf35a507ac9849cfcba47dc2ad83e01b75663a516279c8b9d243b719643e';

/** Busy (user + nice + system) jiffies per CPU from /proc/stat. */
function busyPerCpu(stat: string): number[] {
  return stat.split('\n').filter((l) => /^cpu\d+ /.test(l)).map((l) => {
    const f = l.trim().split(/\s+/).slice(1).map(Number);
    return f[0]! + f[1]! + f[2]!;
  });
}

for (const cpus of [2, 4]) {
  test(`Debian boots with ${cpus} CPUs and a parallel workload uses them all`, { timeout: BOOT_MS + 180_000 }, async () => {
    const img = await ensureDebianImage();
    const dir = mkdtempSync(join(tmpdir(), 'vireo-smp-'));
    const disk = join(dir, 'root.ext4');
    copyFileSync(img.rootDisk, disk);
    const backend = FileBlockBackend.open(disk);
    const guest = new GuestSession({
      firmware: readFileSync(img.firmware),
      kernel: readFileSync(img.kernel),
      initrd: readFileSync(img.initrd),
      ramMiB: 512,
      cpus,
      bootargs: 'console=ttyS0 root=/dev/vda rw quiet',
      virtio: { disks: [{ backend, serial: 'vireo-root' }], balloon: true },
    });
    try {
      await guest.waitFor(PROMPT, BOOT_MS);
      assert.equal((await guest.run('nproc')).trim(), String(cpus));
      assert.equal((await guest.run('grep -c ^processor /proc/cpuinfo')).trim(), String(cpus));
      assert.match(await guest.run('cat /sys/devices/system/cpu/online'), new RegExp(`^0-${cpus - 1}\\s*$`));

      // Free page reporting works with the harts on their own threads: the guest's first
      // report (about 2 s after the driver loads) gives back most of its free RAM.
      const balloon = guest.machine.virtio.balloon!;
      const deadline = Date.now() + 30_000;
      while (balloon.counters.discardedBytes < 256 << 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      assert.ok(balloon.counters.discardedBytes >= 256 << 20, `the guest gave back only ${balloon.counters.discardedBytes} bytes of its free RAM`);
      assert.equal(balloon.counters.faults, 0);

      const before = busyPerCpu(await guest.run('cat /proc/stat'));
      const jobs = cpus * 2;
      const hashes = await guest.run(
        `for i in $(seq ${jobs}); do (head -c 16777216 /dev/zero | sha256sum > /tmp/h$i) & done; wait; cat /tmp/h*`,
        300_000,
      );
      const after = busyPerCpu(await guest.run('cat /proc/stat'));
      const lines = hashes.trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
      assert.deepEqual(lines, new Array(jobs).fill(ZEROS_16M_SHA256), hashes);
      // Every CPU did a share of the work: none sat idle while the jobs ran.
      after.forEach((busy, cpu) => assert.ok(busy - before[cpu]! > 5, `CPU ${cpu} did no work: ${before} -> ${after}`));
    } finally {
      await guest.stop();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
