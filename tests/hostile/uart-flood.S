/*
 * A guest that writes to UART0's THR as fast as it can and never reads LSR: it tries to make
 * the host buffer everything it prints. Runs until the host stops it.
 */
#define UART_BASE 0x10000000

    .section .text.init
    .globl _start
_start:
    li t0, UART_BASE
    li t1, 0x07             /* FCR: FIFOs on, both cleared */
    sb t1, 2(t0)
    li t1, 'A'
    li t2, 'Z'
1:  sb t1, 0(t0)
    addi t1, t1, 1
    ble t1, t2, 1b
    li t1, '\n'
    sb t1, 0(t0)
    li t1, 'A'
    j 1b
