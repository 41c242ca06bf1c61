// The second stage of the complete Debian's install, as a shell script that runs as PID 1
// inside a Vireo VM booted on the half-built root disk: dpkg installs and configures every
// package in debootstrap's order (so maintainer scripts run as riscv64 code, as root), then the
// system is configured (fstab, user, network, apt, boot menu) and the VM powers off.

/** Printed last on success; the host checks for it and for the VM's exit status. */
export const SECOND_STAGE_MARKER = 'VIREO-SECOND-STAGE-COMPLETE';
/** Printed with the reason when a step fails, just before powering off. */
export const SECOND_STAGE_FAILURE = 'VIREO-SECOND-STAGE-FAILED';

export interface SecondStageInput {
  /** Directory of the root disk (as the guest sees it) that holds the .debs; removed at the end. */
  debDir: string;
  /** debootstrap's core packages, installed one at a time in this order (base-passwd, base-files, dpkg, libc6, perl-base, mawk, debconf): file names in debDir. */
  core: readonly string[];
  /** dpkg's version, recorded as installed before dpkg itself is (debootstrap's x_feign_install). */
  dpkgVersion: string;
  /** The other Priority: required packages (and their dependencies): unpacked together, then configured. */
  required: readonly string[];
  /** Everything else: unpacked, then configured with `dpkg --configure -a`. */
  base: readonly string[];
  hostname: string;
  user: string;
  /** A crypt(3) hash for the user's password, or none: the account can only be reached with a key. */
  passwordHash?: string;
  /** authorized_keys for the user, or none. */
  authorizedKeys?: string;
  /** File system UUIDs of the root and boot partitions, for fstab and root=. */
  rootUuid: string;
  bootUuid: string;
  /** The Debian archive the build used, for the image's own apt sources. */
  mirrorUri: string;
  suite: string;
  /** Kernel parameters besides root= (u-boot-menu's U_BOOT_PARAMETERS). */
  kernelParameters: string;
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DEB_FILE = /^[A-Za-z0-9.+~%_-]+\.deb$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SAFE_TEXT = /^[^'\\\0]*$/;

/** Throws an Error naming the first input the script cannot safely carry. */
export function checkSecondStageInput(input: SecondStageInput): void {
  const bad = (why: string): never => {
    throw new Error(`second stage: ${why}`);
  };
  if (!NAME.test(input.user) || input.user === 'root') bad(`the user name "${input.user}" is not a valid login name (lower case letters, digits, _ and -; not root)`);
  if (!HOSTNAME.test(input.hostname)) bad(`the host name "${input.hostname}" is not valid`);
  for (const deb of [...input.core, ...input.required, ...input.base]) if (!DEB_FILE.test(deb)) bad(`unexpected .deb file name ${deb}`);
  for (const uuid of [input.rootUuid, input.bootUuid]) if (!UUID.test(uuid)) bad(`${uuid} is not a file system UUID`);
  if (input.passwordHash !== undefined && !/^\$[0-9a-z]+\$[./0-9A-Za-z$=,-]+$/.test(input.passwordHash)) bad('the password hash is not a crypt(3) string');
  if (input.authorizedKeys !== undefined && (!SAFE_TEXT.test(input.authorizedKeys) || /^EOF$/m.test(input.authorizedKeys))) bad('the authorized keys hold characters the script cannot carry');
  for (const text of [input.mirrorUri, input.suite, input.kernelParameters, input.dpkgVersion, input.debDir]) if (!/^[A-Za-z0-9:/.+~_=,@ -]*$/.test(text)) bad(`"${text}" holds characters the script cannot carry`);
}

const list = (debs: readonly string[]): string => debs.map((d) => `  ${d}`).join(' \\\n');

export function secondStageScript(input: SecondStageInput): string {
  checkSecondStageInput(input);
  const user = input.user;
  return `#!/bin/sh
# Second stage of Vireo's complete Debian install, run as PID 1 in a Vireo VM (generated).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8 HOME=/root
# The kernel's postinst hook would build an initramfs and a trigger another (minutes each in
# the VM): none while dpkg runs, one at the end.
export INITRD=No
started=$(cut -d' ' -f1 /proc/uptime)

halt_vm() {
  sync
  umount /boot 2>/dev/null
  mount -o remount,ro / 2>/dev/null
  sync
  # No init system runs: ask the kernel itself to power off.
  echo o > /proc/sysrq-trigger
  sleep 60
}
fail() {
  echo "${SECOND_STAGE_FAILURE}: $*"
  halt_vm
}
step() {
  echo "vireo-second-stage [$(cut -d' ' -f1 /proc/uptime) s]: $*"
}
# Runs a command up to three times (dpkg leaves what it could not finish for the next run).
retry() {
  for attempt in 1 2 3; do
    "$@" < /dev/null && return 0
    step "attempt $attempt of: $* failed"
  done
  return 1
}

[ -e /proc/self ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/lock
# No write barriers and a long commit interval: the VM syncs once at the end, and a crash means a rebuild anyway.
mount -o remount,rw,barrier=0,commit=60 / || fail "cannot remount / read-write"
mkdir -p /boot
mount -t ext4 -o barrier=0 /dev/vdb /boot || fail "cannot mount the boot partition"
echo 1 > /proc/sys/kernel/sysrq
# dpkg's fsync of every file costs a host flush each in the VM; one sync at the end is enough here.
mkdir -p /etc/dpkg/dpkg.cfg.d
echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/vireo-install
cd ${input.debDir} || fail "no ${input.debDir}"

step "installing the core packages"
mkdir -p /var/lib/dpkg/info /var/lib/dpkg/updates
touch /var/lib/dpkg/status /var/lib/dpkg/available
printf 'Package: dpkg\\nVersion: %s\\nMaintainer: unknown\\nStatus: install ok installed\\n\\n' '${input.dpkgVersion}' >> /var/lib/dpkg/status
touch /var/lib/dpkg/info/dpkg.list
/sbin/ldconfig 2>/dev/null || /usr/sbin/ldconfig
ln -sf mawk /usr/bin/awk
[ -e /etc/localtime ] || ln -sf /usr/share/zoneinfo/UTC /etc/localtime
${input.core.map((deb) => `${deb.startsWith('mawk_') ? 'rm -f /usr/bin/awk\n' : ''}dpkg --force-depends --install ${deb} < /dev/null || fail "installing ${deb}"`).join('\n')}

# No service starts while the system is being built.
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

step "unpacking the required packages"
retry dpkg --force-depends --unpack \\
${list(input.required)} || fail "unpacking the required packages"
step "configuring the required packages"
dpkg --configure --pending --force-configure-any --force-depends < /dev/null || fail "configuring the required packages"

step "unpacking the other packages"
retry dpkg --force-overwrite --force-confold --force-depends --skip-same-version --unpack \\
${list(input.base)} || fail "unpacking the other packages"
step "configuring the other packages"
retry dpkg --force-confold --configure -a || fail "configuring the packages"
dpkg --audit | grep . && fail "dpkg --audit reports packages not fully installed"

step "configuring the system"
echo ${input.hostname} > /etc/hostname
cat > /etc/hosts <<'EOF'
127.0.0.1	localhost
127.0.1.1	${input.hostname}
::1		localhost ip6-localhost ip6-loopback
EOF
cat > /etc/fstab <<'EOF'
# <file system>	<mount point>	<type>	<options>	<dump>	<pass>
UUID=${input.rootUuid}	/	ext4	errors=remount-ro	0	1
UUID=${input.bootUuid}	/boot	ext4	defaults	0	2
EOF
mkdir -p /etc/systemd/network
cat > /etc/systemd/network/20-wired.network <<'EOF'
[Match]
Type=ether

[Network]
DHCP=yes
EOF
systemctl enable systemd-networkd.service systemd-resolved.service || fail "enabling systemd-networkd"
rm -f /etc/apt/sources.list
cat > /etc/apt/sources.list.d/debian.sources <<'EOF'
Types: deb
URIs: ${input.mirrorUri}
Suites: ${input.suite} ${input.suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

useradd --create-home --shell /bin/bash --groups sudo ${user} || fail "adding the user ${user}"
${input.passwordHash !== undefined ? `echo '${user}:${input.passwordHash}' | chpasswd -e || fail "setting the password of ${user}"` : `passwd -l ${user}`}
${input.authorizedKeys !== undefined ? `install -d -m 700 -o ${user} -g ${user} /home/${user}/.ssh
cat > /home/${user}/.ssh/authorized_keys <<'EOF'
${input.authorizedKeys.replace(/\n*$/, '')}
EOF
chown ${user}:${user} /home/${user}/.ssh/authorized_keys
chmod 600 /home/${user}/.ssh/authorized_keys` : ''}

# Every machine made from the image makes its own SSH host keys when it first starts, as
# Debian's cloud images do; keys made here would be shared by all of them.
cat > /etc/systemd/system/ssh-host-keys.service <<'EOF'
[Unit]
Description=SSH host keys of this machine
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service ssh.socket

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF
systemctl enable ssh-host-keys.service || fail "enabling ssh-host-keys.service"

step "writing the boot menu"
cat > /etc/default/u-boot <<'EOF'
U_BOOT_PARAMETERS="${input.kernelParameters}"
U_BOOT_ALTERNATIVES="default"
U_BOOT_PROMPT="0"
U_BOOT_TIMEOUT="1"
EOF
# riscv64 kernels are /boot/vmlinux-VERSION (uncompressed Image); others vmlinuz.
ls /boot/vmlinu[xz]-* > /dev/null 2>&1 || fail "no kernel in /boot"
unset INITRD
for kernel in /boot/vmlinu[xz]-*; do
  version=\${kernel#/boot/vmlinu?-}
  [ -e /boot/initrd.img-$version ] || update-initramfs -c -k "$version" || fail "building the initramfs of $version"
done
u-boot-update || fail "u-boot-update"
grep -q "root=UUID=${input.rootUuid}" /boot/extlinux/extlinux.conf || fail "extlinux.conf does not name the root file system"

step "cleaning up"
rm -f /usr/sbin/policy-rc.d /etc/dpkg/dpkg.cfg.d/vireo-install
cd /
rm -rf ${input.debDir}
apt-get clean 2>/dev/null
# A new machine ID and SSH host keys on first boot, as on any installed image.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
echo "${SECOND_STAGE_MARKER} in $(awk -v a="$started" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%d", b - a }') s"
halt_vm
`;
}
