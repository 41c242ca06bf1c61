// The RV64GC instruction table: one row per instruction, in `Op` order. It drives the
// interpreter's dispatch, the disassembler and the decode tests.
// Encodings: RISC-V Unprivileged ISA 20191213, chapter 24 (RV32/64G instruction listings),
// and the Privileged ISA 20211203, section 9.

export const enum Format {
  /** rd, imm[31:12] */ U,
  /** rd, offset */ J,
  /** rd, rs1, imm */ I,
  /** rs2, imm(rs1) */ S,
  /** rs1, rs2, offset */ B,
  /** rd, rs1, rs2 */ R,
  /** rd, rs1, shamt */ Shift,
  /** rd, imm(rs1) */ Load,
  /** rd, csr, rs1 */ Csr,
  /** rd, csr, uimm */ CsrImm,
  /** rd, rs2, (rs1) */ Amo,
  /** rd, (rs1) */ Lr,
  /** fd, fs1, fs2, fs3, rm */ R4,
  /** fd, fs1, fs2, rm */ FpR,
  /** fd, fs1, fs2 */ FpRNoRm,
  /** fd, fs1, rm */ FpUnary,
  /** rd, fs1 (integer result from one fp operand, no rm) */ FpToInt,
  /** fd, rs1 (no rm) */ IntToFp,
  /** pred, succ */ Fence,
  /** rs1, rs2 */ SfenceVma,
  /** no operands */ None,
}

export const enum Op {
  ILLEGAL,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU,
  SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW,
  ADDW, SUBW, SLLW, SRLW, SRAW,
  FENCE, FENCE_I, ECALL, EBREAK, SRET, MRET, WFI, SFENCE_VMA,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  MULW, DIVW, DIVUW, REMW, REMUW,
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  LR_D, SC_D, AMOSWAP_D, AMOADD_D, AMOXOR_D, AMOAND_D, AMOOR_D, AMOMIN_D, AMOMAX_D, AMOMINU_D, AMOMAXU_D,
  FLW, FSW, FMADD_S, FMSUB_S, FNMSUB_S, FNMADD_S,
  FADD_S, FSUB_S, FMUL_S, FDIV_S, FSQRT_S, FSGNJ_S, FSGNJN_S, FSGNJX_S, FMIN_S, FMAX_S,
  FCVT_W_S, FCVT_WU_S, FCVT_L_S, FCVT_LU_S, FMV_X_W, FCLASS_S, FEQ_S, FLT_S, FLE_S,
  FCVT_S_W, FCVT_S_WU, FCVT_S_L, FCVT_S_LU, FMV_W_X,
  FLD, FSD, FMADD_D, FMSUB_D, FNMSUB_D, FNMADD_D,
  FADD_D, FSUB_D, FMUL_D, FDIV_D, FSQRT_D, FSGNJ_D, FSGNJN_D, FSGNJX_D, FMIN_D, FMAX_D,
  FCVT_S_D, FCVT_D_S,
  FCVT_W_D, FCVT_WU_D, FCVT_L_D, FCVT_LU_D, FMV_X_D, FCLASS_D, FEQ_D, FLT_D, FLE_D,
  FCVT_D_W, FCVT_D_WU, FCVT_D_L, FCVT_D_LU, FMV_D_X,
  /** Dispatch marker: the key bits do not decide; decode the whole word. */
  SLOW,
}

export interface InstructionSpec {
  readonly op: Op;
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  readonly format: Format;
}

// Common masks.
const OPC = 0x7f;
const F3 = 0x707f;
const F7 = 0xfe00707f;
const F6 = 0xfc00707f;
const FP_RM = 0xfe00007f;
const FP_RS2 = 0xfff0007f;
const FP_RS2_F3 = 0xfff0707f;
const AMO = 0xf800707f;
const LR = 0xf9f0707f;
const R4 = 0x0600007f;

const r = (op: Op, name: string, mask: number, match: number, format: Format): InstructionSpec => ({
  op, name, mask: mask | 0, match: match | 0, format,
});
const fp = (funct7: number, funct3: number, rs2: number): number => (funct7 << 25) | (rs2 << 20) | (funct3 << 12) | 0x53;
const amo = (funct5: number, width: number): number => (funct5 << 27) | (width << 12) | 0x2f;

