/* The freestanding runtime of the benchmark programs (see runtime.h). */
#include "runtime.h"

#define UART_BASE 0x10000000ul
#define UART_THR 0
#define UART_LSR 5
#define LSR_THR_EMPTY 0x20
#define FINISHER 0x100000ul
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u

void put_char(char c) {
  volatile u8 *uart = (volatile u8 *)UART_BASE;
  while ((uart[UART_LSR] & LSR_THR_EMPTY) == 0) {
  }
  uart[UART_THR] = (u8)c;
}

void put_str(const char *s) {
  while (*s) put_char(*s++);
}

void put_dec(u64 v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put_char(digits[--n]);
}

void put_hex(u64 v) {
  put_str("0x");
  for (int shift = 60; shift >= 0; shift -= 4) put_char("0123456789abcdef"[(v >> shift) & 15]);
}

void finish(int status) {
  volatile u32 *finisher = (volatile u32 *)FINISHER;
  *finisher = status == 0 ? FINISHER_PASS : (FINISHER_FAIL | ((u32)status << 16));
  for (;;) {
  }
}

void expect(int ok, int code, const char *what) {
  if (ok) return;
  put_str("FAIL ");
  put_str(what);
  put_char('\n');
  finish(code);
}

/* Called from crt0 on any trap: a benchmark never traps, so this is an emulator fault. */
void report_trap(u64 cause, u64 epc, u64 tval) {
  put_str("FAIL unexpected trap mcause=");
  put_hex(cause);
  put_str(" mepc=");
  put_hex(epc);
  put_str(" mtval=");
  put_hex(tval);
  put_char('\n');
  finish(255);
}

/* Word-sized access to any object (the memory functions work on bytes of any type). */
typedef u64 __attribute__((may_alias)) word_t;

/* Without this GCC may turn the loops below into calls to themselves. */
#define NO_LOOP_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_PATTERNS void *memset(void *dst, int c, usize n) {
  u8 *d = dst;
  u64 word = (u8)c * 0x0101010101010101ul;
  while (n && ((usize)d & 7)) {
    *d++ = (u8)c;
    n--;
  }
  for (; n >= 8; n -= 8, d += 8) *(word_t *)d = word;
  while (n--) *d++ = (u8)c;
  return dst;
}

NO_LOOP_PATTERNS void *memcpy(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  if ((((usize)d | (usize)s) & 7) == 0) {
    for (; n >= 8; n -= 8, d += 8, s += 8) *(word_t *)d = *(const word_t *)s;
  }
  while (n--) *d++ = *s++;
  return dst;
}

NO_LOOP_PATTERNS void *memmove(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  while (n--) d[n] = s[n];
  return dst;
}

int memcmp(const void *a, const void *b, usize n) {
  const u8 *x = a, *y = b;
  for (usize i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}
