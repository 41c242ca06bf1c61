// Crash consistency: a Debian VM on a qcow2 overlay writes and syncs files in a loop and is
// killed with SIGKILL at random moments. After every kill the image must pass qemu-img check
// (leaked clusters at most), the next boot must mount the guest's ext4 (replaying its journal)
// and find every file the guest had synced before the kill, and at the end the file system
// must be clean for e2fsck.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { Qcow2Image } from '../../src/storage/qcow2/qcow2-image.js';
import { CliVm } from '../support/cli-vm.js';
import { qemuCheck, qemuImg } from '../storage/qemu-img.js';

const PROMPT = /root@vireo:[^\n]*# $/;
const BOOT_MS = 300_000;
const KILLS = 5;

/** A small seeded generator, so a failing run can be repeated from the printed seed. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('SIGKILL at random moments while the guest writes: the qcow2 image stays consistent and no synced file is lost', { timeout: 1_500_000 }, async (t) => {
  const img = await ensureDebianImage();
  const dir = mkdtempSync(join(tmpdir(), 'vireo-crash-'));
  const seed = Number(process.env.VIREO_CRASH_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed} (VIREO_CRASH_SEED repeats it)`);
  const random = generator(seed);
  try {
    const overlay = join(dir, 'root.qcow2');
    await (await Qcow2Image.create(overlay, { backingFile: img.rootDisk, backingFormat: 'raw' })).close();
    const boot = () => new CliVm(['--kernel', img.kernel, '--initrd', img.initrd, '--disk', overlay, '--append', 'console=ttyS0 root=/dev/vda rw quiet']);
    /** Files the guest reported synced, by round: name -> sha256. */
    const synced: Array<Map<string, string>> = [];

    for (let round = 0; round <= KILLS; round++) {
      const vm = boot();
      try {
        await vm.waitFor(PROMPT, BOOT_MS);
        // Everything synced before the previous kill is there, intact.
        for (const [r, files] of synced.entries()) {
          if (files.size === 0) continue;
          const names = [...files.keys()];
          const sums = await vm.run(`cd /root/log${r} && sha256sum ${names.join(' ')}; cd /root`);
          for (const name of names) {
            assert.match(sums, new RegExp(`^${files.get(name)}  ${name}$`, 'm'), `round ${r}: ${name}, synced before the kill, is missing or changed`);
          }
        }
        if (round === KILLS) break;
        const files = new Map<string, string>();
        synced.push(files);
        const from = vm.output.length;
        vm.type(`mkdir -p /root/log${round}; cd /root/log${round}; i=0; while :; do i=$((i+1)); head -c $((4096 * (i % 48 + 1))) /dev/urandom > f$i; s=$(sha256sum f$i); sync; echo "synced $s"; done`);
        await vm.waitFor(/synced [0-9a-f]{64}  f1\b/, 120_000, from);
        await new Promise((resolve) => setTimeout(resolve, 500 + random() * 5000));
        const { signal } = await vm.kill('SIGKILL');
        assert.equal(signal, 'SIGKILL');
        for (const m of vm.output.slice(from).matchAll(/synced ([0-9a-f]{64})  (f\d+)\r?\n/g)) files.set(m[2]!, m[1]!);
        t.diagnostic(`round ${round}: killed after ${files.size} synced files`);
        assert.ok(files.size > 0);
        const check = qemuCheck(overlay);
        assert.equal(check.corruptions, 0, `qemu-img check found corruption after kill ${round}`);
      } finally {
        if (vm.child.exitCode === null && vm.child.signalCode === null) await vm.kill();
      }
    }

    // A clean shutdown: the root file system read-only, then power off; e2fsck finds nothing to fix.
    const vm = boot();
    await vm.waitFor(PROMPT, BOOT_MS);
    await vm.run('sync; mount -o remount,ro /');
    vm.type('poweroff -f');
    assert.equal((await vm.exited).code, 0);
    assert.equal(qemuCheck(overlay).corruptions, 0);
    const raw = join(dir, 'root.raw');
    qemuImg('convert', '-O', 'raw', overlay, raw);
    const fsck = spawnSync('/usr/sbin/e2fsck', ['-fn', raw], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, `e2fsck -fn: ${fsck.stdout}${fsck.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
