// The arguments of `vireo run`: its help text, and parsing into RunArguments (usage errors
// are UsageError, reported with exit status 2).

import { parseArgs } from 'node:util';
import { DEFAULT_RAM_MIB, MAX_CPUS, type TranslationMode } from '../../machine/machine.js';
import type { ShareConfig } from '../../machine/virtio-devices.js';
import { LINUX_RAM_MIB } from '../default-guest.js';
import { parseDiskOption, type DiskOption } from '../disk-option.js';
import { parseShareOption } from '../share-option.js';
import { UserNetworkOptionError, parseUserNetworkOptions, type UserNetworkOptions } from '../../net/user/user-network-options.js';
import { UsageError } from '../usage-error.js';
import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import { HOST_IP } from '../../vm/virtual-machine.js';
import type { MigrationTarget } from '../../vm/api/vm-controller.js';

export const RUN_HELP = `Usage: vireo run [--bios FILE|none] [--kernel FILE] [options]
       vireo run [options] IMAGE

With IMAGE, a disk image (raw or qcow2) that boots through U-Boot, as on QEMU's virt board:
OpenSBI starts Debian's U-Boot (fetched on first use), whose standard boot starts the
kernel, initramfs and command line that IMAGE's extlinux/extlinux.conf names, or its EFI
application (EFI/BOOT/BOOTRISCV64.EFI, such as GRUB). IMAGE is the first disk (/dev/vda);
--disk adds more. IMAGE is checked first: with nothing U-Boot can boot, vireo says what it
looked for and what IMAGE holds, and boots nothing.

With no --kernel, boots the default Debian guest (built on first use, see 'vireo image')
to a shell on this terminal, with its own persistent root disk. Without --bios, the
firmware is OpenSBI's fw_jump.bin from that image.

With --bios FILE, loads the firmware (OpenSBI fw_jump.bin) at 0x80000000 and the kernel
(a RISC-V Linux Image) where its header asks, 0x80200000; the hart starts in M-mode in the
firmware with a0 = 0 (hart id) and a1 = the device tree's address.
With --bios none, FILE runs by itself: an ELF64 RISC-V executable at its physical
addresses (from its entry point), or a flat binary at 0x80000000.
UART0 is connected to stdin and stdout. On a terminal, Ctrl-A x quits.

Options:
  --bios FILE|none          Firmware to start in, or none (default: Debian's OpenSBI)
  --kernel FILE             The kernel or program to run (default: the Debian guest)
  --initrd FILE             An initial ramdisk for the kernel (needs --bios FILE)
  -m, --memory MIB          RAM size in MiB, or with a suffix: 512M, 2G (default ${LINUX_RAM_MIB}
                            with firmware, ${DEFAULT_RAM_MIB} with --bios none)
  --cpus N                  Harts (1 to 8, default 1); each runs on its own host thread
  --append ARGS             Kernel command line, placed in /chosen/bootargs
  --max-instructions N      Stop after N instructions; a trap counts as one, so a
                            guest stuck in a trap loop stops too
  --timeout SECONDS         Stop after SECONDS of wall time
  --disk FILE[,OPTIONS]     Attach a disk image as a virtio-blk disk (repeatable; the
                            first is /dev/vda). The format, raw or qcow2, is read from
                            the image's header unless format=raw|qcow2 is given; ro
                            makes it read-only. I/O limits (per second, with bursts):
                            iops, iops-rd, iops-wr, bps, bps-rd, bps-wr (bytes, K/M/G
                            suffixes), iops-burst, bps-burst
  --share DIR,tag=NAME[,ro] Share a host directory with the guest over virtio-9p
                            (repeatable); the guest mounts it with
                            mount -t 9p -o trans=virtio,version=9p2000.L NAME /mnt
                            and sees nothing outside DIR; ro refuses every change
  --console ttyS0|hvc0      Where the terminal's input goes (default ttyS0, UART0);
                            hvc0 also attaches a virtio-console, for console=hvc0
  --net host                Attach a virtio-net NIC to a virtual switch where the host
                            answers ARP and ping at 10.0.2.2
  --net user[,RULES]        Attach a virtio-net NIC with user-mode networking: DHCP
                            (the guest gets 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3)
                            and TCP/UDP out through this process's own sockets; the
                            host's loopback is out of reach. Comma-separated RULES:
                            hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT
                              listen on the host (default 127.0.0.1; port 0: any free
                              port, printed) and connect into the guest
                            guestfwd=tcp|udp:10.0.2.2:GUESTPORT-HOSTADDR:HOSTPORT
                              the guest reaches HOSTADDR:HOSTPORT (loopback allowed)
                              at 10.0.2.2:GUESTPORT
                            dns=ADDR[:PORT]  resolver for 10.0.2.3 (repeatable;
                              default: the host's /etc/resolv.conf)
  --net switch:PATH         Attach the NIC (with a MAC address of its own) to a switch
                            shared with other VM processes, served on the Unix socket
                            PATH by 'vireo switch serve' or the host agent
  --balloon on|off          Attach a virtio-balloon (on, the default) to which the guest
                            reports the RAM it keeps free; the host gives that memory
                            back to the system (see docs/free-page-reporting.md)
  --mem-merge on|off        Offer guest RAM to the host kernel's same-page merging
                            (on, the default): while KSM runs (/sys/kernel/mm/ksm/run),
                            pages identical across VMs are shared copy-on-write
  --cpu-cap PERCENT         Hold the VM's CPU use to PERCENT of one host core (5-100);
                            change it while it runs with PUT /vm/cpu
  --jit on|off|lockstep     Translate hot guest code to WebAssembly (on, the default),
                            interpret everything (off), or check every translated block
                            against the interpreter and stop at the first divergence
  --jit-threshold N         Jumps to a block before it is translated (default 2048, at
                            most 65535); hot blocks are compiled in batches in the
                            background, or each at once with 1
  --api PATH                Serve the VM's control API (HTTP with JSON) on a Unix
                            socket at PATH: status, pause, resume, save, stop; see
                            'vireo vm --help'
  --restore FILE            Continue a VM saved with 'vireo vm save FILE' (its
                            description comes from the file; --kernel, --bios,
                            --initrd, -m, --append, --share, --net, --console
                            do not apply). Its writable disks continue in new
                            qcow2 overlays next to FILE over the images the snapshot
                            owns, unless --disk options give the disks again
  --fork                    With --restore: start a new VM from the snapshot, with its
                            own disk overlays, a new MAC address and a new generation
                            ID (the guest reseeds its random numbers at once); several
                            VMs can be forked from one snapshot
  --incoming tcp:HOST:PORT  Wait on HOST:PORT (port 0: any free port, printed) for a
                            VM that 'vireo vm migrate' sends; it runs here from then on.
                            Its description comes from the source, as with --restore;
                            its disks must be at the same paths here (shared storage)
                            unless --disk-dir is given
  --disk-dir DIR            With --incoming: this host does not see the source's disks;
                            copy them into DIR (thin qcow2) during the migration and run
                            the VM on the copies
  --trace                   Print every instruction to stderr (slow; implies --jit off)
  --signature FILE          When the guest ends, write the memory between its
                            begin_signature and end_signature symbols to FILE,
                            one 32-bit little-endian word in hex per line
  -h, --help                Show this help

The guest ends through the test finisher at 0x100000, or, when the program defines a
tohost symbol, through the HTIF mailbox there (tohost = (N << 1) | 1 exits with N).

Exit status:
  0    the guest wrote the pass value (0x5555) to the test finisher, or exit code 0 to tohost
  N    the guest wrote (N << 16) | 0x3333, or (N << 1) | 1 to tohost; N is taken
       modulo 256, and 1 when that is 0
  124  --max-instructions or --timeout was reached
  130  stopped by Ctrl-A x or a signal
  3    --jit lockstep found translated code that disagrees with the interpreter
  1    a firmware, kernel, initrd or disk file could not be used (not a regular file
       or block device, too large, unreadable) or the kernel could not be loaded
  2    usage error
`;


