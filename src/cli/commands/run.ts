// `vireo run`: boots a kernel or bare-metal program on the board with UART0 on stdin/stdout,
// and turns how the guest ended into an exit status.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_RAM_MIB, Machine, MachineError, signatureOf, type RunResult, type TranslationMode } from '../../machine/machine.js';
import type { DiskConfig, NicConfig, ShareConfig } from '../../machine/virtio-devices.js';
import { openDiskImage } from '../../storage/disk-image.js';
import { parseDiskOption, type DiskOption } from '../disk-option.js';
import { parseShareOption } from '../share-option.js';
import { IoThrottle } from '../../storage/qos/io-throttle.js';
import { BlockBackendError } from '../../storage/block-backend.js';
import { LockstepDivergence } from '../../core/jit/lockstep.js';
import { BOOT_FILE_LIMITS, BootFileError, readBootFile } from '../boot-file.js';
import { VirtualSwitch } from '../../net/virtual-switch.js';
import { IcmpResponder } from '../../net/icmp-responder.js';
import { macAddress, macToBytes } from '../../net/mac-address.js';
import { ipv4Address } from '../../net/ipv4.js';
import { SerialConsole } from '../serial-console.js';
import { DEBIAN_APPEND, LINUX_RAM_MIB, defaultRootDisk, prepareDebianImage } from '../default-guest.js';
import { UsageError } from '../usage-error.js';

