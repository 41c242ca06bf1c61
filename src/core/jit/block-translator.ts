// Translates one guest basic block (straight-line code in one 4 KiB page, up to a control
// transfer) into the body of a WebAssembly function
// `(state: i32, pc: i64, retired: i32, budget: i32) -> i32`.
//
// The code is position-independent: translations are keyed by where the code lies in guest
// memory, so the same page mapped at two virtual addresses (shared libraries) shares them,
// and pc-relative values are computed from the pc the block is entered at.
//
// Translated code never traps. Anything it cannot do inline (a TLB miss, a misaligned or
// MMIO access, a CSR, floating point) is handed to the interpreter with the pc
// pointing at it, so it runs exactly and precisely: through the imported `step` function,
// after which the block goes on when nothing it relies on changed (StepStatus), or, for
// lockstep runs, by ending the block before it. The function returns `retired` plus the
// instructions it retired, with EXIT set when JavaScript must look before going on.
//
// A block whose successor starts in the same page, and was compiled into the same module,
// tail-calls it directly while the budget has room for a whole block: loops inside a page
// run without going back to the dispatcher. The successor needs no fetch-TLB check (same
// virtual page as the block, which was checked on entry) and cannot be stale (a write to the
// page drops both).

import { decodeOp, Op as Rv } from '../decode/instruction-table.js';
import { F64_RESERVATION_ADDRESS, PC, READ_TLB, RESERVATION_VALID, TLB_MODE_DATA, WRITE_TLB } from '../hart-state.js';
import { TLB_BASE, TLB_INDEX_MASK, TLB_TAG_HI, tagMask } from '../tlb.js';
import { CodeWriter, Op, ValType } from './wasm-module-builder.js';

/** Set in a block's result when the interpreter must run the next instruction. */
export const EXIT = 1 << 30;
/** Most instructions one dispatcher call may retire, so the count never reaches EXIT. */
export const MAX_RUN_BUDGET = 1 << 29;

/**
 * What `step(state, retired, length)` answers after interpreting one instruction: the low
 * bit says it retired; Continue means the pc moved past it and nothing the block relies on
 * changed (translation, privilege, interrupts, this code); Dispatch leaves the block, the pc
 * already set; Leave also returns to JavaScript (EXIT).
 */
export const enum StepStatus {
  Continue = 0,
  Retired = 1,
  Dispatch = 2,
  Leave = 4,
}
/** Shifts StepStatus.Leave onto EXIT. */
const LEAVE_TO_EXIT = Math.log2(EXIT) - Math.log2(StepStatus.Leave);
/** The module's function index of the imported `step`. */
export const STEP_FUNCTION = 0;
export const STEP_PARAMS: ValType[] = [ValType.I32, ValType.I32, ValType.I32];
/** Longest block, so that the dispatcher can stop within a budget. */
export const MAX_BLOCK_INSTRUCTIONS = 64;

const PC_BYTES = PC * 4;

// Locals of a block function: the parameters, then scratch.
const STATE = 0; // i32: guest-memory offset of the hart's state block
const BASE_PC = 1; // i64: the pc the block was entered at
const RETIRED = 2; // i32: instructions retired in this dispatcher call before the block
const BUDGET = 3; // i32: instructions this dispatcher call may retire
const ADDR = 4; // i64: effective address
const ADDR_LO = 5; // i32
const SLOT = 6; // i32: TLB index * 4
const A = 7; // i64 scratch
const B = 8; // i64 scratch
const HOST = 9; // i32: guest-memory address of a store
const STATUS = 10; // i32: what step answered
export const BLOCK_PARAMS: ValType[] = [ValType.I32, ValType.I64, ValType.I32, ValType.I32];
const SCRATCH_LOCALS: ValType[] = [ValType.I64, ValType.I32, ValType.I32, ValType.I64, ValType.I64, ValType.I32, ValType.I32];
/** The first local free for caching guest registers. */
const FIRST_REGISTER_LOCAL = BLOCK_PARAMS.length + SCRATCH_LOCALS.length;

/**
 * For lockstep runs, blocks record each store in an undo log before making it: a count
 * word, then per store its guest-memory address, size and the bytes it overwrites.
 */
export const UNDO_ENTRY_BYTES = 16;
export const UNDO_LOG_BYTES = 8 + UNDO_ENTRY_BYTES * MAX_BLOCK_INSTRUCTIONS;

export interface TranslateOptions {
  /** Guest-memory offset of the undo log, when stores must be logged (lockstep). */
  undoLog?: number;
  /** The function index, in the module being built, of the block at a key, or -1: successors found there are tail-called. */
  chainTo?: (key: number) => number;
  /** The module imports `step` (STEP_FUNCTION): what is not translated inline calls it instead of ending the block. */
  step?: boolean;
  /** Physical address minus guest-memory offset of RAM, for the LR/SC reservation (kept as a physical address). */
  physicalOffset: number;
  /**
   * Other harts run at the same time on other threads: atomics are left to the interpreter
   * (which uses the host's atomic operations) and FENCE becomes a real fence.
   */
  sharedMemory?: boolean;
}