/** Largest RAM one WebAssembly memory holds after the hart state blocks. */
const MAX_RAM_MIB = 4095;

export type NetArgument = { mode: 'host' } | { mode: 'user'; user: UserNetworkOptions } | { mode: 'switch'; path: string };

export interface RunArguments {
  /** A disk image to boot through U-Boot (the positional IMAGE). */
  image: string | undefined;
  /** The firmware file, 'none', or 'default' (OpenSBI from the Debian image). */
  bios: string;
  initrd: string | undefined;
  /** The kernel; undefined boots the default Debian guest. */
  kernel: string | undefined;
  ramMiB: number | undefined;
  cpus: number | undefined;
  append: string | undefined;
  maxInstructions: number | undefined;
  timeoutSeconds: number | undefined;
  trace: boolean;
  signature: string | undefined;
  disks: DiskOption[];
  shares: ShareConfig[];
  /** Attach a NIC: to a switch with a host responder at 10.0.2.2, with user-mode networking, or to a shared switch. */
  net: NetArgument | undefined;
  /** A cap on the VM's CPU use, percent of one host core. */
  cpuCap: number | undefined;
  /** Attach a virtio-balloon for free page reporting. */
  balloon: boolean;
  /** Offer guest RAM to the host's same-page merging. */
  memMerge: boolean;
  /** Which guest console the terminal's input goes to; hvc0 also attaches a virtio-console. */
  console: 'ttyS0' | 'hvc0';
  jit: TranslationMode;
  jitThreshold: number | undefined;
  /** Where to serve the control API (a Unix socket path). */
  api: string | undefined;
  /** A snapshot file to continue from. */
  restore: string | undefined;
  /** Where to wait for a migrating VM (port 0: any). */
  incoming: MigrationTarget | undefined;
  /** With restore: a new VM from the snapshot. */
  fork: boolean;
  /** With incoming: where copies of the migrating VM's disks go. */
  diskDir: string | undefined;
}

/** Parses `vireo run` arguments; returns null for --help. Throws UsageError. */
export function parseRunArguments(argv: string[]): RunArguments | null {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        bios: { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        memory: { type: 'string', short: 'm' },
        cpus: { type: 'string' },
        append: { type: 'string' },
        'max-instructions': { type: 'string' },
        disk: { type: 'string', multiple: true },
        share: { type: 'string', multiple: true },
        net: { type: 'string' },
        'cpu-cap': { type: 'string' },
        balloon: { type: 'string' },
        'mem-merge': { type: 'string' },
        console: { type: 'string' },
        jit: { type: 'string' },
        'jit-threshold': { type: 'string' },
        timeout: { type: 'string' },
        trace: { type: 'boolean' },
        signature: { type: 'string' },
        api: { type: 'string' },
        restore: { type: 'string' },
        incoming: { type: 'string' },
        fork: { type: 'boolean' },
        'disk-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError('run', describeParseError(e));
  }
  if (values.help) return null;
  if (positionals.length > 1) throw new UsageError('run', `unexpected argument ${positionals[1]}; vireo run takes one disk image to boot, and options of the form --name VALUE`);
  const image = positionals[0];
  if (image === '') throw new UsageError('run', 'the disk image to boot is an empty path');
  if (image !== undefined) {
    const clash = ['kernel', 'initrd', 'append', 'restore', 'incoming'].find((o) => values[o as keyof typeof values] !== undefined);
    if (clash) throw new UsageError('run', `--${clash} does not apply with a disk image to boot: ${['kernel', 'initrd', 'append'].includes(clash) ? 'U-Boot takes the kernel, initramfs and command line from the image' : 'the VM comes from elsewhere'}`);
    if (values.bios === 'none') throw new UsageError('run', '--bios none does not apply with a disk image: OpenSBI starts U-Boot');
  }
  if (values.bios === '') throw new UsageError('run', '--bios needs a firmware file or none');
  if (values.kernel === '') throw new UsageError('run', '--kernel needs a file');
  if (values.api === '') throw new UsageError('run', '--api needs a socket path');
  if (values.restore === '') throw new UsageError('run', '--restore needs a snapshot file');
  if (values['disk-dir'] !== undefined && values.incoming === undefined) throw new UsageError('run', '--disk-dir needs --incoming: it says where a migrating VM\'s disks are copied');
  if (values['disk-dir'] === '') throw new UsageError('run', '--disk-dir needs a directory');
  if (values.fork && values.restore === undefined) throw new UsageError('run', '--fork needs --restore FILE: a fork starts from a snapshot');
  if (values.restore !== undefined && values.incoming !== undefined) throw new UsageError('run', '--restore and --incoming both say where the VM comes from; give one');
  if (values.restore !== undefined || values.incoming !== undefined) {
    const clash = ['bios', 'kernel', 'initrd', 'memory', 'cpus', 'append', 'share', 'net', 'console', 'balloon', 'mem-merge'].find((o) => values[o as keyof typeof values] !== undefined);
    if (clash) throw new UsageError('run', `--${clash} does not apply with --${values.restore !== undefined ? 'restore' : 'incoming'}: the VM's description comes from ${values.restore !== undefined ? 'the snapshot' : 'the migration source'}`);
    if (values.disk !== undefined && values.incoming !== undefined) throw new UsageError('run', '--disk does not apply with --incoming: the disks come from the migration source');
  }
  if (values.bios === 'none' && values.kernel === undefined) throw new UsageError('run', '--bios none needs --kernel FILE');
  if (values.bios === 'none' && values.initrd !== undefined) {
    throw new UsageError('run', '--initrd needs firmware to hand it to the kernel; give --bios FILE');
  }
  return {
    image,
    bios: values.bios ?? 'default',
    initrd: values.initrd,
    kernel: values.kernel,
    ramMiB: values.memory === undefined ? undefined : parseMemory(values.memory),
    cpus: values.cpus === undefined ? undefined : parseCpus(values.cpus),
    append: values.append,
    maxInstructions: values['max-instructions'] === undefined ? undefined : parseCount(values['max-instructions']),
    timeoutSeconds: values.timeout === undefined ? undefined : parseSeconds(values.timeout),
    trace: values.trace === true,
    signature: values.signature,
    disks: (values.disk ?? []).map(parseDiskOption),
    shares: (values.share ?? []).map(parseShareOption),
    net: values.net === undefined ? undefined : parseNet(values.net),
    cpuCap: values['cpu-cap'] === undefined ? undefined : parseCpuCap(values['cpu-cap']),
    balloon: values.balloon === undefined ? true : parseOnOff('--balloon', values.balloon),
    memMerge: values['mem-merge'] === undefined ? true : parseOnOff('--mem-merge', values['mem-merge']),
    console: values.console === undefined ? 'ttyS0' : parseConsole(values.console),
    jit: values.jit === undefined ? 'on' : parseJit(values.jit),
    jitThreshold: values['jit-threshold'] === undefined ? undefined : parseThreshold(values['jit-threshold']),
    api: values.api,
    restore: values.restore,
    incoming: values.incoming === undefined ? undefined : parseIncoming(values.incoming),
    fork: values.fork === true,
    diskDir: values['disk-dir'],
  };
}

