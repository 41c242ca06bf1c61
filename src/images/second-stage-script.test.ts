import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SECOND_STAGE_MARKER, secondStageScript } from './second-stage-script.js';
import type { SecondStageInput } from './second-stage-script.js';

const INPUT: SecondStageInput = {
  debDir: '/var/cache/vireo-install',
  core: ['base-passwd_3.6.7_riscv64.deb', 'base-files_13.8_riscv64.deb', 'dpkg_1.22.21_riscv64.deb', 'libc6_2.41-12_riscv64.deb', 'perl-base_5.40.1-6_riscv64.deb', 'mawk_1.3.4.20250131-1_riscv64.deb', 'debconf_1.5.91_all.deb'],
  dpkgVersion: '1.22.21',
  required: ['coreutils_9.7-3_riscv64.deb', 'dash_0.5.12-12_riscv64.deb'],
  base: ['systemd_257.9-1_riscv64.deb', 'hello_2.10-5_riscv64.deb'],
  hostname: 'vireo-debian',
  user: 'debian',
  passwordHash: '$6$abcdefgh$0123456789abcdefABCDEF./',
  authorizedKeys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF test@host\n',
  rootUuid: '0f3c7c1e-3b9a-4f7e-9d2a-1c2b3d4e5f60',
  bootUuid: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  mirrorUri: 'http://mirror.example/debian',
  suite: 'trixie',
  kernelParameters: 'ro console=ttyS0',
};

