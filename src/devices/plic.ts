// The RISC-V PLIC (platform-level interrupt controller), as Linux's "sifive,plic-1.0.0" /
// "riscv,plic0" driver and OpenSBI program it. Behaviour and register map follow the RISC-V PLIC
// Specification 1.0.0 (section names cited below); level-triggered sources only.

import type { AccessSize, IrqLine, MmioDevice } from './mmio-device.js';

const PRIORITY_BASE = 0x000000;
const PENDING_BASE = 0x001000;
const ENABLE_BASE = 0x002000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
/** Each context's threshold and claim/complete registers sit in their own 4 KiB page. */
const CONTEXT_SHIFT = 12;
const CLAIM_COMPLETE = 4;
/** "Memory Map": source ids 1..1023 and contexts 0..15871 fill the 64 MiB window. */
const MAX_SOURCES = 1023;
const MAX_CONTEXTS = 15872;
/** Priority and threshold are WARL (Interrupt Priorities, Priority Thresholds); three bits give levels 0..7. */
const PRIORITY_MASK = 7;

export interface PlicOptions {
  /** Interrupt sources, ids 1..sources (id 0 means "no interrupt"). Default 95, the virt board's riscv,ndev. */
  sources?: number;
  /**
   * One output per context, in context order. On the virt board context 2h is hart h in M-mode
   * (wire it to mip.MEIP) and 2h+1 is hart h in S-mode (mip.SEIP).
   */
  contexts: readonly IrqLine[];
}

/** Per-context registers in a snapshot. */
export interface PlicContextState {
  /** Source ids whose enable bit is set. */
  enabled: number[];
  threshold: number;
}

/** Named, versioned state for save/restore. Sets of sources are lists of ids. */
export interface PlicState {
  version: 1;
  sources: number;
  /** priorities[id] for id 0..sources; priorities[0] is always 0. */
  priorities: number[];
  /** Sources with their IP bit set. */
  pending: number[];
  /** Sources claimed and not yet completed: their gateway holds further requests back. */
  inService: number[];
  /** Sources whose input line is high. */
  asserted: number[];
  contexts: PlicContextState[];
}

export class PlicError extends Error {
  readonly kind = 'plic';
}

export class Plic implements MmioDevice {
  /** Size of the MMIO window: the whole map of the specification ("Memory Map"). */
  static readonly WINDOW_SIZE = 0x4000000;
  static readonly DEFAULT_SOURCES = 95;

  readonly sourceCount: number;
  readonly contextCount: number;
  private readonly outputs: readonly IrqLine[];
  /** 32-bit words per bit array (pending, enables), packed as in the register map. */
  private readonly words: number;
  /** Bits of the ids that exist (1..sources), per word: all other enable bits are hardwired to zero. */
  private readonly validMask: Uint32Array;
  private readonly priority: Uint8Array;
  private readonly pending: Uint32Array;
  private readonly inService: Uint32Array;
  private readonly asserted: Uint32Array;
  /** Context c's enable words start at c * words. */
  private readonly enable: Uint32Array;
  private readonly threshold: Uint8Array;
  private readonly outputLevel: boolean[];

  constructor(options: PlicOptions) {
    const sources = options.sources ?? Plic.DEFAULT_SOURCES;
    const contexts = options.contexts.length;
    if (!Number.isInteger(sources) || sources < 1 || sources > MAX_SOURCES) {
      throw new PlicError(`PLIC source count ${sources} is out of range; use 1 to ${MAX_SOURCES}`);
    }
    if (contexts < 1 || contexts > MAX_CONTEXTS) {
      throw new PlicError(`PLIC needs 1 to ${MAX_CONTEXTS} context outputs, got ${contexts}`);
    }
    this.sourceCount = sources;
    this.contextCount = contexts;
    this.outputs = options.contexts;
    this.words = (sources >> 5) + 1;
    this.validMask = new Uint32Array(this.words);
    for (let id = 1; id <= sources; id++) this.validMask[id >> 5]! |= 1 << (id & 31);
    this.priority = new Uint8Array(sources + 1);
    this.pending = new Uint32Array(this.words);
    this.inService = new Uint32Array(this.words);
    this.asserted = new Uint32Array(this.words);
    this.enable = new Uint32Array(contexts * this.words);
    this.threshold = new Uint8Array(contexts);
    this.outputLevel = new Array<boolean>(contexts).fill(false);
    for (const line of this.outputs) line.set(false);
  }

  /**
   * The input line of source `id` (1..sources), which a device drives. Throws PlicError for an
   * id that does not exist: that is a wiring mistake of the board, not something a guest can do.
   */
  source(id: number): IrqLine {
    if (!Number.isInteger(id) || id < 1 || id > this.sourceCount) {
      throw new PlicError(`PLIC has no interrupt source ${id}; sources are 1 to ${this.sourceCount}`);
    }
    return { set: (level: boolean) => this.setSource(id, level) };
  }

