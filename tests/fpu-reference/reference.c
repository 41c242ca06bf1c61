/*
 * Reference results for the Vireo FPU tests, computed by the host's IEEE 754 hardware and libm.
 * Reads lines "<op> <rm> <a> <b> <c>" (rm 0..4 in the RISC-V frm encoding, operands as hex bit
 * patterns) and writes "<result hex> <fflags>" for each. Where RISC-V defines behaviour that x86
 * leaves to the implementation (NaN results, saturating float-to-integer conversion, fma NV for
 * inf*0 + qNaN) or lacks (the RMM rounding mode), the rule is applied here from the spec text.
 * Build: gcc -O0 -frounding-math -ffp-contract=off reference.c -lm (x87 long double, glibc >= 2.35).
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };
enum { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4 };

static float f32(uint64_t b) { uint32_t w = (uint32_t)b; float f; memcpy(&f, &w, 4); return f; }
static uint64_t b32(float f) { uint32_t w; memcpy(&w, &f, 4); return w; }
static double f64(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t b64(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

static void setMode(int rm) {
  static const int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
  fesetround(modes[rm]);
}

/* x86 exception flags in the RISC-V fflags layout. */
static int hostFlags(void) {
  int f = 0;
  if (fetestexcept(FE_INEXACT)) f |= NX;
  if (fetestexcept(FE_UNDERFLOW)) f |= UF;
  if (fetestexcept(FE_OVERFLOW)) f |= OF;
  if (fetestexcept(FE_DIVBYZERO)) f |= DZ;
  if (fetestexcept(FE_INVALID)) f |= NV;
  return f;
}

static int isNaNBits(uint64_t b, int width) {
  return width == 32 ? isnan(f32(b)) : isnan(f64(b));
}
static uint64_t canonicalNaN(int width) { return width == 32 ? 0x7fc00000u : 0x7ff8000000000000ull; }
static int signOf(uint64_t b, int width) { return (int)(b >> (width - 1)) & 1; }
static int isInfBits(uint64_t b, int width) { return width == 32 ? isinf(f32(b)) : isinf(f64(b)); }
static long double wideOf(uint64_t b, int width) { return width == 32 ? (long double)f32(b) : (long double)f64(b); }

/* Operations that round: one version in the target format, one in x87 extended (64-bit significand). */
typedef uint64_t (*NarrowFn)(const uint64_t *v);
typedef long double (*WideFn)(const uint64_t *v);

static uint64_t add32(const uint64_t *v) { volatile float a = f32(v[0]), b = f32(v[1]); volatile float r = a + b; return b32(r); }
static uint64_t sub32(const uint64_t *v) { volatile float a = f32(v[0]), b = f32(v[1]); volatile float r = a - b; return b32(r); }
static uint64_t mul32(const uint64_t *v) { volatile float a = f32(v[0]), b = f32(v[1]); volatile float r = a * b; return b32(r); }
static uint64_t div32(const uint64_t *v) { volatile float a = f32(v[0]), b = f32(v[1]); volatile float r = a / b; return b32(r); }
static uint64_t sqrt32(const uint64_t *v) { volatile float a = f32(v[0]); volatile float r = sqrtf(a); return b32(r); }
static uint64_t fma32(const uint64_t *v) { volatile float a = f32(v[0]), b = f32(v[1]), c = f32(v[2]); volatile float r = fmaf(a, b, c); return b32(r); }
static uint64_t add64(const uint64_t *v) { volatile double a = f64(v[0]), b = f64(v[1]); volatile double r = a + b; return b64(r); }
static uint64_t sub64(const uint64_t *v) { volatile double a = f64(v[0]), b = f64(v[1]); volatile double r = a - b; return b64(r); }
static uint64_t mul64(const uint64_t *v) { volatile double a = f64(v[0]), b = f64(v[1]); volatile double r = a * b; return b64(r); }
static uint64_t div64(const uint64_t *v) { volatile double a = f64(v[0]), b = f64(v[1]); volatile double r = a / b; return b64(r); }
static uint64_t sqrt64(const uint64_t *v) { volatile double a = f64(v[0]); volatile double r = sqrt(a); return b64(r); }
static uint64_t fma64(const uint64_t *v) { volatile double a = f64(v[0]), b = f64(v[1]), c = f64(v[2]); volatile double r = fma(a, b, c); return b64(r); }
static uint64_t f64ToF32(const uint64_t *v) { volatile double a = f64(v[0]); volatile float r = (float)a; return b32(r); }
static uint64_t f32ToF64(const uint64_t *v) { volatile float a = f32(v[0]); volatile double r = (double)a; return b64(r); }
static uint64_t i32ToF32(const uint64_t *v) { volatile int32_t a = (int32_t)v[0]; volatile float r = (float)a; return b32(r); }
static uint64_t u32ToF32(const uint64_t *v) { volatile uint32_t a = (uint32_t)v[0]; volatile float r = (float)a; return b32(r); }
static uint64_t i64ToF32(const uint64_t *v) { volatile int64_t a = (int64_t)v[0]; volatile float r = (float)a; return b32(r); }
static uint64_t u64ToF32(const uint64_t *v) { volatile uint64_t a = v[0]; volatile float r = (float)a; return b32(r); }
static uint64_t i32ToF64(const uint64_t *v) { volatile int32_t a = (int32_t)v[0]; volatile double r = (double)a; return b64(r); }
static uint64_t u32ToF64(const uint64_t *v) { volatile uint32_t a = (uint32_t)v[0]; volatile double r = (double)a; return b64(r); }
static uint64_t i64ToF64(const uint64_t *v) { volatile int64_t a = (int64_t)v[0]; volatile double r = (double)a; return b64(r); }
static uint64_t u64ToF64(const uint64_t *v) { volatile uint64_t a = v[0]; volatile double r = (double)a; return b64(r); }

