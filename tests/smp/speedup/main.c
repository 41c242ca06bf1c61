/*
 * A CPU-bound job split across the board's harts: BLOCKS sieves of Eratosthenes up to LIMIT,
 * hart h taking blocks h, h + n, ... in a buffer of its own (no sharing in the inner loop).
 * Hart 0 waits for the others, checks the prime count (so the work cannot be skipped) and
 * prints the time the job took in timebase ticks, read from the time CSR.
 */
#include "../common/console.h"
#include "../common/fdt-cpus.h"

#define BLOCKS 8192
#define LIMIT 50000
#define PRIMES_BELOW_LIMIT 5133
#define MAX_HARTS 8

static volatile int harts;
static volatile int arrived;
static volatile int finished;
static volatile long primes_found;
static unsigned char sieves[MAX_HARTS][LIMIT] __attribute__((aligned(4096)));

static inline unsigned long ticks(void) {
  unsigned long t;
  __asm__ volatile("rdtime %0" : "=r"(t));
  return t;
}

static long sieve(unsigned char *composite) {
  for (long i = 0; i < LIMIT; i++) composite[i] = 0;
  long count = 0;
  for (long i = 2; i < LIMIT; i++) {
    if (composite[i]) continue;
    count++;
    for (long j = i * i; j < LIMIT; j += i) composite[j] = 1;
  }
  return count;
}

void hart_main(unsigned long hart, const unsigned char *fdt) {
  if (hart == 0) harts = count_cpus(fdt);
  else while (harts == 0) {}
  int n = harts;
  if (hart >= (unsigned long)n || hart >= MAX_HARTS) return;
  __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
  while (arrived < n) {}
  unsigned long start = ticks();
  long found = 0;
  for (long block = (long)hart; block < BLOCKS; block += n) found += sieve(sieves[hart]);
  __atomic_fetch_add(&primes_found, found, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
  if (hart != 0) return;
  while (finished < n) {}
  unsigned long elapsed = ticks() - start;
  int ok = primes_found == (long)BLOCKS * PRIMES_BELOW_LIMIT;
  put_string("harts ");
  put_number((unsigned long)n);
  put_string(" ticks ");
  put_number(elapsed);
  put_string(ok ? " PASS\n" : " FAIL\n");
  *FINISHER = ok ? 0x5555 : (1 << 16) | 0x3333;
  for (;;) {}
}
