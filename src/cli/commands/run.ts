// `vireo run`: boots a kernel or bare-metal program on the board with UART0 on stdin/stdout,
// and turns how the guest ended into an exit status.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_RAM_MIB, Machine, MachineError, signatureOf, type RunResult } from '../../machine/machine.js';
import type { DiskOption } from '../disk-option.js';
import { RUN_HELP, parseRunArguments, type RunArguments } from './run-arguments.js';
import { LockstepDivergence } from '../../core/jit/lockstep.js';
import { RamFillError } from '../../core/guest-memory.js';
import { BOOT_FILE_LIMITS, BootFileError, readBootFile } from '../boot-file.js';
import { BlockBackendError } from '../../storage/block-backend.js';
import { Qcow2Error } from '../../storage/qcow2/qcow2-error.js';
import { ImageOpsError } from '../../storage/image-ops/image-ops-error.js';
import { SerialConsole } from '../serial-console.js';
import { prepareImageBoot } from '../image-boot.js';
import { ProbeError } from '../../storage/probe/probe-error.js';
import { DEBIAN_APPEND, LINUX_RAM_MIB, defaultRootDisk, prepareDebianImage } from '../default-guest.js';
import { VirtualMachine, type VmIo } from '../../vm/virtual-machine.js';
import { VM_DESCRIPTION_VERSION, type DiskDescription, type VmDescription } from '../../vm/vm-description.js';
import { randomMac, restoreVirtualMachine } from '../../vm/restore-vm.js';
import { receiveVm } from '../../vm/migration/receive-vm.js';
import { serveVmApi } from '../../vm/api/vm-api-server.js';

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
  const serial = new SerialConsole({ stdin: process.stdin, stdout: process.stdout });
  const trace = args.trace ? new TraceWriter() : null;
  const io: VmIo = {
    serial,
    console: serial,
    ...(trace ? { trace: (line: string) => trace.line(line) } : {}),
    ...(args.maxInstructions !== undefined ? { maxInstructions: args.maxInstructions } : {}),
    ...(args.timeoutSeconds !== undefined ? { timeoutMs: args.timeoutSeconds * 1000 } : {}),
  };
  let vm: VirtualMachine;
  try {
    vm = args.restore !== undefined ? await restore(args, io) : args.incoming !== undefined ? await incoming(args, io) : await create(args, io);
  } catch (e) {
    if (isKnownError(e)) {
      process.stderr.write(`vireo: ${failureContext(e, args)}${e.message}\n`);
      return EXIT_LOAD_FAILED;
    }
    throw e;
  }
  // Over a restored or arriving VM's own cap too; recorded in its description.
  if (args.cpuCap !== undefined) vm.setCpuCap(args.cpuCap);
  const machine = vm.machine;
  for (const f of vm.userNetwork?.hostForwards ?? []) process.stderr.write(`vireo: forwarding ${f.protocol} ${f.hostAddress}:${f.hostPort} -> guest port ${f.guestPort}\n`);
  let api: { close(): Promise<void> } | null = null;
  if (args.api !== undefined) {
    try {
      api = await serveVmApi(args.api, vm);
    } catch (e) {
      await vm.close();
      process.stderr.write(`vireo: cannot serve the control API: ${(e as Error).message}\n`);
      return EXIT_LOAD_FAILED;
    }
  }

  const stop = () => machine.requestStop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const hvc = machine.virtio.console;
  serial.attach((bytes) => (hvc ? hvc.receive(bytes) : machine.sendInput(bytes)), stop);
  let result: RunResult;
  try {
    result = await vm.run();
  } catch (e) {
    if (e instanceof MachineError && e.cause instanceof LockstepDivergence) {
      process.stderr.write(`vireo: ${e.message}\n`);
      return EXIT_LOCKSTEP;
    }
    if (e instanceof MachineError && e.cause instanceof RamFillError) {
      process.stderr.write(`vireo: ${e.message}\n`);
      await vm.close();
      return EXIT_LOAD_FAILED;
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    serial.detach();
    trace?.flush();
    await api?.close();
  }
  await vm.close();
  if (vm.migratedTo) {
    const m = vm.migratedTo;
    process.stderr.write(`vireo: migrated to ${m.target}: ${m.rounds} rounds, ${m.pagesSent} pages, ${m.bytes} bytes, paused ${m.pausedMs} ms, ${m.totalMs} ms in all\n`);
    return 0;
  }
  if (args.signature !== undefined && !writeSignature(machine, args.signature)) return EXIT_LOAD_FAILED;
  return report(result, args);
}

