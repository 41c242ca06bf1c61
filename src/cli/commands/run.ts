// `vireo run`: boots a kernel or bare-metal program on the board with UART0 on stdin/stdout,
// and turns how the guest ended into an exit status.

import { writeFileSync } from 'node:fs';
import { DEFAULT_RAM_MIB, Machine, MachineError, signatureOf, type RunResult } from '../../machine/machine.js';
import type { DiskConfig, NicConfig } from '../../machine/virtio-devices.js';
import { openDiskImage } from '../../storage/disk-image.js';
import type { DiskOption } from '../disk-option.js';
import { HOST_IP, RUN_HELP, parseRunArguments, type RunArguments } from './run-arguments.js';
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

const HOST_MAC = '52:54:00:00:02:02';
const GUEST_MAC = '52:54:00:12:34:56';

/** Exit statuses other than the guest's own codes. */
export const EXIT_LIMIT = 124;
export const EXIT_STOPPED = 130;
export const EXIT_LOAD_FAILED = 1;
export const EXIT_LOCKSTEP = 3;

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

/** The disk's I/O limits as a throttle, when it has any. */
function throttleFor(disk: DiskOption): { throttle?: IoThrottle } {
  return Object.values(disk.limits).some((v) => v > 0) ? { throttle: new IoThrottle(disk.limits) } : {};
}
