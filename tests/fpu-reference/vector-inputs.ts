// Operands for the FPU reference vectors: special values, values near rounding and range
// boundaries, and seeded pseudo-random bit patterns shaped to hit ties, cancellation,
// subnormals and overflow often. Every operand is an unsigned bigint bit pattern.

export type OperandKind = 'f32' | 'f64' | 'i32' | 'u32' | 'i64' | 'u64';

export interface ReferenceOp {
  readonly name: string;
  readonly operands: readonly OperandKind[];
  /** Whether the operation takes a rounding mode; others are generated with rm 0 only. */
  readonly rounds: boolean;
}

function arithmetic(width: 32 | 64): ReferenceOp[] {
  const f: OperandKind = width === 32 ? 'f32' : 'f64';
  const bin = (name: string, rounds: boolean): ReferenceOp => ({ name: name + width, operands: [f, f], rounds });
  return [
    bin('add', true), bin('sub', true), bin('mul', true), bin('div', true),
    { name: `sqrt${width}`, operands: [f], rounds: true },
    { name: `fma${width}`, operands: [f, f, f], rounds: true },
    bin('min', false), bin('max', false), bin('eq', false), bin('lt', false), bin('le', false),
    { name: `classify${width}`, operands: [f], rounds: false },
    ...(['I32', 'U32', 'I64', 'U64'] as const).map((t) => ({ name: `f${width}To${t}`, operands: [f], rounds: true })),
    ...(['i32', 'u32', 'i64', 'u64'] as const).map((t) => ({ name: `${t}ToF${width}`, operands: [t], rounds: true })),
  ];
}

export const REFERENCE_OPS: readonly ReferenceOp[] = [
  ...arithmetic(32),
  ...arithmetic(64),
  { name: 'f32ToF64', operands: ['f32'], rounds: false },
  { name: 'f64ToF32', operands: ['f64'], rounds: true },
];

/** mulberry32: small, fast and good enough to spread test inputs. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.nextU32() / 2 ** 32) * n);
  }

  chance(p: number): boolean {
    return this.nextU32() / 2 ** 32 < p;
  }

  bits(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i += 32) v = (v << 32n) | BigInt(this.nextU32());
    return BigInt.asUintN(n, v);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

export const SPECIALS_32: readonly bigint[] = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x007fffff, 0x807fffff, 0x00400000,
  0x00800000, 0x80800000, 0x00800001, 0x00ffffff, 0x01000000, 0x0c000000, 0x33800000, 0x34000000,
  0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3f7ffffe, 0x40000000, 0x3f000000, 0xbf000000, 0x3effffff,
  0x3f000001, 0x3fc00000, 0x3fbfffff, 0x3fc00001, 0x40400000, 0x3f400000, 0x40200000, 0x40600000, 0xbf666666,
  0xbf800001, 0x1f800000, 0x5f800000, 0x7f7fffff, 0xff7fffff, 0x7f000000, 0x7effffff, 0x7f800000, 0xff800000,
  0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7fffffff, 0x4b000000, 0x4b000001, 0x4b800000,
  0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x4f800000, 0x4f7fffff, 0x5effffff, 0x5f000000, 0xdf000000,
  0xdf000001, 0x5f7fffff,
].map((v) => BigInt(v));

export const SPECIALS_64: readonly bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, 0x0000000000000001n, 0x8000000000000001n, 0x0000000000000002n,
  0x000fffffffffffffn, 0x800fffffffffffffn, 0x0008000000000000n, 0x0010000000000000n, 0x8010000000000000n,
  0x0010000000000001n, 0x001fffffffffffffn, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff0000000000001n,
  0x3fefffffffffffffn, 0x4000000000000000n, 0x3fe0000000000000n, 0xbfe0000000000000n, 0x3fe0000000000001n,
  0x3fdfffffffffffffn, 0x3ff8000000000000n, 0x4008000000000000n, 0x3fe8000000000000n, 0x4004000000000000n,
  0x400c000000000000n, 0xbfeccccccccccccdn, 0xbff0000000000001n, 0x7fefffffffffffffn, 0xffefffffffffffffn,
  0x7fe0000000000000n, 0x7fdfffffffffffffn, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n,
  0xfff8000000000000n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7ff4000000000000n, 0x7fffffffffffffffn,
  0x4330000000000000n, 0x4330000000000001n, 0x41dfffffffc00000n, 0x41dfffffffe00000n, 0x41e0000000000000n,
  0xc1e0000000000000n, 0xc1e0000000100000n, 0xc1e0000000200000n, 0x41efffffffe00000n, 0x41f0000000000000n,
  0x43dfffffffffffffn, 0x43e0000000000000n, 0xc3e0000000000000n, 0xc3e0000000000001n, 0x43efffffffffffffn,
  0x43f0000000000000n, 0x47efffffe0000000n, 0x47effffff0000000n, 0x47efffffefffffffn, 0x3810000000000000n,
  0x380fffffe0000000n, 0x36a0000000000000n, 0x3690000000000000n, 0x3690000000000001n, 0x368fffffffffffffn,
  0x36a8000000000000n, 0x3ca0000000000000n, 0x3cb0000000000000n,
];

interface Layout {
  readonly width: number;
  readonly fracBits: number;
  readonly expMax: number;
  readonly bias: number;
  readonly specials: readonly bigint[];
}

const LAYOUT_32: Layout = { width: 32, fracBits: 23, expMax: 255, bias: 127, specials: SPECIALS_32 };
const LAYOUT_64: Layout = { width: 64, fracBits: 52, expMax: 2047, bias: 1023, specials: SPECIALS_64 };

function pack(l: Layout, sign: number, exp: number, frac: bigint): bigint {
  return (BigInt(sign) << BigInt(l.width - 1)) | (BigInt(exp) << BigInt(l.fracBits)) | frac;
}

/** A significand that often has trailing zeros (short values make ties and exact results likely). */
function randomFraction(rng: Prng, l: Layout): bigint {
  let frac = rng.bits(l.fracBits);
  if (rng.chance(0.5)) {
    const keep = rng.below(l.fracBits + 1);
    frac &= ((1n << BigInt(keep)) - 1n) << BigInt(l.fracBits - keep);
  } else if (rng.chance(0.2)) {
    frac = rng.chance(0.5) ? 0n : (1n << BigInt(l.fracBits)) - 1n;
  }
  return frac;
}

