/*
 * Garbage register traffic: random widths (1/2/4/8 bytes), alignments and values at every device
 * window and the holes between them, and virtio-mmio registers written in senseless orders.
 */
#include "attack.h"

struct window {
  uint64_t base;
  uint64_t size;
  const uint32_t *regs;  /* offsets worth hitting more often than chance would */
  unsigned nregs;
};

static const uint32_t finisher_regs[] = {0, 4};
static const uint32_t rtc_regs[] = {0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c};
static const uint32_t clint_regs[] = {0x0, 0x4, 0x4000, 0x4004, 0x4008, 0xbff8, 0xbffc};
static const uint32_t plic_regs[] = {
  0x0, 0x4, 0x8, 0xc, 0x10, 0x28, 0x2c, 0x17c, 0x180, 0x1000, 0x1004, 0x1008, 0x2000, 0x2004, 0x2008,
  0x2080, 0x2084, 0x2100, 0x200000, 0x200004, 0x200008, 0x201000, 0x201004, 0x202000, 0x202004, 0x5ffffc,
};
static const uint32_t uart_regs[] = {0, 1, 2, 3, 4, 5, 6, 7};
static const uint32_t virtio_regs[] = {
  VIRTIO_MAGIC, VIRTIO_VERSION, VIRTIO_DEVICE_ID, 0x00c, VIRTIO_DEVICE_FEATURES, VIRTIO_DEVICE_FEAT_SEL,
  VIRTIO_DRIVER_FEATURES, VIRTIO_DRIVER_FEAT_SEL, VIRTIO_QUEUE_SEL, VIRTIO_QUEUE_NUM_MAX, VIRTIO_QUEUE_NUM,
  VIRTIO_QUEUE_READY, VIRTIO_QUEUE_NOTIFY, VIRTIO_INTERRUPT_STATUS, VIRTIO_INTERRUPT_ACK, VIRTIO_STATUS,
  VIRTIO_QUEUE_DESC_LOW, VIRTIO_QUEUE_DESC_HIGH, VIRTIO_QUEUE_DRIVER_LOW, VIRTIO_QUEUE_DRIVER_HIGH,
  0xac, 0xb0, 0xb4, 0xb8, 0xbc, VIRTIO_CONFIG_GENERATION, 0x100, 0x104, 0x108, 0x10c, 0x114, 0x122, 0x138, 0xffc,
};

#define COUNT(a) (sizeof a / sizeof a[0])

/* Addresses next to and between the windows, where nothing answers, plus 0-7 bytes. An access
 * from just below RAM runs into this program, but faults on its first byte before writing any. */
static const uint64_t holes[] = {
  0x0, 0xff8, 0xffffc, 0x102000, 0x1ffffff8, 0x2010000, 0xbfffffc, 0xc600000, 0xffffffc,
  0x10000100, 0x100000fc, 0x10009000, RAM_BASE - 8, 0xfffffffffffffff8ULL, 0x100000000ULL,
};

static uint64_t garbage_value(void) {
  switch (below(8)) {
    case 0: return 0;
    case 1: return ~0ULL;
    case 2: return 1ULL << below(64);
    case 3: return below(16);
    case 4: return 0x80000000ULL + below(0x100000);
    default: return rnd();
  }
}

static const unsigned sizes[] = {1, 2, 4, 8};

/* The finisher's pass, fail and reset values in any 16-bit lane would end or reboot the run. */
static uint64_t defuse_finisher(uint64_t v) {
  for (int lane = 0; lane < 64; lane += 16) {
    uint64_t half = (v >> lane) & 0xffff;
    if (half == 0x3333 || half == 0x5555 || half == 0x7777) v ^= 0x8000ULL << lane;
  }
  return v;
}

/* The used ring is the one ring a device writes: random values must not aim it at this program,
 * so raw traffic leaves QueueDeviceLow alone (ring-attack.c sets it, to safe garbage). */
static int touches_device_low(uint32_t offset, unsigned size) {
  return offset < VIRTIO_QUEUE_DEVICE_LOW + 4 && offset + size > VIRTIO_QUEUE_DEVICE_LOW;
}

