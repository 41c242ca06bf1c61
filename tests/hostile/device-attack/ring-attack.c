/*
 * Garbage virtqueues: feature negotiation and status in wrong orders, rings of bad sizes at bad or
 * overlapping addresses, descriptor chains that loop, run off their table, nest indirect tables or
 * point outside RAM, avail indices that jump; then notify and read back what the device returned.
 *
 * The one rule: nothing a device may write (used rings, device-writable buffers) points into this
 * program, which lies below arena_start. Whatever else the guest gives a device is fair game.
 */
#include "attack.h"

#define MAX_TABLE 256

struct ring {
  uint32_t size;  /* as written to QueueNum */
  uint32_t table; /* entries this program writes: size, bounded */
  uint64_t desc, avail, used;
  uint16_t avail_idx;
  uint16_t used_seen;
};

static uint64_t window_start, window_end, bump;

int ours(uint64_t addr, uint64_t len) {
  return addr >= arena_start && addr <= ram_end && len <= ram_end - addr;
}

/* This call's memory: a random stretch of the arena past the sane driver's 1 MiB. */
static void pick_window(void) {
  uint64_t lo = arena_start + 0x100000;
  uint64_t pages = (ram_end - lo - ATTACK_WINDOW) / 4096;
  window_start = lo + below(pages) * 4096;
  window_end = window_start + ATTACK_WINDOW;
  bump = window_start;
}

/* Bump allocation in the window; it wraps around, and sometimes lands anywhere, so buffers overlap. */
uint64_t alloc(uint64_t len, uint64_t align) {
  if (len > ATTACK_WINDOW) len = ATTACK_WINDOW;
  if (chance(3)) return window_start + below(ATTACK_WINDOW - len + 1);
  bump = (bump + align - 1) & ~(align - 1);
  if (bump + len > window_end) bump = window_start;
  uint64_t at = bump;
  bump += len;
  return at;
}

uint64_t garbage_address(int writable) {
  uint64_t a;
  switch (below(16)) {
    case 0: a = 0; break;
    case 1: a = rnd(); break;
    case 2: a = ram_end - below(64); break;           /* straddles the end of RAM */
    case 3: a = RAM_BASE - 1 - below(64); break;      /* straddles the start */
    case 4: a = VIRTIO_BASE + below(0x8000); break;   /* device registers are not RAM */
    case 5: a = ~0ULL - below(4096); break;
    case 6: a = (1ULL << 53) - below(64); break;
    case 7: a = ram_end + below(1ULL << 32); break;
    case 8: a = writable ? arena_start + below(ram_end - arena_start) : (uint64_t)_start + below(4096); break;
    default: a = window_start + below(ATTACK_WINDOW); break;
  }
  if (writable && a >= RAM_BASE && a < arena_start) a = arena_start + (a & 0xffff);
  return a;
}

uint32_t safe_low(uint64_t addr) {
  uint32_t low = (uint32_t)addr;
  if (low >= RAM_BASE && low < arena_start) low = (uint32_t)arena_start + (low & 0xffff);
  return low;
}

/* Every descriptor goes through here: a device-writable one never points into this program, and
 * no length looks like an address in it (a misaligned indirect table can read a length as one). */
static void put_desc(uint64_t table, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  if (!ours(table + 16ULL * i, 16)) return;
  if ((flags & DESC_F_WRITE) && addr >= RAM_BASE - 0x10000 && addr < arena_start) addr = arena_start + (addr & 0xffff);
  if (len >= RAM_BASE && len < arena_start) len = ~len;
  if (next >= 0x8000 && next <= (arena_start >> 16)) next ^= 0x4000;  /* read at offset 12, next is an address's top */
  volatile struct vring_desc *d = (volatile struct vring_desc *)(table + 16ULL * i);
  d->addr = addr;
  d->len = len;
  d->flags = flags;
  d->next = next;
}

static uint16_t garbage_flags(void) {
  return chance(70) ? (uint16_t)below(8) : (uint16_t)rnd();
}

/* ---- one chain ---- */

