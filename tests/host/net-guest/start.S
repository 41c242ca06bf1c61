# Entry of the network test guest: a stack, a cleared bss, then main (machine mode, no traps).
        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      sp, stack_top
        la      t0, __bss_start
        la      t1, __bss_end
1:      bgeu    t0, t1, 2f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       1b
2:      call    main
3:      wfi
        j       3b

        .bss
        .align  4
        .space  16384
stack_top:
