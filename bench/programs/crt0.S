# Start-up code shared by the benchmark programs: machine mode, no firmware. Sets a trap
# vector (any trap is a failure), enables the FPU, then runs main REPEAT times (default once),
# each time on a zeroed .bss, and reports the status through the test finisher (runtime.c).
# Repeating lets a fast reference machine run long enough to be timed against its start-up;
# .data is not reloaded, so programs keep all writable state in .bss.

#ifndef REPEAT
#define REPEAT 1
#endif

  .section .text.init, "ax"
  .globl _start
_start:
  la t0, trap_entry
  csrw mtvec, t0
  # mstatus.FS = Initial: the compiler may use FP registers even in integer code.
  li t0, 0x2000
  csrs mstatus, t0
  li s1, REPEAT
1:
  la sp, __stack_top
  la t0, __bss_start
  la t1, __bss_end
2:
  bgeu t0, t1, 3f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 2b
3:
  call main
  bnez a0, 4f
  # s1 is callee-saved: main leaves it alone.
  addi s1, s1, -1
  bnez s1, 1b
4:
  call finish
5:
  j 5b

  # mtvec needs 4-byte alignment (Priv. spec 3.1.7).
  .balign 4
trap_entry:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  la sp, __stack_top
  call report_trap
6:
  j 6b