function clampExp(l: Layout, e: number): number {
  return Math.max(0, Math.min(l.expMax - 1, e));
}

function randomFloat(rng: Prng, l: Layout): bigint {
  const r = rng.below(100);
  if (r < 10) return rng.pick(l.specials);
  if (r < 35) return rng.bits(l.width);
  const sign = rng.below(2);
  const e = rng.below(10);
  let exp: number;
  if (e < 3) exp = rng.below(l.expMax); // anywhere
  else if (e < 5) exp = rng.below(3); // subnormal and smallest normals
  else if (e < 6) exp = l.expMax - 1 - rng.below(3); // largest
  else exp = clampExp(l, l.bias + rng.below(2 * l.fracBits + 8) - l.fracBits - 4);
  return pack(l, sign, exp, randomFraction(rng, l));
}

/** A second operand related to the first: close exponent, nearby bits, or independent. */
function relatedFloat(rng: Prng, l: Layout, a: bigint): bigint {
  const r = rng.below(100);
  const fieldA = Number((a >> BigInt(l.fracBits)) & BigInt(l.expMax));
  if (r < 35) return randomFloat(rng, l);
  if (r < 70) {
    const exp = clampExp(l, fieldA + rng.below(2 * l.fracBits + 8) - l.fracBits - 4);
    return pack(l, rng.below(2), exp, randomFraction(rng, l));
  }
  // A few ulps away, either sign: cancellation and near-ties.
  const mask = (1n << BigInt(l.width)) - 1n;
  const delta = BigInt(rng.below(9) - 4);
  const flip = rng.chance(0.5) ? 1n << BigInt(l.width - 1) : 0n;
  return ((a + delta) & mask) ^ flip;
}

const buffer = new ArrayBuffer(8);
const asF64 = new Float64Array(buffer);
const asU64 = new BigUint64Array(buffer);
const asF32 = new Float32Array(buffer, 0, 1);
const asU32 = new Uint32Array(buffer);

function valueOf(l: Layout, bits: bigint): number {
  if (l.width === 64) {
    asU64[0] = bits;
    return asF64[0]!;
  }
  asU32[0] = Number(bits);
  return asF32[0]!;
}

function bitsOf(l: Layout, x: number): bigint {
  if (l.width === 64) {
    asF64[0] = x;
    return asU64[0]!;
  }
  asF32[0] = x;
  return BigInt(asU32[0]!);
}

/** An addend for fma: often close to -(a*b), to exercise cancellation in the fused sum. */
function fmaAddend(rng: Prng, l: Layout, a: bigint, b: bigint): bigint {
  const r = rng.below(100);
  if (r < 40) return randomFloat(rng, l);
  const product = valueOf(l, a) * valueOf(l, b);
  if (!Number.isFinite(product)) return randomFloat(rng, l);
  const near = bitsOf(l, -product);
  if (r < 75) return relatedFloat(rng, l, near);
  return near;
}