test('the script is valid POSIX shell and installs the core packages one by one in debootstrap order', () => {
  const script = secondStageScript(INPUT);
  const syntax = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const installs = [...script.matchAll(/^dpkg --force-depends --install (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(installs, INPUT.core);
  // awk is mawk's to provide: the placeholder link goes just before mawk is installed.
  assert.ok(script.indexOf('rm -f /usr/bin/awk') < script.indexOf('--install mawk_'));
  assert.ok(script.indexOf('rm -f /usr/bin/awk') > script.indexOf('--install perl-base_'));
  assert.match(script, /Package: dpkg\\nVersion: %s.*'1\.22\.21'/);
});

test('required packages are unpacked and configured before the rest, and all are configured at the end', () => {
  const script = secondStageScript(INPUT);
  const unpackRequired = script.indexOf('--unpack \\\n  coreutils_9.7-3_riscv64.deb \\\n  dash_0.5.12-12_riscv64.deb');
  const configureRequired = script.indexOf('--configure --pending --force-configure-any --force-depends');
  const unpackBase = script.indexOf('--unpack \\\n  systemd_257.9-1_riscv64.deb \\\n  hello_2.10-5_riscv64.deb');
  const configureAll = script.indexOf('--configure -a');
  assert.ok(unpackRequired > 0 && unpackRequired < configureRequired && configureRequired < unpackBase && unpackBase < configureAll);
  // Services never start during the build, and the guard is gone afterwards.
  assert.ok(script.indexOf('exit 101') < unpackRequired);
  assert.ok(script.lastIndexOf('rm -f /usr/sbin/policy-rc.d') > configureAll);
});

test('the system configuration: fstab by UUID, DHCP on the NIC, apt from the build mirror, user, boot menu, marker last', () => {
  const script = secondStageScript(INPUT);
  assert.match(script, /^UUID=0f3c7c1e-3b9a-4f7e-9d2a-1c2b3d4e5f60\t\/\text4\t/m);
  assert.match(script, /^UUID=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\t\/boot\text4\t/m);
  assert.match(script, /\[Match\]\nType=ether\n\n\[Network\]\nDHCP=yes/);
  assert.match(script, /^URIs: http:\/\/mirror\.example\/debian$/m);
  assert.match(script, /^Suites: trixie trixie-updates$/m);
  assert.match(script, /useradd --create-home --shell \/bin\/bash --groups sudo debian/);
  assert.match(script, /echo 'debian:\$6\$abcdefgh\$0123456789abcdefABCDEF\.\/' \| chpasswd -e/);
  assert.match(script, /\/home\/debian\/\.ssh\/authorized_keys <<'EOF'\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF test@host\nEOF/);
  assert.match(script, /^U_BOOT_PARAMETERS="ro console=ttyS0"$/m);
  assert.match(script, /grep -q "root=UUID=0f3c7c1e-3b9a-4f7e-9d2a-1c2b3d4e5f60" \/boot\/extlinux\/extlinux\.conf/);
  assert.ok(script.lastIndexOf(SECOND_STAGE_MARKER) > script.indexOf('u-boot-update'));
  // riscv64's kernel is /boot/vmlinux-VERSION.
  assert.match(script, /for kernel in \/boot\/vmlinu\[xz\]-\*; do\n  version=\$\{kernel#\/boot\/vmlinu\?-\}/);
  // One initramfs, built after dpkg is done (INITRD=No keeps the kernel's hook from building one).
  assert.ok(script.indexOf('export INITRD=No') < script.indexOf('dpkg --force-depends --install'));
  assert.ok(script.indexOf('unset INITRD') > configureAllIndex(script) && script.indexOf('unset INITRD') < script.indexOf('update-initramfs -c'));
  assert.ok(script.lastIndexOf(SECOND_STAGE_MARKER) > script.indexOf(`rm -rf ${INPUT.debDir}`));
});

test('the image ships no SSH host keys or machine ID: each machine makes its own on first boot', () => {
  const script = secondStageScript(INPUT);
  assert.match(script, /ConditionPathExistsGlob=!\/etc\/ssh\/ssh_host_\*_key\nBefore=ssh\.service ssh\.socket/);
  assert.match(script, /ExecStart=\/usr\/bin\/ssh-keygen -A/);
  const removed = script.lastIndexOf('rm -f /etc/ssh/ssh_host_*');
  // After every package that could make keys (openssh-server's own configuration), before the end.
  assert.ok(script.indexOf('systemctl enable ssh-host-keys.service') < removed && removed > configureAllIndex(script));
  assert.ok(removed < script.lastIndexOf(SECOND_STAGE_MARKER));
  assert.ok(script.lastIndexOf(': > /etc/machine-id') > configureAllIndex(script));
});

function configureAllIndex(script: string): number {
  return script.indexOf('--configure -a');
}

test('without a password the account is locked; without keys no authorized_keys is written', () => {
  const { passwordHash: _p, authorizedKeys: _k, ...rest } = INPUT;
  const script = secondStageScript(rest);
  assert.match(script, /^passwd -l debian$/m);
  assert.doesNotMatch(script, /chpasswd|authorized_keys/);
});

test('inputs the script could not carry safely are refused', () => {
  assert.throws(() => secondStageScript({ ...INPUT, user: 'root' }), /not a valid login name/);
  assert.throws(() => secondStageScript({ ...INPUT, user: 'a b' }), /not a valid login name/);
  assert.throws(() => secondStageScript({ ...INPUT, hostname: 'bad_host' }), /host name/);
  assert.throws(() => secondStageScript({ ...INPUT, base: ['x;reboot.deb'] }), /unexpected \.deb file name/);
  assert.throws(() => secondStageScript({ ...INPUT, rootUuid: 'nope' }), /not a file system UUID/);
  assert.throws(() => secondStageScript({ ...INPUT, passwordHash: "x'; rm -rf /" }), /crypt/);
  assert.throws(() => secondStageScript({ ...INPUT, authorizedKeys: "ssh-ed25519 AAAA it's\n" }), /authorized keys/);
  assert.throws(() => secondStageScript({ ...INPUT, authorizedKeys: 'ssh-ed25519 AAAA\nEOF\nreboot\n' }), /authorized keys/);
  assert.throws(() => secondStageScript({ ...INPUT, mirrorUri: 'http://x/$(reboot)' }), /cannot carry/);
});