#define W2(name, width, expr) \
  static long double name##W(const uint64_t *v) { \
    volatile long double a = wideOf(v[0], width), b = wideOf(v[1], width); volatile long double r = (expr); (void)b; return r; }
W2(add32, 32, a + b) W2(sub32, 32, a - b) W2(mul32, 32, a * b) W2(div32, 32, a / b) W2(sqrt32, 32, sqrtl(a))
W2(add64, 64, a + b) W2(sub64, 64, a - b) W2(mul64, 64, a * b) W2(div64, 64, a / b) W2(sqrt64, 64, sqrtl(a))
W2(f64ToF32, 64, a) W2(f32ToF64, 32, a)
static long double fma32W(const uint64_t *v) { return fmal(wideOf(v[0], 32), wideOf(v[1], 32), wideOf(v[2], 32)); }
static long double fma64W(const uint64_t *v) { return fmal(wideOf(v[0], 64), wideOf(v[1], 64), wideOf(v[2], 64)); }
static long double i32W(const uint64_t *v) { return (long double)(int32_t)v[0]; }
static long double u32W(const uint64_t *v) { return (long double)(uint32_t)v[0]; }
static long double i64W(const uint64_t *v) { return (long double)(int64_t)v[0]; }
static long double u64W(const uint64_t *v) { return (long double)v[0]; }

/* Sets the lowest significand bit of an x87 extended value: round-to-odd after a truncation. */
static long double makeOdd(long double x) {
  unsigned char bytes[sizeof x];
  uint64_t significand;
  memcpy(bytes, &x, sizeof x);
  memcpy(&significand, bytes, 8);
  significand |= 1;
  memcpy(bytes, &significand, 8);
  memcpy(&x, bytes, sizeof x);
  return x;
}

/*
 * RMM (ties to max magnitude) differs from RNE only when the exact result is a tie, and then
 * raises the same flags. A tie is found by computing the exact result rounded to odd in x87
 * extended precision (64 >= p + 2 bits keeps ties distinguishable) and comparing it with the
 * midpoint of the two neighbours that truncation and rounding away from zero give.
 */
