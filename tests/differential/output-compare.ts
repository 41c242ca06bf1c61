// Compares the state dumps of one program run on Vireo and on QEMU, after rewriting QEMU's
// trap records where QEMU 7.2 is known to differ from Vireo's documented choices (see
// tests/programs/qemu-differences.S). Only QEMU's side is rewritten, and only into the value
// Vireo documents, so a Vireo deviation still shows.

import { WINDOW } from './program-layout.js';

export interface Comparison {
  equal: boolean;
  /** Index (in the compared lines) of the first difference, or -1. */
  firstDifference: number;
  /** A readable account of the first difference with context; empty when equal. */
  report: string;
  vireoLines: string[];
  qemuLines: string[];
}

const AMO_OPCODE = 0x2f;
const LR_FUNCT5 = 0b00010;
/** QEMU 7.2 reports AMO/SC faults with the load causes; Vireo with the store/AMO ones. */
const AMO_CAUSE: Record<string, string> = { '4': '6', '5': '7', '13': '15' };

/** The lines that describe state: drops informational lines and anything not from the guest. */
export function stateLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => /^(x\d+|f\d+|mstatus|medeleg|mideleg|mscratch|sscratch|satp|mcounteren|scounteren|fcsr|pte\S+|amofaults|traps|trap|mem|checkpoint|nested trap) /.test(l));
}

/** Instructions the run retired, from its "info instret" line (0 when missing). */
export function retiredInstructions(output: string): number {
  const m = /^info instret ([0-9a-f]{16})$/m.exec(output);
  return m ? parseInt(m[1]!, 16) : 0;
}

/** Bytes accessed by a load, store or AMO encoding (32-bit or compressed); 0 for others. */
export function accessSize(insn: number): number {
  const f3 = (insn >>> 12) & 7;
  if ((insn & 3) !== 3) {
    // Quadrants 0 and 2 share the layout: c.fld/c.lw/c.ld, c.fsd/c.sw/c.sd (and the sp forms).
    if ((insn & 3) === 1) return 0;
    return [0, 8, 4, 8, 0, 8, 4, 8][(insn >>> 13) & 7]!;
  }
  switch (insn & 0x7f) {
    case 0x03: return [1, 2, 4, 8, 1, 2, 4, 0][f3]!;
    case 0x23: return [1, 2, 4, 8, 0, 0, 0, 0][f3]!;
    case 0x07:
    case 0x27: return f3 === 2 ? 4 : f3 === 3 ? 8 : 0;
    case AMO_OPCODE: return f3 === 2 ? 4 : f3 === 3 ? 8 : 0;
    default: return 0;
  }
}

const FAULT_CAUSES = new Set([5n, 7n, 13n, 15n]);

/**
 * Rewrites one QEMU trap record "trap WHO CAUSE EPC TVAL STATUS INSN" (hex fields) where
 * QEMU 7.2 makes a different choice than Vireo documents; `vireo` is Vireo's record at the
 * same place, for the rule that needs the address Vireo reports:
 * - AMO and SC faults: load causes (4, 5, 13) become the store/AMO causes (6, 7, 15);
 * - ebreak: QEMU writes tval = 0, Vireo the pc (both allowed, Priv. spec 3.1.16);
 * - a misaligned access that faults on its first page, or outside RAM: QEMU reports the
 *   address rounded down to the access size (not inside the access; Priv. spec 3.1.16 asks
 *   for the address of the part that faulted), Vireo the access's own address.
 */
export function normaliseQemuTrap(line: string, vireo?: string): string {
  const f = line.split(' ');
  if (f[0] !== 'trap' || f.length !== 7) return line;
  const cause = BigInt(`0x${f[2]}`);
  const insn = Number(BigInt(`0x${f[6]}`) & 0xffff_ffffn);
  if ((insn & 0x7f) === AMO_OPCODE && (insn >>> 27) !== LR_FUNCT5) {
    const mapped = AMO_CAUSE[cause.toString()];
    if (mapped !== undefined) f[2] = BigInt(mapped).toString(16).padStart(16, '0');
  }
  if (cause === 3n && BigInt(`0x${f[4]}`) === 0n) f[4] = f[3]!;
  const v = vireo?.split(' ');
  const size = BigInt(accessSize(insn));
  if (v && v.length === 7 && v[2] === f[2] && v[3] === f[3] && FAULT_CAUSES.has(BigInt(`0x${f[2]}`)) && size > 1n) {
    const vTval = BigInt(`0x${v[4]}`);
    const qTval = BigInt(`0x${f[4]}`);
    if (vTval % size !== 0n && qTval === vTval - (vTval % size)) f[4] = v[4]!;
  }
  return f.join(' ');
}

