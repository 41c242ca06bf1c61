/*
 * A bare-metal guest for the host agent's network tests: drives the virtio-net NIC (virtio 1.2
 * 5.1, over virtio-mmio 4.2) without interrupts, broadcasts a frame every 100 ms and takes
 * every frame that arrives, printing "rx " and the sender's MAC for each on UART0.
 */
#include <stdint.h>

#define UART        0x10000000UL
#define MTIME       0x200bff8UL
#define VIRTIO_BASE 0x10001000UL
#define STRIDE      0x1000UL
#define SLOTS       8

/* virtio-mmio registers (4.2.2). */
#define MAGIC 0x000
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEAT_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEAT_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define STATUS 0x070
#define QUEUE_DESC 0x080
#define QUEUE_DRIVER 0x090
#define QUEUE_DEVICE 0x0a0
#define CONFIG 0x100

#define QSIZE 8
#define HDR 12          /* struct virtio_net_hdr with num_buffers (5.1.6) */
#define BUF 1536

struct desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct queue {
  struct desc desc[QSIZE] __attribute__((aligned(16)));
  volatile uint16_t avail[3 + QSIZE] __attribute__((aligned(2)));   /* flags, idx, ring, used_event */
  volatile uint32_t used[1 + 2 * QSIZE + 1] __attribute__((aligned(4))); /* flags|idx, {id, len}... */
  uint16_t last_used;
};

static struct queue rxq, txq;
static uint8_t rxbuf[QSIZE][BUF];
static uint8_t txbuf[HDR + 60];
static uint64_t nic;
static uint8_t mac[6];

static uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }
static void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

static void putc(char c) {
  while ((*(volatile uint8_t *)(UART + 5) & 0x20) == 0) {}
  *(volatile uint8_t *)UART = (uint8_t)c;
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void puthex8(uint8_t b) { putc("0123456789abcdef"[b >> 4]); putc("0123456789abcdef"[b & 15]); }
static uint64_t now(void) { return *(volatile uint64_t *)MTIME; }

static uint16_t used_idx(struct queue *q) { return (uint16_t)(q->used[0] >> 16); }

static void setup_queue(unsigned n, struct queue *q) {
  w32(nic + QUEUE_SEL, n);
  if (r32(nic + QUEUE_NUM_MAX) < QSIZE) { puts("queue too small\n"); for (;;) {} }
  w32(nic + QUEUE_NUM, QSIZE);
  uint64_t d = (uint64_t)q->desc, a = (uint64_t)q->avail, u = (uint64_t)q->used;
  w32(nic + QUEUE_DESC, (uint32_t)d); w32(nic + QUEUE_DESC + 4, (uint32_t)(d >> 32));
  w32(nic + QUEUE_DRIVER, (uint32_t)a); w32(nic + QUEUE_DRIVER + 4, (uint32_t)(a >> 32));
  w32(nic + QUEUE_DEVICE, (uint32_t)u); w32(nic + QUEUE_DEVICE + 4, (uint32_t)(u >> 32));
  w32(nic + QUEUE_READY, 1);
}

static void offer(struct queue *q, uint16_t id) {
  uint16_t idx = q->avail[1];
  q->avail[2 + idx % QSIZE] = id;
  __sync_synchronize();
  q->avail[1] = idx + 1;
  __sync_synchronize();
}

int main(void) {
  for (int slot = 0; slot < SLOTS && nic == 0; slot++) {
    uint64_t base = VIRTIO_BASE + slot * STRIDE;
    if (r32(base + MAGIC) == 0x74726976 && r32(base + DEVICE_ID) == 1) nic = base;
  }
  if (nic == 0) { puts("no nic\n"); for (;;) {} }
  /* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 and MAC), FEATURES_OK. */
  w32(nic + STATUS, 0);
  w32(nic + STATUS, 1);
  w32(nic + STATUS, 3);
  w32(nic + DEVICE_FEAT_SEL, 0);
  uint32_t low = r32(nic + DEVICE_FEATURES) & (1u << 5);
  w32(nic + DRIVER_FEAT_SEL, 0); w32(nic + DRIVER_FEATURES, low);
  w32(nic + DRIVER_FEAT_SEL, 1); w32(nic + DRIVER_FEATURES, 1);
  w32(nic + STATUS, 11);
  if ((r32(nic + STATUS) & 8) == 0) { puts("features refused\n"); for (;;) {} }
  for (int i = 0; i < 6; i++) mac[i] = *(volatile uint8_t *)(nic + CONFIG + i);
  setup_queue(0, &rxq);
  setup_queue(1, &txq);
  for (uint16_t i = 0; i < QSIZE; i++) {
    rxq.desc[i] = (struct desc){ (uint64_t)rxbuf[i], BUF, 2 /* WRITE */, 0 };
    offer(&rxq, i);
  }
  w32(nic + STATUS, 15);
  w32(nic + QUEUE_NOTIFY, 0);
  puts("net up ");
  for (int i = 0; i < 6; i++) puthex8(mac[i]);
  putc('\n');

  /* The broadcast: header of zeros, then ff:ff:ff:ff:ff:ff, our MAC, a local experimental EtherType. */
  for (int i = 0; i < 6; i++) { txbuf[HDR + i] = 0xff; txbuf[HDR + 6 + i] = mac[i]; }
  txbuf[HDR + 12] = 0x88; txbuf[HDR + 13] = 0xb5;
  txq.desc[0] = (struct desc){ (uint64_t)txbuf, sizeof txbuf, 0, 0 };
  uint64_t next_send = now();
  int in_flight = 0;
  for (;;) {
    if (in_flight && used_idx(&txq) != txq.last_used) { txq.last_used++; in_flight = 0; }
    if (!in_flight && now() >= next_send) {
      next_send += 1000000; /* 100 ms of the 10 MHz timer */
      offer(&txq, 0);
      w32(nic + QUEUE_NOTIFY, 1);
      in_flight = 1;
    }
    while (used_idx(&rxq) != rxq.last_used) {
      __sync_synchronize();
      uint16_t id = (uint16_t)rxq.used[1 + 2 * (rxq.last_used % QSIZE)];
      rxq.last_used++;
      puts("rx ");
      for (int i = 0; i < 6; i++) puthex8(rxbuf[id][HDR + 6 + i]);
      putc('\n');
      offer(&rxq, id);
      w32(nic + QUEUE_NOTIFY, 0);
    }
  }
}