  /**
   * Power-on state: priorities, enables and thresholds zero, nothing pending or in service.
   * Input lines keep their levels (they belong to the devices), so a line that is high pends again.
   */
  reset(): void {
    this.priority.fill(0);
    this.pending.fill(0);
    this.inService.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    this.pendAsserted();
    this.updateOutputs();
  }

  read(offset: number, size: AccessSize): number {
    // "Memory Map": the registers are 32 bits wide, accessed with LW and SW. Anything else reads 0.
    if (!Plic.isWordAccess(offset, size)) return 0;
    if (offset < PENDING_BASE) {
      const id = (offset - PRIORITY_BASE) >> 2;
      return id <= this.sourceCount ? this.priority[id]! : 0;
    }
    if (offset < ENABLE_BASE) {
      const word = (offset - PENDING_BASE) >> 2;
      return word < this.words ? this.pending[word]! : 0;
    }
    if (offset < CONTEXT_BASE) {
      const at = this.enableIndex(offset);
      return at < 0 ? 0 : this.enable[at]!;
    }
    const context = (offset - CONTEXT_BASE) >> CONTEXT_SHIFT;
    if (context >= this.contextCount) return 0;
    const reg = offset & ((1 << CONTEXT_SHIFT) - 1);
    if (reg === 0) return this.threshold[context]!;
    if (reg === CLAIM_COMPLETE) return this.claim(context);
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (!Plic.isWordAccess(offset, size)) return;
    if (offset < PENDING_BASE) {
      const id = (offset - PRIORITY_BASE) >> 2;
      // Source 0 does not exist; its priority stays 0.
      if (id === 0 || id > this.sourceCount) return;
      this.priority[id] = value & PRIORITY_MASK;
      this.updateOutputs();
      return;
    }
    // The pending array is read-only ("Interrupt Pending Bits": cleared only by a claim).
    if (offset < ENABLE_BASE) return;
    if (offset < CONTEXT_BASE) {
      const at = this.enableIndex(offset);
      if (at < 0) return;
      this.enable[at] = value & this.validMask[at % this.words]!;
      this.updateOutput(Math.floor(at / this.words));
      return;
    }
    const context = (offset - CONTEXT_BASE) >> CONTEXT_SHIFT;
    if (context >= this.contextCount) return;
    const reg = offset & ((1 << CONTEXT_SHIFT) - 1);
    if (reg === 0) {
      this.threshold[context] = value & PRIORITY_MASK;
      this.updateOutput(context);
    } else if (reg === CLAIM_COMPLETE) {
      this.complete(context, value >>> 0);
    }
  }

  save(): PlicState {
    return {
      version: 1,
      sources: this.sourceCount,
      priorities: [...this.priority],
      pending: this.idsIn(this.pending),
      inService: this.idsIn(this.inService),
      asserted: this.idsIn(this.asserted),
      contexts: Array.from({ length: this.contextCount }, (_, c) => ({
        enabled: this.idsIn(this.enable, c * this.words),
        threshold: this.threshold[c]!,
      })),
    };
  }

  restore(state: PlicState): void {
    if (state.version !== 1) {
      throw new PlicError(`cannot restore PLIC state version ${String(state.version)}; this build reads version 1`);
    }
    if (state.sources !== this.sourceCount || state.contexts.length !== this.contextCount) {
      throw new PlicError(
        `cannot restore PLIC state for ${state.sources} sources and ${state.contexts.length} contexts ` +
          `into a PLIC with ${this.sourceCount} and ${this.contextCount}`,
      );
    }
    if (state.priorities.length !== this.sourceCount + 1) {
      throw new PlicError(`cannot restore PLIC state: ${state.priorities.length} priorities for ${this.sourceCount} sources (corrupt snapshot?)`);
    }
    const lists = [state.pending, state.inService, state.asserted, ...state.contexts.map((c) => c.enabled)];
    if (lists.some((list) => list.some((id) => !Number.isInteger(id) || id < 1 || id > this.sourceCount))) {
      throw new PlicError('cannot restore PLIC state: a source id is out of range (corrupt snapshot?)');
    }
    this.priority.set(state.priorities.map((p, id) => (id === 0 ? 0 : p & PRIORITY_MASK)));
    this.fillFrom(this.pending, state.pending);
    this.fillFrom(this.inService, state.inService);
    this.fillFrom(this.asserted, state.asserted);
    this.enable.fill(0);
    state.contexts.forEach((c, context) => {
      this.fillFrom(this.enable, c.enabled, context * this.words);
      this.threshold[context] = c.threshold & PRIORITY_MASK;
    });
    // A source in service cannot also be pending: its gateway holds the next request back.
    for (let w = 0; w < this.words; w++) this.pending[w]! &= ~this.inService[w]!;
    this.pendAsserted();
    // Drive every output, whatever it was before: the hart's mip may have been restored separately.
    for (let c = 0; c < this.contextCount; c++) {
      this.outputLevel[c] = this.bestFor(c) !== 0;
      this.outputs[c]!.set(this.outputLevel[c]!);
    }
  }