/** Every instruction; index i holds the row for Op i (index 0 is ILLEGAL). */
export const INSTRUCTIONS: readonly InstructionSpec[] = [
  r(Op.ILLEGAL, 'illegal', 0xffffffff, 0, Format.None),
  r(Op.LUI, 'lui', OPC, 0x37, Format.U),
  r(Op.AUIPC, 'auipc', OPC, 0x17, Format.U),
  r(Op.JAL, 'jal', OPC, 0x6f, Format.J),
  r(Op.JALR, 'jalr', F3, 0x67, Format.Load),
  r(Op.BEQ, 'beq', F3, 0x0063, Format.B),
  r(Op.BNE, 'bne', F3, 0x1063, Format.B),
  r(Op.BLT, 'blt', F3, 0x4063, Format.B),
  r(Op.BGE, 'bge', F3, 0x5063, Format.B),
  r(Op.BLTU, 'bltu', F3, 0x6063, Format.B),
  r(Op.BGEU, 'bgeu', F3, 0x7063, Format.B),
  r(Op.LB, 'lb', F3, 0x0003, Format.Load),
  r(Op.LH, 'lh', F3, 0x1003, Format.Load),
  r(Op.LW, 'lw', F3, 0x2003, Format.Load),
  r(Op.LD, 'ld', F3, 0x3003, Format.Load),
  r(Op.LBU, 'lbu', F3, 0x4003, Format.Load),
  r(Op.LHU, 'lhu', F3, 0x5003, Format.Load),
  r(Op.LWU, 'lwu', F3, 0x6003, Format.Load),
  r(Op.SB, 'sb', F3, 0x0023, Format.S),
  r(Op.SH, 'sh', F3, 0x1023, Format.S),
  r(Op.SW, 'sw', F3, 0x2023, Format.S),
  r(Op.SD, 'sd', F3, 0x3023, Format.S),
  r(Op.ADDI, 'addi', F3, 0x0013, Format.I),
  r(Op.SLTI, 'slti', F3, 0x2013, Format.I),
  r(Op.SLTIU, 'sltiu', F3, 0x3013, Format.I),
  r(Op.XORI, 'xori', F3, 0x4013, Format.I),
  r(Op.ORI, 'ori', F3, 0x6013, Format.I),
  r(Op.ANDI, 'andi', F3, 0x7013, Format.I),
  r(Op.SLLI, 'slli', F6, 0x1013, Format.Shift),
  r(Op.SRLI, 'srli', F6, 0x5013, Format.Shift),
  r(Op.SRAI, 'srai', F6, 0x40005013, Format.Shift),
  r(Op.ADD, 'add', F7, 0x0033, Format.R),
  r(Op.SUB, 'sub', F7, 0x40000033, Format.R),
  r(Op.SLL, 'sll', F7, 0x1033, Format.R),
  r(Op.SLT, 'slt', F7, 0x2033, Format.R),
  r(Op.SLTU, 'sltu', F7, 0x3033, Format.R),
  r(Op.XOR, 'xor', F7, 0x4033, Format.R),
  r(Op.SRL, 'srl', F7, 0x5033, Format.R),
  r(Op.SRA, 'sra', F7, 0x40005033, Format.R),
  r(Op.OR, 'or', F7, 0x6033, Format.R),
  r(Op.AND, 'and', F7, 0x7033, Format.R),
  r(Op.ADDIW, 'addiw', F3, 0x001b, Format.I),
  r(Op.SLLIW, 'slliw', F7, 0x101b, Format.Shift),
  r(Op.SRLIW, 'srliw', F7, 0x501b, Format.Shift),
  r(Op.SRAIW, 'sraiw', F7, 0x4000501b, Format.Shift),
  r(Op.ADDW, 'addw', F7, 0x003b, Format.R),
  r(Op.SUBW, 'subw', F7, 0x4000003b, Format.R),
  r(Op.SLLW, 'sllw', F7, 0x103b, Format.R),
  r(Op.SRLW, 'srlw', F7, 0x503b, Format.R),
  r(Op.SRAW, 'sraw', F7, 0x4000503b, Format.R),
  r(Op.FENCE, 'fence', F3, 0x000f, Format.Fence),
  r(Op.FENCE_I, 'fence.i', F3, 0x100f, Format.None),
  r(Op.ECALL, 'ecall', 0xffffffff, 0x00000073, Format.None),
  r(Op.EBREAK, 'ebreak', 0xffffffff, 0x00100073, Format.None),
  r(Op.SRET, 'sret', 0xffffffff, 0x10200073, Format.None),
  r(Op.MRET, 'mret', 0xffffffff, 0x30200073, Format.None),
  r(Op.WFI, 'wfi', 0xffffffff, 0x10500073, Format.None),
  r(Op.SFENCE_VMA, 'sfence.vma', 0xfe007fff, 0x12000073, Format.SfenceVma),
  r(Op.CSRRW, 'csrrw', F3, 0x1073, Format.Csr),
  r(Op.CSRRS, 'csrrs', F3, 0x2073, Format.Csr),
  r(Op.CSRRC, 'csrrc', F3, 0x3073, Format.Csr),
  r(Op.CSRRWI, 'csrrwi', F3, 0x5073, Format.CsrImm),
  r(Op.CSRRSI, 'csrrsi', F3, 0x6073, Format.CsrImm),
  r(Op.CSRRCI, 'csrrci', F3, 0x7073, Format.CsrImm),
  r(Op.MUL, 'mul', F7, 0x02000033, Format.R),
  r(Op.MULH, 'mulh', F7, 0x02001033, Format.R),
  r(Op.MULHSU, 'mulhsu', F7, 0x02002033, Format.R),
  r(Op.MULHU, 'mulhu', F7, 0x02003033, Format.R),
  r(Op.DIV, 'div', F7, 0x02004033, Format.R),
  r(Op.DIVU, 'divu', F7, 0x02005033, Format.R),
  r(Op.REM, 'rem', F7, 0x02006033, Format.R),
  r(Op.REMU, 'remu', F7, 0x02007033, Format.R),
  r(Op.MULW, 'mulw', F7, 0x0200003b, Format.R),
  r(Op.DIVW, 'divw', F7, 0x0200403b, Format.R),
  r(Op.DIVUW, 'divuw', F7, 0x0200503b, Format.R),
  r(Op.REMW, 'remw', F7, 0x0200603b, Format.R),
  r(Op.REMUW, 'remuw', F7, 0x0200703b, Format.R),
  r(Op.LR_W, 'lr.w', LR, amo(0x02, 2), Format.Lr),
  r(Op.SC_W, 'sc.w', AMO, amo(0x03, 2), Format.Amo),
  r(Op.AMOSWAP_W, 'amoswap.w', AMO, amo(0x01, 2), Format.Amo),
  r(Op.AMOADD_W, 'amoadd.w', AMO, amo(0x00, 2), Format.Amo),
  r(Op.AMOXOR_W, 'amoxor.w', AMO, amo(0x04, 2), Format.Amo),
  r(Op.AMOAND_W, 'amoand.w', AMO, amo(0x0c, 2), Format.Amo),
  r(Op.AMOOR_W, 'amoor.w', AMO, amo(0x08, 2), Format.Amo),
  r(Op.AMOMIN_W, 'amomin.w', AMO, amo(0x10, 2), Format.Amo),
  r(Op.AMOMAX_W, 'amomax.w', AMO, amo(0x14, 2), Format.Amo),
  r(Op.AMOMINU_W, 'amominu.w', AMO, amo(0x18, 2), Format.Amo),
  r(Op.AMOMAXU_W, 'amomaxu.w', AMO, amo(0x1c, 2), Format.Amo),
  r(Op.LR_D, 'lr.d', LR, amo(0x02, 3), Format.Lr),
  r(Op.SC_D, 'sc.d', AMO, amo(0x03, 3), Format.Amo),
  r(Op.AMOSWAP_D, 'amoswap.d', AMO, amo(0x01, 3), Format.Amo),
  r(Op.AMOADD_D, 'amoadd.d', AMO, amo(0x00, 3), Format.Amo),
  r(Op.AMOXOR_D, 'amoxor.d', AMO, amo(0x04, 3), Format.Amo),
  r(Op.AMOAND_D, 'amoand.d', AMO, amo(0x0c, 3), Format.Amo),
  r(Op.AMOOR_D, 'amoor.d', AMO, amo(0x08, 3), Format.Amo),
  r(Op.AMOMIN_D, 'amomin.d', AMO, amo(0x10, 3), Format.Amo),
  r(Op.AMOMAX_D, 'amomax.d', AMO, amo(0x14, 3), Format.Amo),
  r(Op.AMOMINU_D, 'amominu.d', AMO, amo(0x18, 3), Format.Amo),
  r(Op.AMOMAXU_D, 'amomaxu.d', AMO, amo(0x1c, 3), Format.Amo),
  r(Op.FLW, 'flw', F3, 0x2007, Format.Load),
  r(Op.FSW, 'fsw', F3, 0x2027, Format.S),
  r(Op.FMADD_S, 'fmadd.s', R4, 0x43, Format.R4),
  r(Op.FMSUB_S, 'fmsub.s', R4, 0x47, Format.R4),
  r(Op.FNMSUB_S, 'fnmsub.s', R4, 0x4b, Format.R4),
  r(Op.FNMADD_S, 'fnmadd.s', R4, 0x4f, Format.R4),
  r(Op.FADD_S, 'fadd.s', FP_RM, fp(0x00, 0, 0), Format.FpR),
  r(Op.FSUB_S, 'fsub.s', FP_RM, fp(0x04, 0, 0), Format.FpR),
  r(Op.FMUL_S, 'fmul.s', FP_RM, fp(0x08, 0, 0), Format.FpR),
  r(Op.FDIV_S, 'fdiv.s', FP_RM, fp(0x0c, 0, 0), Format.FpR),
  r(Op.FSQRT_S, 'fsqrt.s', FP_RS2, fp(0x2c, 0, 0), Format.FpUnary),
  r(Op.FSGNJ_S, 'fsgnj.s', F7, fp(0x10, 0, 0), Format.FpRNoRm),
  r(Op.FSGNJN_S, 'fsgnjn.s', F7, fp(0x10, 1, 0), Format.FpRNoRm),
  r(Op.FSGNJX_S, 'fsgnjx.s', F7, fp(0x10, 2, 0), Format.FpRNoRm),
  r(Op.FMIN_S, 'fmin.s', F7, fp(0x14, 0, 0), Format.FpRNoRm),
  r(Op.FMAX_S, 'fmax.s', F7, fp(0x14, 1, 0), Format.FpRNoRm),
  r(Op.FCVT_W_S, 'fcvt.w.s', FP_RS2, fp(0x60, 0, 0), Format.FpUnary),
  r(Op.FCVT_WU_S, 'fcvt.wu.s', FP_RS2, fp(0x60, 0, 1), Format.FpUnary),
  r(Op.FCVT_L_S, 'fcvt.l.s', FP_RS2, fp(0x60, 0, 2), Format.FpUnary),
  r(Op.FCVT_LU_S, 'fcvt.lu.s', FP_RS2, fp(0x60, 0, 3), Format.FpUnary),
  r(Op.FMV_X_W, 'fmv.x.w', FP_RS2_F3, fp(0x70, 0, 0), Format.FpToInt),
  r(Op.FCLASS_S, 'fclass.s', FP_RS2_F3, fp(0x70, 1, 0), Format.FpToInt),
  r(Op.FEQ_S, 'feq.s', F7, fp(0x50, 2, 0), Format.FpRNoRm),
  r(Op.FLT_S, 'flt.s', F7, fp(0x50, 1, 0), Format.FpRNoRm),
  r(Op.FLE_S, 'fle.s', F7, fp(0x50, 0, 0), Format.FpRNoRm),
  r(Op.FCVT_S_W, 'fcvt.s.w', FP_RS2, fp(0x68, 0, 0), Format.FpUnary),
  r(Op.FCVT_S_WU, 'fcvt.s.wu', FP_RS2, fp(0x68, 0, 1), Format.FpUnary),
  r(Op.FCVT_S_L, 'fcvt.s.l', FP_RS2, fp(0x68, 0, 2), Format.FpUnary),
  r(Op.FCVT_S_LU, 'fcvt.s.lu', FP_RS2, fp(0x68, 0, 3), Format.FpUnary),
  r(Op.FMV_W_X, 'fmv.w.x', FP_RS2_F3, fp(0x78, 0, 0), Format.IntToFp),
  r(Op.FLD, 'fld', F3, 0x3007, Format.Load),
  r(Op.FSD, 'fsd', F3, 0x3027, Format.S),
  r(Op.FMADD_D, 'fmadd.d', R4, 0x02000043, Format.R4),
  r(Op.FMSUB_D, 'fmsub.d', R4, 0x02000047, Format.R4),
  r(Op.FNMSUB_D, 'fnmsub.d', R4, 0x0200004b, Format.R4),
  r(Op.FNMADD_D, 'fnmadd.d', R4, 0x0200004f, Format.R4),
  r(Op.FADD_D, 'fadd.d', FP_RM, fp(0x01, 0, 0), Format.FpR),
  r(Op.FSUB_D, 'fsub.d', FP_RM, fp(0x05, 0, 0), Format.FpR),
  r(Op.FMUL_D, 'fmul.d', FP_RM, fp(0x09, 0, 0), Format.FpR),
  r(Op.FDIV_D, 'fdiv.d', FP_RM, fp(0x0d, 0, 0), Format.FpR),
  r(Op.FSQRT_D, 'fsqrt.d', FP_RS2, fp(0x2d, 0, 0), Format.FpUnary),
  r(Op.FSGNJ_D, 'fsgnj.d', F7, fp(0x11, 0, 0), Format.FpRNoRm),
  r(Op.FSGNJN_D, 'fsgnjn.d', F7, fp(0x11, 1, 0), Format.FpRNoRm),
  r(Op.FSGNJX_D, 'fsgnjx.d', F7, fp(0x11, 2, 0), Format.FpRNoRm),
  r(Op.FMIN_D, 'fmin.d', F7, fp(0x15, 0, 0), Format.FpRNoRm),
  r(Op.FMAX_D, 'fmax.d', F7, fp(0x15, 1, 0), Format.FpRNoRm),
  r(Op.FCVT_S_D, 'fcvt.s.d', FP_RS2, fp(0x20, 0, 1), Format.FpUnary),
  r(Op.FCVT_D_S, 'fcvt.d.s', FP_RS2, fp(0x21, 0, 0), Format.FpUnary),
  r(Op.FCVT_W_D, 'fcvt.w.d', FP_RS2, fp(0x61, 0, 0), Format.FpUnary),
  r(Op.FCVT_WU_D, 'fcvt.wu.d', FP_RS2, fp(0x61, 0, 1), Format.FpUnary),
  r(Op.FCVT_L_D, 'fcvt.l.d', FP_RS2, fp(0x61, 0, 2), Format.FpUnary),
  r(Op.FCVT_LU_D, 'fcvt.lu.d', FP_RS2, fp(0x61, 0, 3), Format.FpUnary),
  r(Op.FMV_X_D, 'fmv.x.d', FP_RS2_F3, fp(0x71, 0, 0), Format.FpToInt),
  r(Op.FCLASS_D, 'fclass.d', FP_RS2_F3, fp(0x71, 1, 0), Format.FpToInt),
  r(Op.FEQ_D, 'feq.d', F7, fp(0x51, 2, 0), Format.FpRNoRm),
  r(Op.FLT_D, 'flt.d', F7, fp(0x51, 1, 0), Format.FpRNoRm),
  r(Op.FLE_D, 'fle.d', F7, fp(0x51, 0, 0), Format.FpRNoRm),
  r(Op.FCVT_D_W, 'fcvt.d.w', FP_RS2, fp(0x69, 0, 0), Format.FpUnary),
  r(Op.FCVT_D_WU, 'fcvt.d.wu', FP_RS2, fp(0x69, 0, 1), Format.FpUnary),
  r(Op.FCVT_D_L, 'fcvt.d.l', FP_RS2, fp(0x69, 0, 2), Format.FpUnary),
  r(Op.FCVT_D_LU, 'fcvt.d.lu', FP_RS2, fp(0x69, 0, 3), Format.FpUnary),
  r(Op.FMV_D_X, 'fmv.d.x', FP_RS2_F3, fp(0x79, 0, 0), Format.IntToFp),
];

