# A bare-metal "hello" for Vireo's board (and any RISC-V virt board): prints through the
# 16550 UART at 0x10000000, then powers off through the test finisher at 0x100000.
# Build:  riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -nostdlib -static \
#           -T examples/link.ld -o hello.elf examples/hello.S
# Run:    npx vireo run --bios none --kernel hello.elf

    .equ UART0, 0x10000000
    .equ UART_LSR, 5
    .equ LSR_THRE, 0x20
    .equ FINISHER, 0x100000
    .equ FINISHER_PASS, 0x5555

    .section .text.start, "ax"
    .globl _start
_start:
    li      t0, UART0
    la      t1, message
next:
    lbu     t2, 0(t1)
    beqz    t2, done
wait:
    lbu     t3, UART_LSR(t0)        # wait until the transmitter holding register is empty
    andi    t3, t3, LSR_THRE
    beqz    t3, wait
    sb      t2, 0(t0)
    addi    t1, t1, 1
    j       next
done:
    li      t0, FINISHER
    li      t1, FINISHER_PASS
    sw      t1, 0(t0)
halt:
    wfi
    j       halt

    .section .rodata
message:
    .asciz  "Hello from Vireo!\n"
