/*
 * Shared runtime and macros for Vireo's bare-metal self-checking test programs.
 * Include once at the top of each program; the program defines `test_main` (entered in
 * M-mode with sp set and mtvec = rt_trap_handler) and ends with PASS.
 *
 * Reporting: the SiFive test finisher at 0x100000 (0x5555 = pass, (code << 16) | 0x3333 =
 * fail). Every check has its own code (1..239) so a failure pinpoints it; the UART line
 * "FAIL <code>: ..." gives the details. Reserved codes:
 *   255  unexpected trap into M-mode (mcause/mepc/mtval are printed)
 *   254  unexpected trap into S-mode (scause/sepc/stval are printed)
 *   253  a trap that a check expected did not happen
 *
 * Register conventions: the check macros clobber t6 (never pass t6 to them) and, on the
 * failure path only, a0-a2 and ra. The default trap handler clobbers mscratch/sscratch.
 */

#define FINISHER_BASE   0x100000
#define UART_BASE       0x10000000
#define CLINT_BASE      0x02000000
#define CLINT_MSIP      (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP  (CLINT_BASE + 0x4000)
#define CLINT_MTIME     (CLINT_BASE + 0xbff8)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mstatus fields (Priv. spec 3.1.6) */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_XS    (3 << 15)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MSTATUS_UXL   (3 << 32)
#define MSTATUS_SXL   (3 << 34)
#define MSTATUS_SD    (1 << 63)

/* mip/mie bits */
#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

/* exception causes (Priv. spec table 3.6) */
#define CAUSE_MISALIGNED_FETCH   0
#define CAUSE_FETCH_ACCESS       1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT         3
#define CAUSE_MISALIGNED_LOAD    4
#define CAUSE_LOAD_ACCESS        5
#define CAUSE_MISALIGNED_STORE   6
#define CAUSE_STORE_ACCESS       7
#define CAUSE_USER_ECALL         8
#define CAUSE_SUPERVISOR_ECALL   9
#define CAUSE_MACHINE_ECALL      11
#define CAUSE_FETCH_PAGE_FAULT   12
#define CAUSE_LOAD_PAGE_FAULT    13
#define CAUSE_STORE_PAGE_FAULT   15
#define CAUSE_INTERRUPT          (1 << 63)

/* rt_trap / rt_strap record layout */
#define TRAP_RESUME 0
#define TRAP_CAUSE  8
#define TRAP_EPC    16
#define TRAP_TVAL   24
#define TRAP_STATUS 32
#define TRAP_COUNT  40

/* ------------------------------------------------------------------ runtime */

        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      sp, rt_stack_top
        la      t0, rt_trap_handler
        csrw    mtvec, t0
        la      t0, __bss_start
        la      t1, __bss_end
1:      bgeu    t0, t1, 2f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       1b
2:      j       test_main

        .text
/* rt_putc(a0): one byte to the UART, waiting for THR empty (LSR bit 5). */
rt_putc:
        li      t0, UART_BASE
1:      lbu     t1, 5(t0)
        andi    t1, t1, 0x20
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

/* rt_puts(a0): NUL-terminated string. Clobbers a0, a3, t0, t1. */
rt_puts:
        mv      a3, ra
        mv      t2, a0
1:      lbu     a0, 0(t2)
        beqz    a0, 2f
        call    rt_putc
        addi    t2, t2, 1
        j       1b
2:      mv      ra, a3
        ret

/* rt_puthex(a0): "0x" and 16 hex digits. Clobbers a0, a3-a5, t0, t1. */
rt_puthex:
        mv      a3, ra
        mv      a4, a0
        li      a0, '0'
        call    rt_putc
        li      a0, 'x'
        call    rt_putc
        li      a5, 60
1:      srl     a0, a4, a5
        andi    a0, a0, 15
        addi    a0, a0, '0'
        li      t0, '9'
        ble     a0, t0, 2f
        addi    a0, a0, 'a' - '9' - 1
2:      call    rt_putc
        addi    a5, a5, -4
        bgez    a5, 1b
        mv      ra, a3
        ret

/* rt_putdec(a0): unsigned decimal (small values). Clobbers a0, a3-a5, t0, t1. */
rt_putdec:
        mv      a3, ra
        mv      a4, a0
        li      a5, 1
1:      li      t0, 10
        mul     t1, a5, t0
        bgtu    t1, a4, 2f
        mv      a5, t1
        j       1b
2:      divu    a0, a4, a5
        remu    a4, a4, a5
        addi    a0, a0, '0'
        call    rt_putc
        li      t0, 10
        divu    a5, a5, t0
        bnez    a5, 2b
        mv      ra, a3
        ret

rt_pass:
        ld      s11, rt_soft_fail
        beqz    s11, 1f
        la      a0, rt_msg_soft
        call    rt_puts
        mv      a0, s11
        call    rt_putdec
        li      a0, '\n'
        call    rt_putc
        j       rt_finish_fail
1:      la      a0, rt_msg_pass
        call    rt_puts
        li      t0, FINISHER_BASE
        li      t1, 0x5555
        sw      t1, 0(t0)
1:      j       1b

/* rt_fail(a0 = code) */
rt_fail:
        mv      s11, a0
        la      a0, rt_msg_fail
        call    rt_puts
        mv      a0, s11
        call    rt_putdec
        li      a0, '\n'
        call    rt_putc
        j       rt_finish_fail

/* rt_fail_check(a0 = code, a1 = value seen, a2 = value expected) */
rt_fail_check:
        mv      s11, a0
        mv      s10, a1
        mv      s9, a2
        la      a0, rt_msg_fail
        call    rt_puts
        mv      a0, s11
        call    rt_putdec
        la      a0, rt_msg_got
        call    rt_puts
        mv      a0, s10
        call    rt_puthex
        la      a0, rt_msg_expected
        call    rt_puts
        mv      a0, s9
        call    rt_puthex
        li      a0, '\n'
        call    rt_putc
        j       rt_finish_fail

/* rt_soft_fail_check(a0 = code, a1 = seen, a2 = expected): report, remember, go on. */
rt_soft_fail_check:
        mv      s8, ra
        ld      t0, rt_soft_fail
        bnez    t0, 1f
        sd      a0, rt_soft_fail, t0
1:      mv      s11, a0
        mv      s10, a1
        mv      s9, a2
        la      a0, rt_msg_fail
        call    rt_puts
        mv      a0, s11
        call    rt_putdec
        la      a0, rt_msg_got
        call    rt_puts
        mv      a0, s10
        call    rt_puthex
        la      a0, rt_msg_expected
        call    rt_puts
        mv      a0, s9
        call    rt_puthex
        li      a0, '\n'
        call    rt_putc
        mv      ra, s8
        ret

rt_finish_fail:
        slli    t1, s11, 16
        li      t0, 0x3333
        or      t1, t1, t0
        li      t0, FINISHER_BASE
        sw      t1, 0(t0)
1:      j       1b

/* Print "<name> cause=.. epc=.. tval=.." from a0 = name, a1/a2/a3 = values. */
rt_print_trap:
        mv      s8, ra
        mv      s10, a1
        mv      s9, a2
        mv      s7, a3
        call    rt_puts
        la      a0, rt_msg_cause
        call    rt_puts
        mv      a0, s10
        call    rt_puthex
        la      a0, rt_msg_epc
        call    rt_puts
        mv      a0, s9
        call    rt_puthex
        la      a0, rt_msg_tval
        call    rt_puts
        mv      a0, s7
        call    rt_puthex
        li      a0, '\n'
        call    rt_putc
        mv      ra, s8
        ret

/*
 * Default M-mode trap handler. A trap is expected when rt_trap.resume is non-zero: the
 * handler records mcause/mepc/mtval/mstatus, clears resume, counts the trap and returns
 * in M-mode, with mstatus.MIE = 0 and MPRV = 0, to the resume address. (MRET leaves
 * MPP = U, so a set MPRV would turn the checks that follow into U-mode accesses.) Any
 * other trap fails with 255.
 */
        .align 6
