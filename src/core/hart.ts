// One RV64GC hart: the narrow API the board drives (run, pending interrupts, WFI, TLB), the
// trap and interrupt logic, and the slow paths of memory access. The instruction loop is in
// interpreter.ts; architectural state lives in guest memory (hart-state.ts).

import type { GuestMemory } from './guest-memory.js';
import type { SystemBus, TimeSource } from './system-bus.js';
import * as S from './hart-state.js';
import { Cause, Mstatus, MSTATUS_HIGH, Priv } from './privilege.js';
import { Pmp, PmpAccess } from './pmp.js';
import { Tlb, TLB_INDEX_MASK, tlbMode } from './tlb.js';
import { execute } from './interpreter.js';
import { translate, Access } from './mmu.js';
import type { TranslationTier } from './jit/translation-tier.js';
import { runLockstep } from './jit/lockstep.js';
import { StepStatus } from './jit/block-translator.js';

/** Why `run` returned. */
export const enum StopReason {
  /** The instruction budget ran out. */
  Budget = 0,
  /** The hart executes WFI and no enabled interrupt is pending. */
  WaitForInterrupt = 1,
  /** `requestStop()` was called (for example by a device during an MMIO write). */
  Stop = 2,
}

/** Bits of mip/mie (Priv. spec 3.1.9). */
export const enum Mip {
  SSIP = 1 << 1,
  MSIP = 1 << 3,
  STIP = 1 << 5,
  MTIP = 1 << 7,
  SEIP = 1 << 9,
  MEIP = 1 << 11,
}

export interface HartOptions {
  memory: GuestMemory;
  hartId: number;
  bus: SystemBus;
  time: TimeSource;
  /** Runs hot code translated to WebAssembly (checked block by block if made for lockstep); without it every instruction is interpreted. */
  tier?: TranslationTier | null;
  /** Take over the state already in the hart's block (set up by another thread) instead of resetting it. */
  adoptState?: boolean;
}

/** Thrown (as this one object, never an Error) by slow paths to abandon the current instruction. */
export const TRAP = { trap: true } as const;

const TWO32 = 4294967296;
/** Interrupt priority (Priv. spec 3.1.9): MEI, MSI, MTI, SEI, SSI, STI. */
const INTERRUPT_ORDER = [11, 3, 7, 9, 1, 5];

export class Hart {
  readonly hartId: number;
  readonly memory: GuestMemory;
  readonly bus: SystemBus;
  readonly time: TimeSource;
  /** This hart's state block, as int32 words and as doubles. */
  readonly s: Int32Array;
  readonly d: Float64Array;
  readonly pmp: Pmp;
  /** Data TLBs for loads and stores; instruction fetch has its own. */
  readonly readTlb: Tlb;
  readonly writeTlb: Tlb;
  readonly fetchTlb: Tlb;
  /** Guest-physical RAM bounds and where RAM starts inside guest memory. */
  readonly ramBase: number;
  readonly ramEnd: number;
  readonly ramOffset: number;

  /** log2 of the 4 KiB pages mapped by the leaf PTE of the last translation (see mmu.translate). */
  leafShift = 0;
  /** Whether that translation is the same in every address space (see mmu.translate). */
  leafGlobal = false;
  /** Set when the interpreter must leave its inner loop after the current instruction. */
  exitLoop = false;
  /** Set by requestStop(); run() returns StopReason.Stop. */
  stopRequested = false;
  /** With harts on more threads than host cores: PAUSE ends run() (StopReason.Stop) and sets pauseSeen. */
  yieldOnPause = false;
  pauseSeen = false;
  /** The pending trap raised by a slow path: cause and tval (low, high). */
  trapCause = 0;
  trapTvalLo = 0;
  trapTvalHi = 0;
  /** Synchronous traps taken since construction: host bookkeeping, so limits can end trap loops. */
  trapsTaken = 0;
  /** Called with a disassembled line per instruction when set (slow; translation is off then). */
  trace: ((line: string) => void) | null = null;
  /** The translation tier, shared by the VM's harts; null interprets everything. */
  readonly tier: TranslationTier | null;
  /** The tier the interpreter hands jumps over to: `tier`, or null while it must not. */
  handoffTier: TranslationTier | null;
  /** Whether the tier is set aside while the guest idles (see pauseTier). */
  private tierPaused = false;
  private readonly stateOffset: number;

