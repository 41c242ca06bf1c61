// Random integer instructions: RV64I ALU and immediates, M, their compressed forms, and
// forward-only control flow (so every block terminates).

import { type BlockContext, imm12, interestingInt } from './block-context.js';
import { hex } from './program-layout.js';

const R_OPS = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw', 'sraw'];
const I_OPS = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'];
const SHIFT_OPS = ['slli', 'srli', 'srai'];
const SHIFTW_OPS = ['slliw', 'srliw', 'sraiw'];
const M_OPS = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw'];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];

export function loadImmediate(c: BlockContext): void {
  c.emit(`li ${c.gpr()}, ${hex(interestingInt(c.rng))}`);
}

export function integerAlu(c: BlockContext): void {
  const r = c.rng;
  switch (r.int(5)) {
    case 0:
    case 1:
      c.emit(`${r.pick(R_OPS)} ${c.gpr()}, ${c.gpr()}, ${c.gpr()}`);
      break;
    case 2:
      c.emit(`${r.pick(I_OPS)} ${c.gpr()}, ${c.gpr()}, ${imm12(r)}`);
      break;
    case 3:
      if (r.chance(0.5)) c.emit(`${r.pick(SHIFT_OPS)} ${c.gpr()}, ${c.gpr()}, ${r.int(64)}`);
      else c.emit(`${r.pick(SHIFTW_OPS)} ${c.gpr()}, ${c.gpr()}, ${r.int(32)}`);
      break;
    default:
      if (r.chance(0.5)) c.emit(`lui ${c.gpr()}, ${hex(r.int(1 << 20))}`);
      else c.emit(`auipc ${c.gpr()}, ${hex(r.int(1 << 20))}`);
  }
}

export function mulDiv(c: BlockContext): void {
  // Often divide by the special values (0, -1) and overflow (MIN / -1).
  if (c.rng.chance(0.3)) {
    c.emit(`li ${c.rng.pick(['x10', 'x11'])}, ${hex(c.rng.pick([0n, -1n, 1n, -0x8000_0000_0000_0000n, -0x8000_0000n]))}`);
    c.emit(`${c.rng.pick(M_OPS)} ${c.gpr()}, ${c.rng.pick(['x10', 'x11', c.gpr()])}, ${c.rng.pick(['x10', 'x11'])}`);
    return;
  }
  c.emit(`${c.rng.pick(M_OPS)} ${c.gpr()}, ${c.gpr()}, ${c.gpr()}`);
}

/** Compressed ALU forms, each with the operand constraints of its encoding (Unpriv. spec 16). */
export function compressedAlu(c: BlockContext): void {
  const r = c.rng;
  const nz6 = () => r.pick([r.range(-32, -1), r.range(1, 31)]);
  switch (r.int(12)) {
    case 0: c.emit(`c.addi ${c.gpr()}, ${nz6()}`); break;
    case 1: c.emit(`c.addiw ${c.gpr()}, ${r.range(-32, 31)}`); break;
    case 2: c.emit(`c.li ${c.gpr()}, ${r.range(-32, 31)}`); break;
    case 3: {
      const rd = c.rng.pick(['x1', ...Array.from({ length: 27 }, (_, i) => `x${i + 5}`)]);
      c.emit(`c.lui ${rd}, ${hex(r.pick([r.range(1, 31), r.range(0xfffe0, 0xfffff)]))}`);
      break;
    }
    case 4: c.emit(`c.slli ${c.gpr()}, ${r.range(1, 63)}`); break;
    case 5: c.emit(`c.${r.pick(['srli', 'srai'])} ${c.cgpr()}, ${r.range(1, 63)}`); break;
    case 6: c.emit(`c.andi ${c.cgpr()}, ${r.range(-32, 31)}`); break;
    case 7: c.emit(`c.mv ${c.gpr()}, ${c.gpr()}`); break;
    case 8: c.emit(`c.add ${c.gpr()}, ${c.gpr()}`); break;
    case 9: c.emit(`c.${r.pick(['sub', 'xor', 'or', 'and', 'subw', 'addw'])} ${c.cgpr()}, ${c.cgpr()}`); break;
    case 10: c.emit(`c.addi16sp sp, ${r.pick([-1, 1]) * 16 * r.range(1, 31)}`); break;
    default: c.emit(`c.addi4spn ${c.cgpr()}, sp, ${4 * r.range(1, 255)}`);
  }
}

/** A forward branch or jump over the next few items. */
export function forwardJump(c: BlockContext): void {
  const r = c.rng;
  const target = c.forwardLabel(r.range(1, 4));
  switch (r.int(6)) {
    case 0:
    case 1:
      c.emit(`${r.pick(BRANCHES)} ${c.gpr()}, ${c.gpr()}, ${target}`);
      break;
    case 2:
      c.emit(`c.${r.pick(['beqz', 'bnez'])} ${c.cgpr()}, ${target}`);
      break;
    case 3:
      c.emit(r.chance(0.5) ? `jal ${c.gpr()}, ${target}` : `c.j ${target}`);
      break;
    default: {
      // jalr through a register computed pc-relatively: correct at any virtual alias.
      const base = c.gpr();
      c.emit(`la ${base}, ${target}`, `jalr ${c.gpr()}, 0(${base})`);
    }
  }
}
