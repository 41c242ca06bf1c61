/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) over a 64 KiB pseudo-random buffer,
 * table-driven one byte at a time as in zlib's simple loop. Each round changes one byte, so no
 * round repeats the previous one. Self-checks: the standard check value of "123456789", and
 * the first and last rounds recomputed bit by bit without the table. */
#include "runtime.h"

#ifndef ROUNDS
#define ROUNDS 400
#endif
#define BUFFER_BYTES 65536

static u32 table[256];
static u8 buffer[BUFFER_BYTES];

static void build_table(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
}

static u32 crc_table(const u8 *p, usize n) {
  u32 c = 0xffffffffu;
  for (usize i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

static u32 crc_bitwise(const u8 *p, usize n) {
  u32 c = 0xffffffffu;
  for (usize i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

int main(void) {
  build_table();
  static const char check[] = "123456789";
  expect(crc_table((const u8 *)check, 9) == 0xcbf43926u, 1, "crc32 check value (table)");
  expect(crc_bitwise((const u8 *)check, 9) == 0xcbf43926u, 2, "crc32 check value (bitwise)");

  u64 state = 0x9e3779b97f4a7c15ul;
  for (usize i = 0; i < BUFFER_BYTES; i += 8) {
    u64 r = next_random(&state);
    for (int k = 0; k < 8; k++) buffer[i + k] = (u8)(r >> (8 * k));
  }

  u64 combined = 0;
  u32 crc = 0;
  for (u32 round = 0; round < ROUNDS; round++) {
    buffer[(round * 2654435761u) % BUFFER_BYTES] ^= (u8)(round | 1);
    crc = crc_table(buffer, BUFFER_BYTES);
    if (round == 0) expect(crc == crc_bitwise(buffer, BUFFER_BYTES), 3, "crc32 first round differs from bitwise crc");
    combined = (combined << 7 | combined >> 57) ^ crc;
  }
  expect(crc == crc_bitwise(buffer, BUFFER_BYTES), 4, "crc32 last round differs from bitwise crc");

  put_str("crc32 rounds=");
  put_dec(ROUNDS);
  put_str(" last=");
  put_hex(crc);
  put_str(" combined=");
  put_hex(combined);
  put_str(" ok\n");
  return 0;
}