rt_trap_handler:
        csrw    mscratch, t0
        la      t0, rt_trap
        sd      t1, 48(t0)
        csrr    t1, mcause
        sd      t1, TRAP_CAUSE(t0)
        csrr    t1, mepc
        sd      t1, TRAP_EPC(t0)
        csrr    t1, mtval
        sd      t1, TRAP_TVAL(t0)
        csrr    t1, mstatus
        sd      t1, TRAP_STATUS(t0)
        ld      t1, TRAP_RESUME(t0)
        beqz    t1, rt_unexpected_trap
        csrw    mepc, t1
        sd      zero, TRAP_RESUME(t0)
        ld      t1, TRAP_COUNT(t0)
        addi    t1, t1, 1
        sd      t1, TRAP_COUNT(t0)
        li      t1, MSTATUS_MPP
        csrs    mstatus, t1
        li      t1, MSTATUS_MPIE | MSTATUS_MPRV
        csrc    mstatus, t1
        ld      t1, 48(t0)
        csrr    t0, mscratch
        mret

rt_unexpected_trap:
        la      sp, rt_stack_top
        la      a0, rt_msg_mtrap
        csrr    a1, mcause
        csrr    a2, mepc
        csrr    a3, mtval
        call    rt_print_trap
        li      s11, 255
        j       rt_finish_fail

/* Default S-mode trap handler: as above with the s-CSRs; resumes in S-mode with SIE = 0. */
        .align 6
rt_strap_handler:
        csrw    sscratch, t0
        la      t0, rt_strap
        sd      t1, 48(t0)
        csrr    t1, scause
        sd      t1, TRAP_CAUSE(t0)
        csrr    t1, sepc
        sd      t1, TRAP_EPC(t0)
        csrr    t1, stval
        sd      t1, TRAP_TVAL(t0)
        csrr    t1, sstatus
        sd      t1, TRAP_STATUS(t0)
        ld      t1, TRAP_RESUME(t0)
        beqz    t1, rt_unexpected_strap
        csrw    sepc, t1
        sd      zero, TRAP_RESUME(t0)
        ld      t1, TRAP_COUNT(t0)
        addi    t1, t1, 1
        sd      t1, TRAP_COUNT(t0)
        li      t1, MSTATUS_SPP
        csrs    sstatus, t1
        li      t1, MSTATUS_SPIE
        csrc    sstatus, t1
        ld      t1, 48(t0)
        csrr    t0, sscratch
        sret

rt_unexpected_strap:
        la      a0, rt_msg_strap
        csrr    a1, scause
        csrr    a2, sepc
        csrr    a3, stval
        call    rt_print_trap
        li      s11, 254
        j       rt_finish_fail

        .section .rodata
rt_msg_pass:     .asciz "PASS\n"
rt_msg_fail:     .asciz "FAIL "
rt_msg_soft:     .asciz "failed soft checks; first: "
rt_msg_got:      .asciz ": got "
rt_msg_expected: .asciz " expected "
rt_msg_mtrap:    .asciz "unexpected M-mode trap:"
rt_msg_strap:    .asciz "unexpected S-mode trap:"
rt_msg_cause:    .asciz " cause="
rt_msg_epc:      .asciz " epc="
rt_msg_tval:     .asciz " tval="

        .bss
        .align 4
rt_stack:
        .skip 8192
rt_stack_top:
        .globl rt_trap
rt_trap:  .skip 64
        .globl rt_strap
rt_strap: .skip 64
rt_soft_fail: .skip 8

        .text

/* ------------------------------------------------------------------- macros */

.macro PASS
        j       rt_pass
.endm

.macro FAIL code
        li      a0, \code
        j       rt_fail
.endm

/* Print a literal message on the UART (M-mode; clobbers a0, a3, t0-t2, ra). */
.macro PUTS msg
        .pushsection .rodata
.Lputs_msg\@: .asciz "\msg"
        .popsection
        la      a0, .Lputs_msg\@
        call    rt_puts
.endm

/* Fail with `code` unless reg == val (any 64-bit constant). */
.macro CHECK_EQ reg, val, code
        li      t6, \val
        beq     \reg, t6, .Lok\@
        mv      a1, \reg
        mv      a2, t6
        li      a0, \code
        j       rt_fail_check
.Lok\@:
.endm

/*
 * Like CHECK_EQ but the program goes on after a mismatch; PASS then fails with the first
 * such code. For checks where the reference machine is known to differ, so that every
 * difference is listed. Clobbers a0-a2, t0-t1, s8-s11 and ra on mismatch.
 */
.macro CHECK_EQ_SOFT reg, val, code
        li      t6, \val
        beq     \reg, t6, .Lok\@
        mv      a1, \reg
        mv      a2, t6
        li      a0, \code
        call    rt_soft_fail_check
.Lok\@:
.endm

/* Fail with `code` unless reg == reg2. */
.macro CHECK_EQR reg, reg2, code
        beq     \reg, \reg2, .Lok\@
        mv      t6, \reg2
        mv      a1, \reg
        mv      a2, t6
        li      a0, \code
        j       rt_fail_check
.Lok\@:
.endm

/* Fail with `code` unless reg == address of label. */
.macro CHECK_LABEL reg, label, code
        la      t6, \label
        beq     \reg, t6, .Lok\@
        mv      a1, \reg
        mv      a2, t6
        li      a0, \code
        j       rt_fail_check
.Lok\@:
.endm

/* Fail with `code` if reg == val. */
.macro CHECK_NE reg, val, code
        li      t6, \val
        bne     \reg, t6, .Lok\@
        mv      a1, \reg
        mv      a2, t6
        li      a0, \code
        j       rt_fail_check
.Lok\@:
.endm

/* Fail with `code` unless the 64-bit word at label equals val. Clobbers t5. */
.macro CHECK_MEM label, val, code
        la      t5, \label
        ld      t5, 0(t5)
        CHECK_EQ t5, \val, \code
.endm

/* Arm the default trap handler: the next trap resumes at `label` in M-mode. */
.macro EXPECT_TRAP label
        la      t6, \label
        sd      t6, rt_trap + TRAP_RESUME, t5
.endm

/* Same for the default S-mode handler (call from S-mode). */
.macro EXPECT_STRAP label
        la      t6, \label
        sd      t6, rt_strap + TRAP_RESUME, t5
.endm

/* Place right after the instruction that should trap: fails with 253 when it did not. */
.macro TRAP_MISSED
        FAIL    253
.endm

/* Check the last recorded M-mode trap. Clobber t5. */
.macro CHECK_MCAUSE val, code
        ld      t5, rt_trap + TRAP_CAUSE
        CHECK_EQ t5, \val, \code
.endm
.macro CHECK_MEPC label, code
        ld      t5, rt_trap + TRAP_EPC
        CHECK_LABEL t5, \label, \code
.endm
.macro CHECK_MTVAL val, code
        ld      t5, rt_trap + TRAP_TVAL
        CHECK_EQ t5, \val, \code
.endm
.macro CHECK_MTVAL_LABEL label, code
        ld      t5, rt_trap + TRAP_TVAL
        CHECK_LABEL t5, \label, \code
.endm
/* Previous privilege (mstatus.MPP at trap entry). */
.macro CHECK_MPP val, code
        ld      t5, rt_trap + TRAP_STATUS
        srli    t5, t5, 11
        andi    t5, t5, 3
        CHECK_EQ t5, \val, \code
.endm

.macro CHECK_SCAUSE val, code
        ld      t5, rt_strap + TRAP_CAUSE
        CHECK_EQ t5, \val, \code
.endm
.macro CHECK_SEPC label, code
        ld      t5, rt_strap + TRAP_EPC
        CHECK_LABEL t5, \label, \code
.endm
.macro CHECK_STVAL val, code
        ld      t5, rt_strap + TRAP_TVAL
        CHECK_EQ t5, \val, \code
.endm

/* Leave M-mode: mret to `label` in privilege `priv` (MIE becomes MPIE; MPIE becomes 1). */
.macro GOTO_PRIV priv, label
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, (\priv) << 11
        csrs    mstatus, t0
        la      t0, \label
        csrw    mepc, t0
        mret
.endm

/*
 * Run code in a lower privilege and come back: `RUN_IN priv, body, back`: jumps to body
 * in priv; body ends with ecall (or any trap); execution continues at back in M-mode with
 * the trap recorded.
 */
.macro RUN_IN priv, body, back
        EXPECT_TRAP \back
        GOTO_PRIV \priv, \body
.endm

/* PMP entry 0 grants RWX on all addresses so S/U code can run (entries 1-7 off). */
.macro PMP_ALLOW_ALL
        li      t0, -1
        csrw    pmpaddr0, t0
        li      t0, 0x1f
        csrw    pmpcfg0, t0