  constructor(options: HartOptions) {
    this.hartId = options.hartId;
    this.memory = options.memory;
    this.bus = options.bus;
    this.time = options.time;
    const offset = options.memory.hartStateOffset(options.hartId);
    this.stateOffset = offset;
    this.tier = options.tier ?? null;
    this.handoffTier = this.tier;
    this.tier?.attach(offset, (retired, length) => this.stepForTier(retired, length));
    this.s = new Int32Array(options.memory.memory.buffer, offset, S.HART_STATE_BYTES / 4);
    this.d = new Float64Array(options.memory.memory.buffer, offset, S.HART_STATE_BYTES / 8);
    this.pmp = new Pmp(this.s);
    const buffer = options.memory.memory.buffer;
    this.readTlb = new Tlb(buffer, offset + S.READ_TLB);
    this.writeTlb = new Tlb(buffer, offset + S.WRITE_TLB);
    this.fetchTlb = new Tlb(buffer, offset + S.FETCH_TLB);
    this.ramBase = options.memory.ramBase;
    this.ramEnd = options.memory.ramBase + options.memory.ramSize;
    this.ramOffset = options.memory.ramOffset;
    options.memory.decodeCache.register(this.writeTlb);
    options.memory.dirtyLog.register(this.writeTlb);
    if (options.adoptState) this.stateChanged();
    else this.reset(BigInt(options.memory.ramBase));
  }

  /** Power-on reset: M-mode, registers and CSRs cleared, pc set (Priv. spec 3.4). */
  reset(pc: bigint): void {
    this.s.fill(0);
    this.s[S.PRIV] = Priv.Machine;
    this.pc = pc;
    this.pmp.refresh();
    this.updateTlbModes();
    this.flushTlb();
    this.memory.decodeCache.clear();
  }

  /** The architectural state (registers, CSRs, pending interrupts, reservation): what a snapshot keeps. */
  saveState(): Uint8Array {
    return new Uint8Array(this.s.buffer, this.s.byteOffset, S.HART_STATE_BYTES).slice();
  }

  /** Continues from a saved state; the TLBs and decoded instructions, being caches, start empty. */
  restoreState(state: Uint8Array): void {
    if (state.length !== S.HART_STATE_BYTES) throw new RangeError(`a hart state is ${S.HART_STATE_BYTES} bytes, not ${state.length}`);
    new Uint8Array(this.s.buffer, this.s.byteOffset, S.HART_STATE_BYTES).set(state);
    this.stateChanged();
  }

  /** The state block was written from outside (a restore, another thread): what is derived from it or cached starts over. */
  stateChanged(): void {
    this.pmp.refresh();
    this.updateTlbModes();
    this.flushTlb();
    this.memory.decodeCache.clear();
  }

  get pc(): bigint {
    return BigInt.asUintN(64, (BigInt(this.s[S.PC + 1]!) << 32n) | BigInt(this.s[S.PC]! >>> 0));
  }

  set pc(value: bigint) {
    this.s[S.PC] = Number(BigInt.asIntN(32, value));
    this.s[S.PC + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  getRegister(i: number): bigint {
    if (i === 0) return 0n;
    return BigInt.asUintN(64, (BigInt(this.s[2 * i + 1]!) << 32n) | BigInt(this.s[2 * i]! >>> 0));
  }

  setRegister(i: number, value: bigint): void {
    if (i === 0) return;
    this.s[2 * i] = Number(BigInt.asIntN(32, value));
    this.s[2 * i + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  get priv(): Priv {
    return this.s[S.PRIV]! as Priv;
  }

  /** Instructions retired since reset. */
  get instret(): number {
    return this.d[S.F64_INSTRET]!;
  }

  /** Runs up to `budget` instructions. */
  run(budget: number): StopReason {
    this.stopRequested = false;
    this.updateSupervisorTimer();
    if (this.s[S.WAITING]) {
      if (this.pendingInterrupts() === 0) return StopReason.WaitForInterrupt;
      this.s[S.WAITING] = 0;
    }
    let remaining = budget;
    const tier = this.tierPaused ? null : this.tier;
    interpret: for (;;) {
      remaining -= this.interpret(remaining);
      // execute() returns early only to hand a jump to translated code over to the tier.
      if (remaining <= 0 || tier === null || this.stopRequested || this.s[S.WAITING]) break;
      for (;;) {
        let retired: number;
        if (tier.lockstep) {
          retired = runLockstep(this, tier, this.stateOffset, remaining, (n) => this.interpretAlone(n));
        } else {
          retired = tier.run(this.stateOffset, remaining);
          this.d[S.F64_INSTRET] += retired;
        }
        remaining -= retired;
        if (remaining <= 0) break interpret;
        // Nothing ran (the next block does not fit the budget): the interpreter finishes exactly.
        if (retired === 0) break;
        if (this.stopRequested || this.s[S.WAITING]) break;
        // An interrupt may be pending (a CSR write, an SRET...): take it here, as the
        // interpreter would before its next instruction, and go on translated if the code there is.
        if (this.exitLoop) this.takePendingInterrupt();
        // The tier stopped at code not translated yet (counted toward translating it), or at
        // a page not in the fetch TLB: go on translated once that page is filled, if it is.
        if (!tier.resume(this.fetchTlb, this.s[S.PC]!, this.s[S.PC + 1]!, this.s[S.TLB_MODE_FETCH]!, this.fillFetchTlb)) break;
      }
    }
    tier?.flush();
    if (this.stopRequested) return StopReason.Stop;
    if (this.s[S.WAITING]) return StopReason.WaitForInterrupt;
    return StopReason.Budget;
  }

  private takePendingInterrupt(): void {
    this.exitLoop = false;
    const irq = this.interruptToTake();
    if (irq >= 0) this.enterTrap(irq, true, 0, 0, this.s[S.PC]!, this.s[S.PC + 1]!);
  }

  /** Fills the fetch TLB for the pc's page when it is executable RAM; false otherwise, or when fetching there would trap (the interpreter then raises it). */
  private readonly fillFetchTlb = (): boolean => {
    const pcLo = this.s[S.PC]!;
    const pcHi = this.s[S.PC + 1]!;
    try {
      return this.fetchPage(pcLo, pcHi) >= 0;
    } catch (e) {
      if (e === TRAP) return false;
      throw e;
    }
  };

  /** Interprets up to `budget` instructions; returns the budget used (instructions and traps). */
  private interpret(budget: number): number {
    const before = this.d[S.F64_INSTRET]! + this.trapsTaken;
    execute(this, budget);
    // A small integer where it fits, so the budget left stays one too: V8 optimizes execute() for those.
    const used = this.d[S.F64_INSTRET]! + this.trapsTaken - before;
    return used <= 0x7fffffff ? used | 0 : used;
  }

  /** Interprets exactly `n` instructions without handing over to the tier. */
  private interpretAlone(n: number): void {
    this.handoffTier = null;
    try {
      execute(this, n);
    } finally {
      this.handoffTier = this.tierPaused ? null : this.tier;
    }
  }

  /**
   * Interprets everything, counting no jumps toward translation, until resumeTier(): for a
   * guest gone idle, whose few thousand instructions per timer tick are cold code. Interpreted
   * they cost less than translated, and the tier's jump counting was a quarter of an idle
   * slice. Translations already made stay, unused meanwhile.
   */
  pauseTier(): void {
    this.tierPaused = true;
    this.handoffTier = null;
  }

  resumeTier(): void {
    this.tierPaused = false;
    this.handoffTier = this.tier;
  }

  get isTierPaused(): boolean {
    return this.tierPaused;
  }

  /**
   * Interprets the one instruction at the pc for translated code that cannot do it inline
   * (see StepStatus in block-translator.ts). `retired` instructions ran before it in this
   * dispatcher call but are not yet in instret, which counters must see meanwhile; the
   * tier adds them, and this one, when the call returns.
   */
  private stepForTier(retired: number, length: number): number {
    const s = this.s;
    const d = this.d;
    const base = d[S.F64_INSTRET]!;
    const pcLo = s[S.PC]!;
    const pcHi = s[S.PC + 1]!;
    const traps = this.trapsTaken;
    const generation = this.tier!.generation;
    const fetchSlot = (pcLo >>> 12) & TLB_INDEX_MASK;
    const fetchBase = this.fetchTlb.base[fetchSlot];
    d[S.F64_INSTRET] = base + retired;
    this.interpretAlone(1);
    const done = d[S.F64_INSTRET]! - base - retired;
    d[S.F64_INSTRET] = base;
    const nextLo = (pcLo + length) | 0;
    const nextHi = (nextLo >>> 0) < length ? (pcHi + 1) | 0 : pcHi;
    if (this.stopRequested || s[S.WAITING] !== 0 || this.tier!.generation !== generation) return StepStatus.Leave | done;
    // A CSR write that may let an interrupt in (sstatus.SIE, sie...) need not stop the block
    // when none is to be taken and the block's page is still fetched from the same place.
    if (this.exitLoop) {
      if (this.interruptToTake() >= 0 || this.fetchTlb.tagLo[fetchSlot] !== ((pcLo & ~0xfff) | s[S.TLB_MODE_FETCH]!) || this.fetchTlb.tagHi[fetchSlot] !== pcHi || this.fetchTlb.base[fetchSlot] !== fetchBase) {
        return StepStatus.Leave | done;
      }
      this.exitLoop = false;
    }
    if (done === 1 && this.trapsTaken === traps && s[S.PC] === nextLo && s[S.PC + 1] === nextHi) return StepStatus.Continue;
    return StepStatus.Dispatch | done;
  }

  requestStop(): void {
    this.stopRequested = true;
    this.exitLoop = true;
  }

  // Device lines may be driven from another thread than the hart's: atomic updates, so that
  // one thread's change never overwrites another's.
  setPending(bits: number): void {
    Atomics.or(this.s, S.MIP_DEVICES, bits);
    this.exitLoop = true;
  }

  clearPending(bits: number): void {
    Atomics.and(this.s, S.MIP_DEVICES, ~bits);
  }

  isWaitingForInterrupt(): boolean {
    return this.s[S.WAITING] !== 0;
  }

  /** When Sstc is enabled, the time at which STIP rises; otherwise Infinity. */
  timerDeadline(): number {
    if ((this.s[S.MENVCFG + 1]! & 0x80000000) === 0) return Infinity;
    return this.d[S.F64_STIMECMP]!;
  }

  /** Forgets the cached translations of one virtual page (SFENCE.VMA with an address). */
  flushTlbPage(vLo: number, vHi: number): void {
    this.readTlb.flushPage(vLo, vHi);
    this.writeTlb.flushPage(vLo, vHi);
    this.fetchTlb.flushPage(vLo, vHi);
    this.exitLoop = true;
  }

  /** Forgets every cached translation, including the interpreter's current fetch page. */
  flushTlb(): void {
    this.readTlb.flush();
    this.writeTlb.flush();
    this.fetchTlb.flush();
    this.exitLoop = true;
  }

  /**
   * Forgets the translations of the current address space, keeping global ones (a satp
   * write, SFENCE.VMA for one ASID): the kernel's pages survive a switch between processes.
   */
  flushTlbNonGlobal(): void {
    this.readTlb.flushNonGlobal();
    this.writeTlb.flushNonGlobal();
    this.fetchTlb.flushNonGlobal();
    this.exitLoop = true;
  }

  /** mip as software sees it: software-written bits OR device lines. */
  mip(): number {
    return this.s[S.MIP_SOFTWARE]! | this.s[S.MIP_DEVICES]!;
  }

  /** Pending and enabled interrupts, before the global enables. */
  pendingInterrupts(): number {
    return this.mip() & this.s[S.MIE]!;
  }

  /** Sstc: STIP follows time >= stimecmp while menvcfg.STCE is set. */
  updateSupervisorTimer(): void {
    if ((this.s[S.MENVCFG + 1]! & 0x80000000) === 0) return;
    const due = this.time.now() >= this.d[S.F64_STIMECMP]!;
    if (due !== ((this.s[S.MIP_DEVICES]! & Mip.STIP) !== 0)) {
      if (due) Atomics.or(this.s, S.MIP_DEVICES, Mip.STIP);
      else Atomics.and(this.s, S.MIP_DEVICES, ~Mip.STIP);
    }
  }

  /** The interrupt to take now, or -1 (Priv. spec 3.1.9: global enables per privilege). */
  interruptToTake(): number {
    const pending = this.pendingInterrupts();
    if (pending === 0) return -1;
    const priv = this.s[S.PRIV]!;
    const mstatus = this.s[S.MSTATUS]!;
    const deleg = this.s[S.MIDELEG]!;
    const mEnabled = priv < Priv.Machine || (mstatus & Mstatus.MIE) !== 0;
    const sEnabled = priv < Priv.Supervisor || (priv === Priv.Supervisor && (mstatus & Mstatus.SIE) !== 0);
    let enabled = 0;
    if (mEnabled) enabled |= pending & ~deleg;
    if (sEnabled) enabled |= pending & deleg;
    if (enabled === 0) return -1;
    // Interrupts for M-mode outrank those delegated to S-mode.
    const mLevel = enabled & ~deleg;
    const chosen = mLevel !== 0 ? mLevel : enabled;
    for (const bit of INTERRUPT_ORDER) if (chosen & (1 << bit)) return bit;
    return -1;
  }

  /** Records a trap for the current instruction and abandons it. */
  raise(cause: number, tvalLo: number, tvalHi: number): never {
    this.trapCause = cause;
    this.trapTvalLo = tvalLo;
    this.trapTvalHi = tvalHi;
    throw TRAP;
  }

  raiseAddress(cause: number, address: number): never {
    return this.raise(cause, address | 0, Math.floor(address / TWO32) | 0);
  }

  /** Enters the trap handler (Priv. spec 3.1.6.1, 3.1.7, 4.1.1): `interrupt` sets the cause's top bit. */
  enterTrap(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number, epcLo: number, epcHi: number): void {
    const s = this.s;
    const priv = s[S.PRIV]!;
    const deleg = interrupt ? s[S.MIDELEG]! : s[S.MEDELEG]!;
    const causeHi = interrupt ? 0x80000000 | 0 : 0;
    let mstatus = s[S.MSTATUS]!;
    let vector: number;
    if (priv <= Priv.Supervisor && ((deleg >>> cause) & 1) !== 0) {
      s[S.SCAUSE] = cause;
      s[S.SCAUSE + 1] = causeHi;
      s[S.SEPC] = epcLo;
      s[S.SEPC + 1] = epcHi;
      s[S.STVAL] = tvalLo;
      s[S.STVAL + 1] = tvalHi;
      mstatus = (mstatus & ~(Mstatus.SPP | Mstatus.SPIE | Mstatus.SIE))
        | (priv === Priv.Supervisor ? Mstatus.SPP : 0)
        | ((mstatus & Mstatus.SIE) !== 0 ? Mstatus.SPIE : 0);
      s[S.PRIV] = Priv.Supervisor;
      vector = S.STVEC;
    } else {
      s[S.MCAUSE] = cause;
      s[S.MCAUSE + 1] = causeHi;
      s[S.MEPC] = epcLo;
      s[S.MEPC + 1] = epcHi;
      s[S.MTVAL] = tvalLo;
      s[S.MTVAL + 1] = tvalHi;
      mstatus = (mstatus & ~(Mstatus.MPP | Mstatus.MPIE | Mstatus.MIE))
        | (priv << Mstatus.MPP_SHIFT)
        | ((mstatus & Mstatus.MIE) !== 0 ? Mstatus.MPIE : 0);
      s[S.PRIV] = Priv.Machine;
      vector = S.MTVEC;
    }
    s[S.MSTATUS] = mstatus;
    let pcLo = s[vector]! & ~3;
    const pcHi = s[vector + 1]!;
    // Vectored mode sends interrupts to base + 4 * cause.
    if (interrupt && (s[vector]! & 1) !== 0) pcLo = (pcLo + 4 * cause) | 0;
    s[S.PC] = pcLo;
    s[S.PC + 1] = pcHi;
    s[S.WAITING] = 0;
    this.updateTlbModes();
  }

  /**
   * Sets the mode bits TLB lookups and fills use (tlbMode) after the privilege, mstatus.MPRV,
   * MPP, SUM or MXR changed. Entries of other modes stay: they cannot hit in this one.
   */
  updateTlbModes(): void {
    const s = this.s;
    const mstatus = s[S.MSTATUS]!;
    s[S.TLB_MODE_DATA] = tlbMode(this.dataPriv(), (mstatus & Mstatus.SUM) !== 0, (mstatus & Mstatus.MXR) !== 0);
    s[S.TLB_MODE_FETCH] = tlbMode(s[S.PRIV]!, false, false);
    this.exitLoop = true;
  }

  /** mstatus as a 64-bit CSR value: the high half carries UXL, SXL and SD. */
  mstatusHigh(): number {
    return MSTATUS_HIGH | ((this.s[S.MSTATUS]! & Mstatus.FS) === Mstatus.FS_DIRTY ? 0x80000000 | 0 : 0);
  }

  // ---- slow paths of memory access: any address, any alignment, MMIO, faults ----

  /** Effective privilege for loads and stores (Priv. spec 3.1.6.3: MPRV). */
  dataPriv(): Priv {
    const priv = this.s[S.PRIV]! as Priv;
    const mstatus = this.s[S.MSTATUS]!;
    if (priv === Priv.Machine && (mstatus & Mstatus.MPRV) !== 0) return ((mstatus >>> Mstatus.MPP_SHIFT) & 3) as Priv;
    return priv;
  }

  private isRam(paddr: number, size: number): boolean {
    return paddr >= this.ramBase && paddr + size <= this.ramEnd;
  }

  /** Reads `size` (1, 2, 4) bytes at a physical address that is not known to be RAM. */
  private physicalRead(paddr: number, size: 1 | 2 | 4, cause: Cause, vLo: number, vHi: number): number {
    if (paddr >= this.ramBase && paddr + size <= this.ramEnd) {
      const off = paddr - this.ramBase + this.ramOffset;
      this.memory.pager?.ensure(off, size);
      const u8 = this.memory.u8;
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = (v << 8) | u8[off + i]!;
      return v;
    }
    const v = this.bus.read(paddr, size);
    this.exitLoop = true;
    if (v < 0) this.raise(cause, vLo, vHi);
    return v;
  }

  private physicalWrite(paddr: number, size: 1 | 2 | 4, value: number, vLo: number, vHi: number): void {
    if (paddr >= this.ramBase && paddr + size <= this.ramEnd) {
      const off = paddr - this.ramBase + this.ramOffset;
      this.memory.pager?.ensure(off, size);
      const u8 = this.memory.u8;
      for (let i = 0; i < size; i++) u8[off + i] = value >>> (8 * i);
      if (this.memory.decodeCache.written(off, size)) this.exitLoop = true;
      this.memory.dirtyLog.mark(off, size);
      return;
    }
    this.exitLoop = true;
    if (!this.bus.write(paddr, size, value)) this.raise(Cause.StoreAccessFault, vLo, vHi);
  }

  /** Result of the last slow load: low and high words. */
  loadLo = 0;
  loadHi = 0;

  /**
   * A load of `size` bytes at virtual address (vLo, vHi) through translation, PMP and
   * devices; sets loadLo/loadHi (zero-extended). Misaligned loads complete, split by page.
   */
  loadSlow(vLo: number, vHi: number, size: number): void {
    const pageRest = 4096 - (vLo & 0xfff);
    if (size > pageRest) {
      // Crosses a page: translate both pages before reading any byte, so a fault is precise.
      const nLo = (vLo + pageRest) | 0;
      const nHi = (nLo >>> 0) < (vLo >>> 0) ? (vHi + 1) | 0 : vHi;
      const first = translate(this, vLo, vHi, Access.Load);
      const second = translate(this, nLo, nHi, Access.Load);
      this.checkPmp(first, pageRest, PmpAccess.Read, Cause.LoadAccessFault, vLo, vHi);
      this.checkPmp(second, size - pageRest, PmpAccess.Read, Cause.LoadAccessFault, nLo, nHi);
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < size; i++) {
        const b = i < pageRest ? this.physicalRead(first + i, 1, Cause.LoadAccessFault, vLo, vHi)
          : this.physicalRead(second + i - pageRest, 1, Cause.LoadAccessFault, nLo, nHi);
        if (i < 4) lo |= b << (8 * i);
        else hi |= b << (8 * (i - 4));
      }
      this.loadLo = lo;
      this.loadHi = hi;
      return;
    }
    const paddr = translate(this, vLo, vHi, Access.Load);
    this.checkPmp(paddr, size, PmpAccess.Read, Cause.LoadAccessFault, vLo, vHi);
    this.fillTlb(this.readTlb, vLo, vHi, paddr, Access.Load);
    if (size === 8) {
      if ((paddr & 7) === 0 && this.bus.read64 !== undefined && !this.isRam(paddr, 8)) {
        // One device access: a 64-bit counter (mtime) read in halves could tear between them.
        this.exitLoop = true;
        const words = this.bus.read64(paddr);
        if (words === null) this.raise(Cause.LoadAccessFault, vLo, vHi);
        else [this.loadLo, this.loadHi] = [words[0] | 0, words[1] | 0];
        return;
      }
      if ((paddr & 3) === 0) {
        this.loadLo = this.physicalRead(paddr, 4, Cause.LoadAccessFault, vLo, vHi) | 0;
        this.loadHi = this.physicalRead(paddr + 4, 4, Cause.LoadAccessFault, vLo, vHi) | 0;
        return;
      }
      this.loadLo = this.readBytes(paddr, 4, vLo, vHi);
      this.loadHi = this.readBytes(paddr + 4, 4, vLo, vHi);
      return;
    }
    this.loadLo = (paddr & (size - 1)) === 0
      ? this.physicalRead(paddr, size as 1 | 2 | 4, Cause.LoadAccessFault, vLo, vHi) | 0
      : this.readBytes(paddr, size, vLo, vHi);
    this.loadHi = 0;
  }

  private readBytes(paddr: number, size: number, vLo: number, vHi: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.physicalRead(paddr + i, 1, Cause.LoadAccessFault, vLo, vHi);
    return v | 0;
  }

  /** A store of `size` bytes (value in lo, hi) at virtual address (vLo, vHi); see loadSlow. */
  storeSlow(vLo: number, vHi: number, size: number, lo: number, hi: number): void {
    const pageRest = 4096 - (vLo & 0xfff);
    if (size > pageRest) {
      const nLo = (vLo + pageRest) | 0;
      const nHi = (nLo >>> 0) < (vLo >>> 0) ? (vHi + 1) | 0 : vHi;
      const first = translate(this, vLo, vHi, Access.Store);
      const second = translate(this, nLo, nHi, Access.Store);
      this.checkPmp(first, pageRest, PmpAccess.Write, Cause.StoreAccessFault, vLo, vHi);
      this.checkPmp(second, size - pageRest, PmpAccess.Write, Cause.StoreAccessFault, nLo, nHi);
      for (let i = 0; i < size; i++) {
        const b = (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff;
        if (i < pageRest) this.physicalWrite(first + i, 1, b, vLo, vHi);
        else this.physicalWrite(second + i - pageRest, 1, b, nLo, nHi);
      }
      return;
    }
    const paddr = translate(this, vLo, vHi, Access.Store);
    this.checkPmp(paddr, size, PmpAccess.Write, Cause.StoreAccessFault, vLo, vHi);
    this.fillTlb(this.writeTlb, vLo, vHi, paddr, Access.Store);
    if ((paddr & (size - 1)) === 0) {
      if (size === 8 && this.bus.write64 !== undefined && !this.isRam(paddr, 8)) {
        this.exitLoop = true;
        if (!this.bus.write64(paddr, lo, hi)) this.raise(Cause.StoreAccessFault, vLo, vHi);
      } else if (size === 8) {
        this.physicalWrite(paddr, 4, lo, vLo, vHi);
        this.physicalWrite(paddr + 4, 4, hi, vLo, vHi);
      } else {
        this.physicalWrite(paddr, size as 1 | 2 | 4, lo, vLo, vHi);
      }
      return;
    }
    for (let i = 0; i < size; i++) {
      this.physicalWrite(paddr + i, 1, (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff, vLo, vHi);
    }
  }

  /** A write of `size` bytes reached RAM at this guest-memory offset without the TLB. */
  noteWrite(offset: number, size: number): void {
    if (this.memory.decodeCache.written(offset, size)) this.exitLoop = true;
    this.memory.dirtyLog.mark(offset, size);
  }

  /** Caches a data translation when its page may be (see cacheablePage); never code pages for writes. */
  private fillTlb(tlb: Tlb, vLo: number, vHi: number, paddr: number, access: Access.Load | Access.Store): void {
    const offset = this.cacheablePage(paddr, access === Access.Store ? PmpAccess.Write : PmpAccess.Read, this.dataPriv());
    if (offset < 0) return;
    // The TLB lets later accesses reach the page directly: it must hold its contents by then.
    this.memory.pager?.ensure(offset, 4096);
    // A store follows: with the page in the write TLB, later stores to it are not seen.
    if (access === Access.Store) this.memory.dirtyLog.mark(offset, 4096);
    if (access === Access.Store && this.memory.decodeCache.holds(offset)) return;
    tlb.fill(vLo, vHi, offset, this.s[S.TLB_MODE_DATA]!, this.leafShift, this.leafGlobal);
    // Another hart's thread may have decoded code in the page meanwhile, and searched this TLB before the fill.
    if (access === Access.Store && this.memory.shared && this.memory.decodeCache.holds(offset)) tlb.flushPage(vLo, vHi);
  }

  /**
   * The guest-memory offset of the 4 KiB page holding `paddr` when the whole page is RAM and
   * PMP allows every access of the kind to it, so it may be cached; otherwise -1.
   */
  private cacheablePage(paddr: number, access: PmpAccess, priv: Priv): number {
    const page = paddr - (paddr % 4096);
    if (page < this.ramBase || page + 4096 > this.ramEnd) return -1;
    if (!this.pmp.grantsPage(page, access, priv)) return -1;
    return page - this.ramBase + this.ramOffset;
  }

  /**
   * Translates the fetch address and returns the byte offset in guest memory of its page,
   * cached in the fetch TLB, or -1 when that page is not cacheable RAM (then `fetchHalfSlow`
   * reads the halfword).
   */
  fetchPage(vLo: number, vHi: number): number {
    const page = this.cacheablePage(translate(this, vLo, vHi, Access.Fetch), PmpAccess.Execute, this.priv);
    if (page >= 0) {
      this.memory.pager?.ensure(page, 4096);
      this.fetchTlb.fill(vLo, vHi, page, this.s[S.TLB_MODE_FETCH]!, this.leafShift, this.leafGlobal);
    }
    return page;
  }

  /** Fetches a halfword from a page that is not cacheable RAM: a device, or partial PMP. */
  fetchHalfSlow(vLo: number, vHi: number): number {
    const paddr = translate(this, vLo, vHi, Access.Fetch);
    this.checkPmp(paddr, 2, PmpAccess.Execute, Cause.InstructionAccessFault, vLo, vHi);
    return this.physicalRead(paddr, 2, Cause.InstructionAccessFault, vLo, vHi);
  }

  private checkPmp(paddr: number, size: number, access: PmpAccess, cause: Cause, vLo: number, vHi: number): void {
    const priv = access === PmpAccess.Execute ? this.priv : this.dataPriv();
    if (!this.pmp.check(paddr, size, access, priv)) this.raise(cause, vLo, vHi);
  }

  /**
   * The guest-memory byte offset of an atomic access (LR, SC, AMO) that missed the TLBs: it
   * must be aligned (else a misaligned trap), in RAM and allowed by PMP (else an access
   * fault). Caches the page for the fast path (atomic-instructions.ts): LR in the read TLB;
   * SC and AMOs in both, since a store translation (W, A, D set) also allows loads.
   */
  atomicOffset(vLo: number, vHi: number, size: number, isLoadReserved: boolean): number {
    if ((vLo & (size - 1)) !== 0) {
      this.raise(isLoadReserved ? Cause.LoadMisaligned : Cause.StoreMisaligned, vLo, vHi);
    }
    const paddr = translate(this, vLo, vHi, isLoadReserved ? Access.Load : Access.Store);
    const fault = isLoadReserved ? Cause.LoadAccessFault : Cause.StoreAccessFault;
    if (paddr < this.ramBase || paddr + size > this.ramEnd) this.raise(fault, vLo, vHi);
    const priv = this.dataPriv();
    // An AMO needs both read and write permission.
    if (!this.pmp.check(paddr, size, PmpAccess.Read, priv)) this.raise(fault, vLo, vHi);
    if (!isLoadReserved && !this.pmp.check(paddr, size, PmpAccess.Write, priv)) this.raise(fault, vLo, vHi);
    this.fillTlb(this.readTlb, vLo, vHi, paddr, Access.Load);
    if (!isLoadReserved) this.fillTlb(this.writeTlb, vLo, vHi, paddr, Access.Store);
    const offset = paddr - this.ramBase + this.ramOffset;
    this.memory.pager?.ensure(offset, size);
    return offset;
  }

  /** The physical address an offset in guest memory stands for (reservations are physical). */
  physicalOf(offset: number): number {
    return offset - this.ramOffset + this.ramBase;
  }
}