export interface TranslatedBlock {
  code: CodeWriter;
  /** The function's locals after its parameters: scratch, then the guest registers it caches. */
  locals: ValType[];
  /** Instructions the block retires at most. */
  length: number;
  /** Instructions in it left to the interpreter through `step`. */
  stepped: number;
}

interface Decoded {
  op: Rv;
  insn: number;
  len: number;
}

/** The RV64G word at `offset` of guest memory (compressed ones expanded), or null if it leaves the page. */
function fetch(u16: Uint16Array, compressed: Int32Array, pageBase: number, offset: number): Decoded | null {
  const raw = u16[(pageBase + offset) >>> 1]!;
  if ((raw & 3) !== 3) {
    const insn = compressed[raw]!;
    return { op: insn === 0 ? Rv.ILLEGAL : decodeOp(insn), insn, len: 2 };
  }
  if (offset + 4 > 4096) return null;
  const insn = raw | (u16[((pageBase + offset) >>> 1) + 1]! << 16);
  return { op: decodeOp(insn), insn, len: 4 };
}

/** The PAUSE hint (Zihintpause): FENCE with predecessor W and no successor. */
const PAUSE = 0x0100000f;

const rdOf = (insn: number) => (insn >>> 7) & 31;
const rs1Of = (insn: number) => (insn >>> 15) & 31;
const rs2Of = (insn: number) => (insn >>> 20) & 31;
const iImm = (insn: number) => insn >> 20;
const sImm = (insn: number) => ((insn >> 20) & ~31) | ((insn >>> 7) & 31);
const bImm = (insn: number) => ((insn >> 19) & 0xfffff000) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
const jImm = (insn: number) => ((insn >> 11) & 0xfff00000) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);

/** Whether translateBlock makes a block at byte `start` of the page at `pageBase` (with `step` or not). */
export function startsTranslatable(u16: Uint16Array, compressed: Int32Array, pageBase: number, start: number, step: boolean, sharedMemory = false): boolean {
  const d = fetch(u16, compressed, pageBase, start);
  return step || (d !== null && isTranslatable(d.op, sharedMemory));
}

/** Whether the tier translates `op` inline; the rest end a block. */
export function isTranslatable(op: Rv, sharedMemory = false): boolean {
  return (op >= Rv.LUI && op <= Rv.FENCE) || (op >= Rv.MUL && op <= Rv.REMUW) || (!sharedMemory && op >= Rv.LR_W && op <= Rv.AMOMAXU_D);
}

function isControlTransfer(op: Rv): boolean {
  return op >= Rv.JAL && op <= Rv.BGEU;
}

/**
 * The page offsets where the block at byte `start` of the page at `pageBase` may go next
 * within its page (branch and JAL targets, the fall-through), as translateBlock cuts it.
 */
export function blockSuccessors(u16: Uint16Array, compressed: Int32Array, pageBase: number, start: number): number[] {
  let offset = start;
  for (let count = 0; offset < 4096 && count < MAX_BLOCK_INSTRUCTIONS; count++) {
    const d = fetch(u16, compressed, pageBase, offset);
    if (d === null) return [];
    const next = offset + d.len;
    if (d.op === Rv.JAL) return inPage([offset + jImm(d.insn)]);
    if (d.op === Rv.JALR) return [];
    if (isControlTransfer(d.op)) return inPage([offset + bImm(d.insn), next]);
    offset = next;
  }
  return inPage([offset]);
}

const inPage = (offsets: number[]) => offsets.filter((offset) => offset >= 0 && offset < 4096);

/**
 * Translates the block at byte `start` of the RAM page at guest-memory offset `pageBase`,
 * or returns null when its first instruction is not one the tier translates (without `step`).
 */
export function translateBlock(u16: Uint16Array, compressed: Int32Array, pageBase: number, start: number, options: TranslateOptions): TranslatedBlock | null {
  const code = new CodeWriter();
  const chainTo = options.chainTo;
  const successor = chainTo === undefined ? undefined : (delta: number) => {
    const target = start + delta;
    return target >= 0 && target < 4096 ? chainTo(pageBase + target) : -1;
  };
  const step = options.step ?? false;
  const shared = options.sharedMemory ?? false;
  const emit = new BlockEmitter(code, options.undoLog ?? -1, step, options.physicalOffset, shared, successor);
  let offset = start;
  let count = 0;
  let stepped = 0;
  for (;;) {
    if (offset >= 4096 || count === MAX_BLOCK_INSTRUCTIONS) {
      emit.exit(offset - start, count, 0); // the next block, in this page or the next
      break;
    }
    const d = fetch(u16, compressed, pageBase, offset);
    if (d === null && step) {
      // An instruction that runs into the next page: the interpreter fetches it across.
      emit.step(offset - start, count, 4);
      stepped++;
      emit.exit(offset + 4 - start, count + 1, 0);
      count++;
      break;
    }
    if (d === null || (!step && !isTranslatable(d.op, shared))) {
      if (count === 0) return null;
      emit.exit(offset - start, count, EXIT);
      break;
    }
    // PAUSE may end the run (Hart.yieldOnPause): the interpreter does it.
    if (isTranslatable(d.op, shared) && !(shared && d.insn === PAUSE)) {
      emit.instruction(d, offset - start, count);
    } else {
      emit.step(offset - start, count, d.len);
      stepped++;
    }
    count++;
    offset += d.len;
    if (isControlTransfer(d.op)) break;
  }
  return { code, length: count, stepped, locals: [...SCRATCH_LOCALS, ...emit.registerLocals] };
}

