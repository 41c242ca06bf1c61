/*
 * The hostile guest's runtime: seeded PRNG, counted MMIO accesses of any width and alignment,
 * the trap handler that skips faulting accesses, UART output, and the seed from the device tree.
 */
#include "attack.h"

struct counters stats;
uint64_t arena_start, arena_end, ram_end;

/* ---- xorshift64* ---- */

static uint64_t state = 1;

void seed_rng(uint64_t seed) {
  state = seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
  if (state == 0) state = 1;
  for (int i = 0; i < 8; i++) rnd();
}

uint64_t rnd(void) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dULL;
}

uint64_t rng_state(void) { return state; }
void rng_restore(uint64_t saved) { state = saved ? saved : 1; }

uint64_t below(uint64_t n) { return n == 0 ? 0 : rnd() % n; }
int chance(unsigned percent) { return below(100) < percent; }

/* ---- MMIO: one instruction per access, so the hart sees exactly the width and alignment ---- */

uint64_t mmio_read(uint64_t addr, unsigned size) {
  uint64_t v = 0;  /* stays 0 when the trap handler skips the load */
  stats.mmio_reads++;
  switch (size) {
    case 1: asm volatile("lbu %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
    case 2: asm volatile("lhu %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
    case 4: asm volatile("lwu %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
    default: asm volatile("ld %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
  }
  stats.checksum = (stats.checksum ^ v) * 0x100000001b3ULL;
  return v;
}

void mmio_write(uint64_t addr, unsigned size, uint64_t value) {
  stats.mmio_writes++;
  switch (size) {
    case 1: asm volatile("sb %0, 0(%1)" : : "r"(value), "r"(addr) : "memory"); break;
    case 2: asm volatile("sh %0, 0(%1)" : : "r"(value), "r"(addr) : "memory"); break;
    case 4: asm volatile("sw %0, 0(%1)" : : "r"(value), "r"(addr) : "memory"); break;
    default: asm volatile("sd %0, 0(%1)" : : "r"(value), "r"(addr) : "memory"); break;
  }
}

uint32_t r32(uint64_t addr) { return (uint32_t)mmio_read(addr, 4); }
void w32(uint64_t addr, uint32_t value) { mmio_write(addr, 4, value); }

/* ---- traps ---- */

#define CSR_CLEAR(csr, bits) asm volatile("csrc " #csr ", %0" : : "r"(bits))
#define CSR_SET(csr, bits) asm volatile("csrs " #csr ", %0" : : "r"(bits))

static void uart_putc(char c);

static void fatal(uint64_t cause, uint64_t epc, uint64_t tval) {
  uart_reset();
  puts_("\nHOSTILE-FATAL cause=");
  puthex(cause);
  puts_(" epc=");
  puthex(epc);
  puts_(" tval=");
  puthex(tval);
  puts_("\n");
  for (;;) {}
}

/* Interrupts are taken once per enable: the handler masks the source's mie bit, so a level that
 * stays high (the guest scribbled over the device that raised it) cannot trap forever. */
uint64_t on_trap(uint64_t cause, uint64_t epc, uint64_t tval) {
  if ((int64_t)cause < 0) {
    uint64_t code = cause & 63;
    stats.irqs++;
    if (code == 11) {
      volatile uint32_t *claim = (volatile uint32_t *)(PLIC_BASE + 0x200004);
      *claim = *claim;  /* claim, then complete, for hart 0's M-mode context */
    }
    CSR_CLEAR(mie, 1UL << code);
    return epc;
  }
  /* Misaligned or access-faulting loads and stores: skip the instruction. */
  if (cause >= 4 && cause <= 7) {
    stats.access_faults++;
    uint16_t half = *(volatile uint16_t *)epc;
    return epc + ((half & 3) == 3 ? 4 : 2);
  }
  stats.unexpected++;
  fatal(cause, epc, tval);
  return epc;
}

void interrupts_scramble(void) {
  static const uint64_t sources[] = {1UL << 1, 1UL << 3, 1UL << 5, 1UL << 7, 1UL << 9, 1UL << 11};
  uint64_t mie = 0;
  for (unsigned i = 0; i < sizeof sources / sizeof sources[0]; i++)
    if (chance(40)) mie |= sources[i];
  asm volatile("csrw mie, %0" : : "r"(mie));
  CSR_SET(mstatus, 1UL << 3);
}

void interrupts_off(void) {
  CSR_CLEAR(mstatus, 1UL << 3);
  asm volatile("csrw mie, zero");
}

uint64_t read_instret(void) {
  uint64_t v;
  asm volatile("csrr %0, minstret" : "=r"(v));
  return v;
}

/* ---- UART output (bounded waits: the attack may have left the UART in any state) ---- */

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

static void ureg(unsigned reg, uint8_t v) { *(volatile uint8_t *)(UART_BASE + reg) = v; }

void uart_reset(void) {
  ureg(UART_LCR, 0x80);  /* DLAB: the divisor latches */
  ureg(UART_THR, 1);
  ureg(UART_IER, 0);
  ureg(UART_LCR, 0x03);  /* 8N1, DLAB off */
  ureg(UART_FCR, 0x07);
  ureg(UART_MCR, 0x03);  /* no loopback: output leaves the chip */
  ureg(UART_IER, 0);
}

static void uart_putc(char c) {
  for (unsigned i = 0; i < 1000000; i++)
    if (*(volatile uint8_t *)(UART_BASE + UART_LSR) & 0x20) break;
  ureg(UART_THR, (uint8_t)c);
}

void puts_(const char *s) {
  while (*s) uart_putc(*s++);
}

void putdec(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) uart_putc(buf[--n]);
}

void puthex(uint64_t v) {
  puts_("0x");
  for (int shift = 60; shift >= 0; shift -= 4) uart_putc("0123456789abcdef"[(v >> shift) & 15]);
}

/* ---- freestanding C needs these ---- */

void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *p = d;
  const uint8_t *q = s;
  while (n--) *p++ = *q++;
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *p = a, *q = b;
  for (; n; n--, p++, q++)
    if (*p != *q) return *p - *q;
  return 0;
}

/* ---- the device tree (Devicetree Specification 5): RAM size and `key=N` words of bootargs ---- */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t fdt_size(const void *fdt) {
  const uint8_t *p = fdt;
  return be32(p) == 0xd00dfeed ? be32(p + 4) : 0;
}

/* The board puts the tree at the top of RAM, 8-byte aligned, and RAM is whole pages. */
uint64_t fdt_ram_end(const void *fdt) {
  return ((uint64_t)fdt + fdt_size(fdt) + 4095) & ~4095ULL;
}

/* The value of the first "bootargs" property (only /chosen has one), or null. */
static const char *fdt_bootargs(const void *fdt, uint32_t *len) {
  const uint8_t *p = fdt;
  uint32_t size = fdt_size(fdt);
  if (size == 0) return 0;
  const uint8_t *strings = p + be32(p + 12);
  for (uint32_t at = be32(p + 8); at + 4 <= size;) {
    uint32_t token = be32(p + at);
    at += 4;
    if (token == 1) {  /* FDT_BEGIN_NODE: a NUL-terminated name, padded to 4 bytes */
      while (at < size && p[at]) at++;
      at = (at + 4) & ~3U;
    } else if (token == 3) {  /* FDT_PROP: len, nameoff, value */
      uint32_t vlen = be32(p + at), name = be32(p + at + 4);
      if (memcmp(strings + name, "bootargs", 9) == 0) {
        *len = vlen;
        return (const char *)(p + at + 8);
      }
      at = (at + 8 + vlen + 3) & ~3U;
    } else if (token != 2 && token != 4) {
      return 0;  /* FDT_END, or something this walk does not know */
    }
  }
  return 0;
}

uint64_t bootarg(const void *fdt, const char *key, uint64_t fallback) {
  uint32_t len = 0;
  const char *args = fdt_bootargs(fdt, &len);
  size_t klen = 0;
  while (key[klen]) klen++;
  for (uint32_t i = 0; args && i + klen < len; i++) {
    if ((i > 0 && args[i - 1] != ' ') || memcmp(args + i, key, klen) != 0 || args[i + klen] != '=') continue;
    uint64_t v = 0;
    int digits = 0;
    for (uint32_t j = i + klen + 1; j < len && args[j] >= '0' && args[j] <= '9'; j++, digits++) v = v * 10 + (uint64_t)(args[j] - '0');
    if (digits) return v;
  }
  return fallback;
}
