/*
 * F and D: loads/stores (misaligned ones complete), NaN boxing of single values,
 * fmv.x.w sign extension, conversions under every static and dynamic rounding mode,
 * saturating conversions, fflags accumulation and the fcsr layout, reserved rounding
 * modes trapping, mstatus.FS = Off making FP instructions illegal, fclass, fmin/fmax
 * with NaN and signed zeros, the fsgnj family, comparisons and their flags, and fused
 * multiply-adds that round once.
 */
#include "test-macros.h"
        .option norvc

#define ONE_S     0x3f800000
#define TWO_5_S   0x40200000     /* 2.5 */
#define M_TWO_5_S 0xc0200000     /* -2.5 */
#define QNAN_S    0x7fc00000
#define SNAN_S    0x7f800001
#define INF_S     0x7f800000
#define ONE_D     0x3ff0000000000000
#define QNAN_D    0x7ff8000000000000
#define BOXED(x)  (0xffffffff00000000 | (x))

#define NV 0x10
#define DZ 0x08
#define OF 0x04
#define UF 0x02
#define NX 0x01

/* f = single / double with bits v (clobbers t0) */
.macro FLI_S f, v
        li      t0, \v
        fmv.w.x \f, t0
.endm
.macro FLI_D f, v
        li      t0, \v
        fmv.d.x \f, t0
.endm
/* check all 64 bits of f */
.macro CHECK_F64 f, v, code
        fmv.x.d t1, \f
        CHECK_EQ t1, \v, \code
.endm
/* check a single result: boxed, with bits v */
.macro CHECK_S f, v, code
        CHECK_F64 \f, BOXED(\v), \code
.endm
/* check fflags == v, then clear them */
.macro CHECK_FLAGS v, code
        csrrw   t1, fflags, zero
        CHECK_EQ t1, \v, \code
.endm

        .data
        .align 4
mem:    .dword 0x400921fb54442d18, 0x12345678c0490fdb, 0, 0, 0

        .text
        .globl test_main
test_main:
        /* FS = Off: FP instructions and FP CSR accesses are illegal */
        li      t0, MSTATUS_FS
        csrc    mstatus, t0
        EXPECT_ILLEGAL 1, fadd.s fa0, fa1, fa2
        EXPECT_ILLEGAL 4, fld fa0, 0(sp)
        EXPECT_ILLEGAL 7, fmv.x.d a0, fa0
        EXPECT_ILLEGAL 10, csrr a0, fcsr
        EXPECT_ILLEGAL 13, csrw frm, zero
        ENABLE_FPU
        csrw    fcsr, zero

        /* loads and stores */
        la      s1, mem
        fld     fa0, 0(s1)
        CHECK_F64 fa0, 0x400921fb54442d18, 16
        fsd     fa0, 16(s1)
        ld      s2, 16(s1)
        CHECK_EQ s2, 0x400921fb54442d18, 17
        flw     fa1, 8(s1)                      /* NaN-boxed into the 64-bit register */
        CHECK_S fa1, 0xc0490fdb, 18
        fsw     fa1, 24(s1)
        ld      s2, 24(s1)
        CHECK_EQ s2, 0xc0490fdb, 19             /* fsw writes 32 bits only */
        fld     fa2, 4(s1)                      /* misaligned FP accesses complete */
        CHECK_F64 fa2, 0xc0490fdb400921fb, 20
        fsd     fa2, 17(s1)
        ld      s2, 17(s1)
        CHECK_EQ s2, 0xc0490fdb400921fb, 21
        flw     fa3, 2(s1)
        CHECK_S fa3, 0x21fb5444, 22

        /* fmv.x.w sign-extends; fmv.w.x boxes */
        FLI_S   fa0, 0x80000001
        fmv.x.w s2, fa0
        CHECK_EQ s2, 0xffffffff80000001, 23
        CHECK_S fa0, 0x80000001, 24
        /* fmv.x.w takes the low 32 bits even of an unboxed value */
        FLI_D   fa0, 0x1234567887654321
        fmv.x.w s2, fa0
        CHECK_EQ s2, 0xffffffff87654321, 25

        /* an improperly boxed single reads as the canonical NaN */
        FLI_D   fa0, 0x000000003f800000        /* 1.0f without the box */
        FLI_S   fa1, ONE_S
        fadd.s  fa2, fa0, fa1
        CHECK_S fa2, QNAN_S, 26
        fsgnj.s fa2, fa1, fa0
        CHECK_S fa2, ONE_S, 27                  /* sign of the canonical NaN: + */
        fsgnj.s fa2, fa0, fa1
        CHECK_S fa2, QNAN_S, 28
        fclass.s s2, fa0
        CHECK_EQ s2, 0x200, 29                  /* quiet NaN */
        fcvt.d.s fa2, fa0
        CHECK_F64 fa2, QNAN_D, 30
        CHECK_FLAGS 0, 31                        /* a quiet NaN raises nothing here */

        /* fcvt.w.s of +-2.5 under every static rounding mode */
        FLI_S   fa0, TWO_5_S
        FLI_S   fa1, M_TWO_5_S
        fcvt.w.s s2, fa0, rne
        CHECK_EQ s2, 2, 32
        fcvt.w.s s2, fa1, rne
        CHECK_EQ s2, -2, 33
        fcvt.w.s s2, fa0, rtz
        CHECK_EQ s2, 2, 34
        fcvt.w.s s2, fa1, rtz
        CHECK_EQ s2, -2, 35
        fcvt.w.s s2, fa0, rdn
        CHECK_EQ s2, 2, 36
        fcvt.w.s s2, fa1, rdn
        CHECK_EQ s2, -3, 37
        fcvt.w.s s2, fa0, rup
        CHECK_EQ s2, 3, 38
        fcvt.w.s s2, fa1, rup
        CHECK_EQ s2, -2, 39
        fcvt.w.s s2, fa0, rmm
        CHECK_EQ s2, 3, 40
        fcvt.w.s s2, fa1, rmm
        CHECK_EQ s2, -3, 41
        CHECK_FLAGS NX, 42
        /* ... and dynamic, frm = 0..4 */
        csrwi   frm, 4
        csrr    s2, frm
        CHECK_EQ s2, 4, 43
        csrwi   frm, 2
        fcvt.l.s s2, fa1
        CHECK_EQ s2, -3, 44                      /* rdn */
        csrwi   frm, 3
        fcvt.l.s s2, fa1
        CHECK_EQ s2, -2, 45                      /* rup */
        csrwi   frm, 4
        fcvt.l.s s2, fa1
        CHECK_EQ s2, -3, 46                      /* rmm */
        csrwi   frm, 1
        fcvt.l.s s2, fa0
        CHECK_EQ s2, 2, 47                       /* rtz */
        csrwi   frm, 0
        fcvt.l.s s2, fa0
        CHECK_EQ s2, 2, 48                       /* rne: ties to even */
        /* double arithmetic: 1 + 2^-53 is a tie */
        FLI_D   fa0, ONE_D
        FLI_D   fa1, 0x3ca0000000000000          /* 2^-53 */
        fadd.d  fa2, fa0, fa1, rne
        CHECK_F64 fa2, ONE_D, 49
        fadd.d  fa2, fa0, fa1, rup
        CHECK_F64 fa2, 0x3ff0000000000001, 50
        fadd.d  fa2, fa0, fa1, rmm
        CHECK_F64 fa2, 0x3ff0000000000001, 51
        fadd.d  fa2, fa0, fa1, rdn
        CHECK_F64 fa2, ONE_D, 52
        csrwi   frm, 3
        fadd.d  fa2, fa0, fa1
        CHECK_F64 fa2, 0x3ff0000000000001, 53
        /* narrowing pi */
        fld     fa0, mem, t0
        fcvt.s.d fa2, fa0, rne
        CHECK_S fa2, 0x40490fdb, 54
        fcvt.s.d fa2, fa0, rtz
        CHECK_S fa2, 0x40490fda, 55
        fcvt.s.d fa2, fa0, rdn
        CHECK_S fa2, 0x40490fda, 56
        csrwi   frm, 3
        fcvt.s.d fa2, fa0
        CHECK_S fa2, 0x40490fdb, 57
        csrwi   frm, 0
        CHECK_FLAGS NX, 58

        /* reserved rounding modes: frm = 5, 6, 7 with dyn, or rm = 5, 6 in the encoding */
        .irp m, 5, 6, 7
        csrwi   frm, \m
        EXPECT_ILLEGAL 60 + (\m - 5) * 3, fadd.s fa0, fa1, fa2
        fadd.s  fa0, fa1, fa2, rne               /* a static mode is still fine */
        .endr
        csrwi   frm, 0
        EXPECT_ILLEGAL 69, .word 0x00c5d553      /* fadd.s fa0, fa1, fa2 with rm = 5 */
        EXPECT_ILLEGAL 72, .word 0x00c5e553      /* rm = 6 */

        /* fflags accumulate; fcsr = frm << 5 | fflags */
        csrw    fcsr, zero
        csrwi   frm, 2
        FLI_S   fa0, ONE_S
        fmv.w.x fa1, zero
        fdiv.s  fa2, fa0, fa1                     /* 1/0: DZ */
        CHECK_S fa2, INF_S, 75
        fdiv.s  fa2, fa1, fa1                     /* 0/0: NV */
        CHECK_S fa2, QNAN_S, 76
        csrr    s2, fcsr
        CHECK_EQ s2, (2 << 5) | DZ | NV, 77
        frflags s2
        CHECK_EQ s2, DZ | NV, 78
        fsflags s3, zero
        CHECK_EQ s3, DZ | NV, 79
        li      t0, 0xfff
        csrw    fcsr, t0                           /* only 8 bits exist */
        csrr    s2, fcsr
        CHECK_EQ s2, 0xff, 80
        csrr    s2, frm
        CHECK_EQ s2, 7, 81
        csrw    fcsr, zero

        /* saturating conversions */
        FLI_S   fa0, INF_S
        fcvt.w.s s2, fa0, rtz
        CHECK_EQ s2, 0x7fffffff, 82
        FLI_S   fa0, 0xff800000                    /* -inf */
        fcvt.w.s s2, fa0, rtz
        CHECK_EQ s2, 0xffffffff80000000, 83
        FLI_S   fa0, QNAN_S
        fcvt.w.s s2, fa0, rtz
        CHECK_EQ s2, 0x7fffffff, 84
        fcvt.l.s s2, fa0, rtz
        CHECK_EQ s2, 0x7fffffffffffffff, 85
        CHECK_FLAGS NV, 86
        FLI_S   fa0, 0xbf800000                    /* -1.0 */
        fcvt.wu.s s2, fa0, rtz
        CHECK_EQ s2, 0, 87
        CHECK_FLAGS NV, 88
        FLI_S   fa0, 0x4f32d05e                    /* 3e9: fits in 32 bits unsigned */
        fcvt.wu.s s2, fa0, rtz
        CHECK_EQ s2, 0xffffffffb2d05e00, 89        /* ... and is sign-extended */
        FLI_D   fa0, 0x43e158e460913d00            /* 1e19 */
        fcvt.l.d s2, fa0, rtz
        CHECK_EQ s2, 0x7fffffffffffffff, 90
        CHECK_FLAGS NV, 91
        fcvt.lu.d s2, fa0, rtz
        CHECK_EQ s2, 10000000000000000000, 92
        FLI_D   fa0, 0xbfe0000000000000            /* -0.5 */
        fcvt.lu.d s2, fa0, rtz
        CHECK_EQ s2, 0, 93
        CHECK_FLAGS NX, 94
        li      s3, 0x7fffffff
        fcvt.s.w fa0, s3, rne
        CHECK_S fa0, 0x4f000000, 95
        li      s3, -1
        fcvt.d.lu fa0, s3, rne
        CHECK_F64 fa0, 0x43f0000000000000, 96
        fcvt.s.wu fa0, s3, rtz                     /* 0xffffffff */
        CHECK_S fa0, 0x4f7fffff, 97
        CHECK_FLAGS NX, 98
        fcvt.d.w fa0, s3
        CHECK_F64 fa0, 0xbff0000000000000, 99
        FLI_S   fa0, ONE_S
        fcvt.d.s fa1, fa0
        CHECK_F64 fa1, ONE_D, 100

        /* fclass.s: one bit per class */
        FLI_S fa0, 0xff800000
        fclass.s s2, fa0
        CHECK_EQ s2, 1, 101
        FLI_S fa0, 0xbf800000
        fclass.s s2, fa0
        CHECK_EQ s2, 2, 102
        FLI_S fa0, 0x80000001
        fclass.s s2, fa0
        CHECK_EQ s2, 4, 103
        FLI_S fa0, 0x80000000
        fclass.s s2, fa0
        CHECK_EQ s2, 8, 104
        FLI_S fa0, 0
        fclass.s s2, fa0
        CHECK_EQ s2, 16, 105
        FLI_S fa0, 1
        fclass.s s2, fa0
        CHECK_EQ s2, 32, 106
        FLI_S fa0, 0x3f800000
        fclass.s s2, fa0
        CHECK_EQ s2, 64, 107
        FLI_S fa0, 0x7f800000
        fclass.s s2, fa0
        CHECK_EQ s2, 128, 108
        FLI_S fa0, 0x7f800001
        fclass.s s2, fa0
        CHECK_EQ s2, 256, 109
        FLI_S fa0, 0x7fc00000
        fclass.s s2, fa0
        CHECK_EQ s2, 512, 110
        FLI_D fa0, 0x8000000000000001
        fclass.d s2, fa0
        CHECK_EQ s2, 4, 111
        FLI_D fa0, 0x7ff0000000000001
        fclass.d s2, fa0
        CHECK_EQ s2, 256, 112
        CHECK_FLAGS 0, 113                          /* fclass raises nothing */

        /* fmin / fmax: NaN operands, signed zeros */
        FLI_S   fa0, QNAN_S
        FLI_S   fa1, ONE_S
        fmin.s  fa2, fa0, fa1
        CHECK_S fa2, ONE_S, 114
        fmax.s  fa2, fa1, fa0
        CHECK_S fa2, ONE_S, 115
        CHECK_FLAGS 0, 116
        FLI_S   fa0, SNAN_S
        fmin.s  fa2, fa0, fa1
        CHECK_S fa2, ONE_S, 117
        CHECK_FLAGS NV, 118
        fmax.s  fa2, fa0, fa0                       /* both NaN: canonical NaN */
        CHECK_S fa2, QNAN_S, 119
        CHECK_FLAGS NV, 120
        FLI_S   fa0, 0x80000000
        fmv.w.x fa1, zero
        fmin.s  fa2, fa0, fa1
        CHECK_S fa2, 0x80000000, 121
        fmin.s  fa2, fa1, fa0
        CHECK_S fa2, 0x80000000, 122
        fmax.s  fa2, fa0, fa1
        CHECK_S fa2, 0, 123
        FLI_D   fa0, QNAN_D
        FLI_D   fa1, 0x4000000000000000
        fmax.d  fa2, fa0, fa1
        CHECK_F64 fa2, 0x4000000000000000, 124
        FLI_D   fa0, 0x8000000000000000
        fmv.d.x fa1, zero
        fmin.d  fa2, fa1, fa0
        CHECK_F64 fa2, 0x8000000000000000, 125

        /* sign injection never canonicalises or raises */
        FLI_S   fa0, ONE_S
        FLI_S   fa1, M_TWO_5_S
        fsgnj.s fa2, fa0, fa1
        CHECK_S fa2, 0xbf800000, 126
        fsgnjn.s fa2, fa0, fa1
        CHECK_S fa2, ONE_S, 127
        fsgnjx.s fa2, fa1, fa1
        CHECK_S fa2, 0x40200000, 128
        FLI_S   fa0, SNAN_S
        fneg.s  fa2, fa0
        CHECK_S fa2, 0xff800001, 129
        fabs.s  fa2, fa2
        CHECK_S fa2, SNAN_S, 130
        FLI_D   fa0, ONE_D
        FLI_D   fa1, 0x8000000000000000
        fsgnjx.d fa2, fa0, fa1
        CHECK_F64 fa2, 0xbff0000000000000, 131
        CHECK_FLAGS 0, 132

        /* comparisons: quiet ones raise NV only for signaling NaN */
        FLI_S   fa0, QNAN_S
        FLI_S   fa1, ONE_S
        feq.s   s2, fa0, fa1
        CHECK_EQ s2, 0, 133
        CHECK_FLAGS 0, 134
        flt.s   s2, fa0, fa1
        CHECK_EQ s2, 0, 135
        CHECK_FLAGS NV, 136
        fle.s   s2, fa1, fa0
        CHECK_EQ s2, 0, 137
        CHECK_FLAGS NV, 138
        FLI_S   fa0, SNAN_S
        feq.s   s2, fa0, fa0
        CHECK_EQ s2, 0, 139
        CHECK_FLAGS NV, 140
        FLI_S   fa0, 0x80000000
        fmv.w.x fa1, zero
        feq.s   s2, fa0, fa1                          /* -0 == +0 */
        CHECK_EQ s2, 1, 141
        flt.s   s2, fa0, fa1
        CHECK_EQ s2, 0, 142
        FLI_D   fa0, ONE_D
        FLI_D   fa1, 0x4000000000000000
        flt.d   s2, fa0, fa1
        CHECK_EQ s2, 1, 143
        fle.d   s2, fa1, fa0
        CHECK_EQ s2, 0, 144

        /* sqrt */
        FLI_S   fa0, 0xbf800000
        fsqrt.s fa2, fa0
        CHECK_S fa2, QNAN_S, 145
        CHECK_FLAGS NV, 146
        FLI_D   fa0, 0x4010000000000000
        fsqrt.d fa2, fa0
        CHECK_F64 fa2, 0x4000000000000000, 147
        CHECK_FLAGS 0, 148

        /*
         * fused multiply-add rounds once: a = 1 + 2^-12, a * a = 1 + 2^-11 + 2^-24;
         * a * a - (1 + 2^-11) is exactly 2^-24, but 0 when the product is rounded first.
         */
        FLI_S   fa0, 0x3f800800
        FLI_S   fa1, 0xbf801000                      /* -(1 + 2^-11) */
        FLI_S   fa3, 0x3f801000
        fmadd.s fa2, fa0, fa0, fa1
        CHECK_S fa2, 0x33800000, 149
        fmul.s  fa4, fa0, fa0
        fadd.s  fa2, fa4, fa1
        CHECK_S fa2, 0, 150
        CHECK_FLAGS NX, 159                          /* only the separate multiply rounded */
        fnmadd.s fa2, fa0, fa0, fa1                  /* -(a*a) - c */
        CHECK_S fa2, 0xb3800000, 151
        fmsub.s fa2, fa0, fa0, fa3                   /* a*a - c */
        CHECK_S fa2, 0x33800000, 152
        fnmsub.s fa2, fa0, fa0, fa3                  /* -(a*a) + c */
        CHECK_S fa2, 0xb3800000, 153
        /* double: a = 1 + 2^-27, a * a - (1 + 2^-26) = 2^-54 */
        FLI_D   fa0, 0x3ff0000002000000
        FLI_D   fa1, 0xbff0000004000000
        fmadd.d fa2, fa0, fa0, fa1
        CHECK_F64 fa2, 0x3c90000000000000, 154
        /* fma with an infinite product and opposite infinity: invalid */
        FLI_S   fa0, INF_S
        fmv.w.x fa1, zero
        FLI_S   fa3, 0xff800000
        fmadd.s fa2, fa0, fa0, fa3
        CHECK_S fa2, QNAN_S, 155
        CHECK_FLAGS NV, 156
        fmadd.s fa2, fa0, fa1, fa3                   /* inf * 0: invalid */
        CHECK_S fa2, QNAN_S, 157
        CHECK_FLAGS NV, 158
        PASS