/**
 * Emits a block's code. Guest registers live in locals while the block runs: each is loaded
 * from the state block on first use, and those written are stored back before anything that
 * reads them from memory (leaving the block, a tail call, `step`), so the block's loads and
 * stores of the state block happen once per register, not once per use.
 */
class BlockEmitter {
  /** One i64 local per guest register the block uses. */
  readonly registerLocals: ValType[] = [];
  private readonly localOf = new Int32Array(32).fill(-1);
  /** Per register: its local holds the value (here, in emission order) / differs from memory. */
  private readonly loaded = new Uint8Array(32);
  private readonly dirty = new Uint8Array(32);

  constructor(
    private readonly c: CodeWriter,
    private readonly undoLog: number,
    /** Whether `step` is imported, for what is not translated inline. */
    private readonly canStep: boolean,
    private readonly physicalOffset: number,
    /** Whether other threads share guest memory (TranslateOptions.sharedMemory). */
    private readonly sharedMemory: boolean,
    /** The function index of the translated block at entry pc + delta in this module, or -1. */
    private readonly successor?: (delta: number) => number,
  ) {}

  private registerLocal(r: number): number {
    if (this.localOf[r]! < 0) {
      this.localOf[r] = FIRST_REGISTER_LOCAL + this.registerLocals.length;
      this.registerLocals.push(ValType.I64);
    }
    return this.localOf[r]!;
  }

  /** Pushes x[r] (x0 reads zero). */
  private get(r: number): void {
    if (r === 0) {
      this.c.i64(0);
    } else if (this.loaded[r]) {
      this.c.local(Op.LocalGet, this.registerLocal(r));
    } else {
      this.c.local(Op.LocalGet, STATE).mem(Op.I64Load, 8 * r, 3).local(Op.LocalTee, this.registerLocal(r));
      this.loaded[r] = 1;
    }
  }

  /** Loads x[r] into its local now, so code on every path after this point finds it there. */
  private preload(r: number): void {
    if (r !== 0 && !this.loaded[r]) {
      this.get(r);
      this.c.op(Op.Drop);
    }
  }

  /** x[rd] = the i64 that `value` pushes; writes to x0 are dropped. */
  private set(rd: number, value: () => void): void {
    if (rd === 0) return;
    value();
    this.setTop(rd);
  }

  /** x[rd] = the i64 on the stack (rd is not x0). */
  private setTop(rd: number): void {
    this.c.local(Op.LocalSet, this.registerLocal(rd));
    this.loaded[rd] = 1;
    this.dirty[rd] = 1;
  }

  /** Stores the registers written so far back to the state block. */
  private flush(): void {
    for (let r = 1; r < 32; r++) {
      if (this.dirty[r]) this.c.local(Op.LocalGet, STATE).local(Op.LocalGet, this.localOf[r]!).mem(Op.I64Store, 8 * r, 3);
    }
  }

  /** Reloads the cached registers from the state block (after `step`, which may change any). */
  private reload(): void {
    for (let r = 1; r < 32; r++) {
      if (this.loaded[r]) this.c.local(Op.LocalGet, STATE).mem(Op.I64Load, 8 * r, 3).local(Op.LocalSet, this.localOf[r]!);
    }
  }

  /** Pushes the entry pc plus `delta`. */
  private pcPlus(delta: number): void {
    this.c.local(Op.LocalGet, BASE_PC);
    if (delta !== 0) this.c.i64(delta).op(Op.I64Add);
  }

  /**
   * Goes on at entry pc + delta after `retired` instructions: tail-calls the block there when
   * it is in this module and the budget has room for it; otherwise sets the pc and returns
   * the count, with `flags`.
   */
  exit(delta: number, retired: number, flags: number): void {
    const c = this.c;
    this.flush();
    const next = flags === 0 && this.successor !== undefined ? this.successor(delta) : -1;
    if (next >= 0) {
      c.local(Op.LocalGet, BUDGET).local(Op.LocalGet, RETIRED).op(Op.I32Sub).i32(retired + MAX_BLOCK_INSTRUCTIONS).op(Op.I32GeS).open(Op.If);
      c.local(Op.LocalGet, STATE);
      this.pcPlus(delta);
      this.retiredPlus(retired);
      c.local(Op.LocalGet, BUDGET).op(Op.ReturnCall).unsigned(next);
      c.end();
    }
    c.local(Op.LocalGet, STATE);
    this.pcPlus(delta);
    c.mem(Op.I64Store, PC_BYTES, 3);
    this.retiredPlus(retired);
    if (flags !== 0) c.i32(flags).op(Op.I32Or);
    c.op(Op.Return);
  }

