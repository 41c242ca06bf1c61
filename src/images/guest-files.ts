// The few files of the guest that no Debian package provides: the initramfs /init, and the
// root disk's configuration (busybox init, a root shell on the console, hostname, users, the
// power button's action).

export const GUEST_HOSTNAME = 'vireo';

/** What busybox acpid runs, relative to its config directory, for EV_KEY KEY_POWER (its built-in map). */
export const POWER_BUTTON_ACTION = 'PWRF/00000080';

/** Busybox applets the root disk's files rely on; an image whose busybox lacks one is refused. */
export const REQUIRED_APPLETS = ['acpid', 'poweroff'] as const;

/** A text file for the guest, with its permission bits. */
export interface GuestFile {
  path: string;
  content: string;
  mode: number;
}

/**
 * The initramfs /init (run by busybox sh): mount /proc, /sys and /dev, insmod `modulePaths`
 * (relative to lib/modules/VERSION, in load order), then mount the root disk and switch_root
 * into its /sbin/init; without a disk, a shell. `root=/dev/X` on the kernel command line
 * picks another disk, `init=/PATH` another program to start; `vireo.shell` stops in the
 * initramfs shell.
 */
export function initramfsInit(kernelVersion: string, modulePaths: readonly string[]): string {
  const loads = modulePaths.map((path) => `load ${path}`).join('\n');
  return `#!/bin/busybox sh
# Vireo initramfs, generated: load the drivers Debian builds as modules (dependencies
# first), then boot the ext4 root disk, or give a shell when there is none.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

root=/dev/vda
init=/sbin/init
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=/dev/*) root="\${arg#root=}" ;;
    init=/*) init="\${arg#init=}" ;;
    vireo.shell) root= ;;
  esac
done

load() {
  insmod "/lib/modules/${kernelVersion}/$1" || echo "vireo-initrd: cannot load $1" >&2
}
${loads}

# Drivers probe their devices as they load, but devtmpfs adds the node a moment later.
if [ -n "$root" ]; then
  tries=0
  while [ ! -b "$root" ] && [ "$tries" -lt 20 ]; do usleep 100000; tries=$((tries + 1)); done
fi
if [ -n "$root" ] && [ -b "$root" ] && mount -t ext4 -o rw "$root" /newroot; then
  if [ -e "/newroot$init" ] || [ -L "/newroot$init" ]; then
    for fs in dev proc sys; do mount -o move "/$fs" "/newroot/$fs"; done
    echo "vireo-initrd: starting $init on $root"
    exec switch_root /newroot "$init"
  fi
  echo "vireo-initrd: $root has no $init" >&2
  umount /newroot
fi
echo "vireo-initrd: no root disk\${root:+ at $root}; starting a shell"
while true; do setsid cttyhack sh; done
`;
}

/** Configuration files of the root disk, for busybox init with dash as /bin/sh. */
export function rootfsFiles(hostname = GUEST_HOSTNAME): GuestFile[] {
  return [
    {
      path: 'etc/inittab',
      mode: 0o644,
      content: `# busybox init: set the system up, then a root shell on the console (ttyS0 or hvc0,
# whichever console= names last), started again whenever it exits.
::sysinit:/etc/init.d/rcS
::respawn:/usr/bin/busybox cttyhack /usr/bin/sh -l
::ctrlaltdel:/usr/bin/busybox reboot
::shutdown:/usr/bin/busybox umount -a -r
::restart:/usr/sbin/init
`,
    },
    {
      path: 'etc/init.d/rcS',
      mode: 0o755,
      content: `#!/bin/sh
# Run once by init. The initramfs normally hands over /dev, /proc and /sys already mounted.
[ -e /proc/self ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
grep -q ' /dev/pts ' /proc/mounts || mount -t devpts -o gid=5,mode=620 devpts /dev/pts
grep -q ' /run ' /proc/mounts || mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -o remount,rw / 2>/dev/null
hostname -F /etc/hostname
ifconfig lo 127.0.0.1 up 2>/dev/null
# The NIC's link up with no address, so udhcpc (which does not raise it) can send at once.
ip link set eth0 up 2>/dev/null
# The power button (virtio-input): busybox acpid reads /dev/input/event*, maps KEY_POWER to
# the action ${POWER_BUTTON_ACTION} under /etc/acpi, which powers off. Its log is on /run: a
# file held open for writing on / would keep init's shutdown from remounting it read-only.
acpid -c /etc/acpi -l /run/acpid.log || echo "vireo: acpid did not start; the power button does nothing" >&2
echo "vireo: $(uname -sr) $(uname -m) up"
`,
    },
    {
      path: `etc/acpi/${POWER_BUTTON_ACTION}`,
      mode: 0o755,
      content: `#!/bin/sh
# Run by busybox acpid when the host presses the power button.
echo "vireo: power button pressed; powering off" > /dev/console
exec poweroff
`,
    },
    {
      path: 'etc/profile',
      mode: 0o644,
      content: `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin
export HOME=/root
PS1='root@${hostname}:$PWD# '
cd "$HOME"
`,
    },
    { path: 'etc/hostname', mode: 0o644, content: `${hostname}\n` },
    { path: 'etc/hosts', mode: 0o644, content: `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\t\tlocalhost ip6-localhost ip6-loopback\n` },
    // No password: the guest is a test machine reached through its console only.
    { path: 'etc/passwd', mode: 0o644, content: 'root::0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' },
    { path: 'etc/group', mode: 0o644, content: 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' },
    { path: 'etc/nsswitch.conf', mode: 0o644, content: 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' },
    { path: 'etc/fstab', mode: 0o644, content: '/dev/vda\t/\text4\trw,relatime\t0\t1\n' },
    // Debian's busybox runs /etc/udhcpc/default.script; other builds default to /usr/share/udhcpc.
    { path: 'etc/udhcpc/default.script', mode: 0o755, content: UDHCPC_SCRIPT },
    { path: 'usr/share/udhcpc/default.script', mode: 0o755, content: UDHCPC_SCRIPT },
  ];
}

/**
 * What busybox udhcpc runs on each DHCP event (its first argument): configure the interface,
 * the default route and /etc/resolv.conf from the lease it passes in the environment.
 */
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip addr add "$ip/\${mask:-24}" \${broadcast:+broadcast "$broadcast"} dev "$interface"
    ip link set "$interface" up
    if [ -n "$router" ]; then
      ip route del default dev "$interface" 2>/dev/null
      for gateway in $router; do ip route add default via "$gateway" dev "$interface" && break; done
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
    ;;
esac
exit 0
`;
