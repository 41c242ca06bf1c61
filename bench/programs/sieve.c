/* Sieve of Eratosthenes over the integers below one million, repeated. Self-checks: the
 * prime count equals pi(10^6) = 78498, and a spread of numbers is re-tested by trial division. */
#include "runtime.h"

#ifndef ROUNDS
#define ROUNDS 16
#endif
#define LIMIT 1000000
#define PI_OF_LIMIT 78498

static u8 composite[LIMIT];

static u32 sieve(void) {
  memset(composite, 0, sizeof composite);
  composite[0] = composite[1] = 1;
  for (u32 i = 2; i * i < LIMIT; i++) {
    if (composite[i]) continue;
    for (u32 j = i * i; j < LIMIT; j += i) composite[j] = 1;
  }
  u32 count = 0;
  for (u32 i = 0; i < LIMIT; i++) count += composite[i] == 0;
  return count;
}

static int is_prime_trial(u32 n) {
  if (n < 2) return 0;
  if (n % 2 == 0) return n == 2;
  for (u32 d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return 0;
  }
  return 1;
}

int main(void) {
  u64 total = 0;
  u32 count = 0;
  for (u32 round = 0; round < ROUNDS; round++) {
    count = sieve();
    expect(count == PI_OF_LIMIT, 1, "sieve prime count is not pi(10^6) = 78498");
    total += count;
  }
  /* Deterministic spread plus the neighbourhood of the limit. */
  u64 state = 0x2545f4914f6cdd1dul;
  for (int k = 0; k < 2000; k++) {
    u32 n = (u32)(next_random(&state) % LIMIT);
    expect(is_prime_trial(n) == (composite[n] == 0), 2, "sieve disagrees with trial division");
  }
  for (u32 n = LIMIT - 200; n < LIMIT; n++) {
    expect(is_prime_trial(n) == (composite[n] == 0), 3, "sieve disagrees with trial division near the limit");
  }
  u32 largest = LIMIT - 1;
  while (composite[largest]) largest--;

  put_str("sieve rounds=");
  put_dec(ROUNDS);
  put_str(" primes=");
  put_dec(count);
  put_str(" largest=");
  put_dec(largest);
  put_str(" total=");
  put_dec(total);
  put_str(" ok\n");
  return 0;
}
