/* A small register bytecode machine (16 registers, 32-bit instruction words, switch dispatch)
 * running a program that sums Collatz trajectory lengths and hashes every value visited.
 * Self-check: the same computation written directly in C gives the same length and hash. */
#include "runtime.h"

#ifndef LIMIT
#define LIMIT 12500
#endif

enum opcode {
  OP_HALT, OP_LI, OP_MOV, OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR,
  OP_SHRI, OP_ADDI, OP_BEQ, OP_BNE, OP_BLTU, OP_JMP,
};

/* op | a << 8 | b << 16 | c << 24; LI and branches take a second word (immediate or target). */
#define INSN(op, a, b, c) ((u32)(op) | (u32)(a) << 8 | (u32)(b) << 16 | (u32)(c) << 24)

#define FNV_OFFSET 0xcbf29ce484222325ul
#define FNV_PRIME 0x100000001b3ul

/* Registers: r0 n, r1 limit + 1, r2 total steps, r3 x, r4 hash, r5 = 1, r6 = 3, r7 scratch,
 * r8 = 0, r9 FNV prime. LI takes a sign-extended 32-bit immediate, so main() sets the two
 * 64-bit constants (r4, r9) before the run. */
static const u32 program[] = {
  /* 0 */ INSN(OP_LI, 0, 0, 0), 1,
  /* 2 */ INSN(OP_LI, 1, 0, 0), LIMIT + 1,
  /* 4 */ INSN(OP_LI, 2, 0, 0), 0,
  /* 6 */ INSN(OP_LI, 5, 0, 0), 1,
  /* 8 */ INSN(OP_LI, 6, 0, 0), 3,
  /* 10 */ INSN(OP_LI, 8, 0, 0), 0,
  /* outer: 12 */ INSN(OP_MOV, 3, 0, 0),
  /* inner: 13 */ INSN(OP_BEQ, 3, 5, 0), 28,
  /* 15 */ INSN(OP_AND, 7, 3, 5),
  /* 16 */ INSN(OP_BNE, 7, 8, 0), 21,
  /* 18 */ INSN(OP_SHRI, 3, 3, 1),
  /* 19 */ INSN(OP_JMP, 0, 0, 0), 23,
  /* odd: 21 */ INSN(OP_MUL, 3, 3, 6),
  /* 22 */ INSN(OP_ADD, 3, 3, 5),
  /* step: 23 */ INSN(OP_ADDI, 2, 2, 1),
  /* 24 */ INSN(OP_XOR, 4, 4, 3),
  /* 25 */ INSN(OP_MUL, 4, 4, 9),
  /* 26 */ INSN(OP_JMP, 0, 0, 0), 13,
  /* done: 28 */ INSN(OP_ADDI, 0, 0, 1),
  /* 29 */ INSN(OP_BLTU, 0, 1, 0), 12,
  /* 31 */ INSN(OP_HALT, 0, 0, 0),
};

static u64 registers[16];

static void run(const u32 *code, u64 *r) {
  u32 pc = 0;
  for (;;) {
    u32 insn = code[pc];
    u32 a = (insn >> 8) & 15, b = (insn >> 16) & 15, c = insn >> 24;
    switch (insn & 0xff) {
      case OP_HALT: return;
      case OP_LI: r[a] = (u64)(i64)(int)code[pc + 1]; pc += 2; break;
      case OP_MOV: r[a] = r[b]; pc += 1; break;
      case OP_ADD: r[a] = r[b] + r[c & 15]; pc += 1; break;
      case OP_SUB: r[a] = r[b] - r[c & 15]; pc += 1; break;
      case OP_MUL: r[a] = r[b] * r[c & 15]; pc += 1; break;
      case OP_AND: r[a] = r[b] & r[c & 15]; pc += 1; break;
      case OP_XOR: r[a] = r[b] ^ r[c & 15]; pc += 1; break;
      case OP_SHRI: r[a] = r[b] >> (c & 63); pc += 1; break;
      case OP_ADDI: r[a] = r[b] + (u64)(i64)(signed char)c; pc += 1; break;
      case OP_BEQ: pc = r[a] == r[b] ? code[pc + 1] : pc + 2; break;
      case OP_BNE: pc = r[a] != r[b] ? code[pc + 1] : pc + 2; break;
      case OP_BLTU: pc = r[a] < r[b] ? code[pc + 1] : pc + 2; break;
      case OP_JMP: pc = code[pc + 1]; break;
      default:
        expect(0, 2, "bytecode: bad opcode");
    }
  }
}

int main(void) {
  /* The two 64-bit constants, which do not fit an immediate. */
  registers[4] = FNV_OFFSET;
  registers[9] = FNV_PRIME;
  run(program, registers);

  u64 steps = 0, hash = FNV_OFFSET;
  for (u64 n = 1; n <= LIMIT; n++) {
    for (u64 x = n; x != 1;) {
      x = (x & 1) ? 3 * x + 1 : x >> 1;
      steps++;
      hash = (hash ^ x) * FNV_PRIME;
    }
  }
  expect(registers[0] == LIMIT + 1, 1, "bytecode loop ended at the wrong n");
  expect(registers[2] == steps && registers[4] == hash, 1, "bytecode result differs from native C");

  put_str("bytecode limit=");
  put_dec(LIMIT);
  put_str(" steps=");
  put_dec(steps);
  put_str(" hash=");
  put_hex(hash);
  put_str(" ok\n");
  return 0;
}