/** A new VM from the command line; without --kernel or --bios the parts come from the default Debian guest; with IMAGE, U-Boot is the kernel and IMAGE the first disk. */
async function create(args: RunArguments, io: VmIo): Promise<VirtualMachine> {
  const ramMiB = args.ramMiB ?? (args.bios !== 'none' ? LINUX_RAM_MIB : DEFAULT_RAM_MIB);
  const initrdLimit = Math.min(BOOT_FILE_LIMITS.initrd, ramMiB * 1024 * 1024);
  // The files given on the command line are checked before the default guest is built.
  let kernelPath = args.kernel;
  let firmwarePath = args.bios !== 'none' && args.bios !== 'default' ? args.bios : undefined;
  let initrdPath = args.initrd;
  let kernel = kernelPath !== undefined ? readBootFile('kernel', kernelPath) : undefined;
  let firmware = firmwarePath !== undefined ? readBootFile('firmware', firmwarePath) : undefined;
  let initrd = initrdPath !== undefined ? readBootFile('initrd', initrdPath, initrdLimit) : undefined;
  // A disk image to boot is the first disk; U-Boot, started by OpenSBI, finds the kernel on it.
  const disks = (args.image !== undefined ? [{ path: args.image, readOnly: false, limits: {} }, ...args.disks] : args.disks).map(describeDisk);
  let bootargs = args.append;
  if (args.image !== undefined) {
    const { openSbi, uBoot } = await prepareImageBoot(args.image, (line) => process.stderr.write(`vireo: ${line}\n`));
    kernel = readBootFile('kernel', (kernelPath = uBoot));
    firmware ??= readBootFile('firmware', (firmwarePath = openSbi));
  }
  if (kernel === undefined || (firmware === undefined && args.bios !== 'none')) {
    const image = await prepareDebianImage();
    if (firmware === undefined) firmware = readBootFile('firmware', (firmwarePath = image.firmware));
    if (kernel === undefined) {
      kernel = readBootFile('kernel', (kernelPath = image.kernel));
      if (initrd === undefined) initrd = readBootFile('initrd', (initrdPath = image.initrd), initrdLimit);
      bootargs ??= DEBIAN_APPEND;
      if (disks.length === 0) disks.push(describeDisk({ path: defaultRootDisk(image), readOnly: false, format: 'raw', limits: {} }, 0));
    }
  }
  const description: VmDescription = {
    version: VM_DESCRIPTION_VERSION,
    ramMiB,
    ...(args.cpus !== undefined && args.cpus > 1 ? { cpus: args.cpus } : {}),
    boot: {
      kernel: { path: resolve(kernelPath!) },
      ...(firmwarePath !== undefined ? { firmware: { path: resolve(firmwarePath) } } : {}),
      ...(initrdPath !== undefined ? { initrd: { path: resolve(initrdPath) } } : {}),
      ...(bootargs !== undefined ? { bootargs } : {}),
    },
    disks,
    network: args.net === undefined ? null
      : args.net.mode === 'switch' ? { mac: randomMac(), switch: resolve(args.net.path) }
      : args.net.mode === 'user' ? { mac: GUEST_MAC, mode: 'user', user: args.net.user }
      : { mac: GUEST_MAC },
    shares: args.shares.map((s) => ({ root: resolve(s.root), tag: s.tag, readOnly: s.readOnly === true })),
    console: args.console,
    ...(args.balloon ? { balloon: true } : {}),
    ...(args.memMerge ? {} : { memMerge: false }),
    translation: args.trace ? 'off' : args.jit,
    ...(args.jitThreshold !== undefined ? { jitThreshold: args.jitThreshold } : {}),
  };
  return VirtualMachine.create(description, { kernel: kernel!, ...(firmware ? { firmware } : {}), ...(initrd ? { initrd } : {}) }, io, {
    readBoot: (role, path) => readBootFile(role, path, role === 'initrd' ? initrdLimit : undefined),
  });
}

async function restore(args: RunArguments, io: VmIo): Promise<VirtualMachine> {
  const { vm, restoreMs } = await restoreVirtualMachine(args.restore!, {
    fork: args.fork,
    ...(args.disks.length > 0 ? { disks: args.disks.map(describeDisk) } : {}),
    readBoot: (role, path) => readBootFile(role, path),
    io,
  });
  process.stderr.write(`vireo: restored ${args.restore} in ${Math.round(restoreMs)} ms; its RAM comes in as the guest touches it\n`);
  return vm;
}

/** What was being done when a known error stopped the VM from starting. */
function failureContext(e: Error & { kind: string }, args: RunArguments): string {
  if (e instanceof BootFileError || e instanceof ProbeError) return '';
  if (e instanceof BlockBackendError || e instanceof Qcow2Error || e instanceof ImageOpsError) return 'cannot attach disk: ';
  if (args.restore !== undefined) return `cannot restore ${args.restore}: `;
  if (args.incoming !== undefined) return '';
  if (e.kind === 'elf-loader') return `cannot load ${args.kernel}: `;
  return 'cannot start the machine: ';
}

async function incoming(args: RunArguments, io: VmIo): Promise<VirtualMachine> {
  const { vm, handover } = await receiveVm(args.incoming!, {
    readBoot: (role, path) => readBootFile(role, path),
    io,
    onListening: (address) => process.stderr.write(`vireo: waiting for a VM on ${address}\n`),
    ...(args.diskDir !== undefined ? { diskDir: args.diskDir } : {}),
  });
  process.stderr.write(`vireo: the VM arrived and runs here (disks opened in ${handover.disksMs} ms, state restored in ${handover.stateMs} ms)\n`);
  return vm;
}

function describeDisk(disk: DiskOption, index: number): DiskDescription {
  return { path: resolve(disk.path), readOnly: disk.readOnly, serial: `vireo-disk-${index}`, limits: disk.limits, ...(disk.format ? { format: disk.format } : {}) };
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
