// `vireo run IMAGE`: disk images laid out as distributions ship them, built here with Debian's
// tools around the cached guest's kernel and initramfs, boot through OpenSBI and U-Boot (an
// extlinux configuration, and GRUB as an EFI application); an image with nothing to boot is
// refused before anything starts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ensureBootFirmware } from '../../src/images/boot-firmware.js';
import { ensureDebianImage } from '../../src/images/debian-image.js';
import { GPT_TYPES, assembleDisk, makeExt4, makeFat, run } from '../support/boot-disk.js';
import { CliVm } from '../support/cli-vm.js';
import { withTempDir } from '../support/temp-dir.js';

const SHELL_MS = 240_000;
/** The initramfs /init stops in a busybox shell with vireo.shell; the kernel's crypto self-tests, most of a boot's instructions, are skipped. */
const COMMAND_LINE = 'console=ttyS0 vireo.shell quiet cryptomgr.notests';

/** Boots `args` until the initramfs shell, checks what the guest sees, and stops it. */
async function bootToShell(args: string[], expect: { disks: RegExp; nics?: RegExp }): Promise<void> {
  const started = Date.now();
  const vm = new CliVm(args);
  try {
    await vm.waitFor(/starting a shell/, SHELL_MS);
    // U-Boot ran, and the kernel got the command line the image gave it.
    assert.match(vm.output, /U-Boot 20\d\d\.\d\d/);
    assert.match(await vm.run('cat /proc/cmdline'), /vireo\.shell/);
    assert.match(await vm.run('ls /sys/block'), expect.disks);
    if (expect.nics) assert.match(await vm.run('ls /sys/class/net'), expect.nics);
    process.stderr.write(`# ${args.at(-1)}: shell after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await vm.kill();
  }
}

test('an extlinux image (GPT, ext4 boot partition marked bootable) boots with vireo run IMAGE, with another disk and a NIC', { timeout: 600_000 }, async () => {
  const guest = await ensureDebianImage();
  await ensureBootFirmware();
  await withTempDir('vireo-extlinux-', async (dir) => {
    const boot = makeExt4(dir, 'boot', {
      'vmlinux': { source: guest.kernel },
      'initrd.img': { source: guest.initrd },
      'extlinux/extlinux.conf': `default vireo\ntimeout 0\nlabel vireo\n  kernel /vmlinux\n  initrd /initrd.img\n  append ${COMMAND_LINE}\n`,
    }, 48);
    const image = assembleDisk(join(dir, 'extlinux.img'), [{ type: GPT_TYPES.linux, image: boot, bootable: true }]);
    const data = join(dir, 'data.img');
    run('truncate', ['-s', '8M', data]);
    await bootToShell(['-m', '384', '--disk', data, '--net', 'user', image], { disks: /vda\s+vdb/, nics: /eth0/ });
  });
});

test('an EFI image (GPT, EFI system partition with GRUB as BOOTRISCV64.EFI), as qcow2, boots with vireo run IMAGE', { timeout: 600_000 }, async () => {
  const guest = await ensureDebianImage();
  const firmware = await ensureBootFirmware();
  await withTempDir('vireo-efi-', async (dir) => {
    // GRUB 2.06's grub-mkimage (the host's) builds a riscv64 EFI application from trixie's 2.12 modules.
    const grub = join(dir, 'BOOTRISCV64.EFI');
    run('grub-mkimage', ['-d', firmware.grubModules, '-O', 'riscv64-efi', '-o', grub, '-p', '/EFI/BOOT', 'part_gpt', 'fat', 'normal', 'linux', 'configfile', 'echo']);
    const esp = makeFat(dir, 'esp', {
      'EFI/BOOT/BOOTRISCV64.EFI': { source: grub },
      'EFI/BOOT/grub.cfg': `set timeout=0\nmenuentry 'vireo' {\n  linux /vmlinux ${COMMAND_LINE}\n  initrd /initrd.img\n}\n`,
      'vmlinux': { source: guest.kernel },
      'initrd.img': { source: guest.initrd },
    }, 48);
    const raw = assembleDisk(join(dir, 'efi.img'), [{ type: GPT_TYPES.esp, image: esp }]);
    const qcow2 = join(dir, 'efi.qcow2');
    run('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2]);
    await bootToShell([qcow2], { disks: /vda/ });
  });
});

test('a disk with a partition table but nothing to boot is refused at once, naming what was looked for and found', { timeout: 120_000 }, async () => {
  await withTempDir('vireo-noboot-', async (dir) => {
    const root = makeExt4(dir, 'root', { 'etc/hostname': 'vireo\n' }, 8);
    const image = assembleDisk(join(dir, 'plain.img'), [{ type: GPT_TYPES.linux, image: root }]);
    const started = Date.now();
    const vm = new CliVm([image]);
    const { code } = await vm.exited;
    const seconds = (Date.now() - started) / 1000;
    assert.equal(code, 1, vm.output);
    assert.match(vm.output, /nothing on .*plain\.img that U-Boot can boot: it looks for extlinux\/extlinux\.conf/);
    assert.match(vm.output, /1: Linux filesystem .*: ext4, none of those files/);
    assert.doesNotMatch(vm.output, /OpenSBI|U-Boot 20/);
    assert.ok(seconds < 15, `took ${seconds} s`);
  });
});