  /** Sets pc to the i64 in local `target` and returns the count after `retired` more. */
  private exitTo(local: number, retired: number): void {
    this.flush();
    this.c.local(Op.LocalGet, STATE).local(Op.LocalGet, local).mem(Op.I64Store, PC_BYTES, 3);
    this.retiredPlus(retired);
    this.c.op(Op.Return);
  }

  /**
   * Interprets the instruction at entry pc + delta through `step`, then goes on to the next
   * one, or leaves as StepStatus says (its pc already set).
   */
  step(delta: number, index: number, length: number): void {
    const c = this.c;
    this.flush();
    c.local(Op.LocalGet, STATE);
    this.pcPlus(delta);
    c.mem(Op.I64Store, PC_BYTES, 3);
    c.local(Op.LocalGet, STATE);
    this.retiredPlus(index);
    c.i32(length).call(STEP_FUNCTION).local(Op.LocalTee, STATUS).open(Op.If);
    // RETIRED + index + (status & Retired), with EXIT when status has Leave.
    this.retiredPlus(index);
    c.local(Op.LocalGet, STATUS).i32(StepStatus.Retired).op(Op.I32And).op(Op.I32Add);
    c.local(Op.LocalGet, STATUS).i32(StepStatus.Leave).op(Op.I32And).i32(LEAVE_TO_EXIT).op(Op.I32Shl).op(Op.I32Or).op(Op.Return);
    c.end();
    this.reload();
    this.dirty.fill(0);
  }

  /** Pushes RETIRED + n. */
  private retiredPlus(n: number): void {
    this.c.local(Op.LocalGet, RETIRED);
    if (n !== 0) this.c.i32(n).op(Op.I32Add);
  }

  /** Sign-extends the i32 on the stack to i64. */
  private sext(): void {
    this.c.op(Op.I64ExtendI32S);
  }

  instruction(d: Decoded, delta: number, index: number): void {
    const c = this.c;
    const { insn, op, len } = d;
    const rd = rdOf(insn), rs1 = rs1Of(insn), rs2 = rs2Of(insn);
    const binary = (wasmOp: Op) => this.set(rd, () => { this.get(rs1); this.get(rs2); c.op(wasmOp); });
    const immediate = (wasmOp: Op) => this.set(rd, () => { this.get(rs1); c.i64(iImm(insn)).op(wasmOp); });
    /** A 32-bit operation on the low words, sign-extended. */
    const word = (wasmOp: Op, second: () => void) => this.set(rd, () => {
      this.get(rs1);
      c.op(Op.I32WrapI64);
      second();
      c.op(wasmOp);
      this.sext();
    });
    const rs2Word = () => { this.get(rs2); c.op(Op.I32WrapI64); };
    const compare = (wasmOp: Op, second: () => void) => this.set(rd, () => {
      this.get(rs1);
      second();
      c.op(wasmOp).op(Op.I64ExtendI32U);
    });

    switch (op) {
      case Rv.LUI: this.set(rd, () => c.i64(insn & 0xfffff000)); return;
      case Rv.AUIPC: this.set(rd, () => this.pcPlus(delta + (insn & 0xfffff000))); return;
      case Rv.JAL:
        this.set(rd, () => this.pcPlus(delta + len));
        this.exit(delta + jImm(insn), index + 1, 0);
        return;
      case Rv.JALR:
        // The target first: rd may be rs1.
        this.get(rs1);
        c.i64(iImm(insn)).op(Op.I64Add).i64(-2).op(Op.I64And).local(Op.LocalSet, A);
        this.set(rd, () => this.pcPlus(delta + len));
        this.exitTo(A, index + 1);
        return;
      case Rv.BEQ: return this.branch(Op.I64Eq, insn, delta, len, index);
      case Rv.BNE: return this.branch(Op.I64Ne, insn, delta, len, index);
      case Rv.BLT: return this.branch(Op.I64LtS, insn, delta, len, index);
      case Rv.BGE: return this.branch(Op.I64GeS, insn, delta, len, index);
      case Rv.BLTU: return this.branch(Op.I64LtU, insn, delta, len, index);
      case Rv.BGEU: return this.branch(Op.I64GeU, insn, delta, len, index);

      case Rv.LB: return this.load(Op.I64Load8S, 1, insn, delta, index, len);
      case Rv.LH: return this.load(Op.I64Load16S, 2, insn, delta, index, len);
      case Rv.LW: return this.load(Op.I64Load32S, 4, insn, delta, index, len);
      case Rv.LD: return this.load(Op.I64Load, 8, insn, delta, index, len);
      case Rv.LBU: return this.load(Op.I64Load8U, 1, insn, delta, index, len);
      case Rv.LHU: return this.load(Op.I64Load16U, 2, insn, delta, index, len);
      case Rv.LWU: return this.load(Op.I64Load32U, 4, insn, delta, index, len);
      case Rv.SB: return this.store(Op.I64Store8, 1, insn, delta, index, len);
      case Rv.SH: return this.store(Op.I64Store16, 2, insn, delta, index, len);
      case Rv.SW: return this.store(Op.I64Store32, 4, insn, delta, index, len);
      case Rv.SD: return this.store(Op.I64Store, 8, insn, delta, index, len);

      case Rv.ADDI: return immediate(Op.I64Add);
      case Rv.XORI: return immediate(Op.I64Xor);
      case Rv.ORI: return immediate(Op.I64Or);
      case Rv.ANDI: return immediate(Op.I64And);
      case Rv.SLTI: return compare(Op.I64LtS, () => c.i64(iImm(insn)));
      case Rv.SLTIU: return compare(Op.I64LtU, () => c.i64(iImm(insn)));
      case Rv.SLLI: return this.set(rd, () => { this.get(rs1); c.i64((insn >>> 20) & 63).op(Op.I64Shl); });
      case Rv.SRLI: return this.set(rd, () => { this.get(rs1); c.i64((insn >>> 20) & 63).op(Op.I64ShrU); });
      case Rv.SRAI: return this.set(rd, () => { this.get(rs1); c.i64((insn >>> 20) & 63).op(Op.I64ShrS); });

      // Wasm shifts take the count modulo the width, as RISC-V does (Unpriv. 2.4.2).
      case Rv.ADD: return binary(Op.I64Add);
      case Rv.SUB: return binary(Op.I64Sub);
      case Rv.SLL: return binary(Op.I64Shl);
      case Rv.SRL: return binary(Op.I64ShrU);
      case Rv.SRA: return binary(Op.I64ShrS);
      case Rv.XOR: return binary(Op.I64Xor);
      case Rv.OR: return binary(Op.I64Or);
      case Rv.AND: return binary(Op.I64And);
      case Rv.SLT: return compare(Op.I64LtS, () => this.get(rs2));
      case Rv.SLTU: return compare(Op.I64LtU, () => this.get(rs2));

      case Rv.ADDIW: return word(Op.I32Add, () => c.i32(iImm(insn)));
      case Rv.SLLIW: return word(Op.I32Shl, () => c.i32((insn >>> 20) & 31));
      case Rv.SRLIW: return word(Op.I32ShrU, () => c.i32((insn >>> 20) & 31));
      case Rv.SRAIW: return word(Op.I32ShrS, () => c.i32((insn >>> 20) & 31));
      case Rv.ADDW: return word(Op.I32Add, rs2Word);
      case Rv.SUBW: return word(Op.I32Sub, rs2Word);
      case Rv.SLLW: return word(Op.I32Shl, rs2Word);
      case Rv.SRLW: return word(Op.I32ShrU, rs2Word);
      case Rv.SRAW: return word(Op.I32ShrS, rs2Word);

      // One hart's accesses already complete in order; other threads' need the host's fence.
      case Rv.FENCE: if (this.sharedMemory) this.c.atomicFence(); return;

      case Rv.MUL: return binary(Op.I64Mul);
      case Rv.MULW: return word(Op.I32Mul, rs2Word);
      case Rv.MULH: case Rv.MULHU: case Rv.MULHSU: return this.mulHigh(op, rd, rs1, rs2);
      case Rv.DIV: case Rv.DIVU: case Rv.REM: case Rv.REMU: return this.divide(op, rd, rs1, rs2);
      case Rv.DIVW: case Rv.DIVUW: case Rv.REMW: case Rv.REMUW: return this.divideWord(op, rd, rs1, rs2);
    }
    if (op >= Rv.LR_W && op <= Rv.AMOMAXU_D) return this.atomic(op, insn, delta, index, len);
    throw new Error(`block-translator: no translation for op ${op}`);
  }

