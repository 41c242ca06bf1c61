/*
 * A well-behaved guest: before each byte it waits for LSR.THRE, then writes byte i of a
 * pattern the test checks ('0' + i % 64, with '\n' for i % 64 == 63), TOTAL bytes in all,
 * and passes through the test finisher.
 */
#define UART_BASE     0x10000000
#define UART_LSR      5
#define LSR_THRE      0x20
#define FINISHER_BASE 0x100000
#define TOTAL         (4 << 20)

    .section .text.init
    .globl _start
_start:
    li t0, UART_BASE
    li t1, 0x07             /* FCR: FIFOs on, both cleared */
    sb t1, 2(t0)
    li s0, 0                /* i */
    li s1, TOTAL
next:
    andi t2, s0, 63
    addi t3, t2, '0'
    li t4, 63
    bne t2, t4, wait
    li t3, '\n'
wait:
    lbu t5, UART_LSR(t0)
    andi t5, t5, LSR_THRE
    beqz t5, wait
    sb t3, 0(t0)
    addi s0, s0, 1
    bltu s0, s1, next
    li t0, FINISHER_BASE
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
