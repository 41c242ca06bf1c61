// What the VM-state benchmark's guests share: the Debian boot, a root disk as a qcow2 overlay
// over the cached image (which is never written), the command lines of Vireo and QEMU with
// their control sockets, and the console line whose answer marks a guest that runs.

import { join } from 'node:path';
import type { DebianImage } from '../src/images/debian-image.js';
import { checkTool } from '../src/images/run-tool.js';
import { BenchError } from './bench-error.js';
import { qmpOption } from './qemu-qmp.js';
import { VIREO, vmCommand, VmProcess } from './vm-process.js';
import type { CommandLine, GuestBoot } from './vm-process.js';

export const PROMPT = /root@vireo:[^\n]*# $/;
export const BOOT_TIMEOUT_MS = 900_000;
/** Typed at the console; the guest's shell answers MARK-2, which the typed line itself does not contain. */
export const MARK_LINE = 'echo MARK-$((1+1))';
export const MARK_TEXT = 'MARK-2';
export const MARK = new RegExp(MARK_TEXT);
export const MiB = 1 << 20;

/** A qcow2 overlay at DIR/NAME.qcow2 over the cached raw root disk. */
export async function rootOverlay(image: DebianImage, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.qcow2`);
  await checkTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.rootDisk, '-F', 'raw', path]);
  return path;
}

export function guestBoot(image: DebianImage, disk: string, memoryMiB: number): GuestBoot {
  return {
    firmware: image.firmware, kernel: image.kernel, initrd: image.initrd,
    extraDisks: [{ path: disk, format: 'qcow2' }], memoryMiB, append: 'console=ttyS0 root=/dev/vda rw',
  };
}

/** Vireo booting `boot` with its control API on `api`. */
export function vireoBoot(boot: GuestBoot, api: string): CommandLine {
  const [command, args] = vmCommand('vireo', boot);
  return [command, [...args, '--api', api]];
}

/** `vireo run ARGS`. */
export function vireoRun(...args: string[]): CommandLine {
  return [process.execPath, [VIREO, 'run', ...args]];
}

/** QEMU booting `boot` (or receiving it, with -incoming among `more`) with QMP on `qmp`. */
export function qemuBoot(boot: GuestBoot, qmp: string, ...more: string[]): CommandLine {
  const [command, args] = vmCommand('qemu', boot);
  return [command, [...args, ...qmpOption(qmp), ...more]];
}

/** Boots to the shell prompt and checks the console answers; the VM is killed if that fails. */
export async function bootToPrompt(vm: VmProcess): Promise<number> {
  try {
    const seconds = await vm.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    await vm.run('true', 60_000);
    return seconds;
  } catch (e) {
    await vm.kill();
    throw e;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls `probe` every `everyMs` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function pollUntil<T>(what: string, timeoutMs: number, everyMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new BenchError('vm-failed', `${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}