void attack_windows(unsigned accesses) {
  struct window w[5 + VIRTIO_SLOTS] = {
    {FINISHER_BASE, 0x1000, finisher_regs, COUNT(finisher_regs)},
    {RTC_BASE, 0x1000, rtc_regs, COUNT(rtc_regs)},
    {CLINT_BASE, 0x10000, clint_regs, COUNT(clint_regs)},
    {PLIC_BASE, 0x600000, plic_regs, COUNT(plic_regs)},
    {UART_BASE, 0x100, uart_regs, COUNT(uart_regs)},
  };
  for (int i = 0; i < VIRTIO_SLOTS; i++) w[5 + i] = (struct window){VIRTIO_BASE + i * VIRTIO_STRIDE, VIRTIO_STRIDE, virtio_regs, COUNT(virtio_regs)};

  for (unsigned n = 0; n < accesses; n++) {
    unsigned size = sizes[below(4)];
    uint64_t addr;
    unsigned which = (unsigned)below(COUNT(w) + 1);
    uint32_t offset = 0;
    if (which == COUNT(w)) {
      addr = holes[below(COUNT(holes))] + below(8);
    } else {
      const struct window *win = &w[which];
      unsigned how = (unsigned)below(20);
      if (how < 14) offset = win->regs[below(win->nregs)];
      else if (how < 17) offset = win->regs[below(win->nregs)] + (uint32_t)below(8);  /* misaligned */
      else if (how < 18) offset = (uint32_t)(win->size - 1 - below(8));               /* runs off the end */
      else offset = (uint32_t)below(win->size);
      addr = win->base + offset;
    }
    if (chance(50)) {
      mmio_read(addr, size);
      continue;
    }
    uint64_t v = garbage_value();
    if (addr >= VIRTIO_BASE && addr < VIRTIO_BASE + VIRTIO_SLOTS * VIRTIO_STRIDE && touches_device_low(offset, size)) continue;
    if (addr >= FINISHER_BASE && addr < FINISHER_BASE + 0x1000 + 8) v = defuse_finisher(v);
    mmio_write(addr, size, v);
  }
}

/* A value that makes some sense for the register, or none at all. */
static uint32_t register_value(uint32_t reg) {
  if (chance(15)) return (uint32_t)garbage_value();
  switch (reg) {
    case VIRTIO_STATUS: {
      static const uint32_t bits[] = {STATUS_ACK, STATUS_DRIVER, STATUS_DRIVER_OK, STATUS_FEATURES_OK, STATUS_NEEDS_RESET, 128};
      uint32_t v = 0;
      for (unsigned i = 0; i < COUNT(bits); i++)
        if (chance(40)) v |= bits[i];
      return v;
    }
    case VIRTIO_QUEUE_SEL: return (uint32_t)(chance(80) ? below(3) : rnd());
    case VIRTIO_QUEUE_NUM: return (uint32_t)(chance(60) ? 1U << below(10) : below(0x10000));
    case VIRTIO_QUEUE_NOTIFY: return (uint32_t)(chance(80) ? below(3) : rnd());
    case VIRTIO_DEVICE_FEAT_SEL: case VIRTIO_DRIVER_FEAT_SEL: return (uint32_t)(chance(80) ? below(2) : rnd());
    case VIRTIO_DRIVER_FEATURES: return (uint32_t)(chance(50) ? rnd() : (1U << 28 | 1U << 29 | (uint32_t)below(2) | ((uint32_t)rnd() & 0xffff)));
    case VIRTIO_QUEUE_READY: return (uint32_t)below(3);
    default: return (uint32_t)rnd();
  }
}

void attack_virtio_registers(unsigned accesses) {
  static const uint32_t writable[] = {
    VIRTIO_DEVICE_FEAT_SEL, VIRTIO_DRIVER_FEATURES, VIRTIO_DRIVER_FEAT_SEL, VIRTIO_QUEUE_SEL, VIRTIO_QUEUE_NUM,
    VIRTIO_QUEUE_READY, VIRTIO_QUEUE_NOTIFY, VIRTIO_INTERRUPT_ACK, VIRTIO_STATUS, VIRTIO_QUEUE_DESC_LOW,
    VIRTIO_QUEUE_DESC_HIGH, VIRTIO_QUEUE_DRIVER_LOW, VIRTIO_QUEUE_DRIVER_HIGH, VIRTIO_QUEUE_DEVICE_LOW,
    VIRTIO_QUEUE_DEVICE_HIGH, VIRTIO_MAGIC, VIRTIO_DEVICE_ID, VIRTIO_CONFIG_GENERATION,
  };
  int slot = (int)below(dev.slots ? dev.slots : VIRTIO_SLOTS);
  for (unsigned n = 0; n < accesses; n++) {
    if (chance(10)) slot = (int)below(dev.slots ? dev.slots : VIRTIO_SLOTS);
    uint64_t base = VIRTIO_BASE + slot * VIRTIO_STRIDE;
    unsigned what = (unsigned)below(10);
    if (what < 3) {
      mmio_read(base + virtio_regs[below(COUNT(virtio_regs))], 4);
    } else if (what < 4) {
      /* Config space: any width, any offset, read or write. */
      uint64_t at = base + VIRTIO_CONFIG + below(0x100);
      if (chance(50)) mmio_read(at, sizes[below(4)]);
      else mmio_write(at, sizes[below(4)], garbage_value());
    } else {
      uint32_t reg = writable[below(COUNT(writable))];
      uint32_t v = register_value(reg);
      if (reg == VIRTIO_QUEUE_DESC_LOW || reg == VIRTIO_QUEUE_DRIVER_LOW) v = (uint32_t)garbage_address(0);
      else if (reg == VIRTIO_QUEUE_DEVICE_LOW) v = safe_low(garbage_address(1));
      if (reg == VIRTIO_QUEUE_NOTIFY) stats.notifies++;
      mmio_write(base + reg, 4, v);
    }
  }
}