static void rounded(NarrowFn narrow, WideFn wide, int width, const uint64_t *v, int rm,
                    uint64_t *result, int *flags) {
  setMode(rm == RMM ? RNE : rm);
  feclearexcept(FE_ALL_EXCEPT);
  uint64_t r = narrow(v);
  *flags = hostFlags();
  setMode(RNE);
  if (isNaNBits(r, width)) { *result = canonicalNaN(width); return; }
  *result = r;
  if (rm != RMM) return;
  setMode(RTZ);
  uint64_t lo = narrow(v);
  setMode(signOf(lo, width) ? RDN : RUP);
  uint64_t hi = narrow(v);
  if (lo == hi || isInfBits(hi, width)) { setMode(RNE); return; }
  setMode(RTZ);
  feclearexcept(FE_ALL_EXCEPT);
  long double x = wide(v);
  int inexact = fetestexcept(FE_INEXACT) != 0;
  setMode(RNE);
  if (inexact) x = makeOdd(x);
  long double mid = (wideOf(lo, width) + wideOf(hi, width)) / 2;
  if (x == mid) *result = hi;
  feclearexcept(FE_ALL_EXCEPT);
}

/* Float to integer with the saturation of unpriv. spec table "Domains of float-to-integer conversions". */
static void toInt(double x, int rm, int isSigned, int bits, uint64_t *result, int *flags) {
  double limit = ldexp(1.0, isSigned ? bits - 1 : bits);
  double min = isSigned ? -limit : 0.0;
  uint64_t mask = bits == 64 ? ~0ull : 0xffffffffull;
  uint64_t maxv = isSigned ? (mask >> 1) : mask;
  uint64_t minv = isSigned ? ((mask >> 1) + 1) : 0;
  *flags = 0;
  if (isnan(x)) { *flags = NV; *result = maxv; return; }
  double r;
  if (rm == RMM) {
    r = round(x);
  } else {
    setMode(rm);
    r = nearbyint(x);
    setMode(RNE);
  }
  if (r >= limit) { *flags = NV; *result = maxv; return; }
  if (r < min) { *flags = NV; *result = minv; return; }
  if (r != x) *flags = NX;
  if (isSigned) *result = (uint64_t)(int64_t)r & mask;
  else *result = (uint64_t)r;
}

static void minMax(uint64_t a, uint64_t b, int width, int isMax, uint64_t *result, int *flags) {
  feclearexcept(FE_ALL_EXCEPT);
  uint64_t r;
  if (width == 32) {
    volatile float x = f32(a), y = f32(b);
    volatile float z = isMax ? fmaximum_numf(x, y) : fminimum_numf(x, y);
    r = b32(z);
  } else {
    volatile double x = f64(a), y = f64(b);
    volatile double z = isMax ? fmaximum_num(x, y) : fminimum_num(x, y);
    r = b64(z);
  }
  *flags = hostFlags();
  *result = isNaNBits(r, width) ? canonicalNaN(width) : r;
}

/* op: 0 eq (quiet), 1 lt, 2 le (signaling); the host's ucomis/comis raise exactly these flags. */
static void compare(uint64_t a, uint64_t b, int width, int op, uint64_t *result, int *flags) {
  int r;
  feclearexcept(FE_ALL_EXCEPT);
  if (width == 32) {
    volatile float p = f32(a), q = f32(b);
    r = op == 0 ? p == q : op == 1 ? p < q : p <= q;
  } else {
    volatile double p = f64(a), q = f64(b);
    r = op == 0 ? p == q : op == 1 ? p < q : p <= q;
  }
  *flags = hostFlags();
  *result = (uint64_t)r;
}

/* Unpriv. spec table "Format of result of FCLASS instruction". */
static uint64_t classify(uint64_t a, int width) {
  int negative = signOf(a, width);
  int cls, snan;
  if (width == 32) { volatile float x = f32(a); cls = fpclassify(x); snan = issignaling(x); }
  else { volatile double x = f64(a); cls = fpclassify(x); snan = issignaling(x); }
  switch (cls) {
    case FP_INFINITE: return negative ? 1u << 0 : 1u << 7;
    case FP_NORMAL: return negative ? 1u << 1 : 1u << 6;
    case FP_SUBNORMAL: return negative ? 1u << 2 : 1u << 5;
    case FP_ZERO: return negative ? 1u << 3 : 1u << 4;
    default: return snan ? 1u << 8 : 1u << 9;
  }
}

static int isInfTimesZero(uint64_t a, uint64_t b, int width) {
  long double x = wideOf(a, width), y = wideOf(b, width);
  return (isinf(x) && y == 0) || (x == 0 && isinf(y));
}

