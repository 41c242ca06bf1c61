// RVC expansion checked against GNU binutils: GAS encodes each compressed form and its
// uncompressed equivalent, and objdump judges every one of the 65536 halfwords.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandCompressed, buildCompressedTable } from './compressed.js';
import { decodeOp, Op } from './instruction-table.js';
import { disassemble } from './disassembler.js';
import { assemble, objdump, requireToolchain } from './gnu-toolchain.js';

requireToolchain();

const X = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
const F = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3',
  'fa4', 'fa5', 'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11',
  'ft8', 'ft9', 'ft10', 'ft11',
];
const CX = X.slice(8, 16); // the registers the 3-bit fields reach
const CF = F.slice(8, 16);
const X_NZ = X.slice(1);
const X_NZ_NSP = X_NZ.filter((r) => r !== 'sp');

const range = (lo: number, hi: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
};
const nonZero = (vs: number[]): number[] => vs.filter((v) => v !== 0);
const rel = (offset: number): string => (offset < 0 ? `.-${-offset}` : `.+${offset}`);

/**
 * The base instruction a compressed one stands for, in objdump's text form; the
 * expansions of Unpriv. 16.3-16.5, written as text so that they do not share code with
 * compressed.ts.
 */
function expandText(text: string): string {
  const [name = '', args = ''] = text.split('\t');
  const a = args.split(',');
  const base = name.slice(2);
  switch (name) {
    case 'c.ebreak': return 'ebreak';
    case 'c.nop': return 'addi\tzero,zero,0';
    case 'c.addi4spn': return `addi\t${args}`;
    case 'c.addi16sp': return `addi\tsp,sp,${a[1]}`;
    case 'c.fld': case 'c.lw': case 'c.ld': case 'c.fsd': case 'c.sw': case 'c.sd':
      return `${base}\t${args}`;
    case 'c.fldsp': case 'c.lwsp': case 'c.ldsp': case 'c.fsdsp': case 'c.swsp': case 'c.sdsp':
      return `${base.slice(0, -2)}\t${args}`;
    case 'c.addi': case 'c.addiw': case 'c.andi': case 'c.slli': case 'c.srli': case 'c.srai':
    case 'c.sub': case 'c.xor': case 'c.or': case 'c.and': case 'c.subw': case 'c.addw': case 'c.add':
      return `${base}\t${a[0]},${a[0]},${a[1]}`;
    case 'c.slli64': case 'c.srli64': case 'c.srai64': return `${base.slice(0, -2)}\t${a[0]},${a[0]},0x0`;
    case 'c.li': return `addi\t${a[0]},zero,${a[1]}`;
    case 'c.lui': return `lui\t${args}`;
    case 'c.mv': return `add\t${a[0]},zero,${a[1]}`;
    case 'c.j': return `jal\tzero,${a[0]}`;
    case 'c.beqz': return `beq\t${a[0]},zero,${a[1]}`;
    case 'c.bnez': return `bne\t${a[0]},zero,${a[1]}`;
    case 'c.jr': return `jalr\tzero,0(${a[0]})`;
    case 'c.jalr': return `jalr\tra,0(${a[0]})`;
    default: throw new Error(`no expansion known for ${text}`);
  }
}

/** Every legal non-HINT RV64C form with every register and immediate it can encode. */
function compressedSource(): string[] {
  const lines: string[] = ['c.nop', 'c.ebreak'];
  const each = (regs: string[], imms: number[], line: (r: string, i: number) => string): void => {
    for (const r of regs) for (const i of imms) lines.push(line(r, i));
  };
  const pairs = (as: string[], bs: string[], line: (a: string, b: string) => string): void => {
    for (const p of as) for (const q of bs) lines.push(line(p, q));
  };
  // Quadrant 0: CIW and CL/CS forms.
  each(CX, range(4, 1020, 4), (r, i) => `c.addi4spn\t${r},sp,${i}`);
  for (const [name, regs, imms] of [
    ['c.fld', CF, range(0, 248, 8)], ['c.lw', CX, range(0, 124, 4)], ['c.ld', CX, range(0, 248, 8)],
    ['c.fsd', CF, range(0, 248, 8)], ['c.sw', CX, range(0, 124, 4)], ['c.sd', CX, range(0, 248, 8)],
  ] as const) {
    pairs(regs, CX, (r, base) => `${name}\t${r},${imms[imms.length - 1]}(${base})`);
    each(CX, imms, (base, i) => `${name}\t${regs[1]},${i}(${base})`);
  }
  // Quadrant 1.
  each(X_NZ, nonZero(range(-32, 31)), (r, i) => `c.addi\t${r},${i}`);
  each(X_NZ, range(-32, 31), (r, i) => `c.addiw\t${r},${i}`);
  each(X_NZ, range(-32, 31), (r, i) => `c.li\t${r},${i}`);
  for (const i of nonZero(range(-512, 496, 16))) lines.push(`c.addi16sp\tsp,${i}`);
  each(X_NZ_NSP, [...range(1, 31), ...range(0xfffe0, 0xfffff)], (r, i) => `c.lui\t${r},0x${i.toString(16)}`);
  for (const name of ['c.srli', 'c.srai']) each(CX, range(1, 63), (r, i) => `${name}\t${r},${i}`);
  each(CX, range(-32, 31), (r, i) => `c.andi\t${r},${i}`);
  for (const name of ['c.sub', 'c.xor', 'c.or', 'c.and', 'c.subw', 'c.addw']) {
    pairs(CX, CX, (rd, rs) => `${name}\t${rd},${rs}`);
  }
  for (const i of range(-2048, 2046, 2)) lines.push(`c.j\t${rel(i)}`);
  for (const name of ['c.beqz', 'c.bnez']) each(CX, range(-256, 254, 2), (r, i) => `${name}\t${r},${rel(i)}`);
  // Quadrant 2.
  each(X_NZ, range(1, 63), (r, i) => `c.slli\t${r},${i}`);
  each(F, range(0, 504, 8), (r, i) => `c.fldsp\t${r},${i}(sp)`);
  each(X_NZ, range(0, 252, 4), (r, i) => `c.lwsp\t${r},${i}(sp)`);
  each(X_NZ, range(0, 504, 8), (r, i) => `c.ldsp\t${r},${i}(sp)`);
  for (const r of X_NZ) lines.push(`c.jr\t${r}`, `c.jalr\t${r}`);
  pairs(X_NZ, X_NZ, (rd, rs) => `c.mv\t${rd},${rs}`);
  pairs(X_NZ, X_NZ, (rd, rs) => `c.add\t${rd},${rs}`);
  each(F, range(0, 504, 8), (r, i) => `c.fsdsp\t${r},${i}(sp)`);
  each(X, range(0, 252, 4), (r, i) => `c.swsp\t${r},${i}(sp)`);
  each(X, range(0, 504, 8), (r, i) => `c.sdsp\t${r},${i}(sp)`);
  return lines;
}

test('every RV64C form expands to the word GAS assembles for its base equivalent', () => {
  const lines = compressedSource();
  const halves = assemble(lines.join('\n'), 'rv64gc');
  const words = assemble(lines.map(expandText).join('\n'), 'rv64g');
  assert.equal(halves.length, 2 * lines.length, 'every line must assemble to one halfword');
  assert.equal(words.length, 4 * lines.length);
  const wrong: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const h = halves.readUInt16LE(2 * i);
    const want = words.readInt32LE(4 * i);
    const got = expandCompressed(h);
    if (got !== want) {
      wrong.push(`${lines[i]} (0x${h.toString(16)}): got 0x${(got >>> 0).toString(16)}, ` +
        `want 0x${(want >>> 0).toString(16)}`);
    }
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} of ${lines.length} wrong`);
});

test('all 65536 halfwords: legality and operands agree with objdump', () => {
  const halves: number[] = [];
  for (let h = 0; h < 0x10000; h++) if ((h & 3) !== 3) halves.push(h);
  const bytes = Buffer.alloc(2 * halves.length);
  halves.forEach((h, i) => bytes.writeUInt16LE(h, 2 * i));
  const base = 0x80000000n;
  const lines = objdump(bytes, base);
  assert.equal(lines.length, halves.length);
  const wrong: string[] = [];
  for (const [i, line] of lines.entries()) {
    const h = halves[i]!;
    assert.equal(line.value, h);
    assert.equal(line.address, base + BigInt(2 * i));
    const word = expandCompressed(h);
    if (h === 0x6101) {
      // C.ADDI16SP with nzimm = 0 is reserved (Unpriv. 16.5); objdump 2.40 accepts it.
      assert.equal(line.text, 'c.addi16sp\tsp,0');
      assert.equal(word, 0);
      continue;
    }
    const illegal = line.text.startsWith('.2byte') || line.text === 'c.unimp';
    const want = illegal ? 'illegal' : expandText(line.text);
    const got = word === 0 ? 'illegal' : disassemble(word, line.address);
    if (got !== want) wrong.push(`0x${h.toString(16)} ${line.text}: got ${got}, want ${want}`);
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} halfwords disagree`);
});

