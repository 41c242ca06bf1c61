# A tiny guest for the host agent's tests: every 100 ms it prints "tick N" (N in hex) on UART0,
# and echoes what it receives upper-cased; it sleeps in WFI on the CLINT timer in between, so
# many of it run at once on a small host.

    .equ UART0, 0x10000000
    .equ UART_LSR, 5
    .equ LSR_DR, 0x01
    .equ LSR_THRE, 0x20
    .equ MTIMECMP, 0x2004000
    .equ MTIME, 0x200bff8
    .equ TICKS_10MS, 100000          # mtime runs at 10 MHz
    .equ MIE_MTIE, 0x80

    .section .text.start, "ax"
    .globl _start
_start:
    li      s0, UART0
    li      s1, MTIME
    li      s2, MTIMECMP
    li      s3, 0                    # the tick count
    li      t0, MIE_MTIE             # WFI wakes on a pending enabled interrupt, even with MIE clear
    csrw    mie, t0
    csrci   mstatus, 8
tick:
    la      a1, word
    call    puts
    mv      a1, s3
    call    puthex
    li      a0, '\n'
    call    putc
    addi    s3, s3, 1
    li      s4, 10                   # ten 10 ms naps, with input checked after each
nap:
    ld      t0, 0(s1)
    li      t1, TICKS_10MS
    add     t0, t0, t1
    sd      t0, 0(s2)
sleep:
    wfi
    ld      t1, 0(s1)
    bltu    t1, t0, sleep
echo:
    lbu     t2, UART_LSR(s0)
    andi    t2, t2, LSR_DR
    beqz    t2, napped
    lbu     a0, 0(s0)
    li      t3, 'a'
    bltu    a0, t3, 1f
    li      t3, 'z' + 1
    bgeu    a0, t3, 1f
    addi    a0, a0, -32
1:  call    putc
    j       echo
napped:
    addi    s4, s4, -1
    bnez    s4, nap
    j       tick

# putc: a0 = the byte (uses t5, t6)
putc:
    lbu     t6, UART_LSR(s0)
    andi    t6, t6, LSR_THRE
    beqz    t6, putc
    sb      a0, 0(s0)
    ret

# puts: a1 = NUL-terminated string (uses a0, a1, t4, and putc's)
puts:
    mv      t4, ra
2:  lbu     a0, 0(a1)
    beqz    a0, 3f
    call    putc
    addi    a1, a1, 1
    j       2b
3:  mv      ra, t4
    ret

# puthex: a1 = the value, printed as 8 lower-case hex digits (uses a0, a2, t4, and putc's)
puthex:
    mv      t4, ra
    li      a2, 28
4:  srl     a0, a1, a2
    andi    a0, a0, 15
    addi    a0, a0, '0'
    li      t3, '9' + 1
    bltu    a0, t3, 5f
    addi    a0, a0, 'a' - '9' - 1
5:  call    putc
    addi    a2, a2, -4
    bgez    a2, 4b
    mv      ra, t4
    ret

    .section .rodata
word:
    .asciz  "tick "
