// Random memory operations: integer and FP loads and stores (aligned, misaligned and crossing a
// page), their compressed forms, AMOs and LR/SC pairs, over the data area as each privilege
// sees it: physical in M, through the virtual windows of page-tables in S and U.
//
// Constraints that keep to behaviour both machines define the same way:
// - misaligned LR/SC/AMO only in M-mode (without MPRV) on the data area, so an alignment trap
//   never competes with a page or access fault (the order between them is implementation-defined);
// - an SC runs only when the LR before it did not trap: a failing SC (no reservation) may or
//   may not check its address (Vireo raises the store fault, QEMU 7.2 does no access at all);
// - an SC to an address other than its LR's only in M-mode (no MPRV) on the data area, likewise;
// - nothing crosses from the last data page into the memory after it (not compared).

import { type BlockContext, imm12 } from './block-context.js';
import { BAD_PA, CODE_OFFSET, DATA_OFFSET, DATA_PA, DATA_PAGES, PAGE, PMP_READ_PAGE, RAM_BASE, WINDOW, hex } from './program-layout.js';

type Alignment = 'aligned' | 'misaligned' | 'cross';

function pickOffset(c: BlockContext, size: number, alignment: Alignment): number {
  const r = c.rng;
  if (alignment === 'cross') return PAGE - r.range(1, size - 1);
  let off = r.chance(0.7) ? r.pick([r.int(256), PAGE - 1 - r.int(128)]) : r.int(PAGE);
  off = Math.min(off, PAGE - size);
  off -= off % size;
  if (alignment === 'misaligned') off += r.range(1, size - 1);
  return off;
}

function pickAlignment(c: BlockContext, size: number, allowMisaligned: boolean): Alignment {
  if (size === 1 || !allowMisaligned) return 'aligned';
  return c.rng.weighted({ aligned: 70, misaligned: 18, cross: 12 });
}

/**
 * An address for a `size`-byte access by the block's privilege: physical in M-mode (without
 * MPRV), virtual otherwise. `misaligned` allows misaligned and page-crossing addresses;
 * `load` allows the code as a target.
 */
export function pickAddress(c: BlockContext, size: number, o: { misaligned: boolean; load: boolean }): bigint {
  const r = c.rng;
  const alignment = pickAlignment(c, size, o.misaligned);
  // Crossing accesses start below the last page so they stay inside what is compared;
  // translated ones stay off PMP_READ_PAGE altogether.
  const pages = c.physicalData ? DATA_PAGES : PMP_READ_PAGE;
  const dataPage = () => (alignment === 'cross' ? r.int(pages - 1) : r.int(pages));
  const off = BigInt(pickOffset(c, size, alignment));
  const dataAt = (base: bigint) => base + BigInt(DATA_OFFSET) + BigInt(PAGE * dataPage()) + off;
  if (c.physicalData) {
    const where = r.weighted({ data: 90, bad: 5, code: o.load ? 5 : 0 });
    if (where === 'bad') return r.pick(BAD_PA) + off;
    if (where === 'code') return RAM_BASE + BigInt(CODE_OFFSET + PAGE * r.int(16)) + off;
    return dataAt(RAM_BASE);
  }
  // Not the code under MPRV: QEMU 7.2 would reuse the M-mode translation its fetches made.
  const where = r.weighted({ low: 55, high: 12, giga: 10, identity: 10, bad: 8, code: o.load && !c.mprv ? 5 : 0 });
  switch (where) {
    case 'low':
      return WINDOW.low + BigInt(PAGE * r.int(WINDOW.lowPages)) + off;
    case 'high':
      return dataAt(WINDOW.high);
    case 'giga':
      return dataAt(WINDOW.giga);
    case 'identity':
      return dataAt(WINDOW.identity);
    case 'code':
      return RAM_BASE + BigInt(CODE_OFFSET + PAGE * r.int(16)) + off;
    default:
      // Under Bare these are physical addresses: none may hit a device on either board.
      return r.pick([
        0x0000_8000_0000_0000n, // non-canonical under Sv39 and Sv48
        0x0040_0000_0000_0000n,
        0xffff_0000_0000_0000n,
        0x2c00_0000n, // canonical, nothing mapped
      ]) + off;
  }
}

const INT_LOADS: Array<[string, number]> = [['lb', 1], ['lbu', 1], ['lh', 2], ['lhu', 2], ['lw', 4], ['lwu', 4], ['ld', 8]];
const INT_STORES: Array<[string, number]> = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
const FP_LOADS: Array<[string, number]> = [['flw', 4], ['fld', 8]];
const FP_STORES: Array<[string, number]> = [['fsw', 4], ['fsd', 8]];