/* An indirect table (2.7.5.3) holding the chain; sometimes nested, misaligned or mis-sized. */
static void put_indirect(struct ring *r, uint32_t head, const struct buf *b, unsigned n) {
  uint64_t table = alloc(16 * (n + 1), chance(90) ? 16 : 1);
  for (unsigned j = 0; j < n; j++) {
    uint16_t flags = (uint16_t)((j + 1 < n ? DESC_F_NEXT : 0) | (b[j].writable ? DESC_F_WRITE : 0));
    uint16_t next = (uint16_t)(j + 1);
    if (chance(5)) flags = garbage_flags();
    if (chance(5)) next = (uint16_t)(chance(50) ? j : rnd());
    put_desc(table, j, b[j].addr, b[j].len, flags, next);
  }
  if (chance(10)) put_desc(table, (uint32_t)below(n), table, 16 * n, DESC_F_INDIRECT, 0);  /* nested */
  uint32_t len = 16 * n;
  if (chance(10)) len = (uint32_t)(chance(50) ? below(16 * n + 16) : rnd());
  uint64_t addr = chance(90) ? table : garbage_address(0);
  uint16_t flags = DESC_F_INDIRECT | (chance(5) ? DESC_F_NEXT | DESC_F_WRITE : 0);
  put_desc(r->desc, head, addr, len, flags, (uint16_t)((head + 1) % r->table));
}

static void put_chain(struct ring *r, uint32_t head, const struct buf *b, unsigned n) {
  uint32_t at = head;
  for (unsigned j = 0; j < n; j++) {
    uint32_t next = chance(90) ? (at + 1) % r->table : (uint32_t)below(r->table);
    uint16_t flags = (uint16_t)((j + 1 < n ? DESC_F_NEXT : 0) | (b[j].writable ? DESC_F_WRITE : 0));
    put_desc(r->desc, at, b[j].addr, b[j].len, flags, (uint16_t)next);
    at = next;
  }
  if (!chance(12)) return;
  /* Spoil one descriptor of the chain. */
  uint32_t victim = (head + (uint32_t)below(n)) % r->table;
  switch (below(6)) {
    case 0: put_desc(r->desc, victim, b[0].addr, b[0].len, DESC_F_NEXT, (uint16_t)head); break;  /* a loop */
    case 1: put_desc(r->desc, victim, b[0].addr, b[0].len, DESC_F_NEXT, (uint16_t)(r->table + below(100))); break;
    case 2: put_desc(r->desc, victim, garbage_address(0), (uint32_t)rnd(), 0, 0); break;
    case 3: put_desc(r->desc, victim, garbage_address(1), 0xffffffff, DESC_F_WRITE | DESC_F_NEXT, (uint16_t)victim); break;
    case 4: put_desc(r->desc, victim, r->used, 4096, DESC_F_WRITE, 0); break;  /* over the rings */
    default: put_desc(r->desc, victim, garbage_address(0), (uint32_t)rnd(), garbage_flags(), (uint16_t)rnd()); break;
  }
}

/* ---- rings ---- */

static void setup_ring(int slot, unsigned q, struct ring *r) {
  w32(virtio_addr(slot, VIRTIO_QUEUE_SEL), q);
  uint32_t max = r32(virtio_addr(slot, VIRTIO_QUEUE_NUM_MAX));
  if (max == 0 || max > MAX_TABLE) max = MAX_TABLE;
  switch (below(12)) {
    case 0: r->size = 0; break;
    case 1: r->size = max * 2; break;
    case 2: r->size = (uint32_t)below(0x10000); break;
    case 3: r->size = 3; break;
    default: {
      unsigned shift = 0;
      while ((2U << shift) <= max) shift++;
      r->size = 1U << below(shift + 1);
    }
  }
  r->table = r->size >= 1 && r->size <= MAX_TABLE ? r->size : MAX_TABLE;
  uint32_t t = r->table;
  r->desc = alloc(16 * t, 16);
  r->avail = alloc(6 + 2 * t, 2);
  r->used = alloc(6 + 8 * t, 4);
  switch (below(14)) {
    case 0: r->avail = r->used = r->desc; break;     /* all three rings in one place */
    case 1: r->used = r->desc; break;                /* the device overwrites the descriptors */
    case 2: r->used = r->avail; break;
    case 3: r->desc += 8, r->avail += 1, r->used += 2; break;  /* misaligned */
    case 4: r->desc = garbage_address(0); break;
    case 5: r->avail = garbage_address(0); break;
    case 6: r->used = garbage_address(1); break;
    default: break;
  }
  if (ours(r->desc, 16 * t)) memset((void *)r->desc, 0, 16 * t);
  if (ours(r->avail, 6 + 2 * t)) memset((void *)r->avail, 0, 6 + 2 * t);
  r->avail_idx = 0;
  r->used_seen = 0;

  /* The registers, in an order of the dice's choosing. */
  uint32_t regs[8][2] = {
    {VIRTIO_QUEUE_NUM, r->size},
    {VIRTIO_QUEUE_DESC_LOW, (uint32_t)r->desc},
    {VIRTIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc >> 32)},
    {VIRTIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail},
    {VIRTIO_QUEUE_DRIVER_HIGH, (uint32_t)(r->avail >> 32)},
    {VIRTIO_QUEUE_DEVICE_LOW, safe_low(r->used)},
    {VIRTIO_QUEUE_DEVICE_HIGH, (uint32_t)(r->used >> 32)},
    {VIRTIO_QUEUE_READY, chance(90) ? 1 : (uint32_t)rnd()},
  };
  unsigned order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  if (chance(20)) {
    for (unsigned i = 7; i > 0; i--) {
      unsigned j = (unsigned)below(i + 1), k = order[i];
      order[i] = order[j], order[j] = k;
    }
  }
  for (unsigned i = 0; i < 8; i++) {
    if (chance(3)) continue;
    w32(virtio_addr(slot, regs[order[i]][0]), regs[order[i]][1]);
  }
}