  private branch(cond: Op, insn: number, delta: number, len: number, index: number): void {
    const c = this.c;
    this.get(rs1Of(insn));
    this.get(rs2Of(insn));
    c.op(cond).open(Op.If);
    this.exit(delta + bImm(insn), index + 1, 0);
    c.end();
    this.exit(delta + len, index + 1, 0);
  }

  /** ADDR = x[rs1] + imm; ADDR_LO its low word; SLOT its TLB index * 4. */
  private address(rs1: number, imm: number): void {
    const c = this.c;
    this.get(rs1);
    c.i64(imm).op(Op.I64Add).local(Op.LocalTee, ADDR).op(Op.I32WrapI64).local(Op.LocalTee, ADDR_LO);
    c.i32(10).op(Op.I32ShrU).i32(TLB_INDEX_MASK << 2).op(Op.I32And).local(Op.LocalSet, SLOT);
  }

  /**
   * Emits `access` for when the TLB at `tlb` maps the access (the key keeps the alignment
   * bits, so a misaligned access misses, and an empty entry matches no key: see tlb.ts);
   * otherwise the interpreter does this instruction (`step`), or the block ends before it.
   */
  private probe(tlb: number, size: 1 | 2 | 4 | 8, delta: number, index: number, length: number, access: () => void, loadsInto = 0, alsoTlb = -1): void {
    const c = this.c;
    c.open(Op.Block).open(Op.Block);
    this.hit(tlb, size);
    if (alsoTlb >= 0) {
      // Both TLBs map the access, onto the same page (see atomicOffset in atomic-instructions.ts).
      this.hit(alsoTlb, size);
      c.op(Op.I32And);
      c.local(Op.LocalGet, SLOT).mem(Op.I32Load, tlb + TLB_BASE, 2).local(Op.LocalGet, SLOT).mem(Op.I32Load, alsoTlb + TLB_BASE, 2).op(Op.I32Eq);
      c.op(Op.I32And);
    }
    c.br(Op.BrIf, 0);
    if (this.canStep) {
      // The interpreter does the access; the registers then come back from memory, the
      // load's destination too, so both paths leave the same registers in locals. Which
      // are dirty is the fast path's business (storing a clean one again is harmless).
      const dirty = this.dirty.slice();
      this.step(delta, index, length);
      if (loadsInto !== 0) {
        c.local(Op.LocalGet, STATE).mem(Op.I64Load, 8 * loadsInto, 3).local(Op.LocalSet, this.registerLocal(loadsInto));
      }
      this.dirty.set(dirty);
      c.br(Op.Br, 1);
    } else {
      this.exit(delta, index, EXIT);
    }
    c.end();
    access();
    c.end();
  }

  /** Pushes whether the TLB at `tlb` maps an access of `size` bytes at ADDR. */
  private hit(tlb: number, size: 1 | 2 | 4 | 8): void {
    const c = this.c;
    c.local(Op.LocalGet, SLOT).mem(Op.I32Load, tlb, 2);
    // The key carries the mode bits, read each time: a step inside the block may change them.
    c.local(Op.LocalGet, ADDR_LO).i32(tagMask(size)).op(Op.I32And);
    c.local(Op.LocalGet, STATE).mem(Op.I32Load, 4 * TLB_MODE_DATA, 2).op(Op.I32Or).op(Op.I32Eq);
    c.local(Op.LocalGet, SLOT).mem(Op.I32Load, tlb + TLB_TAG_HI, 2);
    c.local(Op.LocalGet, ADDR).i64(32).op(Op.I64ShrU).op(Op.I32WrapI64).op(Op.I32Eq);
    c.op(Op.I32And);
  }

  /**
   * LR, SC and the AMOs (Unprivileged ISA chapter 8), as atomic-instructions.ts does them:
   * LR needs a read-TLB hit; SC and AMOs a read and a write hit on the same page (the write
   * TLB never maps a page holding code, so no translation goes stale). The reservation is
   * the physical address, as the interpreter keeps it. One hart: plain loads and stores.
   */
  private atomic(op: Rv, insn: number, delta: number, index: number, length: number): void {
    const c = this.c;
    const wide = op >= Rv.LR_D;
    const size = wide ? 8 : 4;
    const align = wide ? 3 : 2;
    const kind = op - (wide ? Rv.LR_D : Rv.LR_W) + Rv.LR_W;
    const rd = rdOf(insn), rs2 = rs2Of(insn);
    const load = wide ? Op.I64Load : Op.I64Load32S;
    if (kind !== Rv.LR_W) this.preload(rs2);
    this.address(rs1Of(insn), 0);
    this.rebaseSlot();
    if (kind === Rv.LR_W) {
      this.probe(READ_TLB, size, delta, index, length, () => {
        this.hostAddress(READ_TLB);
        c.local(Op.LocalSet, HOST);
        c.local(Op.LocalGet, STATE).i32(1).mem(Op.I32Store, 4 * RESERVATION_VALID, 2);
        c.local(Op.LocalGet, STATE);
        this.physicalOfHost();
        c.mem(Op.F64Store, 8 * F64_RESERVATION_ADDRESS, 3);
        this.set(rd, () => c.local(Op.LocalGet, HOST).mem(load, 0, align));
      }, rd);
      return;
    }
    this.probe(READ_TLB, size, delta, index, length, () => {
      this.hostAddress(WRITE_TLB);
      c.local(Op.LocalSet, HOST);
      if (kind === Rv.SC_W) {
        // STATUS = the reservation holds this address; it is gone either way.
        c.local(Op.LocalGet, STATE).mem(Op.I32Load, 4 * RESERVATION_VALID, 2).i32(1).op(Op.I32Eq);
        c.local(Op.LocalGet, STATE).mem(Op.F64Load, 8 * F64_RESERVATION_ADDRESS, 3);
        this.physicalOfHost();
        c.op(Op.F64Eq).op(Op.I32And).local(Op.LocalSet, STATUS);
        c.local(Op.LocalGet, STATE).i32(0).mem(Op.I32Store, 4 * RESERVATION_VALID, 2);
        c.local(Op.LocalGet, STATUS).open(Op.If);
        if (this.undoLog >= 0) this.logStore(size);
        c.local(Op.LocalGet, HOST);
        this.get(rs2);
        c.mem(wide ? Op.I64Store : Op.I64Store32, 0, align);
        c.end();
        this.set(rd, () => c.local(Op.LocalGet, STATUS).op(Op.I32Eqz).op(Op.I64ExtendI32U));
        return;
      }
      c.local(Op.LocalGet, HOST).mem(load, 0, align).local(Op.LocalSet, A);
      this.get(rs2);
      c.local(Op.LocalSet, B);
      if (this.undoLog >= 0) this.logStore(size);
      c.local(Op.LocalGet, HOST);
      this.amoValue(kind, wide);
      c.mem(wide ? Op.I64Store : Op.I64Store32, 0, align);
      this.set(rd, () => c.local(Op.LocalGet, A));
    }, rd, WRITE_TLB);
  }