test('every expansion is a valid 32-bit instruction', () => {
  for (let h = 0; h < 0x10000; h++) {
    const word = expandCompressed(h);
    if (word === 0) continue;
    assert.equal(word & 3, 3, `0x${h.toString(16)}`);
    assert.notEqual(decodeOp(word), Op.ILLEGAL, `0x${h.toString(16)} -> 0x${(word >>> 0).toString(16)}`);
  }
});

test('the table holds the expansion of every halfword and 0 for 32-bit encodings', () => {
  const table = buildCompressedTable();
  assert.equal(table.length, 0x10000);
  for (let h = 0; h < 0x10000; h++) {
    assert.equal(table[h], (h & 3) === 3 ? 0 : expandCompressed(h), `0x${h.toString(16)}`);
  }
});

test('reserved and illegal encodings expand to 0 (Unpriv. 16.3-16.5)', () => {
  const reserved: Array<[string, number]> = [
    ['all-zero halfword', 0x0000],
    ['C.ADDI4SPN nzuimm=0, rd\'=a0', (0 << 13) | (2 << 2) | 0],
    ['quadrant 0 funct3=100', (4 << 13) | 0],
    ['C.ADDIW rd=0', (1 << 13) | (0 << 7) | (5 << 2) | 1],
    ['C.ADDI16SP nzimm=0', (3 << 13) | (2 << 7) | 1],
    ['C.LUI nzimm=0, rd=a0', (3 << 13) | (10 << 7) | 1],
    ['C.LUI nzimm=0, rd=zero', (3 << 13) | 1],
    ['CA bit12=1 funct2=10', (4 << 13) | (1 << 12) | (3 << 10) | (2 << 5) | 1],
    ['CA bit12=1 funct2=11', (4 << 13) | (1 << 12) | (3 << 10) | (3 << 5) | 1],
    ['C.LWSP rd=0', (2 << 13) | (4 << 2) | 2],
    ['C.LDSP rd=0', (3 << 13) | (4 << 2) | 2],
    ['C.JR rs1=0', (4 << 13) | 2],
  ];
  for (const [what, h] of reserved) assert.equal(expandCompressed(h), 0, what);
});

test('HINTs and special cases expand to their base instructions', () => {
  const cases: Array<[string, number, string]> = [
    ['C.NOP', 0x0001, 'addi\tzero,zero,0'],
    ['C.EBREAK', (4 << 13) | (1 << 12) | 2, 'ebreak'],
    ['C.JALR a0', (4 << 13) | (1 << 12) | (10 << 7) | 2, 'jalr\tra,0(a0)'],
    ['C.JR ra', (4 << 13) | (1 << 7) | 2, 'jalr\tzero,0(ra)'],
    ['C.SLLI shamt=0 (HINT)', (10 << 7) | 2, 'slli\ta0,a0,0x0'],
    ['C.SRAI shamt=32 (RV64)', (4 << 13) | (1 << 12) | (1 << 10) | (2 << 7) | 1, 'srai\ta0,a0,0x20'],
    ['C.LI rd=0 (HINT)', (2 << 13) | (1 << 12) | (31 << 2) | 1, 'addi\tzero,zero,-1'],
    ['C.MV rd=0 (HINT)', (4 << 13) | (11 << 2) | 2, 'add\tzero,zero,a1'],
    ['C.ADDIW imm=0', (1 << 13) | (10 << 7) | 1, 'addiw\ta0,a0,0'],
  ];
  for (const [what, h, text] of cases) assert.equal(disassemble(expandCompressed(h)), text, what);
});