static uint64_t offered_features(int slot) {
  w32(virtio_addr(slot, VIRTIO_DEVICE_FEAT_SEL), 0);
  uint64_t f = r32(virtio_addr(slot, VIRTIO_DEVICE_FEATURES));
  w32(virtio_addr(slot, VIRTIO_DEVICE_FEAT_SEL), 1);
  return f | (uint64_t)r32(virtio_addr(slot, VIRTIO_DEVICE_FEATURES)) << 32;
}

/* Makes chains available on ring q (an ARP flood fills a whole transmit ring). */
static void offer(uint32_t id, unsigned q, struct ring *r, uint64_t capacity, int read_only, int indirect) {
  uint32_t t = r->table;
  int flood = id == 1 && q == 1 && chance(30);
  uint32_t chains = flood ? t : 1 + (uint32_t)below(t < 8 ? t : 8);
  uint32_t head = (uint32_t)below(t);
  for (uint32_t c = 0; c < chains; c++) {
    struct buf b[MAX_BUFS];
    unsigned n = payload(id, q, b, capacity, read_only, flood);
    if (n == 0) b[n++] = (struct buf){alloc(64, 8), 64, 1};
    if (indirect && chance(15)) put_indirect(r, head, b, n);
    else put_chain(r, head, b, n);
    uint16_t entry = (uint16_t)(chance(97) ? head : rnd());
    if (ours(r->avail + 4 + 2 * (r->avail_idx % t), 2)) *(volatile uint16_t *)(r->avail + 4 + 2 * (r->avail_idx % t)) = entry;
    r->avail_idx++;
    head = (head + (n > 1 && chance(50) ? n : 1)) % t;
  }
  if (chance(4)) r->avail_idx += (uint16_t)(t + below(0x10000));  /* more than the ring holds */
  if (!ours(r->avail, 6 + 2 * t)) return;
  asm volatile("fence rw, rw" ::: "memory");
  *(volatile uint16_t *)r->avail = chance(90) ? (uint16_t)below(2) : (uint16_t)rnd();  /* flags */
  *(volatile uint16_t *)(r->avail + 2) = r->avail_idx;
  if (chance(20)) *(volatile uint16_t *)(r->avail + 4 + 2 * t) = (uint16_t)rnd();  /* used_event */
}

/* Folds what the device put in the used ring into the checksum and counts it. */
static void read_back(struct ring *r) {
  if (!(r->used >= RAM_BASE && r->used + 6 + 8ULL * r->table <= ram_end)) return;
  uint16_t idx = *(volatile uint16_t *)(r->used + 2);
  uint16_t fresh = (uint16_t)(idx - r->used_seen);
  if (fresh > r->table) fresh = (uint16_t)r->table;
  for (uint16_t k = 0; k < fresh; k++) {
    volatile uint32_t *e = (volatile uint32_t *)(r->used + 4 + 8 * ((r->used_seen + k) % r->table));
    stats.checksum = (stats.checksum ^ e[0] ^ (uint64_t)e[1] << 32) * 0x100000001b3ULL;
  }
  stats.used_seen += fresh;
  r->used_seen = idx;
}

