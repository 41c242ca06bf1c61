// FP loads and stores, LR/SC and AMOs take the data TLBs' fast path once a page is cached,
// and still fault exactly as before: after a flush, after a change of privilege or of SUM,
// under PMP, when misaligned and outside RAM; reservations stay physical.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hart } from './hart.js';
import { RAM, scratchHart } from './testing/scratch-hart.js';
import * as S from './hart-state.js';
import { PmpAccess } from './pmp.js';
import { Cause, Mstatus, Priv } from './privilege.js';
import type { SystemBus } from './system-bus.js';

const HANDLER = RAM + 0x1000;
const DATA = RAM + 0x2000;
/** Where supervisor code starts in the tests that MRET from M-mode. */
const S_CODE = RAM + 0x800;
/** A second virtual page mapped to DATA's physical page. */
const ALIAS = RAM + 0x40000;
const ROOT = RAM + 0x10000;
const L1 = RAM + 0x11000;
const L0 = RAM + 0x12000;
const DEVICE = 0x10000000;

// Hand-encoded instructions (Unprivileged ISA chapter 24).
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const bne = (rs1: number, rs2: number, offset: number) =>
  (((offset >> 12) & 1) << 31) | (((offset >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) |
  (((offset >> 1) & 0xf) << 8) | (((offset >> 11) & 1) << 7) | 0x63;
const beq = (rs1: number, rs2: number, offset: number) => bne(rs1, rs2, offset) & ~(1 << 12);
const lw = (rd: number, rs1: number) => (rs1 << 15) | (2 << 12) | (rd << 7) | 0x03;
const sw = (rs2: number, rs1: number) => (rs2 << 20) | (rs1 << 15) | (2 << 12) | 0x23;
const sd = (rs2: number, rs1: number) => (rs2 << 20) | (rs1 << 15) | (3 << 12) | 0x23;
/** An A-extension instruction: funct5 (0 AMOADD, 1 AMOSWAP, 2 LR, 3 SC), width 2 (.W) or 3 (.D). */
const amo = (funct5: number, width: number, rd: number, rs1: number, rs2: number) =>
  (funct5 << 27) | (rs2 << 20) | (rs1 << 15) | (width << 12) | (rd << 7) | 0x2f;
const lrW = (rd: number, rs1: number) => amo(2, 2, rd, rs1, 0);
const scW = (rd: number, rs1: number, rs2: number) => amo(3, 2, rd, rs1, rs2);
const amoaddW = (rd: number, rs1: number, rs2: number) => amo(0, 2, rd, rs1, rs2);
const fload = (width: number, rd: number, rs1: number) => (rs1 << 15) | (width << 12) | (rd << 7) | 0x07;
const fstore = (width: number, rs2: number, rs1: number) => (rs2 << 20) | (rs1 << 15) | (width << 12) | 0x27;
const csrrc = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x73;
const sfenceVma = (rs1: number) => 0x12000073 | (rs1 << 15);
const MRET = 0x30200073;
const LOOP = 0x0000006f;
const SSTATUS = 0x100;

// Leaf PTE flags (Priv. spec 4.3.1).
const V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;

interface Setup {
  priv: Priv;
  /** Sv39 with 4 KiB pages mapping the first MiB of RAM to itself (and ALIAS to DATA). */
  paged: boolean;
  /** DATA's leaf PTE flags (default V R W A D). */
  dataFlags?: number;
  bus?: SystemBus;
}

/** A hart about to run `program` at RAM; every trap goes to a spinning M-mode handler. */
function boot(setup: Setup, program: number[]): Hart {
  const hart = scratchHart(program, HANDLER, setup.bus);
  const s = hart.s;
  if (setup.paged) {
    writeWords(hart, ROOT + 2 * 8, [((L1 >>> 12) << 10) | V, 0]);
    writeWords(hart, L1, [((L0 >>> 12) << 10) | V, 0]);
    for (let page = RAM; page < RAM + (1 << 20); page += 4096) mapPage(hart, page, page, V | R | W | X | A | D);
    mapPage(hart, DATA, DATA, setup.dataFlags ?? V | R | W | A | D);
    mapPage(hart, ALIAS, DATA, V | R | W | A | D);
    s[S.SATP] = ROOT >>> 12;
    s[S.SATP + 1] = 8 << 28; // Sv39
  }
  s[S.PRIV] = setup.priv;
  hart.flushTlb();
  return hart;
}

function words(values: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(values).buffer);
}

function writeWords(hart: Hart, address: number, values: number[]): void {
  hart.memory.writeRam(address, words(values));
}

function readWord(hart: Hart, address: number): number {
  return new Int32Array(hart.memory.readRam(address, 4).slice().buffer)[0]!;
}

function pteAddress(va: number): number {
  return L0 + ((va >>> 12) & 0x1ff) * 8;
}

function mapPage(hart: Hart, va: number, pa: number, flags: number): void {
  writeWords(hart, pteAddress(va), [((pa >>> 12) << 10) | flags, 0]);
}

/**
 * PMP for S and U: entry 0 gives the 4 KiB page at `page` only `access` (W alone is
 * reserved, and pmpcfg writes never make it), entry 1 everything else, RWX.
 */
function protectPage(hart: Hart, page: number, access: PmpAccess): void {
  hart.s[S.PMPCFG] = (0x18 | access) | (0x1f << 8); // 0x18: NAPOT
  hart.s[S.PMPADDR] = (page >>> 2) | 0x1ff; // NAPOT: 2^(9 + 3) bytes
  hart.s[S.PMPADDR + 1] = 0;
  hart.s[S.PMPADDR + 2] = -1;
  hart.s[S.PMPADDR + 3] = 0x3fffff;
  hart.pmp.refresh();
}

/** Counts the hart's slow paths of memory access (each walks the page table when paged). */
function countSlowPaths(hart: Hart): { loads: number; stores: number; atomics: number } {
  const counts = { loads: 0, stores: 0, atomics: 0 };
  const loadSlow = hart.loadSlow.bind(hart);
  const storeSlow = hart.storeSlow.bind(hart);
  const atomicOffset = hart.atomicOffset.bind(hart);
  hart.loadSlow = (...args) => { counts.loads++; loadSlow(...args); };
  hart.storeSlow = (...args) => { counts.stores++; storeSlow(...args); };
  hart.atomicOffset = (...args) => { counts.atomics++; return atomicOffset(...args); };
  return counts;
}

/** Runs until the hart reaches the handler and returns the trap taken. */
function runToTrap(hart: Hart, budget = 64): { cause: number; tval: number; fromPriv: number } {
  hart.run(budget);
  assert.equal(hart.pc, BigInt(HANDLER), 'the access trapped');
  return {
    cause: hart.s[S.MCAUSE]!,
    tval: Number(BigInt.asUintN(64, (BigInt(hart.s[S.MTVAL + 1]!) << 32n) | BigInt(hart.s[S.MTVAL]! >>> 0))),
    fromPriv: (hart.s[S.MSTATUS]! & Mstatus.MPP) >>> Mstatus.MPP_SHIFT,
  };
}

function fRegister(hart: Hart, i: number): bigint {
  return BigInt.asUintN(64, (BigInt(hart.s[S.F + 2 * i + 1]!) << 32n) | BigInt(hart.s[S.F + 2 * i]! >>> 0));
}

function setFRegister(hart: Hart, i: number, value: bigint): void {
  hart.s[S.F + 2 * i] = Number(BigInt.asIntN(32, value));
  hart.s[S.F + 2 * i + 1] = Number(BigInt.asIntN(32, value >> 32n));
}

const PASSES = 50;
const MODES = [
  { name: 'M-mode', priv: Priv.Machine, paged: false },
  { name: 'S-mode, Sv39', priv: Priv.Supervisor, paged: true },
];

// Each runs `body` PASSES times (x10 counts down) with x11 = DATA, x12 = 1, f2 set; `slow`
// is how many slow-path calls the whole loop may make: the first pass fills the TLBs.
const LOOPS = [
  { name: 'FLW', body: [fload(2, 1, 11)], slow: { loads: 1, stores: 0, atomics: 0 } },
  { name: 'FLD', body: [fload(3, 1, 11)], slow: { loads: 1, stores: 0, atomics: 0 } },
  { name: 'FSW', body: [fstore(2, 2, 11)], slow: { loads: 0, stores: 1, atomics: 0 } },
  { name: 'FSD', body: [fstore(3, 2, 11)], slow: { loads: 0, stores: 1, atomics: 0 } },
  { name: 'AMOADD.W', body: [amoaddW(13, 11, 12)], slow: { loads: 0, stores: 0, atomics: 1 } },
  { name: 'AMOADD.D', body: [amo(0, 3, 13, 11, 12)], slow: { loads: 0, stores: 0, atomics: 1 } },
  // LR fills the read TLB only, so the first SC walks too and fills the write TLB.
  { name: 'LR.W/SC.W', body: [lrW(13, 11), addi(13, 13, 1), scW(14, 11, 13)], slow: { loads: 0, stores: 0, atomics: 2 } },
  { name: 'LR.D/SC.D', body: [amo(2, 3, 13, 11, 0), addi(13, 13, 1), amo(3, 3, 14, 11, 13)], slow: { loads: 0, stores: 0, atomics: 2 } },
];

for (const mode of MODES) {
  for (const loop of LOOPS) {
    test(`${mode.name}: ${loop.name} walks once, then hits the TLBs, with the same results`, () => {
      const program = [...loop.body, addi(10, 10, -1), bne(10, 0, -4 * (loop.body.length + 1)), LOOP];
      const hart = boot({ priv: mode.priv, paged: mode.paged }, program);
      writeWords(hart, DATA, [-1, 0x12345678]);
      hart.setRegister(10, BigInt(PASSES));
      hart.setRegister(11, BigInt(DATA));
      hart.setRegister(12, 1n);
      setFRegister(hart, 2, 0x0123456789abcdefn);
      const counts = countSlowPaths(hart);
      hart.run(PASSES * (loop.body.length + 2));
      assert.equal(hart.getRegister(10), 0n, 'every pass ran');
      assert.equal(hart.pc, BigInt(RAM + 4 * (loop.body.length + 2)), 'no trap');
      assert.deepEqual(counts, loop.slow);
      const lo = readWord(hart, DATA) >>> 0;
      const hi = readWord(hart, DATA + 4) >>> 0;
      switch (loop.name) {
        case 'FLW': assert.equal(fRegister(hart, 1), 0xffffffffffffffffn, 'NaN-boxed'); break;
        case 'FLD': assert.equal(fRegister(hart, 1), 0x12345678ffffffffn); break;
        case 'FSW': assert.deepEqual([lo, hi], [0x89abcdef, 0x12345678], 'only the low word is stored'); break;
        case 'FSD': assert.deepEqual([lo, hi], [0x89abcdef, 0x01234567]); break;
        case 'AMOADD.W':
          assert.deepEqual([lo, hi], [PASSES - 1, 0x12345678], 'a word AMO wraps in its word');
          assert.equal(hart.getRegister(13), BigInt(PASSES - 2), 'rd holds the old value');
          break;
        case 'AMOADD.D':
          assert.deepEqual([lo, hi], [PASSES - 1, 0x12345679], 'the carry reaches the high word');
          break;
        default:
          assert.equal(hart.getRegister(14), 0n, 'the last SC succeeded');
          assert.equal(lo, PASSES - 1, 'every SC stored');
      }
    });
  }
}

// Each access under test with the cause it raises when its page may not be read or written.
const ACCESSES = [
  { name: 'AMOADD.W', insn: amoaddW(13, 11, 12), isStore: true },
  { name: 'AMOSWAP.D', insn: amo(1, 3, 13, 11, 12), isStore: true },
  { name: 'LR.W', insn: lrW(13, 11), isStore: false },
  { name: 'SC.D', insn: amo(3, 3, 14, 11, 12), isStore: true },
  { name: 'FLW', insn: fload(2, 1, 11), isStore: false },
  { name: 'FLD', insn: fload(3, 1, 11), isStore: false },
  { name: 'FSW', insn: fstore(2, 2, 11), isStore: true },
  { name: 'FSD', insn: fstore(3, 2, 11), isStore: true },
];
/** Fills both data TLBs with DATA's page: an AMO adding 0 (x0). */
const FILL = amoaddW(0, 11, 0);

function assertDataUntouched(hart: Hart, what: string): void {
  assert.deepEqual([readWord(hart, DATA), readWord(hart, DATA + 4)], [7, 8], `${what}: memory unchanged`);
}

for (const access of ACCESSES) {
  const pageFault = access.isStore ? Cause.StorePageFault : Cause.LoadPageFault;

  test(`${access.name}: a page fault with tval after M-mode cached the page and MRET entered S-mode`, () => {
    // In S-mode DATA is a user page and SUM is clear.
    const hart = boot({ priv: Priv.Machine, paged: true, dataFlags: V | R | W | U | A | D }, [FILL, access.insn, MRET]);
    writeWords(hart, S_CODE, [access.insn, LOOP]);
    writeWords(hart, DATA, [7, 8]);
    hart.s[S.MSTATUS] |= Priv.Supervisor << Mstatus.MPP_SHIFT;
    hart.s[S.MEPC] = S_CODE | 0;
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 1n);
    const trap = runToTrap(hart);
    assert.equal(hart.s[S.MEPC], S_CODE | 0, 'the fault is the S-mode access');
    assert.equal(trap.fromPriv, Priv.Supervisor);
    assert.equal(trap.cause, pageFault);
    assert.equal(trap.tval, DATA);
  });

  test(`${access.name}: a page fault with tval once SUM is cleared after an access to a user page`, () => {
    const hart = boot({ priv: Priv.Supervisor, paged: true, dataFlags: V | R | W | U | A | D },
      [FILL, access.insn, csrrc(0, SSTATUS, 5), access.insn, LOOP]);
    hart.s[S.MSTATUS] |= Mstatus.SUM;
    writeWords(hart, DATA, [7, 8]);
    hart.setRegister(5, BigInt(Mstatus.SUM));
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 1n);
    const trap = runToTrap(hart);
    assert.equal(hart.s[S.MEPC], (RAM + 12) | 0, 'the access after clearing SUM faulted');
    assert.equal(trap.cause, pageFault);
    assert.equal(trap.tval, DATA);
  });

  for (const flush of [{ name: 'SFENCE.VMA', insn: sfenceVma(0) }, { name: 'SFENCE.VMA of the page', insn: sfenceVma(11) }]) {
    test(`${access.name}: a page fault with tval after the PTE loses permission and ${flush.name}`, () => {
      // x20 = the PTE without W (for stores) or invalid (for loads), x21 = its address.
      const hart = boot({ priv: Priv.Supervisor, paged: true }, [FILL, access.insn, sd(20, 21), flush.insn, access.insn, LOOP]);
      writeWords(hart, DATA, [7, 8]);
      hart.setRegister(11, BigInt(DATA));
      hart.setRegister(12, 0n);
      hart.setRegister(20, BigInt(access.isStore ? ((DATA >>> 12) << 10) | V | R | A | D : 0));
      hart.setRegister(21, BigInt(pteAddress(DATA)));
      const trap = runToTrap(hart);
      assert.equal(hart.s[S.MEPC], (RAM + 16) | 0, 'the access after the flush faulted');
      assert.equal(trap.cause, pageFault);
      assert.equal(trap.tval, DATA);
    });
  }
}

