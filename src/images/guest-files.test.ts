import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { initramfsInit, rootfsFiles } from './guest-files.js';

const MODULES = ['kernel/crypto/crc32c_generic.ko', 'kernel/fs/jbd2/jbd2.ko', 'kernel/fs/ext4/ext4.ko', 'kernel/drivers/block/virtio_blk.ko'];

/** Syntax check with the host's POSIX shell; the guest runs these with busybox sh and dash. */
function shellSyntaxError(script: string): string | undefined {
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? undefined : r.stderr;
}

test('the initramfs init loads the modules in the given order, then switches to the root disk', () => {
  const init = initramfsInit('6.12.117+deb13-riscv64', MODULES);
  assert.ok(init.startsWith('#!/bin/busybox sh\n'));
  const loads = [...init.matchAll(/^load (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(loads, MODULES);
  assert.match(init, /insmod "\/lib\/modules\/6\.12\.117\+deb13-riscv64\/\$1"/);
  assert.match(init, /^root=\/dev\/vda$/m);
  assert.ok(init.indexOf('mount -t devtmpfs') < init.indexOf('\nload '), '/dev is mounted before drivers add nodes');
  assert.ok(init.indexOf('exec switch_root /newroot /sbin/init') > init.lastIndexOf('\nload '));
  assert.equal(shellSyntaxError(init), undefined);
});

test('the root disk boots busybox init to a root shell and names the machine', () => {
  const files = new Map(rootfsFiles('guest1').map((f) => [f.path, f]));
  assert.match(files.get('etc/inittab')!.content, /^::sysinit:\/etc\/init\.d\/rcS$/m);
  assert.match(files.get('etc/inittab')!.content, /^::respawn:.*cttyhack .*sh/m);
  assert.equal(files.get('etc/hostname')!.content, 'guest1\n');
  assert.match(files.get('etc/passwd')!.content, /^root::0:0:root:\/root:\/bin\/sh$/m);
  assert.equal(files.get('etc/init.d/rcS')!.mode, 0o755);
  for (const path of ['etc/init.d/rcS', 'etc/profile']) assert.equal(shellSyntaxError(files.get(path)!.content), undefined, path);
});