/** The full decode of a 32-bit instruction word: its Op, or Op.ILLEGAL. */
export function decodeOp(insn: number): Op {
  if ((insn & 3) !== 3) return Op.ILLEGAL;
  for (let i = 1; i < INSTRUCTIONS.length; i++) {
    const spec = INSTRUCTIONS[i]!;
    if ((insn & spec.mask) === spec.match) return spec.op;
  }
  return Op.ILLEGAL;
}

/** Which bits of a 32-bit word the dispatch key covers: opcode[6:2], funct3, funct7. */
const KEY_BITS = 0xfe00707c | 0;

/** The dispatch key of a 32-bit instruction word (15 bits). */
export function dispatchKey(insn: number): number {
  return ((insn >>> 2) & 0x1f) | ((insn >>> 7) & 0xe0) | ((insn >>> 17) & 0x7f00);
}

/**
 * Maps every dispatch key to the one Op it decides, or to Op.SLOW when the rest of the
 * word matters (fixed rs2/rd/rs1 fields), or to Op.ILLEGAL.
 */
export function buildDispatchTable(): Uint8Array {
  const table = new Uint8Array(1 << 15);
  for (let key = 0; key < table.length; key++) {
    const word = ((key & 0x1f) << 2) | 3 | ((key & 0xe0) << 7) | ((key & 0x7f00) << 17);
    let found: Op = Op.ILLEGAL;
    for (let i = 1; i < INSTRUCTIONS.length; i++) {
      const spec = INSTRUCTIONS[i]!;
      if ((word & spec.mask & KEY_BITS) !== (spec.match & KEY_BITS)) continue;
      found = (spec.mask & ~KEY_BITS & ~3) !== 0 ? Op.SLOW : spec.op;
      if (found === Op.SLOW) break;
    }
    table[key] = found;
  }
  return table;
}