test('PMP read-only for S: LR hits the read TLB, AMO, SC and FSD raise a store access fault', () => {
  for (const access of ACCESSES.filter((a) => a.isStore)) {
    const hart = boot({ priv: Priv.Supervisor, paged: true }, [lw(13, 11), lrW(15, 11), access.insn, LOOP]);
    protectPage(hart, DATA, PmpAccess.Read);
    writeWords(hart, DATA, [7, 8]);
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 1n);
    const counts = countSlowPaths(hart);
    const trap = runToTrap(hart);
    assert.equal(hart.getRegister(15), 7n, `${access.name}: LR read the page`);
    assert.equal(trap.cause, Cause.StoreAccessFault, access.name);
    assert.equal(trap.tval, DATA, access.name);
    assert.equal(counts.loads, 1, `${access.name}: only the LW walked to read`);
    assert.equal(counts.atomics, access.name.startsWith('F') ? 0 : 1, `${access.name}: LR hit the read TLB`);
    assertDataUntouched(hart, access.name);
  }
});

test('PMP write without read (not writable through pmpcfg, WARL): a cached write page does not let atomics skip the read check', () => {
  for (const [insn, cause] of [
    [amoaddW(13, 11, 12), Cause.StoreAccessFault],
    [scW(14, 11, 12), Cause.StoreAccessFault],
    [lrW(13, 11), Cause.LoadAccessFault],
  ] as const) {
    const hart = boot({ priv: Priv.Supervisor, paged: true }, [sw(12, 11), insn, LOOP]);
    protectPage(hart, DATA, PmpAccess.Write);
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 9n);
    const trap = runToTrap(hart);
    assert.equal(readWord(hart, DATA), 9, 'the SW stored through the write TLB');
    assert.equal(trap.cause, cause);
    assert.equal(trap.tval, DATA);
  }
});

