// Turns a kernel file into what goes into RAM: an ELF64 little-endian RISC-V executable
// (segments placed at their physical addresses) or, for anything that is not ELF, a flat
// binary at the start of RAM. Field layout: System V ABI, "ELF-64 Object File Format" 1.5,
// and the RISC-V ELF psABI (EM_RISCV = 243).

import { readElfSymbols } from './elf-symbols.js';
import type { GuestMemory } from '../core/guest-memory.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EV_CURRENT = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_RISCV = 243;
const PT_LOAD = 1;
const ELF64_EHDR_SIZE = 64;
const ELF64_PHDR_SIZE = 56;
const PN_XNUM = 0xffff;

/** A few machines people load by mistake, to name them in the error. */
const MACHINE_NAMES: Record<number, string> = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V' };

export type ElfLoaderErrorReason =
  | 'truncated'
  | 'not-64-bit'
  | 'not-little-endian'
  | 'bad-version'
  | 'wrong-type'
  | 'wrong-machine'
  | 'bad-program-headers'
  | 'bad-segment'
  | 'outside-ram'
  | 'overlap'
  | 'bad-entry'
  | 'empty';

export class ElfLoaderError extends Error {
  readonly kind = 'elf-loader';
  /** What exactly is wrong, for callers and tests. */
  readonly reason: ElfLoaderErrorReason;
  /** The program header index involved, when one is. */
  readonly segment: number | undefined;

  constructor(reason: ElfLoaderErrorReason, message: string, segment?: number, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.segment = segment;
  }
}

/** One piece of the image: `data` at `paddr`, then zeros up to `memsz` bytes. */
export interface LoadSegment {
  paddr: number;
  data: Uint8Array;
  memsz: number;
}

export interface KernelImage {
  format: 'elf' | 'flat';
  /** Physical address of the first instruction. */
  entry: number;
  segments: LoadSegment[];
  /** One past the highest physical byte the image occupies. */
  end: number;
  /** Physical addresses of the ELF's symbols that lie inside its loaded segments. */
  symbols: ReadonlyMap<string, number>;
}

export interface RamRange {
  base: number;
  size: number;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Validates a kernel file and works out where it goes. Throws ElfLoaderError naming what is wrong. */
export function parseKernelImage(bytes: Uint8Array, ram: RamRange): KernelImage {
  if (!isElf(bytes)) return parseFlat(bytes, ram);
  return parseElf(bytes, ram);
}

/** Copies a parsed image into RAM, zero-filling each segment's tail. */
export function loadKernelImage(memory: GuestMemory, image: KernelImage): void {
  for (const s of image.segments) {
    memory.writeRam(s.paddr, s.data);
    if (s.memsz > s.data.length) memory.writeRam(s.paddr + s.data.length, new Uint8Array(s.memsz - s.data.length));
  }
}

function parseFlat(bytes: Uint8Array, ram: RamRange): KernelImage {
  if (bytes.length === 0) throw new ElfLoaderError('empty', 'the kernel file is empty; pass an ELF executable or a flat binary');
  if (bytes.length > ram.size) {
    throw new ElfLoaderError(
      'outside-ram',
      `the flat binary is ${bytes.length} bytes but RAM is only ${ram.size} bytes; raise -m or use a smaller image`,
    );
  }
  return {
    format: 'flat',
    entry: ram.base,
    segments: [{ paddr: ram.base, data: bytes, memsz: bytes.length }],
    end: ram.base + bytes.length,
    symbols: new Map(),
  };
}

function parseElf(bytes: Uint8Array, ram: RamRange): KernelImage {
  if (bytes.length < ELF64_EHDR_SIZE) {
    throw new ElfLoaderError('truncated', `the ELF file is truncated: ${bytes.length} bytes, shorter than the 64-byte ELF64 header`);
  }
  if (bytes[4] !== ELFCLASS64) {
    throw new ElfLoaderError('not-64-bit', `the ELF file is ${bytes[4] === 1 ? '32-bit' : `of unknown class ${bytes[4]}`}; Vireo runs 64-bit RISC-V (rv64) programs, build with -march=rv64...`);
  }
  if (bytes[5] !== ELFDATA2LSB) throw new ElfLoaderError('not-little-endian', 'the ELF file is not little-endian; RISC-V programs are little-endian');
  if (bytes[6] !== EV_CURRENT) throw new ElfLoaderError('bad-version', `the ELF file has identification version ${bytes[6]}, expected 1`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) {
    const name = MACHINE_NAMES[machine] ?? 'unknown';
    throw new ElfLoaderError('wrong-machine', `the ELF file is for machine ${machine} (${name}), not RISC-V (243); build it with a riscv64 toolchain`);
  }
  if (type === ET_DYN) {
    throw new ElfLoaderError('wrong-type', 'the ELF file is position-independent (ET_DYN); link it at a fixed address in RAM (for example -static -no-pie -Wl,-Ttext=0x80000000)');
  }
  if (type !== ET_EXEC) throw new ElfLoaderError('wrong-type', `the ELF file has type ${type}, not an executable (ET_EXEC = 2); link it first`);
  if (view.getUint32(20, true) !== EV_CURRENT) throw new ElfLoaderError('bad-version', `the ELF file has version ${view.getUint32(20, true)}, expected 1`);

  const entryVaddr = view.getBigUint64(24, true);
  const phoff = view.getBigUint64(32, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phnum === 0) throw new ElfLoaderError('bad-program-headers', 'the ELF file has no program headers, so nothing to load; pass a linked executable');
  if (phnum === PN_XNUM) throw new ElfLoaderError('bad-program-headers', 'the ELF file has 65535 or more program headers (PN_XNUM), which is not supported');
  if (phentsize !== ELF64_PHDR_SIZE) {
    throw new ElfLoaderError('bad-program-headers', `the ELF file's program headers are ${phentsize} bytes each, expected ${ELF64_PHDR_SIZE}`);
  }
  if (phoff + BigInt(phnum * phentsize) > BigInt(bytes.length)) {
    throw new ElfLoaderError('truncated', `the ELF file is truncated: its ${phnum} program headers at offset ${hex(phoff)} run past the end of the file (${bytes.length} bytes)`);
  }

  const ramBase = BigInt(ram.base);
  const ramEnd = ramBase + BigInt(ram.size);
  const segments: LoadSegment[] = [];
  const placed: PlacedSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getBigUint64(at + 8, true);
    const vaddr = view.getBigUint64(at + 16, true);
    const paddr = view.getBigUint64(at + 24, true);
    const filesz = view.getBigUint64(at + 32, true);
    const memsz = view.getBigUint64(at + 40, true);
    if (filesz > memsz) {
      throw new ElfLoaderError('bad-segment', `ELF segment ${i} (PT_LOAD at ${hex(paddr)}) has file size ${filesz} larger than its memory size ${memsz}`, i);
    }
    if (offset + filesz > BigInt(bytes.length)) {
      throw new ElfLoaderError('truncated', `the ELF file is truncated: segment ${i} (PT_LOAD at ${hex(paddr)}) needs bytes ${hex(offset)}-${hex(offset + filesz)} but the file has ${bytes.length}`, i);
    }
    if (memsz === 0n) continue;
    if (paddr < ramBase || paddr + memsz > ramEnd) {
      throw new ElfLoaderError(
        'outside-ram',
        `ELF segment ${i} (PT_LOAD) occupies ${hex(paddr)}-${hex(paddr + memsz - 1n)}, outside RAM ${hex(ramBase)}-${hex(ramEnd - 1n)}; link it inside RAM (with GNU ld, -Ttext-segment=0x80000000 or a linker script) or raise -m`,
        i,
      );
    }
    placed.push({ index: i, vaddr, paddr, memsz });
    segments.push({ paddr: Number(paddr), data: bytes.subarray(Number(offset), Number(offset + filesz)), memsz: Number(memsz) });
  }
  if (segments.length === 0) throw new ElfLoaderError('empty', 'the ELF file has no loadable (PT_LOAD) segments with contents');
  checkNoOverlap(placed);

  // e_entry is virtual; translate it through the segment that contains it (vmlinux links
  // at a high virtual address, bare-metal programs have vaddr == paddr).
  const home = placed.find((p) => entryVaddr >= p.vaddr && entryVaddr < p.vaddr + p.memsz);
  if (!home) {
    throw new ElfLoaderError('bad-entry', `the ELF entry point ${hex(entryVaddr)} is not inside any loaded segment; check the link script's ENTRY`);
  }
  const entry = Number(home.paddr + (entryVaddr - home.vaddr));
  let end = 0;
  for (const s of segments) end = Math.max(end, s.paddr + s.memsz);
  const byVaddr = [...placed].sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  const symbols = new Map<string, number>();
  for (const [name, vaddr] of readElfSymbols(bytes)) {
    const home = segmentAt(byVaddr, vaddr);
    if (home) symbols.set(name, Number(home.paddr + (vaddr - home.vaddr)));
  }
  return { format: 'elf', entry, segments, end, symbols };
}

interface PlacedSegment {
  index: number;
  vaddr: bigint;
  paddr: bigint;
  memsz: bigint;
}

/** Sorted by physical address, each segment must end before the next begins: O(n log n). */
function checkNoOverlap(placed: readonly PlacedSegment[]): void {
  const byPaddr = [...placed].sort((a, b) => (a.paddr < b.paddr ? -1 : a.paddr > b.paddr ? 1 : a.index - b.index));
  for (let i = 1; i < byPaddr.length; i++) {
    const before = byPaddr[i - 1]!;
    const after = byPaddr[i]!;
    if (after.paddr < before.paddr + before.memsz) {
      const [first, second] = before.index < after.index ? [before, after] : [after, before];
      throw new ElfLoaderError('overlap', `ELF segments ${first.index} and ${second.index} overlap at ${hex(after.paddr)}; the file is malformed`, second.index);
    }
  }
}

/**
 * The segment whose virtual range holds `vaddr` or ends exactly at it (end_signature and
 * similar markers sit just past their segment), by binary search over segments sorted by vaddr.
 */
function segmentAt(byVaddr: readonly PlacedSegment[], vaddr: bigint): PlacedSegment | undefined {
  let lo = 0;
  let hi = byVaddr.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (byVaddr[mid]!.vaddr <= vaddr) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return undefined;
  const p = byVaddr[found]!;
  return vaddr <= p.vaddr + p.memsz ? p : undefined;
}
