/*
 * Ends through the HTIF mailbox instead of the test finisher: prints "ok" through the
 * console device, fills a signature range, then writes exit code 0 to tohost and spins
 * rewriting it, as test suites built for that interface do.
 */
        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      t0, tohost
        li      t1, (1 << 56) | (1 << 48) | 'o'
        sd      t1, 0(t0)
1:      ld      t2, 0(t0)               /* wait until the host took the request */
        bnez    t2, 1b
        li      t1, (1 << 56) | (1 << 48) | 'k'
        sd      t1, 0(t0)
2:      ld      t2, 0(t0)
        bnez    t2, 2b
        la      t3, begin_signature
        li      t1, 0x11223344
        sw      t1, 0(t3)
        li      t1, 0x55667788
        sw      t1, 4(t3)
        li      t1, 1                   /* (0 << 1) | 1: exit code 0 */
3:      sd      t1, 0(t0)
        j       3b

        .section .tohost, "aw", @progbits
        .align  6
        .globl  tohost
tohost: .dword  0
        .align  6
        .globl  fromhost
fromhost: .dword 0

        .data
        .align  4
        .globl  begin_signature
begin_signature:
        .word   0, 0, 0xcafef00d, 0
        .globl  end_signature
end_signature:
