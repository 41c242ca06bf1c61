/* The freestanding runtime of the benchmark programs: fixed-width types, UART output,
 * the finisher, and the few memory functions the compiler may call. */
#ifndef BENCH_RUNTIME_H
#define BENCH_RUNTIME_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long usize;

void put_char(char c);
void put_str(const char *s);
void put_dec(u64 v);
void put_hex(u64 v);

/* Powers the board off: status 0 passes, anything else fails with that exit code. */
void finish(int status) __attribute__((noreturn));

/* Prints "FAIL <what>" and fails with `code` unless `ok`. */
void expect(int ok, int code, const char *what);

void *memset(void *dst, int c, usize n);
void *memcpy(void *dst, const void *src, usize n);
void *memmove(void *dst, const void *src, usize n);
int memcmp(const void *a, const void *b, usize n);

/* xorshift64*: the shared pseudo-random source (never returns 0 for a non-zero state). */
static inline u64 next_random(u64 *state) {
  u64 x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545f4914f6cdd1dul;
}

#endif
