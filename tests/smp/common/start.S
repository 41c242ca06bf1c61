/* Every hart enters here with a0 = its hart id and a1 = the device tree; each gets a 16 KiB stack
 * (included by each SMP test program's crt0.S). */
        .section .text.init
        .globl _start
_start:
        la      sp, stacks_end
        slli    t0, a0, 14
        sub     sp, sp, t0
        call    hart_main
1:      wfi
        j       1b

        .bss
        .align  4
stacks: .skip   16384 * 8
stacks_end:
