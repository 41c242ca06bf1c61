# Entry of the network test guest: a stack, then main (machine mode, no traps). The bss is
# not cleared: the guest only ever runs from a fresh boot, whose RAM starts zeroed.
        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      sp, stack_top
        call    main
1:      wfi
        j       1b

        .bss
        .align  4
        .space  16384
stack_top:
