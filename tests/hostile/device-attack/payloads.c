/*
 * Request payloads for garbage rings: virtio-blk requests (writes to the read-only disk, sectors
 * past the end, wrong directions), network frames (ARP floods, pings, runts, giants, noise),
 * entropy and console buffers of absurd sizes. Buffers live in the attack window.
 */
#include "attack.h"

#define ID_NET 1
#define ID_BLK 2
#define ID_CONSOLE 3
#define ID_RNG 4

static void fill_random(uint64_t at, uint32_t len) {
  uint8_t *p = (uint8_t *)at;
  for (uint32_t i = 0; i < len; i++) p[i] = (uint8_t)rnd();
}

/* A length worth trying: mostly plausible, sometimes zero, odd or enormous. */
static uint32_t garbage_length(uint32_t plausible) {
  switch (below(12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 0xffffffff;
    case 3: return 0x7ffffff0;
    case 4: return (uint32_t)rnd();
    case 5: return 1 + (uint32_t)below(plausible * 4 + 1);
    default: return plausible;
  }
}

/* A buffer of `len` bytes: in the window when it fits (filled with noise if the device reads it),
 * else at a garbage address (which for a device-writable buffer is never this program). */
static struct buf buffer(uint32_t len, int writable) {
  struct buf b = {0, len, writable};
  if (len <= ATTACK_WINDOW / 2 && chance(90)) {
    b.addr = alloc(len, 1ULL << below(4));
    if (!writable) fill_random(b.addr, len < 256 ? len : 256);
  } else {
    b.addr = garbage_address(writable);
  }
  return b;
}

/* ---- virtio-blk (5.2.6) ---- */

static uint64_t garbage_sector(uint64_t capacity) {
  switch (below(10)) {
    case 0: return capacity;
    case 1: return capacity - 1;
    case 2: return capacity + below(1000);
    case 3: return 1ULL << 63;
    case 4: return ~0ULL;
    case 5: return (1ULL << 53) / 512 - below(4);
    case 6: return rnd();
    default: return below(capacity);
  }
}

static unsigned blk_payload(struct buf *b, uint64_t capacity, int read_only) {
  static const uint32_t types[] = {0, 0, 0, 1, 1, 1, 4, 8, 10, 11, 13, 14, 0xffffffff, 2};
  uint32_t type = chance(95) ? types[below(sizeof types / sizeof types[0])] : (uint32_t)rnd();
  unsigned n = 0;
  uint64_t hdr = alloc(16, 8);
  *(volatile uint32_t *)hdr = type;
  *(volatile uint32_t *)(hdr + 4) = chance(90) ? 0 : (uint32_t)rnd();
  *(volatile uint64_t *)(hdr + 8) = garbage_sector(capacity);
  b[n++] = (struct buf){hdr, chance(90) ? 16 : garbage_length(16), 0};
  if (type == 1 || type == 11 || type == 13) {
    if (read_only) stats.blk_ro_writes++;
    else stats.blk_rw_writes++;
  }

  uint32_t len = 512 * (1 + (uint32_t)below(chance(90) ? 8 : 256));
  if (chance(15)) len = garbage_length(len);
  int device_writes = type == 0 || type == 8 || type == 10;
  if (chance(10)) device_writes = !device_writes;
  if (type == 11 || type == 13) {
    /* Discard / write-zeroes segments: {le64 sector, le32 num_sectors, le32 flags}. */
    uint32_t segments = 1 + (uint32_t)below(chance(90) ? 4 : 40);
    uint64_t at = alloc(16 * segments, 8);
    for (uint32_t i = 0; i < segments; i++) {
      *(volatile uint64_t *)(at + 16 * i) = garbage_sector(capacity);
      *(volatile uint32_t *)(at + 16 * i + 8) = chance(70) ? (uint32_t)below(64) : (uint32_t)rnd();
      *(volatile uint32_t *)(at + 16 * i + 12) = chance(70) ? (uint32_t)below(2) : (uint32_t)rnd();
    }
    b[n++] = (struct buf){at, chance(90) ? 16 * segments : garbage_length(16 * segments), 0};
  } else if (type != 4 || chance(20)) {
    /* Data, sometimes split over two descriptors. */
    if (chance(20) && len >= 1024) {
      b[n++] = buffer(len / 2, device_writes);
      b[n++] = buffer(len - len / 2, device_writes);
    } else {
      b[n++] = buffer(len, device_writes);
    }
  }
  switch (below(12)) {
    case 0: break;                                     /* no status byte */
    case 1: b[n++] = buffer(1, 0); break;              /* status the device may not write */
    case 2: b[n++] = (struct buf){garbage_address(1), 1, 1}; break;
    case 3: b[n++] = buffer(0, 1); break;
    default: b[n++] = buffer(1, 1);
  }
  return n;
}

/* ---- virtio-net (5.1.6) ---- */

static uint16_t checksum(const uint8_t *p, uint32_t len) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
  if (len & 1) sum += (uint32_t)p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void random_mac(uint8_t *mac) {
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)rnd();
  if (chance(70)) mac[0] &= 0xfe;  /* mostly unicast */
}

/* An ICMP echo request to the host (RFC 792), after the virtio_net_hdr; returns its length. */
static uint32_t build_ping(uint8_t *p, const uint8_t *mac, uint32_t data) {
  memset(p, 0, 12 + 42);
  uint8_t *f = p + 12;
  memset(f, 0xff, 6);  /* the host's MAC is unknown here: broadcast it */
  memcpy(f + 6, mac, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t *ip = f + 14;
  uint32_t total = 20 + 8 + data;
  ip[0] = 0x45, ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total, ip[8] = 64, ip[9] = 1;
  memcpy(ip + 12, guest_ip, 4);
  memcpy(ip + 16, host_ip, 4);
  uint8_t *icmp = ip + 20;
  icmp[0] = 8, icmp[4] = (uint8_t)rnd(), icmp[6] = (uint8_t)rnd();
  fill_random((uint64_t)(icmp + 8), data);
  uint16_t c = checksum(ip, 20);
  ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
  c = checksum(icmp, 8 + data);
  icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
  if (chance(10)) ip[(unsigned)below(20)] ^= (uint8_t)rnd();  /* a broken header */
  return 12 + 14 + total;
}

static unsigned net_tx_payload(struct buf *b, int flood) {
  uint8_t mac[6];
  if (chance(50)) {
    static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(mac, guest_mac, 6);
  } else {
    random_mac(mac);
  }
  uint64_t at = alloc(1600, 2);
  uint32_t len;
  unsigned kind = flood ? 0 : (unsigned)below(8);
  if (kind <= 2) {
    uint8_t target[4] = {10, 0, 2, (uint8_t)(chance(70) ? 2 : rnd())};
    len = build_arp((uint8_t *)at, mac, target);
    if (kind == 2) ((uint8_t *)at)[12 + 14 + below(28)] ^= (uint8_t)rnd();  /* garbled ARP */
  } else if (kind <= 4) {
    len = build_ping((uint8_t *)at, mac, (uint32_t)below(chance(90) ? 64 : 1500));
  } else {
    len = (uint32_t)below(1600);  /* noise, runts and giants */
    fill_random(at, len);
    if (chance(70)) memset((void *)at, 0, len < 12 ? len : 12);
  }
  if (chance(5)) *(volatile uint8_t *)at = (uint8_t)rnd();        /* offloads never negotiated */
  if (chance(5)) *(volatile uint8_t *)(at + 1) = (uint8_t)rnd();
  if (chance(10)) len = garbage_length(len);
  if (len > 12 && chance(25)) {
    b[0] = (struct buf){at, 12, 0};
    b[1] = (struct buf){at + 12, len - 12, 0};
    return 2;
  }
  b[0] = (struct buf){at, len, 0};
  if (len > 1600) b[0].addr = chance(50) ? garbage_address(0) : at;
  return 1;
}

/* ---- receive queues and the entropy device: device-writable buffers ---- */

static unsigned writable_payload(struct buf *b, uint32_t plausible) {
  unsigned n = chance(80) ? 1 : 2 + (unsigned)below(3);
  for (unsigned i = 0; i < n; i++) b[i] = buffer(garbage_length(plausible), chance(95));
  return n;
}

/* ---- virtio-console transmit: bytes for the host's terminal ---- */

static unsigned console_tx_payload(struct buf *b) {
  uint32_t len = (uint32_t)below(64);
  if (chance(2)) len = 4096 + (uint32_t)below(70000);
  b[0] = buffer(len, 0);
  return 1;
}

unsigned payload(uint32_t device_id, unsigned queue, struct buf *b, uint64_t capacity, int read_only, int flood) {
  switch (device_id) {
    case ID_BLK: return blk_payload(b, capacity, read_only);
    case ID_NET: return queue == 1 ? net_tx_payload(b, flood) : writable_payload(b, 1526);
    case ID_CONSOLE: return queue == 1 ? console_tx_payload(b) : writable_payload(b, 64);
    case ID_RNG: return writable_payload(b, 64);
    default: return writable_payload(b, 512);
  }
}
