// RVC expansion: each legal 16-bit instruction becomes the 32-bit RV64G word it stands for,
// so the interpreter executes one instruction set. Unprivileged ISA 20191213, chapter 16:
// expansions in 16.3-16.5, HINTs in 16.7, the RV64C listings in 16.8.

/** Encoders for the 32-bit base formats (Unprivileged ISA 2.2-2.3). Results are int32. */
const iType = (opcode: number, f3: number, rd: number, rs1: number, imm: number): number =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;

const sType = (opcode: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | opcode;

const rType = (opcode: number, f3: number, f7: number, rd: number, rs1: number, rs2: number): number =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;

const bType = (f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
  (f3 << 12) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63;

const jType = (rd: number, imm: number): number =>
  (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
  (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;

const OP_LOAD = 0x03, OP_LOAD_FP = 0x07, OP_IMM = 0x13, OP_IMM_32 = 0x1b;
const OP_STORE = 0x23, OP_STORE_FP = 0x27, OP_REG = 0x33, OP_REG_32 = 0x3b;
const OP_LUI = 0x37, OP_JALR = 0x67;
const SP = 2;

/** Bit `from` of `h` moved to bit `to`. */
const bit = (h: number, from: number, to: number): number => ((h >> from) & 1) << to;

/** Sign-extends the low `bits` bits of `v`. */
const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/** The 3-bit register fields of CIW/CL/CS/CA/CB name x8..x15 (16.2). */
const rdc = (h: number): number => 8 + ((h >> 2) & 7); // bits 4:2
const rs1c = (h: number): number => 8 + ((h >> 7) & 7); // bits 9:7

/** CI-format 6-bit signed immediate: imm[5] = bit 12, imm[4:0] = bits 6:2. */
const ciImm = (h: number): number => sext(bit(h, 12, 5) | ((h >> 2) & 0x1f), 6);

/** CI/CB shift amount: shamt[5] = bit 12, shamt[4:0] = bits 6:2 (RV64 allows shamt[5]). */
const shamt = (h: number): number => bit(h, 12, 5) | ((h >> 2) & 0x1f);

/** CL/CS doubleword offset: uimm[5:3] = bits 12:10, uimm[7:6] = bits 6:5. */
const clDouble = (h: number): number => (((h >> 10) & 7) << 3) | (((h >> 5) & 3) << 6);

/** CL/CS word offset: uimm[5:3] = bits 12:10, uimm[2] = bit 6, uimm[6] = bit 5. */
const clWord = (h: number): number => (((h >> 10) & 7) << 3) | bit(h, 6, 2) | bit(h, 5, 6);

/** C.J offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2. */
const cjOffset = (h: number): number => sext(
  bit(h, 12, 11) | bit(h, 11, 4) | (((h >> 9) & 3) << 8) | bit(h, 8, 10) | bit(h, 7, 6) |
  bit(h, 6, 7) | (((h >> 3) & 7) << 1) | bit(h, 2, 5), 12);

/** C.BEQZ/C.BNEZ offset[8|4:3] in bits 12:10, offset[7:6|2:1|5] in bits 6:2. */
const cbOffset = (h: number): number => sext(
  bit(h, 12, 8) | (((h >> 10) & 3) << 3) | (((h >> 5) & 3) << 6) | (((h >> 3) & 3) << 1) |
  bit(h, 2, 5), 9);

function quadrant0(h: number, funct3: number): number {
  const rd = rdc(h), rs1 = rs1c(h);
  switch (funct3) {
    case 0: { // C.ADDI4SPN: nzuimm[5:4|9:6|2|3] in bits 12:5; nzuimm = 0 is reserved.
      const imm = (((h >> 11) & 3) << 4) | (((h >> 7) & 0xf) << 6) | bit(h, 6, 2) | bit(h, 5, 3);
      return imm === 0 ? 0 : iType(OP_IMM, 0, rd, SP, imm);
    }
    case 1: return iType(OP_LOAD_FP, 3, rd, rs1, clDouble(h)); // C.FLD
    case 2: return iType(OP_LOAD, 2, rd, rs1, clWord(h)); // C.LW
    case 3: return iType(OP_LOAD, 3, rd, rs1, clDouble(h)); // C.LD (C.FLW on RV32)
    case 5: return sType(OP_STORE_FP, 3, rs1, rd, clDouble(h)); // C.FSD
    case 6: return sType(OP_STORE, 2, rs1, rd, clWord(h)); // C.SW
    case 7: return sType(OP_STORE, 3, rs1, rd, clDouble(h)); // C.SD (C.FSW on RV32)
    default: return 0; // funct3 = 100 is reserved.
  }
}

function quadrant1(h: number, funct3: number): number {
  const rd = (h >> 7) & 0x1f;
  switch (funct3) {
    case 0: return iType(OP_IMM, 0, rd, rd, ciImm(h)); // C.ADDI; C.NOP and HINTs included
    case 1: return rd === 0 ? 0 : iType(OP_IMM_32, 0, rd, rd, ciImm(h)); // C.ADDIW (C.JAL on RV32)
    case 2: return iType(OP_IMM, 0, rd, 0, ciImm(h)); // C.LI; rd = 0 is a HINT
    case 3: {
      if (rd === SP) { // C.ADDI16SP: nzimm[9] = bit 12, nzimm[4|6|8:7|5] = bits 6:2.
        const imm = sext(bit(h, 12, 9) | bit(h, 6, 4) | bit(h, 5, 6) | (((h >> 3) & 3) << 7) |
          bit(h, 2, 5), 10);
        return imm === 0 ? 0 : iType(OP_IMM, 0, SP, SP, imm);
      }
      const imm = ciImm(h); // C.LUI: nzimm[17:12]; zero is reserved, rd = 0 is a HINT.
      return imm === 0 ? 0 : ((imm << 12) | (rd << 7) | OP_LUI);
    }
    case 4: return miscAlu(h);
    case 5: return jType(0, cjOffset(h)); // C.J
    case 6: return bType(0, rs1c(h), 0, cbOffset(h)); // C.BEQZ
    default: return bType(1, rs1c(h), 0, cbOffset(h)); // C.BNEZ
  }
}

/** Quadrant 1, funct3 = 100: shifts, C.ANDI and the CA-format register ops. */
function miscAlu(h: number): number {
  const rd = rs1c(h);
  switch ((h >> 10) & 3) {
    case 0: return rType(OP_IMM, 5, 0, rd, rd, 0) | (shamt(h) << 20); // C.SRLI; shamt = 0 is a HINT
    case 1: return rType(OP_IMM, 5, 0x20, rd, rd, 0) | (shamt(h) << 20); // C.SRAI
    case 2: return iType(OP_IMM, 7, rd, rd, ciImm(h)); // C.ANDI
  }
  const rs2 = rdc(h);
  const op = (h >> 5) & 3;
  if ((h & 0x1000) === 0) {
    switch (op) {
      case 0: return rType(OP_REG, 0, 0x20, rd, rd, rs2); // C.SUB
      case 1: return rType(OP_REG, 4, 0, rd, rd, rs2); // C.XOR
      case 2: return rType(OP_REG, 6, 0, rd, rd, rs2); // C.OR
      default: return rType(OP_REG, 7, 0, rd, rd, rs2); // C.AND
    }
  }
  switch (op) {
    case 0: return rType(OP_REG_32, 0, 0x20, rd, rd, rs2); // C.SUBW
    case 1: return rType(OP_REG_32, 0, 0, rd, rd, rs2); // C.ADDW
    default: return 0; // reserved
  }
}

function quadrant2(h: number, funct3: number): number {
  const rd = (h >> 7) & 0x1f;
  const rs2 = (h >> 2) & 0x1f;
  // CI stack loads: uimm[5] = bit 12; CSS stores: uimm in bits 12:7.
  const ldsp = bit(h, 12, 5) | (((h >> 5) & 3) << 3) | (((h >> 2) & 7) << 6);
  const sdsp = (((h >> 10) & 7) << 3) | (((h >> 7) & 7) << 6);
  switch (funct3) {
    case 0: return rType(OP_IMM, 1, 0, rd, rd, 0) | (shamt(h) << 20); // C.SLLI; rd = 0 or shamt = 0 are HINTs
    case 1: return iType(OP_LOAD_FP, 3, rd, SP, ldsp); // C.FLDSP
    case 2: { // C.LWSP: uimm[4:2|7:6] = bits 6:2; rd = 0 is reserved.
      const imm = bit(h, 12, 5) | (((h >> 4) & 7) << 2) | (((h >> 2) & 3) << 6);
      return rd === 0 ? 0 : iType(OP_LOAD, 2, rd, SP, imm);
    }
    case 3: return rd === 0 ? 0 : iType(OP_LOAD, 3, rd, SP, ldsp); // C.LDSP (C.FLWSP on RV32)
    case 4:
      if ((h & 0x1000) === 0) {
        if (rs2 !== 0) return rType(OP_REG, 0, 0, rd, 0, rs2); // C.MV; rd = 0 is a HINT
        return rd === 0 ? 0 : iType(OP_JALR, 0, 0, rd, 0); // C.JR; rs1 = 0 is reserved
      }
      if (rs2 !== 0) return rType(OP_REG, 0, 0, rd, rd, rs2); // C.ADD; rd = 0 is a HINT
      return rd === 0 ? 0x00100073 : iType(OP_JALR, 0, 1, rd, 0); // C.EBREAK : C.JALR
    case 5: return sType(OP_STORE_FP, 3, SP, rs2, sdsp); // C.FSDSP
    case 6: { // C.SWSP: uimm[5:2|7:6] = bits 12:7.
      const imm = (((h >> 9) & 0xf) << 2) | (((h >> 7) & 3) << 6);
      return sType(OP_STORE, 2, SP, rs2, imm);
    }
    default: return sType(OP_STORE, 3, SP, rs2, sdsp); // C.SDSP (C.FSWSP on RV32)
  }
}

/**
 * The 32-bit RV64G word (as an int32) that the 16-bit RVC instruction `half` stands for,
 * or 0 when the halfword is illegal or reserved. HINT encodings expand to their no-op
 * base instruction. `half` must have low bits other than 11.
 */
export function expandCompressed(half: number): number {
  const h = half & 0xffff;
  const funct3 = h >> 13;
  switch (h & 3) {
    case 0: return quadrant0(h, funct3);
    case 1: return quadrant1(h, funct3);
    case 2: return quadrant2(h, funct3);
    default: return 0; // not a compressed instruction
  }
}

/**
 * Expansions of all 65536 halfwords, indexed by the halfword, so that decoding a compressed
 * instruction is one load. 0 marks illegal, reserved and 32-bit (low bits 11) halfwords.
 */
export function buildCompressedTable(): Int32Array {
  const table = new Int32Array(1 << 16);
  for (let h = 0; h < table.length; h++) table[h] = expandCompressed(h);
  return table;
}