function parseOnOff(option: string, text: string): boolean {
  if (text !== 'on' && text !== 'off') throw new UsageError('run', `${option} takes on or off, got '${text}'`);
  return text === 'on';
}

function parseCpus(text: string): number {
  const cpus = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(cpus >= 1 && cpus <= MAX_CPUS)) throw new UsageError('run', `--cpus takes a whole number from 1 to ${MAX_CPUS}, got '${text}'`);
  return cpus;
}

function describeParseError(e: unknown): string {
  const error = e as Error & { code?: string };
  const quoted = /'([^']+)'/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? error.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = quoted?.split(' ')[0] ?? '';
      if (/ambiguous/.test(error.message)) return `option ${option} needs a value (for a value starting with '-', write --long-name=VALUE)`;
      if (/missing/.test(error.message)) return `option ${option} needs a value`;
      return `option ${option} takes no value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ?? error.message}; options take the form --name VALUE`;
    default:
      return error.message;
  }
}

function parseIncoming(text: string): MigrationTarget {
  // Port 0 asks for any free port; otherwise the same form `vireo vm migrate` takes.
  const anyPort = text.endsWith(':0');
  const target = parseMigrationTarget(anyPort ? `${text.slice(0, -2)}:1` : text);
  if (typeof target === 'string') throw new UsageError('run', `--incoming: ${target}`);
  return anyPort ? { ...target, port: 0 } : target;
}

function parseJit(text: string): TranslationMode {
  if (text !== 'on' && text !== 'off' && text !== 'lockstep') throw new UsageError('run', `--jit takes on, off or lockstep, got '${text}'`);
  return text;
}

function parseThreshold(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new UsageError('run', `--jit-threshold takes a whole number from 1 to 65535, got '${text}'`);
  return n;
}

function parseConsole(text: string): 'ttyS0' | 'hvc0' {
  if (text !== 'ttyS0' && text !== 'hvc0') throw new UsageError('run', `--console takes ttyS0 or hvc0, got '${text}'`);
  return text;
}

function parseNet(text: string): NetArgument {
  if (text === 'host') return { mode: 'host' };
  if (text.startsWith('switch:') && text.length > 'switch:'.length) return { mode: 'switch', path: text.slice('switch:'.length) };
  if (text === 'user' || text.startsWith('user,')) {
    try {
      return { mode: 'user', user: parseUserNetworkOptions(text) };
    } catch (e) {
      if (e instanceof UserNetworkOptionError) throw new UsageError('run', `--net: ${e.message}`);
      throw e;
    }
  }
  throw new UsageError('run', `--net takes 'host' (a switch with the host answering ARP and ping at ${HOST_IP}), 'user[,hostfwd=...][,guestfwd=...][,dns=...]' or 'switch:PATH' (a switch shared over the Unix socket PATH), got '${text}'`);
}

function parseCpuCap(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= 5 && n <= 100 * MAX_CPUS)) throw new UsageError('run', `--cpu-cap takes a percent of one host core from 5 to 100 per CPU, got '${text}'`);
  return n;
}

function parseMemory(text: string): number {
  const m = /^(\d+)([MG]i?B?)?$/i.exec(text);
  const mib = m ? Number(m[1]) * (m[2]?.[0]?.toUpperCase() === 'G' ? 1024 : 1) : NaN;
  if (!Number.isSafeInteger(mib) || mib < 1 || mib > MAX_RAM_MIB) {
    throw new UsageError('run', `-m must be a RAM size from 1 to ${MAX_RAM_MIB} MiB (for example 128, 512M or 2G), got '${text}'`);
  }
  return mib;
}

function parseCount(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError('run', `--max-instructions must be a positive whole number, got '${text}'`);
  }
  return n;
}

function parseSeconds(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new UsageError('run', `--timeout must be a positive number of seconds, got '${text}'`);
  }
  return n;
}