/** `li base, address - imm` then `op reg, imm(base)`. */
function access(c: BlockContext, op: string, reg: string, size: number, load: boolean): void {
  const addr = pickAddress(c, size, { misaligned: true, load });
  const imm = c.rng.chance(0.6) ? 0 : imm12(c.rng);
  const base = c.gpr();
  c.emit(`li ${base}, ${hex(addr - BigInt(imm))}`, `${op} ${reg}, ${imm}(${base})`);
}

export function integerLoadStore(c: BlockContext): void {
  if (c.rng.chance(0.5)) {
    const [op, size] = c.rng.pick(INT_LOADS);
    access(c, op, c.gpr(), size, true);
  } else {
    const [op, size] = c.rng.pick(INT_STORES);
    access(c, op, c.gpr(), size, false);
  }
}

export function floatLoadStore(c: BlockContext): void {
  if (c.rng.chance(0.5)) {
    const [op, size] = c.rng.pick(FP_LOADS);
    access(c, op, c.fpr(), size, true);
  } else {
    const [op, size] = c.rng.pick(FP_STORES);
    access(c, op, c.fpr(), size, false);
  }
}

/** c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd and their sp-relative forms. */
export function compressedLoadStore(c: BlockContext): void {
  const r = c.rng;
  const [op, size, fp] = r.pick([
    ['lw', 4, false], ['ld', 8, false], ['sw', 4, false], ['sd', 8, false], ['fld', 8, true], ['fsd', 8, true],
  ] as const);
  const load = op.startsWith('l') || op === 'fld';
  const addr = pickAddress(c, size, { misaligned: true, load });
  if (r.chance(0.5)) {
    const imm = size * r.int(32);
    const base = c.cgpr();
    const reg = fp ? c.cfpr() : c.cgpr();
    c.emit(`li ${base}, ${hex(addr - BigInt(imm))}`, `c.${op} ${reg}, ${imm}(${base})`);
  } else {
    const imm = size * r.int(64);
    const reg = fp ? c.fpr() : c.gpr();
    c.emit(`li sp, ${hex(addr - BigInt(imm))}`, `c.${op}sp ${reg}, ${imm}(sp)`);
  }
}

const AMOS = ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu'];
const ORDERING = ['', '.aq', '.rl', '.aqrl'];

function atomicAddress(c: BlockContext, size: number): bigint {
  if (c.physicalData && c.rng.chance(0.1)) {
    const aligned = DATA_PA + BigInt(c.rng.int(DATA_PAGES * PAGE - 16) & ~7);
    return aligned + BigInt(c.rng.range(1, size - 1));
  }
  const a = pickAddress(c, size, { misaligned: false, load: false });
  return a - (a % BigInt(size));
}

export function amo(c: BlockContext): void {
  const size = c.rng.pick([4, 8]);
  const addr = atomicAddress(c, size);
  const base = c.gpr();
  c.emit(
    `li ${base}, ${hex(addr)}`,
    `${c.rng.pick(AMOS)}.${size === 4 ? 'w' : 'd'}${c.rng.pick(ORDERING)} ${c.gpr()}, ${c.gpr()}, (${base})`,
  );
}

export function loadReservedStoreConditional(c: BlockContext): void {
  const r = c.rng;
  const size = r.pick([4, 8]);
  const w = size === 4 ? 'w' : 'd';
  const addr = atomicAddress(c, size);
  const base = c.gpr();
  let rd = c.gpr();
  while (rd === base) rd = c.gpr();
  let check = c.gpr();
  while (check === base || check === rd) check = c.gpr();
  // A random sentinel: if rd still holds it after the LR, the LR trapped.
  const sentinel = hex(r.next64() | 0x8000_0000_0000_0001n);
  const skip = c.label();
  c.emit(`li ${base}, ${hex(addr)}`, `li ${rd}, ${sentinel}`, `lr.${w}${r.pick(ORDERING)} ${rd}, (${base})`);
  c.emit(`li ${check}, ${sentinel}`, `beq ${rd}, ${check}, ${skip}`);
  let scBase = base;
  if (c.physicalData && (addr - DATA_PA) >= 0n && addr - DATA_PA < BigInt(DATA_PAGES * PAGE - 64) && r.chance(0.15)) {
    scBase = check;
    c.emit(`li ${scBase}, ${hex(addr + BigInt(size * r.range(1, 4)))}`);
  }
  c.emit(`sc.${w}${r.pick(ORDERING)} ${c.gpr()}, ${c.gpr()}, (${scBase})`, `${skip}:`);
}
