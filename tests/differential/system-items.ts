// Random system instructions: CSR accesses (legal or not in the block's privilege) and
// instructions that trap: ecall, ebreak, illegal encodings, and privileged instructions used
// where they are illegal.
//
// Left out on purpose (differences or non-determinism, see qemu-differences.S):
// - values of cycle/time/instret: read for the trap-or-not only, then overwritten;
// - mcause/scause/mtval/stval read back after a trap (the handlers log them instead; ebreak's
//   tval and the AMO fault causes differ and are normalised in the log only);
// - mstatus.MPP and MPRV (MPP = 2 and MRET clearing MPRV differ); TVM/TW/TSR are set per block;
// - misa writes (QEMU would switch extensions off), satp mode 10 (QEMU 7.2 takes Sv57);
// - WFI where it would wait, MRET/SRET where they would return (no fixed target).

import type { BlockContext } from './block-context.js';
import { hex } from './program-layout.js';

const MSTATUS_BITS = {
  SIE: 1n << 1n, SPIE: 1n << 5n, MPIE: 1n << 7n, SPP: 1n << 8n,
  FS_INITIAL: 1n << 13n, FS_ALL: 3n << 13n, SUM: 1n << 18n, MXR: 1n << 19n,
};

/** Encodings that are illegal on an RV64GC hart without other extensions. */
const ILLEGAL_32 = [
  0x0000_000b, 0x0000_702b, 0x4000_1033, 0x0000_7003, 0x0000_7023, 0x0200_5053, 0x0200_6053,
  0xffff_ffff, 0x7ff0_0073, 0x0400_0053, 0x2800_302f, 0x1010_302f,
];
const ILLEGAL_16 = [0x0000, 0x6081, 0x8002, 0x0004, 0x6002, 0x4002];

function maskOf(c: BlockContext, bits: bigint[]): bigint {
  let m = 0n;
  for (const b of bits) if (c.rng.chance(0.4)) m |= b;
  return m === 0n ? c.rng.pick(bits) : m;
}

/**
 * Clears FS and SD in a status value read into `rd`: whether an FP instruction that leaves
 * the FP state as it was sets FS = Dirty is implementation-defined (Priv. spec 3.1.6.6), and
 * QEMU differs there. The trap log keeps the full value (compared with output-compare's rule).
 */
function hideFpDirty(c: BlockContext, rd: string): void {
  let tmp = c.gpr();
  while (tmp === rd) tmp = c.gpr();
  c.emit(`li ${tmp}, ${hex(~((3n << 13n) | (1n << 63n)))}`, `and ${rd}, ${rd}, ${tmp}`);
}

