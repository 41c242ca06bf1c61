/*
 * A stress of the A extension across harts, with no lockstep between them: every hart adds to
 * shared counters with AMOs (.w and .d), with LR/SC loops, and under a spin lock made of
 * amoswap.aq/.rl, as fast as it can; hart 0 then checks that every total is exact. A message
 * passed between harts behind FENCEs checks the ordering they promise. Hart 0 reports PASS or
 * the first wrong total on the UART and through the test finisher.
 */
#define ITERATIONS 20000
#define MESSAGE_WORDS 256

#include "../common/console.h"
#include "../common/fdt-cpus.h"

static volatile int harts;
static volatile int arrived;
static volatile int finished;
static long amo_d;
static int amo_w;
static long lrsc_d;
static int lrsc_w;
static int lock;
static volatile long locked;
static long maximum;
static long minimum;
static int toggles;
static volatile long message[MESSAGE_WORDS];
static volatile long message_ready;
static volatile long message_errors;

static inline void amoadd_d(long *p, long v) { __asm__ volatile("amoadd.d zero, %1, (%0)" : : "r"(p), "r"(v) : "memory"); }
static inline void amoadd_w(volatile int *p, int v) { __asm__ volatile("amoadd.w zero, %1, (%0)" : : "r"(p), "r"(v) : "memory"); }
static inline void amomax_d(long *p, long v) { __asm__ volatile("amomax.d zero, %1, (%0)" : : "r"(p), "r"(v) : "memory"); }
static inline void amomin_d(long *p, long v) { __asm__ volatile("amomin.d zero, %1, (%0)" : : "r"(p), "r"(v) : "memory"); }
static inline void amoxor_w(int *p, int v) { __asm__ volatile("amoxor.w zero, %1, (%0)" : : "r"(p), "r"(v) : "memory"); }

static inline void lrsc_add_d(long *p, long v) {
  long value, failed;
  __asm__ volatile("1: lr.d %0, (%2)\n add %0, %0, %3\n sc.d %1, %0, (%2)\n bnez %1, 1b"
                   : "=&r"(value), "=&r"(failed) : "r"(p), "r"(v) : "memory");
}

static inline void lrsc_add_w(int *p, int v) {
  int value, failed;
  __asm__ volatile("1: lr.w %0, (%2)\n addw %0, %0, %3\n sc.w %1, %0, (%2)\n bnez %1, 1b"
                   : "=&r"(value), "=&r"(failed) : "r"(p), "r"(v) : "memory");
}

static inline void spin_lock(int *p) {
  int old;
  do { __asm__ volatile("amoswap.w.aq %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(1) : "memory"); } while (old != 0);
}

static inline void spin_unlock(int *p) { __asm__ volatile("amoswap.w.rl zero, zero, (%0)" : : "r"(p) : "memory"); }

static void check(const char *what, long got, long want, int *failures) {
  if (got == want) return;
  put_string("FAIL ");
  put_string(what);
  put_string(": ");
  put_number((unsigned long)got);
  put_string(" instead of ");
  put_number((unsigned long)want);
  put_string("\n");
  (*failures)++;
}

void hart_main(unsigned long hart, const unsigned char *fdt) {
  if (hart == 0) {
    minimum = 0x7fffffffffffffffL;
    __asm__ volatile("fence rw, w" : : : "memory");
    harts = count_cpus(fdt);
  } else {
    while (harts == 0) {}
    __asm__ volatile("fence r, rw" : : : "memory");
  }
  int n = harts;
  if (hart >= (unsigned long)n) return;
  amoadd_w(&arrived, 1);
  while (arrived < n) {}

  /* The last hart passes a message to hart 0: data first, then the flag, with fences between. */
  if (n > 1 && hart == (unsigned long)n - 1) {
    for (int i = 0; i < MESSAGE_WORDS; i++) message[i] = i * 7 + 1;
    __asm__ volatile("fence w, w" : : : "memory");
    message_ready = 1;
  }
  for (long i = 0; i < ITERATIONS; i++) {
    amoadd_d(&amo_d, 1);
    amoadd_w((volatile int *)&amo_w, 1);
    lrsc_add_d(&lrsc_d, 2);
    lrsc_add_w(&lrsc_w, 3);
    spin_lock(&lock);
    locked = locked + 1;
    spin_unlock(&lock);
    amomax_d(&maximum, (long)((hart << 32) | i));
    amomin_d(&minimum, (long)((hart << 32) | i) - 1);
    amoxor_w(&toggles, 1 << hart);
  }
  if (n > 1 && hart == 0) {
    while (message_ready == 0) {}
    __asm__ volatile("fence r, r" : : : "memory");
    for (int i = 0; i < MESSAGE_WORDS; i++) if (message[i] != i * 7 + 1) message_errors++;
  }
  amoadd_w(&finished, 1);
  if (hart != 0) return;
  while (finished < n) {}
  __asm__ volatile("fence rw, rw" : : : "memory");

  int failures = 0;
  long total = (long)n * ITERATIONS;
  check("amoadd.d total", amo_d, total, &failures);
  check("amoadd.w total", amo_w, total, &failures);
  check("lr.d/sc.d total", lrsc_d, 2 * total, &failures);
  check("lr.w/sc.w total", lrsc_w, 3 * total, &failures);
  check("total under the lock", locked, total, &failures);
  check("amomax.d", maximum, (long)(((unsigned long)n - 1) << 32 | (ITERATIONS - 1)), &failures);
  check("amomin.d", minimum, -1, &failures);
  check("amoxor.w", toggles, 0, &failures);
  check("message words out of order", message_errors, 0, &failures);
  put_string("harts ");
  put_number((unsigned long)n);
  put_string(failures == 0 ? ": PASS\n" : ": FAIL\n");
  *FINISHER = failures == 0 ? 0x5555 : ((unsigned)failures << 16) | 0x3333;
  for (;;) {}
}
