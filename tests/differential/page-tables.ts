// Builds Sv39/Sv48 page-table trees at generation time and emits them as `.dword`s at their
// physical addresses, so a program needs no code to set up translation.

import { PAGE, PT_OFFSET, PT_PAGES, RAM_BASE, hex } from './program-layout.js';

export type PagingMode = 'sv39' | 'sv48';

/** PTE bits (Priv. spec 4.3.1). */
export const PTE = { V: 1n, R: 2n, W: 4n, X: 8n, U: 16n, G: 32n, A: 64n, D: 128n } as const;

/** Allocates table pages for several trees from the program's page-table region. */
export class PageTablePool {
  private next = 0;
  readonly entries = new Map<bigint, bigint>();

  allocate(): bigint {
    if (this.next >= PT_PAGES) throw new Error('page-table pool exhausted');
    return RAM_BASE + BigInt(PT_OFFSET + PAGE * this.next++);
  }

  /** Assembly placing every non-zero entry at its address (the region is otherwise zero). */
  emit(): string[] {
    const lines: string[] = [];
    const sorted = [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [pa, value] of sorted) {
      lines.push(`        .org ${hex(pa - RAM_BASE)}`, `        .dword ${hex(value)}`);
    }
    lines.push(`        .org ${hex(PT_OFFSET + PAGE * PT_PAGES)}`);
    return lines;
  }
}

export class PageTableTree {
  readonly root: bigint;
  readonly levels: number;

  constructor(
    readonly mode: PagingMode,
    private readonly pool: PageTablePool,
  ) {
    this.root = pool.allocate();
    this.levels = mode === 'sv39' ? 3 : 4;
  }

  /** satp value selecting this tree (Priv. spec 4.1.11). */
  satp(asid: number): bigint {
    const mode = this.mode === 'sv39' ? 8n : 9n;
    return (mode << 60n) | (BigInt(asid & 0xffff) << 44n) | (this.root >> 12n);
  }

  /**
   * Maps `va` to `pa` with a leaf at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB) and `flags`;
   * returns the leaf PTE's physical address. `pa` need not be aligned to the leaf size: a
   * misaligned superpage is a test case (it page-faults).
   */
  map(va: bigint, pa: bigint, level: number, flags: bigint): bigint {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) {
      const slot = table + 8n * vpn(va, l);
      let pte = this.pool.entries.get(slot);
      if (pte === undefined) {
        const next = this.pool.allocate();
        pte = ((next >> 12n) << 10n) | PTE.V;
        this.pool.entries.set(slot, pte);
      } else if ((pte & (PTE.R | PTE.W | PTE.X)) !== 0n) {
        throw new Error(`page-tables: ${hex(va)} is already under a leaf`);
      }
      table = (pte >> 10n) << 12n;
    }
    const slot = table + 8n * vpn(va, level);
    this.pool.entries.set(slot, ((pa >> 12n) << 10n) | flags);
    return slot;
  }
}

function vpn(va: bigint, level: number): bigint {
  return (va >> BigInt(12 + 9 * level)) & 511n;
}
