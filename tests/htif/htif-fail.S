/*
 * Prints a message with the write system call through the HTIF mailbox, then ends with
 * exit code 5 written to tohost as (5 << 1) | 1.
 */
        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      t0, tohost
        la      t1, syscall_args
        sd      t1, 0(t0)               /* device 0, command 0, payload = the argument block */
1:      ld      t2, 0(t0)
        bnez    t2, 1b
        li      t1, (5 << 1) | 1
2:      sd      t1, 0(t0)
        j       2b

        .section .tohost, "aw", @progbits
        .align  6
        .globl  tohost
tohost: .dword  0
        .align  6
        .globl  fromhost
fromhost: .dword 0

        .data
        .align  6
syscall_args:
        .dword  64, 1, message, message_end - message, 0, 0, 0, 0
message:
        .ascii  "written through SYS_write\n"
message_end:
