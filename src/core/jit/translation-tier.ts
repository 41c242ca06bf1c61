// The translation tier: counts how often the interpreter jumps to each block, translates the
// hot ones into WebAssembly many blocks per module, and runs them through the dispatcher.
// Translations are a cache over guest memory, never VM state: keyed by where the code lies
// in guest memory (so satp changes and SFENCE.VMA keep them; the fetch TLB decides what is
// executable now) and dropped when their page is written, by a store or by DMA.

import type { GuestMemory } from '../guest-memory.js';
import { buildCompressedTable } from '../decode/compressed.js';
import { BLOCK_PARAMS, blockSuccessors, MAX_RUN_BUDGET, STEP_PARAMS, startsTranslatable, translateBlock, type TranslateOptions } from './block-translator.js';
import { createDispatcher, type DispatchFunction } from './dispatcher.js';
import { ENTRY_TABLE_BYTES, EntryTable } from './entry-table.js';
import { sharedMaximumOf, ValType, WasmModuleBuilder } from './wasm-module-builder.js';
import { TLB_INDEX_MASK, type Tlb } from '../tlb.js';

export interface TranslationTierOptions {
  /** Jumps to a block before it is translated (default DEFAULT_HOT_THRESHOLD); 1 also compiles each at once, for tests. */
  hotThreshold?: number;
  /** Hot blocks gathered before one module is compiled (default 48, or 1 with threshold 1). */
  batchSize?: number;
  /** Blocks log their stores so lockstep runs can undo them (see lockstep.ts). */
  lockstep?: boolean;
  /**
   * Compiles modules on V8's background threads while the interpreter goes on, installing
   * them when the event loop next runs (default; off for lockstep and threshold 1, which
   * want each block at once).
   */
  compileInBackground?: boolean;
  /** How often jump counts halve (default 1000 ms; see COUNT_HALF_LIFE_MS). */
  countHalfLifeMs?: number;
}

/** Counters for benchmarks and tests. */
export interface TranslationStats {
  blocks: number;
  modules: number;
  compileMs: number;
  invalidations: number;
  untranslatable: number;
  /** Instructions inside translated blocks that call the interpreter (`step`). */
  stepped: number;
  /** Blocks of earlier modules that later ones imported, to tail-call them. */
  imported: number;
}

/** Interprets the instruction at a hart's pc for translated code: see StepStatus. */
export type StepFunction = (retired: number, length: number) => number;

const COMPRESSED = buildCompressedTable();
const TABLE_START = 1024;
/**
 * The shared function table's bound; past it every translation is dropped and rebuilt. It
 * also bounds the machine code a guest can make the host hold (about 1 KiB per block).
 */
const TABLE_LIMIT = 1 << 16;
/**
 * Drops of a page's translations after which it is interpreted only: code that keeps
 * rewriting itself would otherwise be compiled again and again (a reset forgets this).
 */
const UNSTABLE_PAGE_INVALIDATIONS = 8;
const UNSTABLE_WINDOW_MS = 1000;
/**
 * Jumps to a block before it is translated. Code a boot runs a few hundred or thousand times
 * costs more to compile than to interpret. From power-on to the complete Debian's login
 * prompt, alone on the machine: 65, 70 and 81 s of the main thread at 2048, 77 and 87 s at
 * 256, and 11-13 s of compiler threads instead of 24; 1024 and 4096 fell between. The small
 * default guest boots in the same time either way.
 */
export const DEFAULT_HOT_THRESHOLD = 2048;
/** Blocks of a page translated again with a new hot one, at most, and how often per page (see withPageMates). */
const MAX_RECOMPILED_PER_PAGE = 32;
const MAX_RECOMPILES_PER_PAGE = 2;
/** Blocks not yet hot compiled with a module because hot ones lead to them, at most (see withSuccessors). */
const MAX_SUCCESSORS_PER_MODULE = 128;
/** Blocks of other modules one module imports at most (see buildModule). */
const MAX_IMPORTED_BLOCKS = 512;
/** Longest a hot block waits for its batch to fill. */
const MAX_PENDING_MS = 25;
/**
 * Jump counts halve this often, so a block becomes hot by how often it runs, not by how often
 * it ever ran: an idle guest's once-a-second timer code would otherwise reach the threshold in
 * minutes and be translated, one small costly module after another, for nothing.
 */
const COUNT_HALF_LIFE_MS = 1000;

type BlockFunction = (state: number, pc: bigint, retired: number, budget: number) => number;

interface BuiltModule {
  bytes: Uint8Array<ArrayBuffer>;
  placed: Array<{ key: number; length: number }>;
  /** Blocks of earlier modules this one imports, in import order. */
  imports: BlockFunction[];
}

export class TranslationTier {
  readonly stats: TranslationStats = { blocks: 0, modules: 0, compileMs: 0, invalidations: 0, untranslatable: 0, stepped: 0, imported: 0 };
  /** Goes up whenever translations are dropped, so `step` can tell the running block went stale. */
  generation = 0;
  private readonly memory: GuestMemory;
  private readonly entries: EntryTable;
  private readonly table: WebAssembly.Table;
  private readonly dispatch: DispatchFunction;
  private readonly hotThreshold: number;
  private readonly batchSize: number;
  /** Jumps seen per counter slot (counterSlot), for blocks not yet translated. */
  private readonly counters = new Uint16Array(1 << 16);
  private pending: number[] = [];
  private readonly pendingSet = new Set<number>();
  /** Keys whose first instruction the tier does not translate, per RAM page index. */
  private readonly untranslatable = new Map<number, Set<number>>();
  /** How often each page's translations were dropped soon after being made, and when they were made. */
  private readonly invalidationsByPage = new Map<number, number>();
  private readonly compiledAt = new Map<number, number>();
  /** Times each page's blocks were translated again with new ones. */
  private readonly recompiles = new Map<number, number>();
  /** Block keys per RAM page index, to drop them when the page changes. */
  private readonly blocksByPage = new Map<number, number[]>();
  private nextFunction = 0;
  private pendingSince = 0;
  private countsHalvedAt = performance.now();
  private readonly countHalfLifeMs: number;
  private readonly background: boolean;
  /** Keys in modules being compiled in the background. */
  private readonly compilingKeys = new Set<number>();
  /** Writes seen per RAM page index that holds code, and full clears: a module compiled before one is stale. */
  private readonly pageWrites = new Map<number, number>();
  private clears = 0;
  private readonly translateOptions: TranslateOptions;
  /** Whether each block is to be checked against the interpreter (blocks then keep an undo log). */
  readonly lockstep: boolean;
  /** Guest-memory offset of the lockstep undo log, or -1. */
  readonly undoLog: number;
  /** Each hart's `step`, by the offset of its state block. */
  private readonly steps = new Map<number, StepFunction>();
  private readonly step = (state: number, retired: number, length: number) => this.steps.get(state)!(retired, length);

  constructor(memory: GuestMemory, options: TranslationTierOptions = {}) {
    this.memory = memory;
    this.hotThreshold = Math.min(65535, options.hotThreshold ?? DEFAULT_HOT_THRESHOLD);
    this.batchSize = options.batchSize ?? (this.hotThreshold === 1 ? 1 : 48);
    this.countHalfLifeMs = options.countHalfLifeMs ?? COUNT_HALF_LIFE_MS;
    this.entries = new EntryTable(memory.memory.buffer, memory.translationOffset);
    this.entries.clear();
    this.lockstep = options.lockstep ?? false;
    this.background = options.compileInBackground ?? (!this.lockstep && this.hotThreshold > 1);
    this.undoLog = this.lockstep ? memory.translationOffset + ENTRY_TABLE_BYTES : -1;
    const physicalOffset = memory.ramBase - memory.ramOffset;
    const shared = memory.shared ? { sharedMemory: true } : {};
    this.translateOptions = this.lockstep ? { undoLog: this.undoLog, physicalOffset, ...shared } : { physicalOffset, ...shared };
    this.table = new WebAssembly.Table({ initial: TABLE_START, element: 'anyfunc' });
    this.dispatch = createDispatcher(memory.memory, this.table, this.entries);
    memory.decodeCache.onCodeChange((pageOffset) => this.invalidatePage(pageOffset));
  }

  /** Registers a hart: translated code running on its state calls `step` for what it leaves to the interpreter. */
  attach(stateOffset: number, step: StepFunction): void {
    this.steps.set(stateOffset, step);
  }

  /**
   * Called by the interpreter when it jumps to (pcLo, pcHi): true when a translation starts
   * there (the interpreter then hands over); otherwise counts the jump toward translation.
   */
  enter(fetchTlb: Tlb, pcLo: number, pcHi: number, fetchMode: number): boolean {
    const key = keyAt(fetchTlb, pcLo, pcHi, fetchMode);
    if (key < 0) return false;
    if (this.entries.has(key)) return true;
    const slot = counterSlot(key);
    if (++this.counters[slot]! >= this.hotThreshold) {
      this.counters[slot] = 0;
      // As hot again while it waits for its batch: a loop the interpreter is stuck in.
      if (this.pendingSet.has(key)) this.compilePending();
      else if (!this.untranslatable.get(key >>> 12)?.has(key) && !this.compilingKeys.has(key) && !this.isUnstable(key)) {
        if (this.pending.length === 0) this.pendingSince = performance.now();
        this.pending.push(key);
        this.pendingSet.add(key);
        if (this.pending.length >= this.batchSize) this.compilePending();
      }
    }
    return false;
  }

  /**
   * Called when the dispatcher stopped at (pcLo, pcHi): true when a translation starts there,
   * once `fillFetchTlb` has mapped the page if the fetch TLB did not; otherwise counts the
   * stop toward translating the block there.
   */
  resume(fetchTlb: Tlb, pcLo: number, pcHi: number, fetchMode: number, fillFetchTlb: () => boolean): boolean {
    if (keyAt(fetchTlb, pcLo, pcHi, fetchMode) < 0 && !fillFetchTlb()) return false;
    return this.enter(fetchTlb, pcLo, pcHi, fetchMode);
  }

  /**
   * The translated block at (pcLo, pcHi), if the fetch TLB maps it and one exists, for
   * lockstep runs: `run` executes that block alone (no chaining) and returns its result.
   */
  blockAt(fetchTlb: Tlb, pcLo: number, pcHi: number, fetchMode: number): { length: number; run: (stateOffset: number) => number } | null {
    const key = keyAt(fetchTlb, pcLo, pcHi, fetchMode);
    const entry = key < 0 ? null : this.entries.lookup(key);
    if (entry === null) return null;
    const block = this.table.get(entry.functionIndex) as (state: number, pc: bigint, retired: number, budget: number) => number;
    const pc = (BigInt(pcHi) << 32n) | BigInt(pcLo >>> 0);
    return { length: entry.length, run: (stateOffset) => block(stateOffset, pc, 0, 0) };
  }

  /** Modules compiling in the background: they are installed when the event loop next runs, so the run loop yields to it more often meanwhile. */
  /** Functions of translated blocks the shared table holds (what trim() lets go of). */
  get functionCount(): number {
    let count = 0;
    for (let i = 0; i < this.table.length; i++) if (this.table.get(i) !== null) count++;
    return count;
  }

  get compiling(): boolean {
    return this.compilingKeys.size > 0;
  }

  /** Runs translated blocks from the hart's pc; returns the instructions retired. */
  run(stateOffset: number, budget: number): number {
    return this.dispatch(stateOffset, Math.min(budget, MAX_RUN_BUDGET));
  }

  /**
   * Compiles what has waited long enough, so a short hot loop does not wait for a full
   * batch, while a burst of new code (a boot) still compiles in few, large modules.
   */
  flush(): void {
    const now = performance.now();
    if (now - this.countsHalvedAt >= this.countHalfLifeMs) this.decayCounts(now);
    if (this.pending.length > 0 && now - this.pendingSince >= MAX_PENDING_MS) this.compilePending();
  }

  /** Halves every jump count once per half-life passed (16 halvings clear a count). */
  private decayCounts(now: number): void {
    const shift = Math.min(16, Math.floor((now - this.countsHalvedAt) / this.countHalfLifeMs));
    const counters = this.counters;
    for (let i = 0; i < counters.length; i++) counters[i] = counters[i]! >>> shift;
    this.countsHalvedAt = now;
  }

  /**
   * Forgets every translation and lets go of their functions, so V8 can free their machine
   * code and metadata: for a guest gone idle, whose hot code of its busy time is dead weight.
   */
  trim(): void {
    for (let i = 0; i < this.nextFunction; i++) this.table.set(i, null);
    this.clear();
  }

  /** Forgets every translation (a reset); the shared table is reused from the start. */
  clear(): void {
    this.generation++;
    this.clears++;
    this.compilingKeys.clear();
    this.pageWrites.clear();
    this.entries.clear();
    this.blocksByPage.clear();
    this.invalidationsByPage.clear();
    this.compiledAt.clear();
    this.recompiles.clear();
    this.untranslatable.clear();
    this.pending = [];
    this.pendingSet.clear();
    this.counters.fill(0);
    this.nextFunction = 0;
  }

  /**
   * Forgets the block at `key` and lets go of its function, so that a module whose blocks
   * were all dropped or compiled again elsewhere can be freed with its machine code.
   */
  private release(key: number): void {
    const entry = this.entries.lookup(key);
    if (entry === null) return;
    this.table.set(entry.functionIndex, null);
    this.entries.delete(key);
  }

  /** A page whose translations were dropped this often is left to the interpreter. */
  private isUnstable(key: number): boolean {
    return (this.invalidationsByPage.get(key >>> 12) ?? 0) >= UNSTABLE_PAGE_INVALIDATIONS;
  }

  private invalidatePage(pageOffset: number): void {
    if (pageOffset < 0) {
      this.clear();
      return;
    }
    const page = pageOffset >>> 12;
    this.untranslatable.delete(page);
    this.pageWrites.set(page, (this.pageWrites.get(page) ?? 0) + 1);
    const keys = this.blocksByPage.get(page);
    if (keys === undefined) return;
    for (const key of keys) this.release(key);
    this.blocksByPage.delete(page);
    this.generation++;
    // Only drops soon after a compilation count: a page reused for other code later is fine.
    const recent = performance.now() - (this.compiledAt.get(page) ?? 0) < UNSTABLE_WINDOW_MS;
    this.invalidationsByPage.set(page, recent ? (this.invalidationsByPage.get(page) ?? 0) + 1 : 0);
    this.stats.invalidations++;
  }

  private compilePending(): void {
    const started = performance.now();
    const keys = this.withSuccessors(this.withPageMates(this.pending));
    this.pending = [];
    this.pendingSet.clear();
    const module = this.buildModule(keys);
    if (module === null) return;
    if (!this.background) {
      this.install(new WebAssembly.Module(module.bytes), module, this.clears, started);
      this.stats.compileMs += performance.now() - started;
      return;
    }
    // Code written while the module compiles makes it stale: note what the pages had seen.
    const clears = this.clears;
    for (const { key } of module.placed) {
      this.compilingKeys.add(key);
      this.memory.decodeCache.page(key & ~0xfff);
    }
    const writes = module.placed.map(({ key }) => this.pageWrites.get(key >>> 12) ?? 0);
    this.stats.compileMs += performance.now() - started;
    void WebAssembly.compile(module.bytes).then((compiled) => {
      const installing = performance.now();
      for (const { key } of module.placed) this.compilingKeys.delete(key);
      const fresh = module.placed.filter(({ key }, i) => (this.pageWrites.get(key >>> 12) ?? 0) === writes[i]);
      // Blocks of a stale page stay in the module (others may tail-call them) but get no entry.
      this.install(compiled, module, clears, installing, new Set(fresh.map(({ key }) => key)));
      this.stats.compileMs += performance.now() - installing;
    });
  }

  /**
   * `keys` plus the blocks already translated in their pages (up to a bound), so that the new
   * module holds every hot block of those pages and they all tail-call one another: blocks
   * become hot at different times and would otherwise sit in modules that cannot chain.
   */
  private withPageMates(keys: number[]): number[] {
    const all = new Set(keys);
    const pages = new Set<number>();
    for (const key of keys) {
      const page = key >>> 12;
      const mates = this.blocksByPage.get(page);
      if (mates === undefined || mates.length > MAX_RECOMPILED_PER_PAGE || pages.has(page)) continue;
      const times = this.recompiles.get(page) ?? 0;
      if (times >= MAX_RECOMPILES_PER_PAGE) continue;
      this.recompiles.set(page, times + 1);
      pages.add(page);
      for (const mate of mates) all.add(mate);
    }
    return [...all];
  }

  /**
   * `keys` plus the untranslated blocks they lead to in their pages, transitively (up to a
   * bound): the other paths of a hot loop or function are compiled with it, so they tail-call
   * one another instead of going through the dispatcher, even before they are hot themselves.
   */
  private withSuccessors(keys: number[]): number[] {
    if (this.lockstep) return keys;
    const all = new Set(keys);
    const queue = [...keys];
    const limit = keys.length + MAX_SUCCESSORS_PER_MODULE;
    while (queue.length > 0 && all.size < limit) {
      const key = queue.shift()!;
      const pageBase = key & ~0xfff;
      for (const offset of blockSuccessors(this.memory.u16, COMPRESSED, pageBase, key & 0xfff)) {
        const next = pageBase + offset;
        if (all.has(next) || this.entries.has(next) || this.compilingKeys.has(next) || all.size >= limit) continue;
        all.add(next);
        queue.push(next);
      }
    }
    return [...all];
  }

  /**
   * Translates the blocks at `keys` into one module's bytes; null when none translates.
   * Blocks already translated in the same pages are imported from their modules, so the new
   * blocks tail-call them too (`imports`, in import order).
   */
  private buildModule(keys: number[]): BuiltModule | null {
    // Block modules export their functions rather than import the table: V8 keeps a dispatch
    // table sized like the shared table in every instance that imports it, and updates all of
    // them on every change, which grows with the number of modules.
    const b = new WasmModuleBuilder();
    b.importMemory('env', 'memory', 1, sharedMaximumOf(this.memory.memory));
    const type = b.type(BLOCK_PARAMS, [ValType.I32]);
    // Lockstep checks blocks alone, each ending before what it leaves to the interpreter.
    const step = !this.lockstep;
    if (step) b.importFunction('env', 'step', b.type(STEP_PARAMS, [ValType.I32]));
    const u16 = this.memory.u16;
    const translatable = keys.filter((key) => startsTranslatable(u16, COMPRESSED, key & ~0xfff, key & 0xfff, step, this.memory.shared));
    // A block reaches another in its page by a tail call, wherever it was compiled: a write
    // to the page drops both, so the callee can never be stale for the caller.
    const indexOf = new Map<number, number>();
    const imports: BlockFunction[] = [];
    if (step) {
      const ours = new Set(translatable);
      for (const page of new Set(translatable.map((key) => key >>> 12))) {
        for (const mate of this.blocksByPage.get(page) ?? []) {
          const entry = ours.has(mate) || imports.length >= MAX_IMPORTED_BLOCKS ? null : this.entries.lookup(mate);
          if (entry === null) continue;
          indexOf.set(mate, b.importFunction('blocks', `i${imports.length}`, type));
          imports.push(this.table.get(entry.functionIndex) as BlockFunction);
        }
      }
    }
    // Function indices first (after the imports), so blocks can tail-call the others of this module.
    const firstDefined = imports.length + (step ? 1 : 0);
    for (const key of translatable) indexOf.set(key, firstDefined + indexOf.size - imports.length);
    for (const key of keys) {
      if (!indexOf.has(key)) {
        const page = key >>> 12;
        const set = this.untranslatable.get(page);
        if (set) set.add(key);
        else this.untranslatable.set(page, new Set([key]));
        this.stats.untranslatable++;
      }
    }
    const options: TranslateOptions = step ? { ...this.translateOptions, step, chainTo: (key) => indexOf.get(key) ?? -1 } : this.translateOptions;
    const placed: Array<{ key: number; length: number }> = [];
    for (const key of translatable) {
      const block = translateBlock(u16, COMPRESSED, key & ~0xfff, key & 0xfff, options)!;
      this.stats.stepped += block.stepped;
      const index = b.addFunction(type, block.locals, block.code);
      b.exportFunction(`b${placed.length}`, index);
      placed.push({ key, length: block.length });
    }
    this.stats.imported += imports.length;
    return placed.length === 0 ? null : { bytes: b.build(), placed, imports };
  }

  /** Instantiates a compiled module and gives its blocks (those in `only`, if given) entries. */
  private install(module: WebAssembly.Module, { placed, imports }: Omit<BuiltModule, 'bytes'>, clears: number, started: number, only?: Set<number>): void {
    if (clears !== this.clears) return; // everything was dropped meanwhile
    if (this.nextFunction + placed.length > TABLE_LIMIT) this.clear();
    const first = this.nextFunction;
    if (first + placed.length > this.table.length) this.table.grow(Math.max(first + placed.length, 2 * this.table.length) - this.table.length);
    const blocks = Object.fromEntries(imports.map((f, i) => [`i${i}`, f]));
    const exports = new WebAssembly.Instance(module, { env: { memory: this.memory.memory, step: this.step }, blocks }).exports;
    for (let i = 0; i < placed.length; i++) this.table.set(first + i, exports[`b${i}`] as () => number);
    this.nextFunction += placed.length;
    placed.forEach(({ key, length }, i) => {
      if (only !== undefined && !only.has(key)) return;
      const pageBase = key & ~0xfff;
      // Stores to a page holding translated code must take the slow path, which reports them.
      this.memory.decodeCache.page(pageBase);
      this.release(key);
      this.entries.set(key, first + i, length);
      const page = key >>> 12;
      this.compiledAt.set(page, started);
      const list = this.blocksByPage.get(page);
      if (list === undefined) this.blocksByPage.set(page, [key]);
      else if (!list.includes(key)) list.push(key);
    });
    this.stats.blocks += placed.length;
    this.stats.modules++;
  }
}

/** Where a key's jumps are counted: keys sharing a counter only become hot sooner. */
function counterSlot(key: number): number {
  return Math.imul(key, 0x9e3779b1 | 0) >>> 16;
}

/** The key (guest-memory offset) of the code at (pcLo, pcHi) when the fetch TLB maps it for `fetchMode`, else -1. */
function keyAt(fetchTlb: Tlb, pcLo: number, pcHi: number, fetchMode: number): number {
  const t = (pcLo >>> 12) & TLB_INDEX_MASK;
  if (fetchTlb.tagLo[t] !== ((pcLo & ~0xfff) | fetchMode) || fetchTlb.tagHi[t] !== pcHi) return -1;
  return fetchTlb.base[t]! + (pcLo & 0xfff);
}