export function csrAccess(c: BlockContext): void {
  const r = c.rng;
  const rd = c.gpr();
  const rs = c.gpr();
  switch (r.int(12)) {
    case 0:
      c.emit(`csrr ${rd}, ${r.pick(['fflags', 'frm', 'fcsr'])}`);
      break;
    case 1: {
      const csr = r.pick(['fflags', 'frm', 'fcsr']);
      if (r.chance(0.5)) c.emit(`csrrwi ${rd}, ${csr}, ${r.int(32)}`);
      else c.emit(`${r.pick(['csrrw', 'csrrs', 'csrrc'])} ${rd}, ${csr}, ${rs}`);
      break;
    }
    case 2:
      // frm = 5..7 makes every dynamic-rounding instruction illegal until it changes.
      c.emit(`csrwi frm, ${r.chance(0.8) ? r.int(5) : r.range(5, 7)}`);
      break;
    case 3:
      c.emit(`${r.pick(['csrrw', 'csrrs', 'csrrc'])} ${rd}, ${r.pick(['mscratch', 'sscratch'])}, ${rs}`);
      break;
    case 4: {
      const csr = r.pick(['mepc', 'sepc', 'mtval', 'stval']);
      // xepc[0] reads as zero (Priv. spec 3.1.14); QEMU 7.2 keeps it, so write even values.
      if (csr.endsWith('epc')) c.emit(`andi ${rs}, ${rs}, -2`);
      c.emit(`csrw ${csr}, ${rs}`, `csrr ${rd}, ${csr}`);
      break;
    }
    case 5: {
      const status = c.mode === 'M' && r.chance(0.6) ? 'mstatus' : 'sstatus';
      const bits = [MSTATUS_BITS.SIE, MSTATUS_BITS.SPIE, MSTATUS_BITS.SPP, MSTATUS_BITS.FS_INITIAL, MSTATUS_BITS.FS_ALL, MSTATUS_BITS.SUM, MSTATUS_BITS.MXR];
      if (status === 'mstatus') bits.push(MSTATUS_BITS.MPIE);
      c.emit(`li ${rs}, ${hex(maskOf(c, bits))}`, `${r.pick(['csrrs', 'csrrc'])} ${rd}, ${status}, ${rs}`);
      hideFpDirty(c, rd);
      break;
    }
    case 6: {
      c.emit(`li ${rs}, ${hex(r.pick(c.satpChoices))}`, `csrrw ${rd}, satp, ${rs}`, 'sfence.vma');
      break;
    }
    case 7: {
      // Counter access: trap or not depends on m/scounteren; the value is not compared.
      const csr = r.pick(['cycle', 'time', 'instret', 'mcycle', 'minstret']);
      c.emit(`csrr ${rd}, ${csr}`, `li ${rd}, 0`);
      break;
    }
    case 8: {
      const csr = r.pick(['misa', 'mhartid', 'medeleg', 'mideleg', 'mcounteren', 'scounteren', 'sstatus', 'mstatus', 'satp', 'pmpcfg0', 'pmpaddr1']);
      c.emit(`csrr ${rd}, ${csr}`);
      if (csr.endsWith('status')) hideFpDirty(c, rd);
      break;
    }
    case 9:
      // Writes to read-only CSRs and accesses to CSRs that do not exist are illegal.
      // (CSRRS/CSRRC with rs1 != x0 attempt a write even when rs1 holds 0, Zicsr 9.1; QEMU 7.2
      // only traps for a non-zero mask, so the mask is made non-zero.)
      c.emit(`ori ${rs}, ${rs}, 1`);
      c.emit(r.pick([`csrw mhartid, ${rs}`, `csrrw ${rd}, cycle, ${rs}`, `csrrs ${rd}, instret, ${rs}`, `csrrc ${rd}, time, ${rs}`, `csrr ${rd}, 0x800`, `csrw 0x800, ${rs}`]));
      break;
    case 10:
      // Only CY, TM, IR: the hpm enable bits are WARL and QEMU keeps them, Vireo does not.
      c.emit(`csrwi scounteren, ${r.int(8)}`);
      break;
    default:
      c.emit(`csrrs ${rd}, ${r.pick(['sscratch', 'mscratch'])}, x0`);
  }
}

export function trappingInstruction(c: BlockContext): void {
  const r = c.rng;
  const options: string[] = ['ecall', 'ebreak', 'c.ebreak', 'illegal32', 'illegal16', 'fence', 'fence.i'];
  if (c.mode !== 'U') options.push('sfence');
  if (c.mode === 'U' || (c.mode === 'S' && c.trapBits.tw)) options.push('wfi');
  if (c.mode !== 'M') options.push('mret');
  if (c.mode === 'U' || (c.mode === 'S' && c.trapBits.tsr)) options.push('sret');
  if (c.mode === 'U') options.push('sfence');
  const op = r.pick(options);
  switch (op) {
    case 'illegal32':
      c.emit(`.4byte ${hex(r.pick(ILLEGAL_32))}`);
      break;
    case 'illegal16':
      c.emit(`.2byte ${hex(r.pick(ILLEGAL_16))}`);
      break;
    case 'sfence':
      c.emit(r.chance(0.5) ? 'sfence.vma' : `sfence.vma ${c.gpr()}, ${c.gpr()}`);
      break;
    case 'fence':
      c.emit(r.pick(['fence', 'fence rw, rw', 'fence r, w', 'fence.tso']));
      break;
    default:
      c.emit(op);
  }
}