  /** Pushes what an AMO of `kind` stores, from the old value A and x[rs2] in B (only the low word counts for .W). */
  private amoValue(kind: Rv, wide: boolean): void {
    const c = this.c;
    const pair = (op: Op) => c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(op);
    // Pushes whether A < B, as 32-bit values for .W.
    const less = (signed: boolean) => {
      if (wide) return pair(signed ? Op.I64LtS : Op.I64LtU);
      c.local(Op.LocalGet, A).op(Op.I32WrapI64).local(Op.LocalGet, B).op(Op.I32WrapI64).op(signed ? Op.I32LtS : Op.I32LtU);
    };
    // The smaller (or larger) of A and B.
    const pick = (smaller: boolean, signed: boolean) => {
      c.local(Op.LocalGet, smaller ? A : B).local(Op.LocalGet, smaller ? B : A);
      less(signed);
      c.op(Op.Select);
    };
    switch (kind) {
      case Rv.AMOSWAP_W: c.local(Op.LocalGet, B); return;
      case Rv.AMOADD_W: pair(Op.I64Add); return;
      case Rv.AMOXOR_W: pair(Op.I64Xor); return;
      case Rv.AMOAND_W: pair(Op.I64And); return;
      case Rv.AMOOR_W: pair(Op.I64Or); return;
      case Rv.AMOMIN_W: pick(true, true); return;
      case Rv.AMOMAX_W: pick(false, true); return;
      case Rv.AMOMINU_W: pick(true, false); return;
      case Rv.AMOMAXU_W: pick(false, false); return;
    }
    throw new Error(`block-translator: no AMO ${kind}`);
  }

  /** Pushes the physical address (an f64, as the interpreter keeps the reservation) of the guest-memory offset in HOST. */
  private physicalOfHost(): void {
    this.c.local(Op.LocalGet, HOST).op(Op.I64ExtendI32U).i64(this.physicalOffset).op(Op.I64Add).op(Op.F64ConvertI64U);
  }

  /** Pushes the guest-memory address of the access: the entry's page base plus the page offset. */
  private hostAddress(tlb: number): void {
    const c = this.c;
    c.local(Op.LocalGet, SLOT).mem(Op.I32Load, tlb + TLB_BASE, 2);
    c.local(Op.LocalGet, ADDR_LO).i32(0xfff).op(Op.I32And).op(Op.I32Add);
  }

  private load(wasmOp: Op, size: 1 | 2 | 4 | 8, insn: number, delta: number, index: number, length: number): void {
    // TLB slots are relative to the hart's state block, whose offset is the STATE local.
    this.address(rs1Of(insn), iImm(insn));
    this.rebaseSlot();
    this.probe(READ_TLB, size, delta, index, length, () => this.set(rdOf(insn), () => {
      this.hostAddress(READ_TLB);
      this.c.mem(wasmOp, 0, Math.log2(size));
    }), rdOf(insn));
  }

  private store(wasmOp: Op, size: 1 | 2 | 4 | 8, insn: number, delta: number, index: number, length: number): void {
    this.preload(rs2Of(insn));
    this.address(rs1Of(insn), sImm(insn));
    this.rebaseSlot();
    this.probe(WRITE_TLB, size, delta, index, length, () => {
      this.hostAddress(WRITE_TLB);
      this.c.local(Op.LocalSet, HOST);
      if (this.undoLog >= 0) this.logStore(size);
      this.c.local(Op.LocalGet, HOST);
      this.get(rs2Of(insn));
      this.c.mem(wasmOp, 0, Math.log2(size));
    });
  }

  /** Appends (address, size, old bytes) of the store at HOST to the undo log. */
  private logStore(size: 1 | 2 | 4 | 8): void {
    const c = this.c;
    const log = this.undoLog;
    const load = [Op.I64Load8U, Op.I64Load16U, Op.I64Load32U, Op.I64Load][Math.log2(size)]!;
    // ADDR_LO = entry address (log + 8 + count * 16); the count goes up by one.
    c.i32(0).mem(Op.I32Load, log, 2).i32(4).op(Op.I32Shl).i32(log + 8).op(Op.I32Add).local(Op.LocalSet, ADDR_LO);
    c.i32(0).i32(0).mem(Op.I32Load, log, 2).i32(1).op(Op.I32Add).mem(Op.I32Store, log, 2);
    c.local(Op.LocalGet, ADDR_LO).local(Op.LocalGet, HOST).mem(Op.I32Store, 0, 2);
    c.local(Op.LocalGet, ADDR_LO).i32(size).mem(Op.I32Store, 4, 2);
    c.local(Op.LocalGet, ADDR_LO).local(Op.LocalGet, HOST).mem(load, 0, 0).mem(Op.I64Store, 8, 3);
  }

  /** SLOT += STATE, so TLB words are read at static offsets from the hart's block. */
  private rebaseSlot(): void {
    this.c.local(Op.LocalGet, SLOT).local(Op.LocalGet, STATE).op(Op.I32Add).local(Op.LocalSet, SLOT);
  }

  /** MULH, MULHU, MULHSU: the high 64 bits of the 128-bit product, from 32-bit halves. */
  private mulHigh(op: Rv, rd: number, rs1: number, rs2: number): void {
    if (rd === 0) return;
    const c = this.c;
    this.get(rs1);
    c.local(Op.LocalSet, A);
    this.get(rs2);
    c.local(Op.LocalSet, B);
    const lo = (l: number) => c.local(Op.LocalGet, l).i64(0xffffffff).op(Op.I64And);
    const hi = (l: number) => c.local(Op.LocalGet, l).i64(32).op(Op.I64ShrU);
    // Unsigned high product: hi*hi + (hi*lo >> 32) + (lo*hi >> 32) + carry of the middle sum.
    hi(A); hi(B); c.op(Op.I64Mul);
    hi(A); lo(B); c.op(Op.I64Mul).i64(32).op(Op.I64ShrU).op(Op.I64Add);
    lo(A); hi(B); c.op(Op.I64Mul).i64(32).op(Op.I64ShrU).op(Op.I64Add);
    // Middle carry: ((lo*lo >> 32) + lo32(hi*lo) + lo32(lo*hi)) >> 32.
    lo(A); lo(B); c.op(Op.I64Mul).i64(32).op(Op.I64ShrU);
    hi(A); lo(B); c.op(Op.I64Mul).i64(0xffffffff).op(Op.I64And).op(Op.I64Add);
    lo(A); hi(B); c.op(Op.I64Mul).i64(0xffffffff).op(Op.I64And).op(Op.I64Add);
    c.i64(32).op(Op.I64ShrU).op(Op.I64Add);
    // Signed corrections: a negative operand contributes -(other << 64).
    if (op === Rv.MULH || op === Rv.MULHSU) {
      c.local(Op.LocalGet, B).local(Op.LocalGet, A).i64(63).op(Op.I64ShrS).op(Op.I64And).op(Op.I64Sub);
    }
    if (op === Rv.MULH) {
      c.local(Op.LocalGet, A).local(Op.LocalGet, B).i64(63).op(Op.I64ShrS).op(Op.I64And).op(Op.I64Sub);
    }
    this.setTop(rd);
  }

  /** DIV, DIVU, REM, REMU with RISC-V's results for a zero divisor and overflow (Unpriv. 7.2). */
  private divide(op: Rv, rd: number, rs1: number, rs2: number): void {
    if (rd === 0) return;
    const c = this.c;
    const signed = op === Rv.DIV || op === Rv.REM;
    const remainder = op === Rv.REM || op === Rv.REMU;
    this.get(rs1);
    c.local(Op.LocalSet, A);
    this.get(rs2);
    c.local(Op.LocalSet, B);
    // Zero divisor: quotient all ones, remainder the dividend (already in A).
    c.local(Op.LocalGet, B).op(Op.I64Eqz).open(Op.If);
    if (!remainder) c.i64(-1).local(Op.LocalSet, A);
    c.op(Op.Else);
    if (signed) {
      // MIN / -1 overflows: quotient MIN (already in A), remainder 0.
      c.local(Op.LocalGet, A).i64(-(2n ** 63n)).op(Op.I64Eq).local(Op.LocalGet, B).i64(-1).op(Op.I64Eq).op(Op.I32And);
      c.open(Op.If);
      if (remainder) c.i64(0).local(Op.LocalSet, A);
      c.op(Op.Else);
      c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(remainder ? Op.I64RemS : Op.I64DivS).local(Op.LocalSet, A);
      c.end();
    } else {
      c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(remainder ? Op.I64RemU : Op.I64DivU).local(Op.LocalSet, A);
    }
    c.end();
    c.local(Op.LocalGet, A);
    this.setTop(rd);
  }

  /** DIVW, DIVUW, REMW, REMUW on the low words, results sign-extended. */
  private divideWord(op: Rv, rd: number, rs1: number, rs2: number): void {
    if (rd === 0) return;
    const c = this.c;
    const signed = op === Rv.DIVW || op === Rv.REMW;
    const remainder = op === Rv.REMW || op === Rv.REMUW;
    // Widen the 32-bit operands (sign- or zero-extended) and divide in 64 bits: no overflow
    // is possible then, and a zero divisor is handled as for the 64-bit forms.
    const widen = signed ? Op.I64ExtendI32S : Op.I64ExtendI32U;
    this.get(rs1);
    c.op(Op.I32WrapI64).op(widen).local(Op.LocalSet, A);
    this.get(rs2);
    c.op(Op.I32WrapI64).op(widen).local(Op.LocalSet, B);
    c.local(Op.LocalGet, B).op(Op.I64Eqz).open(Op.If);
    if (!remainder) c.i64(-1).local(Op.LocalSet, A);
    c.op(Op.Else);
    c.local(Op.LocalGet, A).local(Op.LocalGet, B).op(remainder ? (signed ? Op.I64RemS : Op.I64RemU) : (signed ? Op.I64DivS : Op.I64DivU)).local(Op.LocalSet, A);
    c.end();
    c.local(Op.LocalGet, A).op(Op.I32WrapI64);
    this.sext();
    this.setTop(rd);
  }
}