/** A float near an integer, a half-integer or an integer-range limit, for float-to-integer conversions. */
function integralishFloat(rng: Prng, l: Layout): bigint {
  const magnitude = Number(rng.bits(rng.below(67)));
  const fraction = rng.pick([0, 0.25, 0.5, 0.75, rng.nextU32() / 2 ** 32]);
  const x = (magnitude + fraction) * (rng.chance(0.5) ? -1 : 1);
  const bits = bitsOf(l, x);
  const delta = BigInt(rng.below(5) - 2);
  return rng.chance(0.7) ? bits : BigInt.asUintN(l.width, bits + delta);
}

const INT_SPECIALS: readonly bigint[] = [
  0n, 1n, 2n, 3n, -1n, -2n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n,
  0xffffffn, 0x1000000n, 0x1000001n, 0x1000003n, 0x2000003n, -0x1000001n, 0x7fffffbfn, 0x7fffffc0n, 0xffffff7fn,
  (1n << 53n) + 1n, (1n << 53n) - 1n, -(1n << 53n) - 1n, (1n << 54n) + 2n, (1n << 54n) + 6n,
  0x7fffffffffffffffn, -0x8000000000000000n, 0xffffffffffffffffn, 0x8000000000000001n, 0x7ffffffffffffdffn,
  0x7ffffffffffffe00n, 0x7fffff7fffffffffn, 0xfffffffffffff800n, 0xfffffffffffffbffn, 0xffffff7fffffffffn,
];

function randomInt(rng: Prng, kind: OperandKind): bigint {
  const width = kind === 'i32' || kind === 'u32' ? 32 : 64;
  if (rng.chance(0.1)) return BigInt.asUintN(width, rng.pick(INT_SPECIALS));
  let v = rng.bits(rng.below(width + 1));
  if (rng.chance(0.3)) v |= (1n << BigInt(rng.below(width))) - 1n; // runs of ones: carries when rounding
  if (kind[0] === 'i' && rng.chance(0.5)) v = -v;
  return BigInt.asUintN(width, v);
}

export interface VectorInput {
  readonly op: string;
  readonly rm: number;
  readonly a: bigint;
  readonly b: bigint;
  readonly c: bigint;
}

export interface InputOptions {
  readonly seed: number;
  /** Random operand tuples per operation, on top of the special-value combinations. */
  readonly randomPerOp: number;
  /** Rounding modes to generate for operations that take one; all five by default. */
  readonly roundingModes?: readonly number[];
}

function layoutOf(kind: OperandKind): Layout {
  return kind === 'f32' ? LAYOUT_32 : LAYOUT_64;
}

/** Operand tuples for one operation: special combinations, then random ones. */
function operandTuples(op: ReferenceOp, rng: Prng, count: number): bigint[][] {
  const kinds = op.operands;
  const first = kinds[0]!;
  const tuples: bigint[][] = [];
  if (first[0] === 'f') {
    const l = layoutOf(first);
    if (kinds.length === 1) for (const a of l.specials) tuples.push([a]);
    if (kinds.length === 2) for (const a of l.specials) for (const b of l.specials) tuples.push([a, b]);
    if (kinds.length === 3) {
      const few = l.specials.filter((_, i) => i % 4 === 0);
      for (const a of few) for (const b of few) for (const c of few) tuples.push([a, b, c]);
    }
    const toInt = op.name.includes('ToI') || op.name.includes('ToU');
    for (let i = 0; i < count; i++) {
      const a = toInt && rng.chance(0.6) ? integralishFloat(rng, l) : randomFloat(rng, l);
      if (kinds.length === 1) tuples.push([a]);
      else if (kinds.length === 2) tuples.push([a, relatedFloat(rng, l, a)]);
      else {
        const b = relatedFloat(rng, l, a);
        tuples.push([a, b, fmaAddend(rng, l, a, b)]);
      }
    }
  } else {
    const width = first === 'i32' || first === 'u32' ? 32 : 64;
    for (const v of INT_SPECIALS) tuples.push([BigInt.asUintN(width, v)]);
    for (let i = 0; i < count; i++) tuples.push([randomInt(rng, first)]);
  }
  return tuples;
}

/** Every operation with every rounding mode it takes, over special and random operands. */
export function vectorInputs(options: InputOptions): VectorInput[] {
  const rng = new Prng(options.seed);
  const inputs: VectorInput[] = [];
  for (const op of REFERENCE_OPS) {
    const tuples = operandTuples(op, rng, options.randomPerOp);
    const modes = op.rounds ? options.roundingModes ?? [0, 1, 2, 3, 4] : [0];
    for (const rm of modes) {
      for (const t of tuples) inputs.push({ op: op.name, rm, a: t[0]!, b: t[1] ?? 0n, c: t[2] ?? 0n });
    }
  }
  return inputs;
}
