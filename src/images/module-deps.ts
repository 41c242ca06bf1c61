// Kernel module dependencies: parsing modules.dep and a module's own .modinfo section, and
// the order to insmod a set of modules in (each after everything it needs), since the
// initramfs loads them one by one with busybox insmod rather than modprobe.

import { basename } from 'node:path';
import { ImageError } from './image-error.js';

export interface ModuleNode {
  /** Path relative to /lib/modules/KVER, as found (possibly compressed: .ko.xz). */
  path: string;
  /** Names of the modules it needs loaded first. */
  deps: string[];
}

/** Module name -> where it is and what it needs. */
export type ModuleGraph = Map<string, ModuleNode>;

const MODULE_SUFFIX = /\.ko(\.(xz|gz|zst))?$/;

/** "kernel/drivers/char/hw_random/virtio-rng.ko.xz" -> "virtio_rng" (the kernel treats - and _ alike). */
export function moduleName(path: string): string {
  return basename(path).replace(MODULE_SUFFIX, '').replace(/-/g, '_');
}

export function isModuleFile(path: string): boolean {
  return MODULE_SUFFIX.test(path);
}

/** Parses depmod's modules.dep: `kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz ...` */
export function parseModulesDep(text: string): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    graph.set(moduleName(path), { path, deps });
  }
  return graph;
}

/** Names listed in modules.builtin (modules compiled into the kernel image). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').map((line) => line.trim()).filter(Boolean).map(moduleName));
}

/**
 * Every module `targets` need, dependencies first, each once, in a stable order: targets in
 * the given order, each preceded by its dependencies in the order they are listed. Built-in
 * modules are skipped. Throws if a module is neither available nor built in, or on a cycle.
 */
export function moduleLoadOrder(graph: ModuleGraph, targets: readonly string[], builtin: ReadonlySet<string> = new Set()): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (name: string, neededBy: string | undefined): void => {
    if (done.has(name) || builtin.has(name)) return;
    if (visiting.includes(name)) {
      throw new ImageError('bad-modules', `kernel modules depend on each other in a cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(' -> ')}`);
    }
    const node = graph.get(name);
    if (!node) {
      throw new ImageError(
        'bad-modules',
        `kernel module ${name}${neededBy ? ` (needed by ${neededBy})` : ''} is neither shipped as a module nor built into this kernel; ` +
          'the kernel package does not fit the image: pick a kernel with it or change the module list',
        { package: name },
      );
    }
    visiting.push(name);
    for (const dep of node.deps) visit(dep, name);
    visiting.pop();
    done.add(name);
    order.push(name);
  };
  for (const target of targets) visit(target, undefined);
  return order;
}

/** A modules.dep for just `order` (paths rewritten by `pathOf`), so modprobe works in the initramfs. */
export function formatModulesDep(graph: ModuleGraph, order: readonly string[], pathOf: (name: string) => string): string {
  const included = new Set(order);
  const allDeps = (name: string, seen = new Set<string>()): string[] => {
    for (const dep of graph.get(name)?.deps ?? []) {
      if (!included.has(dep) || seen.has(dep)) continue;
      seen.add(dep);
      allDeps(dep, seen);
    }
    return [...seen];
  };
  return order.map((name) => `${pathOf(name)}: ${allDeps(name).map(pathOf).join(' ')}`.trimEnd() + '\n').join('');
}

/** Key -> values of a module's .modinfo strings ("depends=a,b", "softdep=pre: x", ...). */
export type Modinfo = Map<string, string[]>;

/**
 * Reads the .modinfo section of an (uncompressed) ELF64 little-endian module. Field offsets:
 * System V ABI, "ELF-64 Object File Format" 1.5, sections 3 and 4.
 */
export function parseModinfo(elf: Uint8Array, what = 'module'): Modinfo {
  const buf = Buffer.from(elf.buffer, elf.byteOffset, elf.byteLength);
  const bad = (why: string): ImageError => new ImageError('bad-modules', `${what} is not a usable kernel module: ${why}`, { path: what });
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw bad('no ELF header');
  if (buf[4] !== 2 || buf[5] !== 1) throw bad('not ELF64 little-endian');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > buf.length) throw bad('section headers out of range');
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    return { name: buf.readUInt32LE(at), offset: Number(buf.readBigUInt64LE(at + 0x18)), size: Number(buf.readBigUInt64LE(at + 0x20)) };
  };
  const strtab = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameStart = strtab.offset + s.name;
    const nameEnd = buf.indexOf(0, nameStart);
    if (buf.toString('latin1', nameStart, nameEnd) !== '.modinfo') continue;
    if (s.offset + s.size > buf.length) throw bad('.modinfo runs past the end of the file');
    const info: Modinfo = new Map();
    for (const entry of buf.toString('utf8', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
    }
    return info;
  }
  throw bad('no .modinfo section');
}

/** What a module needs first: its `depends=` list and the modules its `softdep=` says to load before it. */
export function modinfoDeps(info: Modinfo): { depends: string[]; softPre: string[] } {
  const depends = (info.get('depends') ?? []).flatMap((list) => list.split(',')).map((name) => name.trim()).filter(Boolean).map(moduleName);
  const softPre: string[] = [];
  for (const softdep of info.get('softdep') ?? []) {
    // "pre: a b post: c": the words between "pre:" and the next "post:".
    const match = /pre:\s*(.*?)(?:\s*post:|$)/.exec(softdep);
    if (match?.[1]) softPre.push(...match[1].split(/\s+/).filter(Boolean).map(moduleName));
  }
  return { depends, softPre };
}