export const RUN_HELP = `Usage: vireo run [--bios FILE|none] [--kernel FILE] [options]

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
  --jit on|off|lockstep     Translate hot guest code to WebAssembly (on, the default),
                            interpret everything (off), or check every translated block
                            against the interpreter and stop at the first divergence
  --jit-threshold N         Jumps to a block before it is translated (default 256, at
                            most 65535); hot blocks are compiled in batches in the
                            background, or each at once with 1
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

/** The host's address on the switch that --net host attaches to. */
export const HOST_IP = '10.0.2.2';
const HOST_MAC = '52:54:00:00:02:02';
const GUEST_MAC = '52:54:00:12:34:56';

/** Exit statuses other than the guest's own codes. */
export const EXIT_LIMIT = 124;
export const EXIT_STOPPED = 130;
export const EXIT_LOAD_FAILED = 1;
export const EXIT_LOCKSTEP = 3;
/** Largest RAM one WebAssembly memory holds after the hart state blocks. */
const MAX_RAM_MIB = 4095;

export interface RunArguments {
  /** The firmware file, 'none', or 'default' (OpenSBI from the Debian image). */
  bios: string;
  initrd: string | undefined;
  /** The kernel; undefined boots the default Debian guest. */
  kernel: string | undefined;
  ramMiB: number | undefined;
  append: string | undefined;
  maxInstructions: number | undefined;
  timeoutSeconds: number | undefined;
  trace: boolean;
  signature: string | undefined;
  disks: DiskOption[];
  shares: ShareConfig[];
  /** Attach a NIC to a switch shared with a host responder at 10.0.2.2. */
  net: boolean;
  /** Which guest console the terminal's input goes to; hvc0 also attaches a virtio-console. */
  console: 'ttyS0' | 'hvc0';
  jit: TranslationMode;
  jitThreshold: number | undefined;
}

/** Parses `vireo run` arguments; returns null for --help. Throws UsageError. */
export function parseRunArguments(argv: string[]): RunArguments | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        bios: { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        memory: { type: 'string', short: 'm' },
        append: { type: 'string' },
        'max-instructions': { type: 'string' },
        disk: { type: 'string', multiple: true },
        share: { type: 'string', multiple: true },
        net: { type: 'string' },
        console: { type: 'string' },
        jit: { type: 'string' },
        'jit-threshold': { type: 'string' },
        timeout: { type: 'string' },
        trace: { type: 'boolean' },
        signature: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError('run', describeParseError(e));
  }
  if (values.help) return null;
  if (values.bios === '') throw new UsageError('run', '--bios needs a firmware file or none');
  if (values.kernel === '') throw new UsageError('run', '--kernel needs a file');
  if (values.bios === 'none' && values.kernel === undefined) throw new UsageError('run', '--bios none needs --kernel FILE');
  if (values.bios === 'none' && values.initrd !== undefined) {
    throw new UsageError('run', '--initrd needs firmware to hand it to the kernel; give --bios FILE');
  }
  return {
    bios: values.bios ?? 'default',
    initrd: values.initrd,
    kernel: values.kernel,
    ramMiB: values.memory === undefined ? undefined : parseMemory(values.memory),
    append: values.append,
    maxInstructions: values['max-instructions'] === undefined ? undefined : parseCount(values['max-instructions']),
    timeoutSeconds: values.timeout === undefined ? undefined : parseSeconds(values.timeout),
    trace: values.trace === true,
    signature: values.signature,
    disks: (values.disk ?? []).map(parseDiskOption),
    shares: (values.share ?? []).map(parseShareOption),
    net: values.net === undefined ? false : parseNet(values.net),
    console: values.console === undefined ? 'ttyS0' : parseConsole(values.console),
    jit: values.jit === undefined ? 'on' : parseJit(values.jit),
    jitThreshold: values['jit-threshold'] === undefined ? undefined : parseThreshold(values['jit-threshold']),
  };
}

/** Runs `vireo run`; resolves to the process exit status. */
export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArguments(argv);
  if (args === null) {
    process.stdout.write(RUN_HELP);
    return 0;
  }

  // The files given on the command line are checked before the default guest is built.
  const ramMiB = args.ramMiB ?? (args.bios !== 'none' ? LINUX_RAM_MIB : DEFAULT_RAM_MIB);
  const initrdLimit = Math.min(BOOT_FILE_LIMITS.initrd, ramMiB * 1024 * 1024);
  const disks: DiskConfig[] = [];
  let kernel: Uint8Array | undefined;
  let firmware: Uint8Array | undefined;
  let initrd: Uint8Array | undefined;
  const attach = async (disk: DiskOption) => {
    const backend = await openDiskImage(disk.path, { readOnly: disk.readOnly, ...(disk.format ? { format: disk.format } : {}) });
    disks.push({ backend, serial: `vireo-disk-${disks.length}`, ...throttleFor(disk) });
  };
  try {
    if (args.kernel !== undefined) kernel = readBootFile('kernel', args.kernel);
    if (args.bios !== 'none' && args.bios !== 'default') firmware = readBootFile('firmware', args.bios);
    if (args.initrd !== undefined) initrd = readBootFile('initrd', args.initrd, initrdLimit);
    for (const disk of args.disks) await attach(disk);
    // Without --kernel, or without --bios, the parts come from the default Debian guest.
    if (kernel === undefined || (firmware === undefined && args.bios !== 'none')) {
      const image = await prepareDebianImage();
      if (firmware === undefined) firmware = readBootFile('firmware', image.firmware);
      if (kernel === undefined) {
        args.kernel = image.kernel;
        kernel = readBootFile('kernel', image.kernel);
        if (args.initrd === undefined) initrd = readBootFile('initrd', image.initrd, initrdLimit);
        args.append ??= DEBIAN_APPEND;
        if (args.disks.length === 0) await attach({ path: defaultRootDisk(image), readOnly: false, format: 'raw', limits: {} });
      }
    }
  } catch (e) {
    await closeDisks(disks);
    if (e instanceof BootFileError) {
      process.stderr.write(`vireo: ${e.message}\n`);
      return EXIT_LOAD_FAILED;
    }
    if (e instanceof BlockBackendError) {
      process.stderr.write(`vireo: cannot attach disk: ${e.message}\n`);
      return EXIT_LOAD_FAILED;
    }
    throw e;
  }
  // The responder answers from the switch's delivery callbacks for as long as the VM runs.
  let responder: IcmpResponder | undefined;
  const nics: NicConfig[] = [];
  if (args.net) {
    const hub = new VirtualSwitch();
    responder = new IcmpResponder(hub, { mac: macAddress(HOST_MAC), ip: ipv4Address(HOST_IP), delivery: 'microtask' });
    nics.push({ port: hub.createPort({ name: 'guest' }), mac: macToBytes(macAddress(GUEST_MAC)) });
  }

  const serial = new SerialConsole({ stdin: process.stdin, stdout: process.stdout });
  const trace = args.trace ? new TraceWriter() : null;
  let machine: Machine;
  try {
    machine = new Machine({
      kernel,
      ...(firmware !== undefined ? { firmware } : {}),
      ...(initrd !== undefined ? { initrd } : {}),
      virtio: { disks, nics, shares: args.shares, ...(args.console === 'hvc0' ? { console: serial } : {}) },
      ramMiB,
      serial,
      ...(args.append !== undefined ? { bootargs: args.append } : {}),
      ...(args.maxInstructions !== undefined ? { maxInstructions: args.maxInstructions } : {}),
      ...(args.timeoutSeconds !== undefined ? { timeoutMs: args.timeoutSeconds * 1000 } : {}),
      trace: trace ? (line) => trace.line(line) : null,
      translation: trace ? 'off' : args.jit,
      ...(args.jitThreshold !== undefined ? { hotThreshold: args.jitThreshold } : {}),
    });
  } catch (e) {
    if (isKnownError(e)) {
      const what = e.kind === 'elf-loader' ? `cannot load ${args.kernel}` : 'cannot start the machine';
      process.stderr.write(`vireo: ${what}: ${e.message}\n`);
      return EXIT_LOAD_FAILED;
    }
    throw e;
  }

  const stop = () => machine.requestStop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const hvc = machine.virtio.console;
  serial.attach((bytes) => (hvc ? hvc.receive(bytes) : machine.sendInput(bytes)), stop);
  let result: RunResult;
  try {
    result = await machine.run();
  } catch (e) {
    if (e instanceof MachineError && e.cause instanceof LockstepDivergence) {
      process.stderr.write(`vireo: ${e.message}\n`);
      return EXIT_LOCKSTEP;
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    serial.detach();
    trace?.flush();
  }
  await machine.virtio.close();
  await closeDisks(disks);
  void responder;
  if (args.signature !== undefined && !writeSignature(machine, args.signature)) return EXIT_LOAD_FAILED;
  return report(result, args);
}

/** Prints how the run ended (nothing for a pass) and returns the exit status. */
function report(result: RunResult, args: RunArguments): number {
  const traps = result.traps === 0 ? '' : ` and ${result.traps} trap${result.traps === 1 ? '' : 's'}`;
  const count = `${result.instructions} instruction${result.instructions === 1 ? '' : 's'}${traps}`;
  switch (result.reason) {
    case 'pass':
      return 0;
    case 'fail': {
      process.stderr.write(`vireo: guest reported failure code ${result.code}\n`);
      const status = result.code & 0xff;
      return status === 0 ? 1 : status;
    }
    case 'instruction-limit':
      process.stderr.write(`vireo: instruction limit reached (--max-instructions ${args.maxInstructions}) after ${count}; the guest did not power off\n`);
      return EXIT_LIMIT;
    case 'timeout':
      process.stderr.write(`vireo: wall-time limit reached (--timeout ${args.timeoutSeconds} s) after ${count}; the guest did not power off\n`);
      return EXIT_LIMIT;
    case 'stopped':
      process.stderr.write(`vireo: stopped after ${count}\n`);
      return EXIT_STOPPED;
  }
}

/** Writes the signature file; false (after saying why) when there is none or it cannot be written. */
function writeSignature(machine: Machine, path: string): boolean {
  const signature = signatureOf(machine);
  if (signature === null) {
    process.stderr.write(`vireo: no signature to write: the program has no begin_signature/end_signature symbols in RAM\n`);
    return false;
  }
  const view = new DataView(signature.buffer, signature.byteOffset, signature.byteLength);
  const lines: string[] = [];
  for (let at = 0; at + 4 <= signature.length; at += 4) lines.push(view.getUint32(at, true).toString(16).padStart(8, '0'));
  try {
    writeFileSync(path, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  } catch (e) {
    process.stderr.write(`vireo: cannot write signature file ${path}: ${(e as Error).message}\n`);
    return false;
  }
  return true;
}

/** Buffers trace lines so that a line per instruction does not mean a write per instruction. */
class TraceWriter {
  private lines: string[] = [];
  line(text: string): void {
    this.lines.push(text);
    if (this.lines.length >= 1024) this.flush();
  }
  flush(): void {
    if (this.lines.length === 0) return;
    process.stderr.write(`${this.lines.join('\n')}\n`);
    this.lines = [];
  }
}

function isKnownError(e: unknown): e is Error & { kind: string } {
  return e instanceof Error && typeof (e as { kind?: unknown }).kind === 'string';
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

/** Closes every disk, syncing what was written; a failure is reported, not thrown, so the others close too. */
async function closeDisks(disks: readonly DiskConfig[]): Promise<void> {
  for (const disk of disks) {
    try {
      await disk.backend.close();
    } catch (e) {
      process.stderr.write(`vireo: closing a disk failed: ${(e as Error).message}\n`);
    }
  }
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

function parseNet(text: string): boolean {
  if (text !== 'host') throw new UsageError('run', `--net takes 'host' (a switch with the host answering ARP and ping at ${HOST_IP}), got '${text}'`);
  return true;
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

/** The disk's I/O limits as a throttle, when it has any. */
function throttleFor(disk: DiskOption): { throttle?: IoThrottle } {
  return Object.values(disk.limits).some((v) => v > 0) ? { throttle: new IoThrottle(disk.limits) } : {};
}