.endm

/* Set mstatus.FS = Initial so FP instructions are legal. */
.macro ENABLE_FPU
        li      t0, (1 << 13)
        csrs    mstatus, t0
.endm

/* Reset the count of expected M-mode traps. */
.macro CLEAR_TRAP_COUNT
        sd      zero, rt_trap + TRAP_COUNT, t5
.endm

/*
 * `insn` (a 32-bit instruction) must raise illegal instruction in M-mode with mepc = its
 * address and mtval = its bits. Uses codes code .. code+2.
 */
.macro EXPECT_ILLEGAL code, insn:vararg
        EXPECT_TRAP .Lback\@
.Lsite\@:
        \insn
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE CAUSE_ILLEGAL_INSTRUCTION, \code
        CHECK_MEPC .Lsite\@, \code + 1
        lwu     t4, .Lsite\@
        ld      t5, rt_trap + TRAP_TVAL
        CHECK_EQR t5, t4, \code + 2
.endm

/*
 * Same, with `insn` executed in privilege `priv` (needs PMP_ALLOW_ALL); also checks that
 * the trap came from priv. Returns in M-mode. Uses codes code .. code+3.
 */
.macro EXPECT_ILLEGAL_IN priv, code, insn:vararg
        RUN_IN  \priv, .Lsite\@, .Lback\@
.Lsite\@:
        \insn
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE CAUSE_ILLEGAL_INSTRUCTION, \code
        CHECK_MEPC .Lsite\@, \code + 1
        lwu     t4, .Lsite\@
        ld      t5, rt_trap + TRAP_TVAL
        CHECK_EQR t5, t4, \code + 2
        CHECK_MPP \priv, \code + 3
.endm

/*
 * `insn` must execute without trapping in privilege `priv`; returns in M-mode via ecall.
 * Registers written by insn keep their values. Uses code and code+1.
 */
.macro LEGAL_IN priv, code, insn:vararg
        RUN_IN  \priv, .Lsite\@, .Lback\@
.Lsite\@:
        \insn
.Lecall\@:
        ecall
.Lback\@:
        CHECK_MEPC .Lecall\@, \code
        CHECK_MCAUSE 8 + (\priv), \code + 1
.endm

/* Spin until reg != 0, at most `n` iterations (interrupts may arrive a few instructions
 * late). Clobbers t3. */
.macro WAIT_NONZERO reg, n
        li      t3, \n
.Lloop\@:
        bnez    \reg, .Ldone\@
        addi    t3, t3, -1
        bnez    t3, .Lloop\@
.Ldone\@:
.endm

/*
 * `insn` executed in privilege `priv` must trap to M with mcause = cause, mepc = its
 * address and mtval = tval (a constant). Uses codes code .. code+3.
 */
.macro EXPECT_FAULT_IN priv, code, cause, tval, insn:vararg
        RUN_IN  \priv, .Lsite\@, .Lback\@
.Lsite\@:
        \insn
        TRAP_MISSED
.Lback\@:
        CHECK_MCAUSE \cause, \code
        CHECK_MEPC .Lsite\@, \code + 1
        CHECK_MTVAL \tval, \code + 2
        CHECK_MPP \priv, \code + 3
.endm

/* Page table entry bits (Priv. spec 4.3.1) */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* table[index] = PTE pointing at the physical address of `target` with `flags`.
 * Clobbers t0-t2. */
.macro SET_PTE table, index, target, flags
        la      t0, \target
        srli    t0, t0, 12
        slli    t0, t0, 10
        li      t1, \flags
        or      t0, t0, t1
        la      t1, \table
        li      t2, (\index) * 8
        add     t1, t1, t2
        sd      t0, 0(t1)
.endm

/* Same with a constant physical address. */
.macro SET_PTE_PA table, index, pa, flags
        li      t0, (((\pa) >> 12) << 10) | (\flags)
        la      t1, \table
        li      t2, (\index) * 8
        add     t1, t1, t2
        sd      t0, 0(t1)
.endm

/* reg = table[index] */
.macro GET_PTE reg, table, index
        la      \reg, \table + (\index) * 8
        ld      \reg, 0(\reg)
.endm