struct RoundedOp { const char *name; NarrowFn narrow; WideFn wide; int width; };
static const struct RoundedOp roundedOps[] = {
  { "add32", add32, add32W, 32 }, { "sub32", sub32, sub32W, 32 }, { "mul32", mul32, mul32W, 32 },
  { "div32", div32, div32W, 32 }, { "sqrt32", sqrt32, sqrt32W, 32 }, { "fma32", fma32, fma32W, 32 },
  { "add64", add64, add64W, 64 }, { "sub64", sub64, sub64W, 64 }, { "mul64", mul64, mul64W, 64 },
  { "div64", div64, div64W, 64 }, { "sqrt64", sqrt64, sqrt64W, 64 }, { "fma64", fma64, fma64W, 64 },
  { "f64ToF32", f64ToF32, f64ToF32W, 32 }, { "f32ToF64", f32ToF64, f32ToF64W, 64 },
  { "i32ToF32", i32ToF32, i32W, 32 }, { "u32ToF32", u32ToF32, u32W, 32 },
  { "i64ToF32", i64ToF32, i64W, 32 }, { "u64ToF32", u64ToF32, u64W, 32 },
  { "i32ToF64", i32ToF64, i32W, 64 }, { "u32ToF64", u32ToF64, u32W, 64 },
  { "i64ToF64", i64ToF64, i64W, 64 }, { "u64ToF64", u64ToF64, u64W, 64 },
};

static int evaluate(const char *op, int rm, const uint64_t *v, uint64_t *result, int *flags) {
  for (size_t i = 0; i < sizeof roundedOps / sizeof roundedOps[0]; i++) {
    const struct RoundedOp *o = &roundedOps[i];
    if (strcmp(op, o->name) != 0) continue;
    rounded(o->narrow, o->wide, o->width, v, rm, result, flags);
    /* Unpriv. spec 11.6: fused multiply-add raises NV for inf * 0 even when the addend is a quiet NaN. */
    if ((strcmp(op, "fma32") == 0 || strcmp(op, "fma64") == 0) && isInfTimesZero(v[0], v[1], o->width)) *flags |= NV;
    return 0;
  }
  int width = strstr(op, "32") && !strstr(op, "64") ? 32 : 64;
  if (strncmp(op, "f32To", 5) == 0 || strncmp(op, "f64To", 5) == 0) {
    double x = op[1] == '3' ? (double)f32(v[0]) : f64(v[0]);
    int isSigned = op[5] == 'I';
    int bits = atoi(op + 6);
    toInt(x, rm, isSigned, bits, result, flags);
    return 0;
  }
  if (!strcmp(op, "min32") || !strcmp(op, "min64")) { minMax(v[0], v[1], width, 0, result, flags); return 0; }
  if (!strcmp(op, "max32") || !strcmp(op, "max64")) { minMax(v[0], v[1], width, 1, result, flags); return 0; }
  if (!strcmp(op, "eq32") || !strcmp(op, "eq64")) { compare(v[0], v[1], width, 0, result, flags); return 0; }
  if (!strcmp(op, "lt32") || !strcmp(op, "lt64")) { compare(v[0], v[1], width, 1, result, flags); return 0; }
  if (!strcmp(op, "le32") || !strcmp(op, "le64")) { compare(v[0], v[1], width, 2, result, flags); return 0; }
  if (!strcmp(op, "classify32") || !strcmp(op, "classify64")) { *result = classify(v[0], width); *flags = 0; return 0; }
  return -1;
}

int main(void) {
  static char out[1 << 16];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  char op[32];
  int rm;
  unsigned long long a, b, c;
  long line = 0;
  while (scanf("%31s %d %llx %llx %llx", op, &rm, &a, &b, &c) == 5) {
    line++;
    if (rm < 0 || rm > 4) { fprintf(stderr, "line %ld: rounding mode %d out of range\n", line, rm); return 2; }
    uint64_t v[3] = { a, b, c }, result = 0;
    int flags = 0;
    if (evaluate(op, rm, v, &result, &flags) != 0) {
      fprintf(stderr, "line %ld: unknown operation %s\n", line, op);
      return 2;
    }
    printf("%llx %d\n", (unsigned long long)result, flags);
  }
  setMode(RNE);
  return ferror(stdout) ? 1 : 0;
}
