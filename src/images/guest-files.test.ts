import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initramfsInit, POWER_BUTTON_ACTION, REQUIRED_APPLETS, rootfsFiles } from './guest-files.js';

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
  assert.ok(init.indexOf('exec switch_root /newroot "$init"') > init.lastIndexOf('\nload '));
  assert.match(init, /^init=\/sbin\/init$/m);
  assert.equal(shellSyntaxError(init), undefined);
});

test('the initramfs init starts the program init= names on the root disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-init-'));
  try {
    // Run the argument parsing alone, with a command line of our own.
    const init = initramfsInit('6.12', []);
    const parse = init.slice(init.indexOf('root=/dev/vda'), init.indexOf('load() {'));
    writeFileSync(join(dir, 'cmdline'), 'console=ttyS0 root=/dev/vdb init=/usr/lib/stage2\n');
    const r = spawnSync('sh', ['-c', `${parse.replace('/proc/cmdline', join(dir, 'cmdline'))}\necho "$root $init"`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '/dev/vdb /usr/lib/stage2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

test('the udhcpc script configures the address, default route and resolvers from the lease', () => {
  const files = new Map(rootfsFiles().map((f) => [f.path, f]));
  const script = files.get('etc/udhcpc/default.script')!;
  assert.equal(files.get('usr/share/udhcpc/default.script')?.content, script.content);
  assert.equal(script.mode, 0o755);
  assert.equal(shellSyntaxError(script.content), undefined);
  // Run it with stand-in ip commands that log, and a resolv.conf under a temporary root.
  const dir = mkdtempSync(join(tmpdir(), 'udhcpc-'));
  try {
    writeFileSync(join(dir, 'ip'), '#!/bin/sh\necho "ip $*" >> "$LOG"\n', { mode: 0o755 });
    const body = script.content.replaceAll('/etc/resolv.conf', join(dir, 'resolv.conf'));
    const env = { PATH: `${dir}:/usr/bin:/bin`, LOG: join(dir, 'log'), interface: 'eth0', ip: '10.0.2.15', mask: '24', router: '10.0.2.2', dns: '10.0.2.3' };
    const r = spawnSync('sh', ['-c', body, 'default.script', 'bound'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const log = readFileSync(join(dir, 'log'), 'utf8');
    assert.match(log, /^ip addr add 10\.0\.2\.15\/24 dev eth0$/m);
    assert.match(log, /^ip route add default via 10\.0\.2\.2 dev eth0$/m);
    assert.equal(readFileSync(join(dir, 'resolv.conf'), 'utf8'), 'nameserver 10.0.2.3\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the root disk starts busybox acpid, whose power button action powers off', () => {
  const files = new Map(rootfsFiles().map((f) => [f.path, f]));
  const rcS = files.get('etc/init.d/rcS')!.content;
  assert.match(rcS, /^acpid -c \/etc\/acpi -l \/run\//m, 'its log off the root disk, which init remounts read-only at shutdown');
  // acpid's built-in map sends EV_KEY KEY_POWER to PWRF/00000080 under its config directory.
  const action = files.get(`etc/acpi/${POWER_BUTTON_ACTION}`)!;
  assert.equal(POWER_BUTTON_ACTION, 'PWRF/00000080');
  assert.equal(action.mode, 0o755);
  assert.match(action.content, /^exec poweroff$/m);
  assert.equal(shellSyntaxError(action.content), undefined);
  for (const applet of ['acpid', 'poweroff']) assert.ok((REQUIRED_APPLETS as readonly string[]).includes(applet), applet);
});
