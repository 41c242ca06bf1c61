// The software TLBs must never let an access skip translation, PMP or a fault: an empty or
// flushed entry matches no address, aligned or not, in any privilege mode, with or without
// paging. These are the regressions for a tag that misaligned addresses in page 0 once hit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hart } from './hart.js';
import { RAM, scratchHart } from './testing/scratch-hart.js';
import * as S from './hart-state.js';
import { Cause, Mstatus, Priv } from './privilege.js';
import { Tlb, TLB_ENTRIES, tlbMode } from './tlb.js';

const HANDLER = RAM + 0x1000;
const DATA = RAM + 0x2000;
const ROOT_TABLE = RAM + 0x10000;

// Hand-encoded instructions (Unprivileged ISA chapter 24).
const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const load = (width: number, rd: number, rs1: number) => (rs1 << 15) | (width << 12) | (rd << 7) | 0x03;
const store = (width: number, rs2: number, rs1: number) => (rs2 << 20) | (rs1 << 15) | (width << 12) | 0x23;
const fld = (rd: number, rs1: number) => (rs1 << 15) | (3 << 12) | (rd << 7) | 0x07;
const fsd = (rs2: number, rs1: number) => (rs2 << 20) | (rs1 << 15) | (3 << 12) | 0x27;
const amoaddW = (rd: number, rs1: number, rs2: number) => (rs2 << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x2f;
const csrrs = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73;
const SFENCE_VMA = 0x12000073;
const sfenceVma = (rs1: number, rs2: number) => SFENCE_VMA | (rs2 << 20) | (rs1 << 15);
const csrrw = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73;
const SATP = 0x180;
const LOOP = 0x0000006f;
/** log2 of the width for each funct3 of LB/LH/LW/LD (and SB/SH/SW/SD). */
const WIDTHS = [0, 1, 2, 3];

type Mode = { priv: Priv; paged: boolean; name: string };
const MODES: Mode[] = [
  { priv: Priv.Machine, paged: false, name: 'M-mode' },
  { priv: Priv.Supervisor, paged: false, name: 'S-mode, bare' },
  { priv: Priv.Supervisor, paged: true, name: 'S-mode, Sv39' },
  { priv: Priv.User, paged: false, name: 'U-mode, bare' },
  { priv: Priv.User, paged: true, name: 'U-mode, Sv39' },
];

/** Loads x`rd` with a small constant (up to 20 bits plus 12) in two instructions. */
function li(rd: number, value: number): number[] {
  const lo = (value << 20) >> 20;
  return [lui(rd, (value - lo) >>> 12), addi(rd, rd, lo)];
}

/**
 * A hart in `mode` about to run `program` at RAM: every trap goes to a spinning M-mode
 * handler; PMP grants S and U all memory; with paging, one gigapage maps RAM to itself and
 * nothing maps the low addresses.
 */
function hartIn(mode: Mode, program: number[]): Hart {
  const hart = scratchHart(program, HANDLER);
  const memory = hart.memory;
  const s = hart.s;
  if (mode.paged) {
    // VPN[2] = 2 covers 0x80000000-0xbfffffff: V R W X A D, and U for user mode.
    const pte = ((RAM >>> 12) << 10) | 0xcf | (mode.priv === Priv.User ? 0x10 : 0);
    memory.writeRam(ROOT_TABLE + 2 * 8, new Uint8Array(new Int32Array([pte, 0]).buffer));
    s[S.SATP] = ROOT_TABLE >>> 12;
    s[S.SATP + 1] = 8 << 28; // Sv39
  }
  s[S.PRIV] = mode.priv;
  hart.flushTlb();
  return hart;
}

/** Runs until the hart reaches the handler (or the budget ends) and returns the trap taken. */
function runToTrap(hart: Hart, budget = 64): { cause: number; tval: bigint; fromPriv: number } {
  hart.run(budget);
  assert.equal(hart.pc, BigInt(HANDLER), 'the access trapped');
  const mstatus = hart.s[S.MSTATUS]!;
  return {
    cause: hart.s[S.MCAUSE]!,
    tval: BigInt.asUintN(64, (BigInt(hart.s[S.MTVAL + 1]!) << 32n) | BigInt(hart.s[S.MTVAL]! >>> 0)),
    fromPriv: (mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT,
  };
}

function expectedCause(mode: Mode, isStore: boolean): Cause {
  if (mode.paged) return isStore ? Cause.StorePageFault : Cause.LoadPageFault;
  return isStore ? Cause.StoreAccessFault : Cause.LoadAccessFault;
}

function assertStateIntact(hart: Hart, what: string): void {
  assert.equal(hart.s[S.X]! | hart.s[S.X + 1]!, 0, `${what}: x0 still reads zero`);
  assert.equal(hart.priv, Priv.Machine, `${what}: the trap entered M-mode`);
}

const USER = tlbMode(Priv.User, false, false);
/** Modes a lookup can be in: U, S with SUM and MXR, M. */
const LOOKUP_MODES = [USER, tlbMode(Priv.Supervisor, true, true), tlbMode(Priv.Machine, false, false)];

test('an empty, invalidated or flushed TLB entry matches no address of any alignment, in any mode', () => {
  const tlb = new Tlb();
  const check = (label: string) => {
    for (const size of [1, 2, 4, 8] as const) {
      for (let low = 0; low < 0x1000; low++) {
        for (const page of [0, 0x1000, 0x7ffff000 | 0, 0x80000000 | 0]) {
          for (const mode of LOOKUP_MODES) {
            assert.equal(tlb.hits(page | low, 0, size, mode), false, `${label}: ${size}-byte access at 0x${(page | low).toString(16)} in mode ${mode}`);
          }
        }
      }
    }
  };
  check('empty');
  for (let i = 0; i < TLB_ENTRIES; i++) tlb.fill(i << 12, 0, 0x4000, LOOKUP_MODES[i % LOOKUP_MODES.length]!);
  tlb.flush();
  check('flushed');
  tlb.fill(0, 0, 0x4000, USER);
  assert.equal(tlb.hits(0, 0, 4, USER), true, 'a filled entry hits for an aligned access');
  assert.equal(tlb.hits(1, 0, 4, USER), false, 'a misaligned access misses a filled entry');
  tlb.invalidate(0);
  check('invalidated');
});

for (const mode of MODES) {
  test(`${mode.name}: a misaligned halfword store to address 5 faults and leaves x0 zero`, () => {
    const hart = hartIn(mode, [...li(11, 5), ...li(12, 0x5a5a), store(1, 12, 11), LOOP]);
    const trap = runToTrap(hart);
    assert.equal(trap.cause, expectedCause(mode, true));
    assert.equal(trap.tval, 5n);
    assert.equal(trap.fromPriv, mode.priv, 'the store ran in the mode under test');
    assertStateIntact(hart, 'sh to 5');
  });

  test(`${mode.name}: a store over the privilege word's address faults and cannot raise privilege`, () => {
    const privByte = S.PRIV * 4 + 1; // 0x309, the old escape
    const hart = hartIn(mode, [...li(11, privByte), addi(12, 0, 3), store(2, 12, 11), csrrs(13, 0x300, 0), LOOP]);
    const trap = runToTrap(hart);
    assert.equal(trap.cause, expectedCause(mode, true));
    assert.equal(trap.tval, BigInt(privByte));
    assert.equal(trap.fromPriv, mode.priv, 'the privilege word kept its value until the trap');
    assert.equal(hart.getRegister(13), 0n, 'the mstatus read after it never ran');
    assertStateIntact(hart, 'sw to 0x309');
  });

  test(`${mode.name}: a load from the privilege word's address faults and returns nothing`, () => {
    const privByte = S.PRIV * 4 + 1;
    const hart = hartIn(mode, [...li(11, privByte), addi(13, 0, 77), load(2, 13, 11), LOOP]);
    const trap = runToTrap(hart);
    assert.equal(trap.cause, expectedCause(mode, false));
    assert.equal(trap.tval, BigInt(privByte));
    assert.equal(hart.getRegister(13), 77n, 'the destination register is untouched');
    assertStateIntact(hart, 'lw from 0x309');
  });

  test(`${mode.name}: every misaligned load and store in page 0 faults`, () => {
    for (const width of WIDTHS) {
      const size = 1 << width;
      for (let address = 1; address < 8; address++) {
        if (address % size === 0) continue;
        for (const isStore of [false, true]) {
          const access = isStore ? store(width, 12, 11) : load(width, 13, 11);
          const hart = hartIn(mode, [...li(11, address), addi(12, 0, -1), access, LOOP]);
          const what = `${isStore ? 'store' : 'load'} of ${size} bytes at ${address}`;
          const trap = runToTrap(hart);
          assert.equal(trap.cause, expectedCause(mode, isStore), what);
          assert.equal(trap.tval, BigInt(address), what);
          assertStateIntact(hart, what);
        }
      }
    }
  });

  test(`${mode.name}: after a flush, a store to address 1 cannot reach the page an entry cached before`, () => {
    const flushWithInstruction = mode.priv !== Priv.User;
    // x11 = a RAM page, x15 = 1: store there (filling the write TLB), flush, then store to 1.
    const hart = hartIn(mode, [
      store(2, 12, 11), flushWithInstruction ? SFENCE_VMA : addi(0, 0, 0), addi(12, 0, 0x22), store(2, 12, 15), LOOP,
    ]);
    hart.setRegister(11, BigInt(DATA));
    hart.setRegister(12, 0x11n);
    hart.setRegister(15, 1n);
    if (!flushWithInstruction) {
      hart.run(1); // the store fills the write TLB
      hart.flushTlb(); // what SFENCE.VMA or a satp write does; U-mode may not execute them
    }
    const trap = runToTrap(hart);
    assert.equal(trap.cause, expectedCause(mode, true));
    assert.equal(trap.tval, 1n);
    const page = hart.memory.readRam(DATA, 8);
    assert.deepEqual([...page], [0x11, 0, 0, 0, 0, 0, 0, 0], 'the cached page kept only the first store');
    assertStateIntact(hart, 'sw to 1 after a flush');
  });

  test(`${mode.name}: FP and atomic accesses to the hart state's addresses fault`, () => {
    for (const [access, isStore, address] of [
      [fld(1, 11), false, 1],
      [fsd(1, 11), true, 1],
      [amoaddW(13, 11, 12), true, S.PRIV * 4],
    ] as const) {
      const hart = hartIn(mode, [...li(11, address), addi(12, 0, 3), access, LOOP]);
      const trap = runToTrap(hart);
      assert.equal(trap.cause, expectedCause(mode, isStore), `access 0x${(access >>> 0).toString(16)}`);
      assert.equal(trap.tval, BigInt(address));
      assertStateIntact(hart, 'fp/atomic');
    }
  });
}

test('an entry hits only in the mode it was filled for, and flushPage drops it whatever its mode', () => {
  const tlb = new Tlb();
  const supervisor = tlbMode(Priv.Supervisor, false, false);
  tlb.fill(0x5000, 0, 0x10000, USER);
  assert.equal(tlb.hits(0x5000, 0, 8, USER), true);
  for (const mode of [supervisor, tlbMode(Priv.Supervisor, true, false), tlbMode(Priv.User, false, true), tlbMode(Priv.Machine, false, false)]) {
    assert.equal(tlb.hits(0x5000, 0, 8, mode), false, `mode ${mode}`);
    assert.equal(tlb.offsetOf(0x5000, 0, 8, mode), -1);
  }
  tlb.fill(0x5000, 0, 0x20000, supervisor);
  assert.equal(tlb.offsetOf(0x5008, 0, 8, supervisor), 0x20008);
  tlb.flushPage(0x5000, 0);
  assert.equal(tlb.hits(0x5000, 0, 8, supervisor), false);
});

test('flushPage drops its page and every page cached from a superpage covering it, and keeps the rest', () => {
  const tlb = new Tlb();
  const MiB2 = 0x200000;
  // Two 4 KiB pages, and two pages of one 2 MiB superpage (shift 9), all in different entries.
  tlb.fill(0x1000, 0, 0x10000, USER);
  tlb.fill(0x2000, 0, 0x20000, USER);
  tlb.fill(0x40000000 + 0x3000, -1, 0x30000, USER, 9);
  tlb.fill(0x40000000 + 0x5000, -1, 0x50000, USER, 9);
  tlb.flushPage(0x1000, 0);
  assert.equal(tlb.hits(0x1000, 0, 8, USER), false, 'the flushed page misses');
  assert.equal(tlb.hits(0x2000, 0, 8, USER), true, 'another 4 KiB page stays');
  assert.equal(tlb.hits(0x40003000, -1, 4, USER), true, 'so do superpage entries elsewhere');
  tlb.flushPage(0x40000000 + MiB2 + 0x7000, -1);
  assert.equal(tlb.hits(0x40003000, -1, 4, USER), true, 'an address in the next 2 MiB is another superpage');
  tlb.flushPage(0x40000000 + MiB2 + 0x7000, 0);
  assert.equal(tlb.hits(0x40003000, -1, 4, USER), true, 'an address with other high bits is another page');
  tlb.flushPage(0x40000000 + 0x7000, -1);
  assert.equal(tlb.hits(0x40003000, -1, 4, USER), false, 'a page of the superpage holding the address is dropped');
  assert.equal(tlb.hits(0x40005000, -1, 4, USER), false, 'so is every other one cached from it');
});

test('the superpage regions a TLB remembers stay bounded: past 4 per entry it starts over', () => {
  const tlb = new Tlb();
  const page = (n: number) => (n * 4096) | 0;
  tlb.fill(page(1), 0, 0x10000, USER, 9); // region 0, alone in entry 1
  // Other regions' first pages, all in entries 0 and 512.
  const fillRegion = (region: number) => tlb.fill(page(region * 512), region >>> 11, 0x20000, USER, 9);
  for (let region = 1; region < 4 * TLB_ENTRIES; region++) fillRegion(region);
  assert.equal(tlb.hits(page(1), 0, 8, USER), true, 'up to the bound, the first entry stays');
  fillRegion(4 * TLB_ENTRIES);
  assert.equal(tlb.hits(page(1), 0, 8, USER), false, 'one region more flushes the TLB instead of growing the list');
});

test('flushNonGlobal drops the entries not filled from global mappings and keeps the global ones', () => {
  const tlb = new Tlb();
  tlb.fill(0x1000, 0, 0x10000, USER);
  tlb.fill(0x2000, 0, 0x20000, USER, 0, true);
  tlb.flushNonGlobal();
  assert.equal(tlb.hits(0x1000, 0, 8, USER), false, 'the non-global entry is gone');
  assert.equal(tlb.hits(0x2000, 0, 8, USER), true, 'the global entry stays');
  // Past the fills it remembers, it drops everything.
  for (let i = 0; i < TLB_ENTRIES; i++) if (i !== 2) tlb.fill(i << 12, 0, 0x4000, USER);
  tlb.flushNonGlobal();
  assert.equal(tlb.hits(0x2000, 0, 8, USER), false, 'a full flush took the global entry too');
  assert.equal(tlb.hits(0x3000, 0, 8, USER), false);
});

for (const global of [false, true]) {
  test(`S-mode, Sv39: a ${global ? 'global' : 'non-global'} translation ${global ? 'survives' : 'does not survive'} a satp write to another ASID; SFENCE.VMA and a change of mode drop it`, () => {
    const supervisor = MODES.find((m) => m.priv === Priv.Supervisor && m.paged)!;
    // ld x13, 0(x11); satp = x5 (another ASID); sfence.vma x0, x6 (ASID 1); sfence.vma x0, x0;
    // then satp = x5 and x7 = 0 (Bare).
    const hart = hartIn(supervisor, [load(3, 13, 11), csrrw(0, SATP, 5), sfenceVma(0, 6), sfenceVma(0, 0), load(3, 13, 11), csrrw(0, SATP, 7), LOOP]);
    if (global) {
      const pte = ((RAM >>> 12) << 10) | 0xcf | 0x20; // V R W X A D and G
      hart.memory.writeRam(ROOT_TABLE + 2 * 8, new Uint8Array(new Int32Array([pte, 0]).buffer));
    }
    hart.setRegister(11, BigInt(DATA));
    const satp = (BigInt.asUintN(32, BigInt(hart.s[S.SATP + 1]!)) << 32n) | BigInt(hart.s[S.SATP]! >>> 0);
    hart.setRegister(5, satp | (1n << 44n));
    hart.setRegister(6, 1n);
    hart.setRegister(7, 0n);
    const cached = () => hart.readTlb.hits(DATA, 0, 8, hart.s[S.TLB_MODE_DATA]!);
    hart.run(1);
    assert.equal(cached(), true, 'the load filled the read TLB');
    hart.run(1);
    assert.equal(cached(), global, 'after the satp write');
    if (!global) return;
    hart.run(1);
    assert.equal(cached(), true, 'SFENCE.VMA for one ASID keeps global entries');
    hart.run(1);
    assert.equal(cached(), false, 'SFENCE.VMA for every ASID drops them');
    hart.run(2);
    assert.equal(hart.getRegister(13), 0n);
    assert.equal(cached(), false, 'a satp write to Bare drops every entry');
  });
}
