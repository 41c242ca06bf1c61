/*
 * The hostile guest's main loop: rounds of garbage at every window, register and virtqueue, a
 * well-behaved driver every few rounds, progress lines and a summary over the UART, then a pass
 * to the test finisher. Boot arguments (vireo run --append): seed=N rounds=N.
 */
#include "attack.h"

static uint64_t seed, instret_before_reset;

static void field(const char *name, uint64_t v) {
  puts_(" ");
  puts_(name);
  puts_("=");
  putdec(v);
}

static void report(const char *what) {
  uart_reset();
  puts_("\n");
  puts_(what);
  field("seed", seed);
  field("rounds", stats.rounds);
  field("mmio_reads", stats.mmio_reads);
  field("mmio_writes", stats.mmio_writes);
  field("notifies", stats.notifies);
  field("used", stats.used_seen);
  field("access_faults", stats.access_faults);
  field("irqs", stats.irqs);
  field("naps", stats.naps);
  field("resets", stats.resets);
  field("unexpected", stats.unexpected);
  field("sane_ok", stats.sane_ok);
  field("sane_bad", stats.sane_bad);
  field("first_bad", stats.sane_first_bad);
  field("bad_ids", stats.sane_bad_ids);
  field("net_rx", stats.net_rx);
  field("blk_ro_writes", stats.blk_ro_writes);
  field("blk_rw_writes", stats.blk_rw_writes);
  field("instret", instret_before_reset + read_instret());
  puts_(" checksum=");
  puthex(stats.checksum);
  puts_("\n");
}

/* WFI with the machine timer armed 0.2-2 ms ahead: the host sleeps, and wakes, among whatever
 * timers, alarms and interrupt enables the attack left behind. */
static void nap(void) {
  uint64_t now = mmio_read(CLINT_BASE + 0xbff8, 8);
  mmio_write(CLINT_BASE + 0x4000, 8, now + 2000 + below(18000));
  if (chance(30)) asm volatile("csrw 0x14d, %0" : : "r"(rnd()));  /* stimecmp (Sstc) */
  uint64_t mie = 1UL << 7 | (rnd() & 0xaaa);
  asm volatile("csrw mie, %0\n wfi\n csrw mie, zero" : : "r"(mie) : "memory");
  stats.naps++;
}

/* What survives a board reset: the run goes on where it was, with its counters. */
struct resume {
  uint64_t magic, seed, round, rng, instret;
  struct counters stats;
};
#define RESUME_MAGIC 0x726573756d656421ULL

static struct resume *resume_block(void) {
  return (struct resume *)(arena_start + 0xff000);  /* the sane area's last page, clear of its buffers */
}

/* Resets the board through the test finisher with devices mid-flight; attack_main resumes. */
static void reset_board(uint64_t next_round) {
  struct resume *rb = resume_block();
  quiet_devices();
  stats.resets++;
  rb->stats = stats;
  rb->seed = seed;
  rb->round = next_round;
  rb->rng = rng_state();
  rb->instret = instret_before_reset + read_instret();
  asm volatile("fence rw, rw" ::: "memory");
  rb->magic = RESUME_MAGIC;
  *(volatile uint32_t *)FINISHER_BASE = 0x7777;
  for (;;) {}
}

void attack_main(const void *fdt) {
  seed = bootarg(fdt, "seed", 1);
  uint64_t rounds = bootarg(fdt, "rounds", 100);
  ram_end = fdt_ram_end(fdt);
  arena_start = ((uint64_t)_end + 0xffff) & ~0xffffULL;
  uart_reset();
  if (ram_end < arena_start + 0x200000 + ATTACK_WINDOW) {
    puts_("\nHOSTILE-FATAL too little RAM for the attack: give -m 16 or more\n");
    for (;;) {}
  }

  find_devices();
  uint64_t first = 0, reset_round = ~0ULL;
  struct resume *rb = resume_block();
  if (rb->magic == RESUME_MAGIC && rb->seed == seed) {
    rb->magic = 0;
    stats = rb->stats;
    first = rb->round;
    rng_restore(rb->rng);
    instret_before_reset = rb->instret;
    puts_("\nHOSTILE-RESUMED after a board reset at round ");
    putdec(first);
    puts_("\n");
  } else {
    seed_rng(seed);
    puts_("\nHOSTILE-START seed=");
    putdec(seed);
    puts_(" rounds=");
    putdec(rounds);
    puts_("\n");
    if (rounds >= 32 && chance(50)) reset_round = rounds / 4 + below(rounds / 2);
    sane_checks();
  }

  for (uint64_t r = first; r < rounds; r++) {
    if (chance(30)) interrupts_scramble();
    attack_windows(50 + (unsigned)below(200));
    attack_virtio_registers(20 + (unsigned)below(100));
    for (unsigned k = 1 + (unsigned)below(4); k > 0; k--) attack_rings((int)(chance(95) && dev.slots ? below(dev.slots) : below(VIRTIO_SLOTS)));
    interrupts_off();
    if (chance(10)) nap();
    stats.rounds++;
    if (r % 8 == 7) sane_checks();
    if (r % 16 == 15) report("HOSTILE-PROGRESS");
    if (r == reset_round) reset_board(r + 1);
  }
  sane_checks();
  report("HOSTILE-SUMMARY");
  *(volatile uint32_t *)FINISHER_BASE = 0x5555;
  for (;;) {}
}
