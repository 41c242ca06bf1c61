// The disassembler and the decode table checked against GNU objdump on thousands of words:
// every Op with random fields, and a large random sample of the 32-bit encoding space.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disassemble, disassembleCompressed } from './disassembler.js';
import { INSTRUCTIONS, Op, decodeOp, dispatchKey, buildDispatchTable } from './instruction-table.js';
import { objdump, requireToolchain } from './gnu-toolchain.js';
import type { ObjdumpLine } from './gnu-toolchain.js';

requireToolchain();

const BASE = 0x80000000n;

/** xorshift32 with a fixed seed, so failures reproduce. */
function random(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
}

function toBytes(words: readonly number[]): Buffer {
  const bytes = Buffer.alloc(4 * words.length);
  words.forEach((w, i) => bytes.writeInt32LE(w | 0, 4 * i));
  return bytes;
}

const EXACT_CONVERSIONS = new Set<Op>([Op.FCVT_D_S, Op.FCVT_D_W, Op.FCVT_D_WU]);

// Encodings written out from the spec's listings, independent of INSTRUCTIONS.
const isFence = (w: number): boolean => (w & 0x707f) === 0x000f;
const isFenceI = (w: number): boolean => (w & 0x707f) === 0x100f;
const isExactConversion = (w: number): boolean => {
  const fixed = (w & 0xfff0007f) >>> 0;
  return fixed === 0x42000053 || fixed === 0xd2000053 || fixed === 0xd2100053; // fcvt.d.s/.d.w/.d.wu
};

/**
 * Why a difference from objdump 2.40 is accepted, or undefined when it is a bug.
 * Each case is a place where binutils is stricter than the spec or names more CSRs.
 */
function acceptedDifference(w: number, ours: string, theirs: string): string | undefined {
  if (theirs.startsWith('.4byte')) {
    // Unpriv. 2.7: unused rd/rs1 and reserved fm/pred/succ settings are normal fences.
    if (isFence(w) && /^fence(\.tso|\t)/.test(ours)) return 'fence with reserved fields';
    // Zifencei (Unpriv. chapter 3): imm, rs1 and rd of FENCE.I are ignored.
    if (isFenceI(w) && ours === 'fence.i') return 'fence.i with reserved fields';
    // The rm field exists in these encodings; binutils 2.40 only decodes rm = rne.
    if (isExactConversion(w) && ((w >>> 12) & 7) !== 0 && ours.startsWith('fcvt.d.')) {
      return 'rm on an exact conversion';
    }
    return undefined;
  }
  // Our CSR table is deliberately small; objdump knows every standard CSR name.
  const hexCsr = /^(csrr[wsc]i?\t[a-z0-9]+,)0x[0-9a-f]+(,.*)$/.exec(ours);
  const namedCsr = /^(csrr[wsc]i?\t[a-z0-9]+,)[a-z][a-z0-9]*(,.*)$/.exec(theirs);
  if (hexCsr && namedCsr && hexCsr[1] === namedCsr[1] && hexCsr[2] === namedCsr[2]) return 'CSR name';
  return undefined;
}

/** objdump's text with its conventions that we deliberately do not copy rewritten to ours. */
function normalize(line: ObjdumpLine): string {
  // objdump calls an empty FENCE set "unknown"; we print 0.
  if (line.text.startsWith('fence\t')) return line.text.replace(/unknown/g, '0');
  return line.text;
}

interface Comparison {
  readonly wrong: string[];
  readonly accepted: Map<string, number>;
  readonly legal: number;
}

function compareWithObjdump(words: readonly number[]): Comparison {
  const lines = objdump(toBytes(words), BASE);
  assert.equal(lines.length, words.length, 'objdump must show one line per word');
  const wrong: string[] = [];
  const accepted = new Map<string, number>();
  let legal = 0;
  for (const [i, line] of lines.entries()) {
    const w = words[i]!;
    assert.equal(line.value, w >>> 0);
    const ours = disassemble(w, line.address);
    const theirs = normalize(line);
    if (!theirs.startsWith('.4byte')) legal++;
    if (ours === theirs) continue;
    const reason = acceptedDifference(w, ours, theirs);
    if (reason) accepted.set(reason, (accepted.get(reason) ?? 0) + 1);
    else wrong.push(`0x${(w >>> 0).toString(16).padStart(8, '0')}: ours "${ours}", objdump "${theirs}"`);
  }
  return { wrong, accepted, legal };
}

/**
 * Fields that assemblers always zero but decoders ignore (see acceptedDifference); half of
 * the random words clear them so that objdump shows their text too.
 */
function reservedFields(op: Op): number {
  if (op === Op.FENCE) return 0xf00f8f80; // fm, rs1, rd
  if (op === Op.FENCE_I) return 0xffff8f80; // imm, rs1, rd
  return EXACT_CONVERSIONS.has(op) ? 0x7000 : 0; // rm
}

/** Words for every Op: its match bits with random, all-zero and all-one other fields. */
function wordsForEveryOp(perOp: number): number[] {
  const next = random(0x5eed1);
  const words: number[] = [];
  for (let op = 1; op < INSTRUCTIONS.length; op++) {
    const { mask, match } = INSTRUCTIONS[op]!;
    words.push(match, match | ~mask);
    for (let i = 0; i < perOp; i++) {
      const w = (next() & ~mask) | match;
      words.push(i % 2 ? w : w & ~reservedFields(op));
    }
  }
  return words;
}

