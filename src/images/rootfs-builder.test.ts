import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ImageError } from './image-error.js';
import { buildRootfs } from './rootfs-builder.js';
import { findOnPath } from './run-tool.js';

type FakeFile = { content: string | Buffer; mode?: number } | { link: string };

/** Builds a .deb with dpkg-deb from a list of files (no maintainer scripts). */
function makeDeb(work: string, name: string, files: Record<string, FakeFile>): string {
  const root = join(work, `${name}-pkg`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN', 'control'), `Package: ${name}\nVersion: 1.0\nArchitecture: riscv64\nMaintainer: Vireo tests <tests@vireo.invalid>\nDescription: fake package for a test\n`);
  for (const [path, file] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if ('link' in file) symlinkSync(file.link, full);
    else {
      writeFileSync(full, file.content);
      chmodSync(full, file.mode ?? 0o644);
    }
  }
  const deb = join(work, `${name}.deb`);
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, deb], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return deb;
}

function debugfs(image: string, request: string): string {
  const r = spawnSync('debugfs', ['-R', request, image], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const tools = ['dpkg-deb', 'mke2fs', 'debugfs'].filter((t) => !findOnPath(t));

test('the root disk holds the unpacked packages, merged /usr, busybox links and the guest configuration', { skip: tools.length ? `${tools.join(', ')} not installed` : false }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'vireo-rootfs-'));
  try {
    const busybox = fakeBusybox(['[', '[[', 'acpid', 'ash', 'cat', 'cttyhack', 'init', 'insmod', 'ls', 'mount', 'poweroff', 'sh', 'switch_root', 'zcat']);
    const debs = [
      makeDeb(work, 'fake-busybox', { 'usr/bin/busybox': { content: busybox, mode: 0o755 } }),
      // An old-style package that ships into /bin: it must land in /usr/bin.
      makeDeb(work, 'fake-shell', { 'bin/dash': { content: '#!dash', mode: 0o755 }, 'bin/sh': { link: 'dash' }, 'usr/bin/ls': { content: 'real ls', mode: 0o755 }, 'usr/share/man/man1/ls.1.gz': { content: 'manual' }, 'usr/share/doc/fake-shell/copyright': { content: 'license' }, 'usr/share/doc/fake-shell/changelog.gz': { content: 'changes' } }),
    ];
    const output = join(work, 'rootfs.ext4');
    const steps: string[] = [];
    await buildRootfs({ debs, stageDir: join(work, 'stage'), output, sizeMiB: 16, uuid: '01234567-89ab-4cde-8f01-23456789abcd', onStep: (s) => steps.push(s) });

    const superblock = Buffer.alloc(2);
    const fd = openSync(output, 'r');
    readSync(fd, superblock, 0, 2, 1080);
    closeSync(fd);
    assert.equal(superblock.readUInt16LE(0), 0xef53, 'ext4 superblock magic');

    const root = debugfs(output, 'ls -l /');
    for (const link of ['bin', 'sbin', 'lib']) assert.match(root, new RegExp(`120777 .* ${link}\\s*$`, 'm'), `/${link} is a link`);
    assert.match(root, /41777 .* tmp\s*$/m);
    assert.match(root, /40700 .* root\s*$/m);
    assert.match(debugfs(output, 'stat /bin'), /Fast link dest: "usr\/bin"/);

    const bin = debugfs(output, 'ls -l /usr/bin');
    assert.match(bin, /100755 \(1\)\s+0\s+0\s+\d+ .* dash\s*$/m, 'dash moved into /usr/bin, owned by root');
    assert.match(bin, /100755 .* ls\s*$/m, "the package's ls is kept, not replaced by busybox");
    assert.match(bin, /120777 .* cat\s*$/m, 'busybox provides cat');
    assert.match(debugfs(output, 'stat /usr/bin/cat'), /Fast link dest: "busybox"/);
    assert.match(debugfs(output, 'stat /usr/sbin/init'), /Fast link dest: "\.\.\/bin\/busybox"/);
    assert.doesNotMatch(bin, / init\s*$/m, 'init only in /usr/sbin');

    assert.equal(debugfs(output, 'cat /etc/hostname'), 'vireo\n');
    assert.match(debugfs(output, 'cat /etc/inittab'), /::sysinit:\/etc\/init\.d\/rcS/);
    assert.match(debugfs(output, 'ls /usr/share/doc/fake-shell'), /copyright/);
    assert.doesNotMatch(debugfs(output, 'ls /usr/share/doc/fake-shell'), /changelog/);
    assert.doesNotMatch(debugfs(output, 'ls /usr/share'), /\bman\b/);
    assert.ok(steps.some((s) => /11 busybox applets linked/.test(s)), steps.join('\n'));
    assert.match(debugfs(output, 'stat /etc/acpi/PWRF/00000080'), /Mode:\s+0755/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a busybox without acpid is refused: the guest could not hear the power button', { skip: tools.length ? `${tools.join(', ')} not installed` : false }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'vireo-rootfs-'));
  try {
    const busybox = fakeBusybox(['[', '[[', 'ash', 'cat', 'cttyhack', 'init', 'insmod', 'ls', 'mount', 'poweroff', 'sh', 'zcat']);
    const debs = [makeDeb(work, 'fake-busybox', { 'usr/bin/busybox': { content: busybox, mode: 0o755 } })];
    await assert.rejects(
      buildRootfs({ debs, stageDir: join(work, 'stage'), output: join(work, 'rootfs.ext4'), sizeMiB: 16, uuid: '01234567-89ab-4cde-8f01-23456789abcd' }),
      (e: unknown) => e instanceof ImageError && /lacks the applets acpid\b/.test(e.message),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** A stand-in busybox binary: just the applet name table busyboxApplets() looks for. */
function fakeBusybox(applets: string[]): Buffer {
  return Buffer.concat([Buffer.from('\x7fELF fake '), Buffer.from(applets.join('\0') + '\0\0')]);
}
