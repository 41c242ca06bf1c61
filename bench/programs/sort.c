/* Sorting pseudo-random 64-bit keys two ways: quicksort (median of three, insertion sort for
 * short runs) and heapsort. Self-checks: both results are identical and ordered, and the sum,
 * xor and sum of squares of the keys survive sorting. */
#include "runtime.h"

#ifndef ROUNDS
#define ROUNDS 12
#endif
#define KEYS 50000

static u64 quick[KEYS];
static u64 heap[KEYS];

static void swap(u64 *a, u64 *b) {
  u64 t = *a;
  *a = *b;
  *b = t;
}

static void insertion_sort(u64 *a, i64 n) {
  for (i64 i = 1; i < n; i++) {
    u64 key = a[i];
    i64 j = i - 1;
    while (j >= 0 && a[j] > key) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = key;
  }
}

static void quicksort(u64 *a, i64 n) {
  while (n > 16) {
    i64 mid = n / 2;
    if (a[mid] < a[0]) swap(&a[mid], &a[0]);
    if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
    if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
    u64 pivot = a[mid];
    i64 i = 0, j = n - 1;
    for (;;) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i >= j) break;
      swap(&a[i], &a[j]);
      i++;
      j--;
    }
    /* Recurse into the smaller part, loop on the larger: stack depth stays logarithmic. */
    i64 left = j + 1;
    if (left < n - left) {
      quicksort(a, left);
      a += left;
      n -= left;
    } else {
      quicksort(a + left, n - left);
      n = left;
    }
  }
  insertion_sort(a, n);
}

static void sift_down(u64 *a, i64 root, i64 n) {
  u64 value = a[root];
  for (;;) {
    i64 child = 2 * root + 1;
    if (child >= n) break;
    if (child + 1 < n && a[child + 1] > a[child]) child++;
    if (a[child] <= value) break;
    a[root] = a[child];
    root = child;
  }
  a[root] = value;
}

static void heapsort(u64 *a, i64 n) {
  for (i64 i = n / 2 - 1; i >= 0; i--) sift_down(a, i, n);
  for (i64 end = n - 1; end > 0; end--) {
    swap(&a[0], &a[end]);
    sift_down(a, 0, end);
  }
}

struct digest {
  u64 sum, xor, squares;
};

static struct digest digest_of(const u64 *a, i64 n) {
  struct digest d = {0, 0, 0};
  for (i64 i = 0; i < n; i++) {
    d.sum += a[i];
    d.xor ^= a[i];
    d.squares += a[i] * a[i];
  }
  return d;
}

int main(void) {
  u64 state = 0x853c49e6748fea9bul;
  u64 combined = 0;
  for (u32 round = 0; round < ROUNDS; round++) {
    /* Some rounds draw from a small range, so equal keys are exercised too. */
    u64 mask = (round % 3 == 2) ? 0xffful : ~0ul;
    for (i64 i = 0; i < KEYS; i++) quick[i] = heap[i] = next_random(&state) & mask;
    struct digest before = digest_of(quick, KEYS);
    quicksort(quick, KEYS);
    heapsort(heap, KEYS);
    struct digest after = digest_of(quick, KEYS);
    expect(before.sum == after.sum && before.xor == after.xor && before.squares == after.squares, 1,
           "sort lost or changed keys");
    for (i64 i = 0; i < KEYS; i++) {
      expect(quick[i] == heap[i], 2, "quicksort and heapsort disagree");
      if (i) expect(quick[i - 1] <= quick[i], 3, "sort output is not ordered");
    }
    combined = (combined << 13 | combined >> 51) ^ quick[KEYS / 2] ^ quick[KEYS - 1];
  }

  put_str("sort rounds=");
  put_dec(ROUNDS);
  put_str(" keys=");
  put_dec(KEYS);
  put_str(" median=");
  put_hex(quick[KEYS / 2]);
  put_str(" combined=");
  put_hex(combined);
  put_str(" ok\n");
  return 0;
}
