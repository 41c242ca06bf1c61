// Generates one differential test program from a seed: page tables with random permissions,
// a register initialisation, then blocks of random instructions, each entered by MRET in a
// random privilege (with random satp tree, medeleg, counter enables and mstatus trap bits) and
// left by an ecall, and finally the runtime's dump of the architectural state.

import { BlockContext, GPRS, interestingInt, type Privilege } from './block-context.js';
import { floatArithmetic, floatConvertCompare, floatSetup, interestingFloatBits } from './float-items.js';
import { patchSite, patchStore } from './code-patch-items.js';
import { compressedAlu, forwardJump, integerAlu, loadImmediate, mulDiv } from './integer-items.js';
import { amo, compressedLoadStore, floatLoadStore, integerLoadStore, loadReservedStoreConditional } from './memory-items.js';
import { PTE, PageTablePool, PageTableTree, type PagingMode } from './page-tables.js';
import { Prng } from './prng.js';
import {
  CODE_END_OFFSET, CODE_OFFSET, DATA_OFFSET, DATA_PA, DATA_PAGES, PAGE, PMP_READ_PAGE, RAM_BASE, SAVE, U_ALIAS_DELTA,
  WINDOW, hex,
} from './program-layout.js';
import { type DumpItem, runtimeAssembly } from './runtime-assembly.js';
import { csrAccess, trappingInstruction } from './system-items.js';

export interface GeneratorOptions {
  /** Number of blocks (default: 12-24, from the seed). */
  blocks?: number;
  /** Print all integer registers after every block (to find where two runs part). */
  trace?: boolean;
}

export interface GeneratedProgram {
  seed: number;
  source: string;
  blocks: number;
  /** Random items generated (each one to a few instructions). */
  items: number;
}

const ITEMS: Record<string, (c: BlockContext) => void> = {
  loadImmediate, integerAlu, mulDiv, compressedAlu, forwardJump, integerLoadStore, floatLoadStore,
  compressedLoadStore, amo, loadReservedStoreConditional, floatSetup, floatArithmetic,
  floatConvertCompare, csrAccess, trappingInstruction,
};

const WEIGHTS: Record<keyof typeof ITEMS, number> = {
  loadImmediate: 5, integerAlu: 14, mulDiv: 5, compressedAlu: 7, forwardJump: 5,
  integerLoadStore: 16, floatLoadStore: 5, compressedLoadStore: 5, amo: 5,
  loadReservedStoreConditional: 3, floatSetup: 4, floatArithmetic: 8, floatConvertCompare: 6,
  csrAccess: 7, trappingInstruction: 3,
};

/**
 * Exceptions medeleg may hand to S, in groups delegated together: never the ecalls from S and
 * M (the handlers rely on them), and the load and store/AMO causes of each kind together,
 * because QEMU 7.2 raises an AMO's faults with the load cause and so looks up the load bit.
 */
const DELEGABLE = [[0], [1], [2], [3], [4, 6], [5, 7], [8], [12], [13, 15]];

const MSTATUS_TVM = 1n << 20n;
const MSTATUS_TW = 1n << 21n;
const MSTATUS_TSR = 1n << 22n;
const MSTATUS_MPRV = 1n << 17n;

/** Random leaf permissions: half of them usual data pages, half anything. */
function randomPermissions(r: Prng, superpage: boolean): bigint {
  let f: bigint;
  if (r.chance(0.5)) {
    f = PTE.V | PTE.R;
    if (r.chance(0.7)) f |= PTE.W;
    if (r.chance(0.1)) f |= PTE.X;
    if (r.chance(0.5)) f |= PTE.U;
    if (r.chance(0.8)) f |= PTE.A;
    if (r.chance(0.7)) f |= PTE.D;
    return f;
  }
  f = r.chance(0.9) ? PTE.V : 0n;
  for (const bit of [PTE.R, PTE.W, PTE.X, PTE.U, PTE.A, PTE.D]) if (r.chance(0.5)) f |= bit;
  if (r.chance(0.2)) f |= PTE.G;
  // A superpage with no R/W/X would point at a "next level" made of whatever is there.
  if (superpage && (f & (PTE.R | PTE.W | PTE.X)) === 0n) f |= PTE.R;
  return f;
}

interface Paging {
  trees: PageTableTree[];
  pool: PageTablePool;
  leaves: Array<{ tag: string; pa: bigint }>;
}

function buildPaging(r: Prng): Paging {
  const pool = new PageTablePool();
  const trees: PageTableTree[] = [];
  const leaves: Array<{ tag: string; pa: bigint }> = [];
  for (const mode of ['sv39', 'sv48'] as PagingMode[]) {
    const t = new PageTableTree(mode, pool);
    trees.push(t);
    const n = mode === 'sv39' ? '39' : '48';
    // S-mode code and the handlers: the RAM base's gigapage, identity, no U.
    t.map(WINDOW.identity, RAM_BASE, 2, PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D);
    // U-mode code: the code pages again, lower by U_ALIAS_DELTA, with U.
    for (let off = CODE_OFFSET; off < CODE_END_OFFSET; off += PAGE) {
      const pa = RAM_BASE + BigInt(off);
      t.map(pa - U_ALIAS_DELTA, pa, 0, PTE.V | PTE.R | PTE.X | PTE.U | PTE.A);
    }
    for (let i = 0; i < WINDOW.lowPages; i++) {
      if (r.chance(0.15)) continue;
      const pa = DATA_PA + BigInt(PAGE * r.int(PMP_READ_PAGE));
      leaves.push({ tag: `pte${n}.low${i}`, pa: t.map(WINDOW.low + BigInt(PAGE * i), pa, 0, randomPermissions(r, false)) });
    }
    // A misaligned superpage (low PPN bits set) must page-fault (Priv. spec 4.3.2 step 6).
    const superBase = r.chance(0.08) ? RAM_BASE + BigInt(PAGE * r.range(1, 7)) : RAM_BASE;
    leaves.push({ tag: `pte${n}.high`, pa: t.map(WINDOW.high, superBase, 1, randomPermissions(r, true)) });
    if (mode === 'sv48') {
      leaves.push({ tag: `pte${n}.giga`, pa: t.map(WINDOW.giga, RAM_BASE, 2, randomPermissions(r, true)) });
    }
  }
  return { trees, pool, leaves };
}

/**
 * PMP: up to four random entries over the data area (NA4, NAPOT or TOR; random R/W/X, some
 * locked, which binds M-mode too), then entry 7 granting everything else. Constraints:
 * - never W without R (reserved, Priv. spec 3.7.1); a locked entry keeps R (the dump reads);
 * - regions stay 8 bytes away from page edges: which part of a page-crossing access reports
 *   its fault first is implementation-defined (Vireo translates both pages first, QEMU checks
 *   the first page fully), so PMP never decides a crossing access;
 * - entries that deny reads only on PMP_READ_PAGE (see program-layout.ts).
 */
function pmpSetup(r: Prng): string[] {
  const L: string[] = [];
  let cfg = 0x1fn << 56n; // entry 7: NAPOT over everything, RWX
  let previous: { raw: bigint; page: bigint } | undefined;
  for (let i = 0; i < 4; i++) {
    if (r.chance(0.5)) {
      previous = undefined;
      continue;
    }
    let bits = r.chance(0.6) ? 1n : 0n; // R
    if (bits !== 0n && r.chance(0.5)) bits |= 2n; // W
    if (r.chance(0.3)) bits |= 4n; // X
    if (r.chance(0.15)) bits |= 0x80n | 1n; // L (keeps R)
    const page = DATA_PA + BigInt(PAGE * ((bits & 1n) === 0n ? PMP_READ_PAGE : r.int(DATA_PAGES)));
    let addr: bigint;
    const top = previous ? previous.raw + BigInt(4 * r.range(1, 256)) : 0n;
    if (previous && top <= previous.page + BigInt(PAGE - 8) && r.chance(0.4)) {
      addr = top >> 2n; // TOR from the previous entry's address
      bits |= 1n | (1n << 3n);
    } else if (r.chance(0.4)) {
      addr = (page + BigInt(8 + 4 * r.int((PAGE - 16) / 4))) >> 2n;
      bits |= 2n << 3n; // NA4
    } else {
      const size = 1n << BigInt(r.range(3, 10));
      const base = page + size * BigInt(r.range(1, Number(BigInt(PAGE) / size) - 2));
      addr = (base >> 2n) | (size / 8n - 1n);
      bits |= 3n << 3n; // NAPOT
    }
    previous = { raw: addr << 2n, page: ((addr << 2n) / BigInt(PAGE)) * BigInt(PAGE) };
    cfg |= bits << BigInt(8 * i);
    L.push(`li t0, ${hex(addr)}`, `csrw pmpaddr${i}, t0`);
  }
  L.push('li t0, -1', 'csrw pmpaddr7, t0', `li t0, ${hex(cfg)}`, 'csrw pmpcfg0, t0');
  return L;
}

export function generateProgram(seed: number, options: GeneratorOptions = {}): GeneratedProgram {
  const r = new Prng(seed);
  const paging = buildPaging(r);
  const satpChoices = [
    ...paging.trees.map((t) => t.satp(r.int(0x10000))),
    ...paging.trees.map((t) => t.satp(0)),
    0n, // Bare: S code runs at its identity address either way
    (5n << 60n) | 0x123n, // a reserved mode: the write is ignored
  ];

  const dump: DumpItem[] = [
    ...['medeleg', 'mideleg', 'mscratch', 'sscratch', 'satp', 'mcounteren', 'scounteren', 'fcsr', 'pmpcfg0', 'pmpaddr0', 'pmpaddr1', 'pmpaddr2', 'pmpaddr3'].map((csr) => ({
      tag: csr,
      load: [`csrr a1, ${csr}`],
    })),
    { tag: 'amofaults', load: [`ld a1, ${SAVE.amoFaultPages}(gp)`] },
    ...paging.leaves.map((l) => ({ tag: l.tag, load: [`li t0, ${hex(l.pa)}`, 'ld a1, 0(t0)'] })),
  ];

  const out: string[] = [];
  const dataSeed = r.next64();
  out.push(runtimeAssembly({ dataSeed, extraDump: dump, memoryChunk: options.trace ? 64 : 512, pmpSetup: pmpSetup(r) }));
  out.push('gen_main:');
  // Initial state: every FP register, fcsr, then every integer register.
  for (let f = 0; f < 32; f++) out.push(`        li t0, ${hex(interestingFloatBits(r))}`, `        fmv.d.x f${f}, t0`);
  out.push(`        csrwi frm, ${r.int(5)}`, '        csrwi fflags, 0');
  for (const x of GPRS) out.push(`        li x${x}, ${hex(interestingInt(r))}`);

  const labels = { next: 0 };
  const setupState = { medeleg: 0n };
  const blocks = options.blocks ?? r.range(12, 24);
  let items = 0;
  for (let b = 0; b < blocks; b++) {
    const mode = r.weighted({ M: 25, S: 40, U: 35 }) as Privilege;
    const trapBits = { tsr: r.chance(0.25), tvm: r.chance(0.25), tw: r.chance(0.25) };
    // M-mode blocks sometimes load and store through translation as U (mstatus.MPRV, MPP = U).
    // Not as S: a trap's MRET sets MPP = U, and QEMU 7.2 keeps using translations it made
    // under the earlier MPP (it flushes them only on CSR writes), where Vireo uses U's.
    const mprv = mode === 'M' && r.chance(0.3) ? 0n : undefined;
    out.push(`# ---- block ${b}: ${mode}-mode${mprv === undefined ? '' : ', MPRV as U'}`);
    // Some blocks run 40-80 times over, so that their branch targets get hot enough for the
    // translation tier (the state they leave changes every time round).
    const repeat = r.chance(0.3) ? r.range(40, 80) : 1;
    const setup = blockSetup(r, b, mode, trapBits, paging, setupState, mprv !== undefined);
    out.push(...setup.once.map((l) => `        ${l}`), `        li t0, ${repeat}`, `        sd t0, ${SAVE.repeat}(gp)`);
    out.push(`gen_enter${b}:`, ...setup.entry.map((l) => `        ${l}`));
    out.push(`gen_block${b}:`);
    if (mprv !== undefined) {
      out.push(`        li t0, ${hex(3n << 11n)}`, '        csrc mstatus, t0', `        li t0, ${hex(MSTATUS_MPRV | (mprv << 11n))}`, '        csrs mstatus, t0');
    }
    const c = new BlockContext(r, mode, trapBits, satpChoices, labels, mprv !== undefined);
    const n = r.range(20, 60);
    // Patch sites of this block, placed at random items; stores to them anywhere in it.
    // (Not under MPRV: QEMU 7.2 would store through the M-mode translation of its fetches.)
    const sites = mprv === undefined && r.chance(0.4) ? Array.from({ length: r.range(1, 2) }, () => c.label()) : [];
    const siteAt = new Map(sites.map((label) => [r.int(n), label]));
    for (let i = 0; i < n; i++) {
      const site = siteAt.get(i);
      if (site !== undefined) patchSite(c, site);
      else if (sites.length > 0 && r.chance(0.08)) patchStore(c, sites);
      else ITEMS[r.weighted(WEIGHTS)]!(c);
      c.endItem();
    }
    for (const label of sites) if (![...siteAt.values()].includes(label)) patchSite(c, label);
    c.flushLabels();
    items += n;
    out.push(...c.lines, '        li tp, 1', '        ecall', `gen_back${b}:`);
    if (options.trace) {
      out.push(`        sd ra, ${SAVE.ra}(gp)`, '        jal ra, rt_checkpoint', `        ld ra, ${SAVE.ra}(gp)`);
    }
    out.push(`        ld t0, ${SAVE.repeat}(gp)`, '        addi t0, t0, -1', `        sd t0, ${SAVE.repeat}(gp)`, `        bnez t0, gen_enter${b}`);
  }
  out.push('        j rt_finish');
  out.push(`        .org ${hex(CODE_END_OFFSET)}`, `        .org ${hex(DATA_OFFSET)}`);
  out.push(...paging.pool.emit());
  return { seed, source: out.join('\n') + '\n', blocks, items };
}

