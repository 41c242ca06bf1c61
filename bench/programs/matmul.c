/* 64-bit integer matrix multiply (row-major, i-k-j loop order), each product fed into the next
 * round. Arithmetic is modulo 2^64, a ring, so Freivalds' identity C x = A (B x) holds exactly
 * and checks every round with a pseudo-random vector. */
#include "runtime.h"

#ifndef ROUNDS
#define ROUNDS 40
#endif
#define N 96

static u64 a[N][N], b[N][N], c[N][N];
static u64 x[N], bx[N], abx[N], cx[N];

static void multiply(void) {
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) c[i][j] = 0;
    for (int k = 0; k < N; k++) {
      u64 aik = a[i][k];
      for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
    }
  }
}

static void mat_vec(u64 m[N][N], const u64 *v, u64 *out) {
  for (int i = 0; i < N; i++) {
    u64 s = 0;
    for (int j = 0; j < N; j++) s += m[i][j] * v[j];
    out[i] = s;
  }
}

int main(void) {
  u64 state = 0xda942042e4dd58b5ul;
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      a[i][j] = next_random(&state);
      b[i][j] = next_random(&state) | 1;
    }
  }
  u64 combined = 0;
  for (u32 round = 0; round < ROUNDS; round++) {
    multiply();
    for (int i = 0; i < N; i++) x[i] = next_random(&state);
    mat_vec(b, x, bx);
    mat_vec(a, bx, abx);
    mat_vec(c, x, cx);
    for (int i = 0; i < N; i++) expect(cx[i] == abx[i], 1, "matmul product fails Freivalds' check");
    /* The product becomes the next left operand. */
    u64 trace = 0;
    for (int i = 0; i < N; i++) {
      trace += c[i][i];
      for (int j = 0; j < N; j++) a[i][j] = c[i][j];
    }
    combined = (combined << 9 | combined >> 55) ^ trace;
  }

  put_str("matmul rounds=");
  put_dec(ROUNDS);
  put_str(" n=");
  put_dec(N);
  put_str(" c00=");
  put_hex(c[0][0]);
  put_str(" combined=");
  put_hex(combined);
  put_str(" ok\n");
  return 0;
}
