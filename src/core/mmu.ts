// Virtual-to-physical translation: Bare, Sv39 and Sv48 (Priv. spec 1.12, sections 4.3-4.5),
// with hardware A/D updates, superpages, SUM, MXR and MPRV. PTE reads are PMP-checked.

import type { Hart } from './hart.js';
import { MSTATUS, PRIV, SATP } from './hart-state.js';
import { Cause, Mstatus, Priv } from './privilege.js';
import { PmpAccess } from './pmp.js';

export const enum Access {
  Fetch = 0,
  Load = 1,
  Store = 2,
}

export const enum SatpMode {
  Bare = 0,
  Sv39 = 8,
  Sv48 = 9,
}

const TWO32 = 4294967296;
const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_G = 32;
const PTE_A = 64;
const PTE_D = 128;

const PAGE_FAULT = [Cause.InstructionPageFault, Cause.LoadPageFault, Cause.StorePageFault];
const ACCESS_FAULT = [Cause.InstructionAccessFault, Cause.LoadAccessFault, Cause.StoreAccessFault];

/** 4 KiB pages mapped by a leaf PTE at each level: a table, since a variable `**` calls pow. */
const PAGES_AT_LEVEL = [1, 2 ** 9, 2 ** 18, 2 ** 27];

/**
 * The physical address for virtual (vLo, vHi), or a trap through hart.raise. Sets
 * hart.leafShift to log2 of the pages the leaf PTE maps (0 without paging), and
 * hart.leafGlobal when the translation is the same in every address space: M-mode's, or
 * one whose walk met PTE.G (on a pointer PTE it makes everything below it global).
 */
export function translate(hart: Hart, vLo: number, vHi: number, access: Access): number {
  const s = hart.s;
  const priv = access === Access.Fetch ? (s[PRIV]! as Priv) : hart.dataPriv();
  const mode = s[SATP + 1]! >>> 28;
  hart.leafShift = 0;
  hart.leafGlobal = priv === Priv.Machine;
  if (priv === Priv.Machine || mode === SatpMode.Bare) {
    // Physical addresses are 56 bits; anything above cannot exist.
    if ((vHi >>> 24) !== 0) hart.raise(ACCESS_FAULT[access]!, vLo, vHi);
    return (vHi >>> 0) * TWO32 + (vLo >>> 0);
  }
  const levels = mode === SatpMode.Sv48 ? 4 : 3;
  // Section 4.4.1: bits above the top VA bit must all equal it.
  const top = levels === 4 ? vHi >> 15 : vHi >> 6;
  if (top !== 0 && top !== -1) hart.raise(PAGE_FAULT[access]!, vLo, vHi);

  let table = ((s[SATP + 1]! & 0xfff) * TWO32 + (s[SATP]! >>> 0)) * 4096;
  let global = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const vpn = vpnAt(vLo, vHi, level);
    const pteAddr = table + vpn * 8;
    if (!hart.pmp.check(pteAddr, 8, PmpAccess.Read, Priv.Supervisor)
      || pteAddr < hart.ramBase || pteAddr + 8 > hart.ramEnd) {
      hart.raise(ACCESS_FAULT[access]!, vLo, vHi);
    }
    const word = (pteAddr - hart.ramBase + hart.ramOffset) >>> 2;
    hart.memory.pager?.ensure(word * 4, 8);
    const i32 = hart.memory.i32;
    let lo = i32[word]!;
    const hi = i32[word + 1]!;
    // Bits 63:54 are reserved (no Svnapot, Svpbmt): nonzero is a page fault.
    if ((lo & PTE_V) === 0 || (lo & (PTE_R | PTE_W)) === PTE_W || (hi >>> 22) !== 0) {
      hart.raise(PAGE_FAULT[access]!, vLo, vHi);
    }
    const ppn = (hi & 0x3fffff) * 4194304 + (lo >>> 10);
    global |= lo & PTE_G;
    if ((lo & (PTE_R | PTE_X)) === 0) {
      if (level === 0) hart.raise(PAGE_FAULT[access]!, vLo, vHi);
      table = ppn * 4096;
      continue;
    }
    if (!permitted(hart, lo, access, priv)) hart.raise(PAGE_FAULT[access]!, vLo, vHi);
    if (ppn % PAGES_AT_LEVEL[level]! !== 0) hart.raise(PAGE_FAULT[access]!, vLo, vHi); // misaligned superpage
    // Hardware A/D update (section 4.3.2 step 7).
    const needed = access === Access.Store ? PTE_A | PTE_D : PTE_A;
    if ((lo & needed) !== needed) {
      lo |= needed;
      i32[word] = lo;
      hart.noteWrite(word * 4, 4);
    }
    const pageInSpan = level === 0 ? 0 : vpnLow(vLo, vHi, level);
    hart.leafShift = 9 * level;
    hart.leafGlobal = global !== 0;
    return (ppn + pageInSpan) * 4096 + (vLo & 0xfff);
  }
  return hart.raise(PAGE_FAULT[access]!, vLo, vHi);
}

function permitted(hart: Hart, pte: number, access: Access, priv: Priv): boolean {
  const mstatus = hart.s[MSTATUS]!;
  if ((pte & PTE_U) !== 0) {
    // S-mode may touch user pages only for loads/stores with SUM, never to execute.
    if (priv === Priv.Supervisor && (access === Access.Fetch || (mstatus & Mstatus.SUM) === 0)) return false;
  } else if (priv === Priv.User) {
    return false;
  }
  if (access === Access.Fetch) return (pte & PTE_X) !== 0;
  if (access === Access.Store) return (pte & PTE_W) !== 0;
  return (pte & PTE_R) !== 0 || ((mstatus & Mstatus.MXR) !== 0 && (pte & PTE_X) !== 0);
}

/** VPN[level] of the virtual address: 9 bits at 12 + 9 * level. */
function vpnAt(vLo: number, vHi: number, level: number): number {
  switch (level) {
    case 0: return (vLo >>> 12) & 0x1ff;
    case 1: return (vLo >>> 21) & 0x1ff;
    case 2: return ((vLo >>> 30) | (vHi << 2)) & 0x1ff;
    default: return (vHi >>> 7) & 0x1ff;
  }
}

/** The 4 KiB page number within a level-`level` superpage: VPN[level-1:0]. */
function vpnLow(vLo: number, vHi: number, level: number): number {
  const pages = (vLo >>> 12) + (vHi & 0xffff) * 1048576; // VA bits 47:12
  return pages % PAGES_AT_LEVEL[level]!;
}