/** The PTE dump tags of the window pages in the runtime's AMO fault mask (SAVE.amoFaultPages). */
export function amoFaultTags(mask: bigint): Set<string> {
  const tags = new Set<string>();
  for (let i = 0; i < WINDOW.lowPages; i++) {
    if ((mask >> BigInt(i)) & 1n) tags.add(`pte39.low${i}`).add(`pte48.low${i}`);
  }
  if ((mask >> 16n) & 1n) tags.add('pte39.high').add('pte48.high');
  if ((mask >> 17n) & 1n) tags.add('pte48.giga');
  return tags;
}

/**
 * QEMU 7.2 performs an AMO as a load access, then a store access: when the store part
 * faults, the load part has already set the page's A bit. Vireo sets A and D only for an
 * access it performs. For the PTEs of pages where an AMO or SC faulted (the runtime keeps a
 * mask of them, compared too), QEMU's extra A bit is dropped; every other bit must match.
 */
function normaliseQemuPte(line: string, vireo: string | undefined, amoPages: Set<string>): string {
  const f = line.split(' ');
  const v = vireo?.split(' ');
  if (!v || f.length !== 2 || v[0] !== f[0] || !amoPages.has(f[0]!)) return line;
  const q = BigInt(`0x${f[1]}`);
  const a = 0x40n;
  if ((q & a) !== 0n && (BigInt(`0x${v[1]}`) & a) === 0n) f[1] = (q & ~a).toString(16).padStart(16, '0');
  return f.join(' ');
}

const FS_MASK = 3n << 13n;
const SD = 1n << 63n;

/**
 * mstatus/sstatus from QEMU vs Vireo: an FP instruction that writes fcsr (flags) or an FP
 * register without changing it may or may not set FS = Dirty (Priv. spec 3.1.6.6: it is
 * implementation-defined). Vireo sets Dirty, QEMU 7.2 does not (seen for feq.d with fflags
 * unchanged). QEMU's value is taken as Vireo's when they differ only by
 * Vireo's FS being Dirty where QEMU's is Initial or Clean.
 */
export function normaliseQemuStatus(qemu: bigint, vireo: bigint): bigint {
  if (qemu === vireo || ((qemu ^ vireo) & ~(FS_MASK | SD)) !== 0n) return qemu;
  const qFs = (qemu & FS_MASK) >> 13n;
  const vFs = (vireo & FS_MASK) >> 13n;
  return vFs === 3n && (qFs === 1n || qFs === 2n) ? vireo : qemu;
}

function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** Applies normaliseQemuStatus to the status field of a trap, mstatus or checkpoint line. */
function normaliseStatusField(line: string, vireo: string | undefined): string {
  const f = line.split(' ');
  const v = vireo?.split(' ');
  const at = f[0] === 'trap' ? 5 : f[0] === 'mstatus' ? 1 : f[0] === 'checkpoint' ? 33 : -1;
  if (at < 0 || !v || v[0] !== f[0] || v.length !== f.length || f[at] === undefined) return line;
  f[at] = hex64(normaliseQemuStatus(BigInt(`0x${f[at]}`), BigInt(`0x${v[at]}`)));
  return f.join(' ');
}

export function compareOutputs(vireoOutput: string, qemuOutput: string): Comparison {
  const vireoLines = stateLines(vireoOutput);
  const traps = stateLines(qemuOutput).map((l, i) => normaliseQemuTrap(l, vireoLines[i]));
  const mask = /^amofaults ([0-9a-f]{16})$/m.exec(vireoOutput);
  const amoTags = amoFaultTags(mask ? BigInt(`0x${mask[1]}`) : 0n);
  const qemuLines = traps.map((l, i) => normaliseStatusField(normaliseQemuPte(l, vireoLines[i], amoTags), vireoLines[i]));
  const n = Math.max(vireoLines.length, qemuLines.length);
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (vireoLines[i] !== qemuLines[i]) {
      first = i;
      break;
    }
  }
  if (first < 0 && vireoLines.length === 0) {
    return { equal: false, firstDifference: 0, report: 'neither run printed any state', vireoLines, qemuLines };
  }
  if (first < 0) return { equal: true, firstDifference: -1, report: '', vireoLines, qemuLines };
  const from = Math.max(0, first - 3);
  const show = (lines: string[]) =>
    lines.slice(from, first + 4).map((l, k) => `${from + k === first ? '>' : ' '} ${l}`).join('\n');
  const others = [];
  for (let i = first + 1; i < n && others.length < 8; i++) {
    if (vireoLines[i] !== qemuLines[i]) others.push(`  vireo: ${vireoLines[i] ?? '(none)'}\n  qemu:  ${qemuLines[i] ?? '(none)'}`);
  }
  const report = [
    `first difference at state line ${first}:`,
    `  vireo: ${vireoLines[first] ?? '(missing)'}`,
    `  qemu:  ${qemuLines[first] ?? '(missing)'}`,
    'vireo context:', show(vireoLines),
    'qemu context (normalised):', show(qemuLines),
    ...(others.length ? ['further differences:', ...others] : []),
  ].join('\n');
  return { equal: false, firstDifference: first, report, vireoLines, qemuLines };
}