/** Random 32-bit-length encodings: low bits 11 and bits 4:2 not 111 (Unpriv. 1.5). */
function randomWords(count: number, seed: number): number[] {
  const next = random(seed);
  const words: number[] = [];
  while (words.length < count) {
    const w = next() | 3;
    if ((w & 0x1c) !== 0x1c) words.push(w | 0);
  }
  return words;
}

test('INSTRUCTIONS rows are in Op order and do not overlap', () => {
  INSTRUCTIONS.forEach((spec, i) => assert.equal(spec.op, i, spec.name));
  assert.equal(INSTRUCTIONS.length, Op.SLOW);
  for (const w of wordsForEveryOp(64)) {
    const op = decodeOp(w);
    const matching = INSTRUCTIONS.filter((s, i) => i > 0 && (w & s.mask) === s.match).map((s) => s.name);
    assert.deepEqual(matching, [INSTRUCTIONS[op]!.name], `0x${(w >>> 0).toString(16)}`);
  }
});

test('every Op with random fields disassembles as objdump does', () => {
  const words = wordsForEveryOp(32);
  const { wrong, accepted } = compareWithObjdump(words);
  assert.deepEqual(wrong.slice(0, 30), [], `${wrong.length} of ${words.length} differ`);
  // The accepted differences must stay the few documented kinds, not swallow whole formats.
  const total = [...accepted.values()].reduce((a, b) => a + b, 0);
  assert.ok(total < words.length / 20, `accepted ${total}: ${JSON.stringify([...accepted])}`);
});

test('decodeOp agrees with objdump on which random words are instructions', () => {
  const words = randomWords(1 << 18, 0xdec0de);
  const { wrong, legal } = compareWithObjdump(words);
  assert.deepEqual(wrong.slice(0, 30), [], `${wrong.length} of ${words.length} differ`);
  assert.ok(legal > words.length / 10, `only ${legal} legal words: the sample does not test much`);
});

test('the dispatch table agrees with decodeOp or defers with Op.SLOW', () => {
  const table = buildDispatchTable();
  const next = random(0xd15);
  const check = (w: number): void => {
    const entry = table[dispatchKey(w)]!;
    const op = decodeOp(w);
    if (entry !== op && entry !== Op.SLOW) {
      assert.fail(`0x${(w >>> 0).toString(16)}: table ${entry}, decodeOp ${op}`);
    }
  };
  const KEY_BITS = 0xfe00707c | 0;
  for (let key = 0; key < 1 << 15; key++) {
    const word = ((key & 0x1f) << 2) | 3 | ((key & 0xe0) << 7) | ((key & 0x7f00) << 17);
    assert.equal(dispatchKey(word), key);
    check(word);
    check(word | ~KEY_BITS);
    for (let i = 0; i < 6; i++) check(word | (next() & ~KEY_BITS));
  }
  for (const w of wordsForEveryOp(16)) check(w);
  for (const w of randomWords(1 << 16, 7)) check(w);
  // SLOW is only for keys where the rest of the word decides.
  let fast = 0;
  for (const entry of table) if (entry !== Op.SLOW && entry !== Op.ILLEGAL) fast++;
  assert.ok(fast > 1000, `only ${fast} keys dispatch directly`);
});

test('branch and jump targets are relative without a pc, absolute with one', () => {
  const jal = 0x010000ef; // jal ra, +16
  assert.equal(disassemble(jal), 'jal\tra,.+16');
  assert.equal(disassemble(jal, 0x1000n), 'jal\tra,0x1010');
  const beq = 0xfeb50ce3 | 0; // beq a0, a1, -8
  assert.equal(disassemble(beq), 'beq\ta0,a1,.-8');
  assert.equal(disassemble(beq, 0x80000004n), 'beq\ta0,a1,0x7ffffffc');
  assert.equal(disassemble(beq, 0n), 'beq\ta0,a1,0xfffffffffffffff8');
});

test('operand forms', () => {
  assert.equal(disassemble(0x0330000f | (8 << 28)), 'fence.tso');
  assert.equal(disassemble(0x0100000f), 'fence\tw,0');
  assert.equal(disassemble(0x0000100f), 'fence.i');
  assert.equal(disassemble(0xfff9108f | 0), 'fence.i'); // reserved fields ignored (Unpriv. chapter 3)
  assert.equal(disassemble(0x30002573), 'csrrs\ta0,mstatus,zero');
  assert.equal(disassemble(0x3ef02573), 'csrrs\ta0,pmpaddr63,zero');
  assert.equal(disassemble(0x7c002573), 'csrrs\ta0,0x7c0,zero');
  assert.equal(disassemble(0x00c51553), 'fadd.s\tfa0,fa0,fa2,rtz');
  assert.equal(disassemble(0x00c57553), 'fadd.s\tfa0,fa0,fa2');
  assert.equal(disassemble(0xa2c5a553 | 0), 'feq.d\ta0,fa1,fa2');
  assert.equal(disassemble(0x06c5a52f), 'amoadd.w.aqrl\ta0,a2,(a1)');
  assert.equal(disassemble(0x00000000), '.4byte\t0x0');
  assert.equal(disassemble(0xffffffff | 0), '.4byte\t0xffffffff');
});

test('compressed instructions show their expansion with a c. prefix', () => {
  assert.equal(disassembleCompressed(0x4515), 'c.addi\ta0,zero,5'); // C.LI a0, 5
  assert.equal(disassembleCompressed(0x8082), 'c.jalr\tzero,0(ra)'); // C.JR ra
  assert.equal(disassembleCompressed(0xa001, 0x100n), 'c.jal\tzero,0x100'); // C.J 0
  assert.equal(disassembleCompressed(0x0000), '.2byte\t0x0');
});