static void notify(int slot, uint32_t q) {
  stats.notifies++;
  w32(virtio_addr(slot, VIRTIO_QUEUE_NOTIFY), q);
}

void attack_rings(int slot) {
  pick_window();
  uint32_t id = r32(virtio_addr(slot, VIRTIO_DEVICE_ID));
  unsigned nq = id == 1 || id == 3 ? 2 : 1;
  uint64_t capacity = 4096;
  if (id == 2) capacity = r32(virtio_addr(slot, VIRTIO_CONFIG)) | (uint64_t)r32(virtio_addr(slot, VIRTIO_CONFIG + 4)) << 32;

  /* Negotiation (3.1.1), with steps skipped, repeated or out of order. */
  if (chance(85)) w32(virtio_addr(slot, VIRTIO_STATUS), 0);
  if (chance(90)) w32(virtio_addr(slot, VIRTIO_STATUS), STATUS_ACK | STATUS_DRIVER);
  uint64_t features = FEATURE_VERSION_1 | (chance(60) ? FEATURE_INDIRECT : 0) | (chance(50) ? FEATURE_EVENT_IDX : 0) | (rnd() & 0xffffff);
  if (chance(80)) features &= offered_features(slot);
  if (chance(5)) features &= ~FEATURE_VERSION_1;
  w32(virtio_addr(slot, VIRTIO_DRIVER_FEAT_SEL), 0);
  w32(virtio_addr(slot, VIRTIO_DRIVER_FEATURES), (uint32_t)features);
  w32(virtio_addr(slot, VIRTIO_DRIVER_FEAT_SEL), chance(95) ? 1 : (uint32_t)rnd());
  w32(virtio_addr(slot, VIRTIO_DRIVER_FEATURES), (uint32_t)(features >> 32));
  uint32_t status = STATUS_ACK | STATUS_DRIVER | (chance(92) ? STATUS_FEATURES_OK : 0);
  w32(virtio_addr(slot, VIRTIO_STATUS), status);
  int early = chance(10);
  if (early) w32(virtio_addr(slot, VIRTIO_STATUS), status | STATUS_DRIVER_OK);  /* before any queue */

  struct ring rings[3];
  unsigned nrings = nq + (chance(10) ? 1 : 0);  /* and one the device does not have */
  for (unsigned q = 0; q < nrings; q++) setup_ring(slot, q, &rings[q]);
  if (!early && chance(90)) w32(virtio_addr(slot, VIRTIO_STATUS), status | STATUS_DRIVER_OK);

  int indirect = (features & FEATURE_INDIRECT) != 0 || chance(10);
  unsigned batches = 1 + (unsigned)below(4);
  for (unsigned batch = 0; batch < batches; batch++) {
    for (unsigned q = 0; q < nrings; q++) {
      offer(id, q, &rings[q], capacity, slot == dev.blk_ro, indirect);
      notify(slot, chance(95) ? q : (uint32_t)(chance(50) ? below(8) : rnd()));
      read_back(&rings[q]);
    }
    uint32_t pending = r32(virtio_addr(slot, VIRTIO_INTERRUPT_STATUS));
    w32(virtio_addr(slot, VIRTIO_INTERRUPT_ACK), chance(80) ? pending : (uint32_t)rnd());
    mmio_read(virtio_addr(slot, VIRTIO_STATUS), 4);
    mmio_read(virtio_addr(slot, VIRTIO_CONFIG_GENERATION), 4);
    if (chance(10)) {
      /* Pull a queue from under the device, then enable it again. */
      unsigned q = (unsigned)below(nrings);
      w32(virtio_addr(slot, VIRTIO_QUEUE_SEL), q);
      w32(virtio_addr(slot, VIRTIO_QUEUE_READY), 0);
      if (chance(50)) setup_ring(slot, q, &rings[q]);
      else w32(virtio_addr(slot, VIRTIO_QUEUE_READY), 1);
    }
    if (chance(5)) w32(virtio_addr(slot, VIRTIO_STATUS), (uint32_t)rnd() & 0xff);
  }
  for (unsigned i = 0; i < 16; i++) mmio_read(virtio_addr(slot, VIRTIO_CONFIG + (uint32_t)below(64)), 1U << below(3));
  /* Often leave the device running on garbage rings: the network keeps delivering into them. */
  if (chance(50)) w32(virtio_addr(slot, VIRTIO_STATUS), 0);
}
