// Builds the initramfs: busybox-static, the generated /init and the kernel modules it loads,
// as a gzip-compressed newc cpio archive.

import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCpioNewc } from './cpio-newc.js';
import type { CpioEntry } from './cpio-newc.js';
import { initramfsInit } from './guest-files.js';
import type { ModuleSet } from './kernel-modules.js';

export interface InitrdInput {
  /** The busybox-static binary (riscv64). */
  busybox: Uint8Array;
  kernelVersion: string;
  modules: ModuleSet;
}

/** Every ancestor directory of `paths`, parents first. */
function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const chain: string[] = [];
    for (let dir = dirname(path); dir !== '.' && dir !== '/'; dir = dirname(dir)) chain.unshift(dir);
    for (const dir of chain) dirs.add(dir);
  }
  return [...dirs];
}

/** The initramfs as cpio entries, before compression. */
export function initrdEntries(input: InitrdInput): CpioEntry[] {
  const modulesRoot = `lib/modules/${input.kernelVersion}`;
  const files: CpioEntry[] = [
    { path: 'init', type: 'file', mode: 0o755, data: Buffer.from(initramfsInit(input.kernelVersion, input.modules.modules.map((m) => m.path))) },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: input.busybox },
    { path: `${modulesRoot}/modules.dep`, type: 'file', data: Buffer.from(input.modules.modulesDep) },
    ...input.modules.modules.map((m): CpioEntry => ({ path: `${modulesRoot}/${m.path}`, type: 'file', data: m.data })),
  ];
  const dirs = parentDirs([...files.map((f) => f.path), 'dev/x', 'proc/x', 'sys/x', 'newroot/x']);
  return [
    ...dirs.map((path): CpioEntry => ({ path, type: 'dir' })),
    // The kernel opens /dev/console for init before anything is mounted (devtmpfs comes later).
    { path: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600 },
    { path: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
    ...files,
  ];
}

/** The gzip-compressed initramfs; the same inputs give the same bytes. */
export function buildInitrd(input: InitrdInput): Buffer {
  return gzipSync(writeCpioNewc(initrdEntries(input)), { level: 9 });
}