/**
 * M-mode code that configures the hart for block `b` (`once`) and enters it (`entry`, run
 * again for each repetition). Clobbers t0, t1.
 */
function blockSetup(
  r: Prng,
  b: number,
  mode: Privilege,
  trapBits: { tsr: boolean; tvm: boolean; tw: boolean },
  paging: Paging,
  state: { medeleg: bigint },
  translated: boolean,
): { once: string[]; entry: string[] } {
  const L: string[] = [];
  if (mode !== 'M' || translated || r.chance(0.3)) {
    const tree = r.pick(paging.trees);
    L.push(`li t0, ${hex(tree.satp(r.int(0x10000)))}`, 'csrw satp, t0', 'sfence.vma');
  }
  let deleg = state.medeleg;
  if (b === 0 || r.chance(0.3)) {
    deleg = 0n;
    for (const group of DELEGABLE) if (r.chance(0.4)) for (const cause of group) deleg |= 1n << BigInt(cause);
  }
  // With TSR set the S handler's own SRET is illegal: no trap goes to it in such a block.
  if (trapBits.tsr) deleg = 0n;
  if (b === 0 || deleg !== state.medeleg) L.push(`li t0, ${hex(deleg)}`, 'csrw medeleg, t0');
  state.medeleg = deleg;
  if (b === 0 || r.chance(0.3)) {
    L.push(`csrwi mcounteren, ${r.int(8)}`, `csrwi scounteren, ${r.int(8)}`);
  }
  let set = (trapBits.tsr ? MSTATUS_TSR : 0n) | (trapBits.tvm ? MSTATUS_TVM : 0n) | (trapBits.tw ? MSTATUS_TW : 0n);
  let clear = MSTATUS_TSR | MSTATUS_TVM | MSTATUS_TW;
  // Sometimes the FPU off (FP instructions and fcsr are then illegal), SUM or MXR toggled.
  if (r.chance(0.1)) clear |= 3n << 13n;
  else if (r.chance(0.3)) set |= 1n << 13n;
  if (r.chance(0.3)) (r.chance(0.5) ? (set |= 1n << 18n) : (clear |= 1n << 18n));
  if (r.chance(0.3)) (r.chance(0.5) ? (set |= 1n << 19n) : (clear |= 1n << 19n));
  L.push(`li t0, ${hex(clear)}`, 'csrc mstatus, t0', `li t0, ${hex(set)}`, 'csrs mstatus, t0');
  // MPRV is cleared before every MRET into a block (QEMU 7.2's MRET keeps it, Vireo's clears it).
  const E = [
    `li t0, ${hex(MSTATUS_MPRV | (3n << 11n))}`, 'csrc mstatus, t0',
    `li t0, ${hex(BigInt(mode === 'M' ? 3 : mode === 'S' ? 1 : 0) << 11n)}`, 'csrs mstatus, t0',
    `la t0, gen_back${b}`, `sd t0, ${SAVE.continuation}(gp)`, `la t0, gen_block${b}`,
  ];
  if (mode === 'U') E.push(`li t1, ${hex(U_ALIAS_DELTA)}`, 'sub t0, t0, t1');
  E.push('csrw mepc, t0', 'mret');
  return { once: L, entry: E };
}