  /** "Interrupt Gateways", level-sensitive: the line becomes one request, held back while in service. */
  private setSource(id: number, level: boolean): void {
    const word = id >> 5;
    const bit = 1 << (id & 31);
    if (!level) {
      // The gateway cannot retract a request it has forwarded: the IP bit stays set.
      this.asserted[word]! &= ~bit;
      return;
    }
    this.asserted[word]! |= bit;
    if ((this.pending[word]! | this.inService[word]!) & bit) return;
    this.pending[word]! |= bit;
    this.updateOutputs();
  }

  /**
   * "Interrupt Claim Process": the highest-priority pending enabled source, which stops being
   * pending and goes into service; 0 when there is none. The specification lets a claim ignore
   * the threshold; here a claim sees exactly what raised the notification (as QEMU's virt PLIC
   * does), so a context that masks everything by threshold claims nothing.
   */
  private claim(context: number): number {
    const id = this.bestFor(context);
    if (id === 0) return 0;
    const bit = 1 << (id & 31);
    this.pending[id >> 5]! &= ~bit;
    this.inService[id >> 5]! |= bit;
    this.updateOutputs();
    return id;
  }

  /**
   * "Interrupt Completion": the id is not checked against the last claim, but a completion for a
   * source not enabled on this context is ignored. If the line is still high, the gateway forwards
   * a new request at once.
   */
  private complete(context: number, id: number): void {
    if (id < 1 || id > this.sourceCount) return;
    const word = id >> 5;
    const bit = 1 << (id & 31);
    if (!(this.enable[context * this.words + word]! & bit)) return;
    this.inService[word]! &= ~bit;
    if (this.asserted[word]! & bit) this.pending[word]! |= bit;
    this.updateOutputs();
  }

  /** The claimable source for a context: pending, enabled, priority above the threshold; ties go to the lowest id. */
  private bestFor(context: number): number {
    let best = 0;
    let bestPriority: number = this.threshold[context]!;
    const base = context * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = this.pending[w]! & this.enable[base + w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        const id = (w << 5) + (31 - Math.clz32(low));
        // Strictly greater: "Priority Thresholds" masks priorities <= threshold, so priority 0
        // never interrupts, and the first (lowest) id wins a tie.
        if (this.priority[id]! > bestPriority) {
          best = id;
          bestPriority = this.priority[id]!;
        }
        bits ^= low;
      }
    }
    return best;
  }

  private updateOutputs(): void {
    for (let c = 0; c < this.contextCount; c++) this.updateOutput(c);
  }

  /** "Interrupt Notifications": EIP is high while the context has a claimable source. */
  private updateOutput(context: number): void {
    const level = this.bestFor(context) !== 0;
    if (level !== this.outputLevel[context]) {
      this.outputLevel[context] = level;
      this.outputs[context]!.set(level);
    }
  }

  /** A high line with no request outstanding becomes pending (after reset and restore). */
  private pendAsserted(): void {
    for (let w = 0; w < this.words; w++) this.pending[w]! |= this.asserted[w]! & ~this.inService[w]!;
  }

  /** An aligned 32-bit access inside the window: the only kind the registers answer. */
  private static isWordAccess(offset: number, size: AccessSize): boolean {
    return size === 4 && Number.isInteger(offset) && offset >= 0 && offset < Plic.WINDOW_SIZE && (offset & 3) === 0;
  }

  /** Index into `enable` for an offset in the enable block, or -1 for words beyond the sources or contexts. */
  private enableIndex(offset: number): number {
    const context = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
    const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
    if (context >= this.contextCount || word >= this.words) return -1;
    return context * this.words + word;
  }

  private idsIn(bits: Uint32Array, from = 0): number[] {
    const ids: number[] = [];
    for (let id = 1; id <= this.sourceCount; id++) {
      if (bits[from + (id >> 5)]! & (1 << (id & 31))) ids.push(id);
    }
    return ids;
  }

  private fillFrom(bits: Uint32Array, ids: readonly number[], from = 0): void {
    bits.fill(0, from, from + this.words);
    for (const id of ids) bits[from + (id >> 5)]! |= 1 << (id & 31);
  }
}