test('a read entry left from an older mapping of the page does not vouch for the new one', () => {
  // P2 is W-only for S (as above); DATA's PTE is switched to P2 without SFENCE.VMA, so the
  // read TLB still maps DATA to itself while the SW caches the new mapping for writes.
  const P2 = RAM + 0x5000;
  const hart = boot({ priv: Priv.Supervisor, paged: true }, [lw(13, 11), sd(20, 21), sw(12, 11), amoaddW(13, 11, 12), LOOP]);
  protectPage(hart, P2, PmpAccess.Write);
  hart.setRegister(11, BigInt(DATA));
  hart.setRegister(12, 9n);
  hart.setRegister(20, BigInt(((P2 >>> 12) << 10) | V | R | W | A | D));
  hart.setRegister(21, BigInt(pteAddress(DATA)));
  const trap = runToTrap(hart);
  assert.equal(readWord(hart, P2), 9, 'the SW reached the new page');
  assert.equal(hart.s[S.MEPC], (RAM + 12) | 0, 'the AMO faulted');
  assert.equal(trap.cause, Cause.StoreAccessFault);
  assert.equal(trap.tval, DATA);
});

test('misaligned atomics trap with tval after their page is cached; misaligned FP accesses complete', () => {
  for (const [insn, cause, offset] of [
    [amoaddW(13, 15, 12), Cause.StoreMisaligned, 2],
    [amo(1, 3, 13, 15, 12), Cause.StoreMisaligned, 4],
    [amo(2, 3, 13, 15, 0), Cause.LoadMisaligned, 4],
    [scW(14, 15, 12), Cause.StoreMisaligned, 1],
  ] as const) {
    const hart = boot({ priv: Priv.Supervisor, paged: true }, [FILL, insn, LOOP]);
    writeWords(hart, DATA, [7, 8]);
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 1n);
    hart.setRegister(15, BigInt(DATA + offset));
    const trap = runToTrap(hart);
    assert.equal(trap.cause, cause);
    assert.equal(trap.tval, DATA + offset);
    assertDataUntouched(hart, `offset ${offset}`);
  }
  // FLD at DATA + 2, and FSD across the end of DATA's page into the next.
  const hart = boot({ priv: Priv.Supervisor, paged: true }, [FILL, fload(3, 1, 15), fstore(3, 2, 16), LOOP]);
  writeWords(hart, DATA, [7, 8, 9]);
  hart.setRegister(11, BigInt(DATA));
  hart.setRegister(15, BigInt(DATA + 2));
  hart.setRegister(16, BigInt(DATA + 0xffc));
  setFRegister(hart, 2, 0x0123456789abcdefn);
  hart.run(4);
  assert.equal(hart.pc, BigInt(RAM + 12), 'no trap');
  assert.equal(fRegister(hart, 1), 0x0009000000080000n);
  assert.deepEqual([readWord(hart, DATA + 0xffc) >>> 0, readWord(hart, DATA + 0x1000)], [0x89abcdef, 0x01234567]);
});

test('FP loads from a device go to the bus every time; atomics there raise access faults', () => {
  let reads = 0;
  const bus: SystemBus = { read: (_address, size) => { reads++; return size === 4 ? 0x3f800000 : -1; }, write: () => false };
  const hart = boot({ priv: Priv.Machine, paged: false, bus }, [fload(2, 1, 11), fload(2, 2, 11), amoaddW(13, 11, 12), LOOP]);
  hart.setRegister(11, BigInt(DEVICE));
  const trap = runToTrap(hart);
  assert.equal(reads, 2);
  assert.equal(fRegister(hart, 2), 0xffffffff3f800000n);
  assert.equal(trap.cause, Cause.StoreAccessFault);
  assert.equal(trap.tval, DEVICE);
});

test('an AMO or FSW over an instruction already executed takes effect', () => {
  // x5 = the patched slot (RAM), x3 and f3 = its replacement; the loop runs twice.
  const replacement = addi(1, 1, 100);
  for (const patch of [amo(1, 2, 0, 5, 3), fstore(2, 3, 5)]) {
    const hart = boot({ priv: Priv.Machine, paged: false }, [
      addi(1, 1, 1), patch, addi(4, 4, 1), addi(6, 0, 1), beq(6, 4, -16), LOOP,
    ]);
    hart.setRegister(5, BigInt(RAM));
    hart.setRegister(3, BigInt(replacement));
    setFRegister(hart, 3, BigInt(replacement));
    hart.run(11);
    assert.equal(hart.getRegister(4), 2n, 'two passes');
    assert.equal(hart.getRegister(1), 101n, 'the second pass ran the patched instruction');
  }
});

test('reservations are physical: SC through another mapping of the page succeeds, SC elsewhere fails', () => {
  const hart = boot({ priv: Priv.Supervisor, paged: true }, [
    FILL, amoaddW(0, 15, 0), // cache DATA and ALIAS in both TLBs
    lrW(13, 11), addi(13, 13, 1), scW(14, 15, 13), // LR via DATA, SC via ALIAS
    lrW(13, 11), addi(13, 13, 1), scW(16, 17, 13), // SC to another word
    LOOP,
  ]);
  writeWords(hart, DATA, [7, 8]);
  hart.setRegister(11, BigInt(DATA));
  hart.setRegister(15, BigInt(ALIAS));
  hart.setRegister(17, BigInt(ALIAS + 4));
  const counts = countSlowPaths(hart);
  hart.run(8);
  assert.equal(hart.pc, BigInt(RAM + 32), 'no trap');
  assert.equal(counts.atomics, 2, 'only the first access through each mapping walked');
  assert.equal(hart.getRegister(14), 0n, 'SC through the alias succeeded');
  assert.equal(hart.getRegister(16), 1n, 'SC to another address failed');
  assert.deepEqual([readWord(hart, DATA), readWord(hart, DATA + 4)], [8, 8]);
});
