/*
 * A hostile bare-metal guest for Vireo's "virt" board: seeded garbage at every MMIO window and
 * every virtqueue, with a well-behaved driver in between to check the devices still serve.
 * Shared declarations of its parts: main.c, runtime.c, mmio-attack.c, ring-attack.c, payloads.c,
 * virtio-driver.c.
 */
#ifndef ATTACK_H
#define ATTACK_H

#include <stdint.h>
#include <stddef.h>

/* The board's memory map (src/machine/layout.ts). */
#define FINISHER_BASE  0x100000UL
#define RTC_BASE       0x101000UL
#define CLINT_BASE     0x2000000UL
#define PLIC_BASE      0xc000000UL
#define UART_BASE      0x10000000UL
#define VIRTIO_BASE    0x10001000UL
#define VIRTIO_STRIDE  0x1000UL
#define VIRTIO_SLOTS   8
#define RAM_BASE       0x80000000UL

/* The virtio devices, found by probing the slots; -1 when absent. */
struct devices {
  int blk_ro;   /* a read-only disk: the attack must not change it */
  int blk_rw;   /* a scratch disk: its size must not change */
  int net, rng, console;
  int slots;    /* slots in use: 0 .. slots - 1 */
};
extern struct devices dev;

/* virtio-mmio registers (virtio 1.2 4.2.2). */
#define VIRTIO_MAGIC             0x000
#define VIRTIO_VERSION           0x004
#define VIRTIO_DEVICE_ID         0x008
#define VIRTIO_DEVICE_FEATURES   0x010
#define VIRTIO_DEVICE_FEAT_SEL   0x014
#define VIRTIO_DRIVER_FEATURES   0x020
#define VIRTIO_DRIVER_FEAT_SEL   0x024
#define VIRTIO_QUEUE_SEL         0x030
#define VIRTIO_QUEUE_NUM_MAX     0x034
#define VIRTIO_QUEUE_NUM         0x038
#define VIRTIO_QUEUE_READY       0x044
#define VIRTIO_QUEUE_NOTIFY      0x050
#define VIRTIO_INTERRUPT_STATUS  0x060
#define VIRTIO_INTERRUPT_ACK     0x064
#define VIRTIO_STATUS            0x070
#define VIRTIO_QUEUE_DESC_LOW    0x080
#define VIRTIO_QUEUE_DESC_HIGH   0x084
#define VIRTIO_QUEUE_DRIVER_LOW  0x090
#define VIRTIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_QUEUE_DEVICE_LOW  0x0a0
#define VIRTIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_CONFIG            0x100

#define STATUS_ACK          1
#define STATUS_DRIVER       2
#define STATUS_DRIVER_OK    4
#define STATUS_FEATURES_OK  8
#define STATUS_NEEDS_RESET  64

#define FEATURE_INDIRECT    (1ULL << 28)
#define FEATURE_EVENT_IDX   (1ULL << 29)
#define FEATURE_VERSION_1   (1ULL << 32)

#define DESC_F_NEXT     1
#define DESC_F_WRITE    2
#define DESC_F_INDIRECT 4

struct vring_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

/* What the attack did and saw; printed as the summary line the host-side test reads. */
struct counters {
  uint64_t rounds;
  uint64_t mmio_reads;
  uint64_t mmio_writes;
  uint64_t notifies;
  uint64_t used_seen;      /* used-ring entries the devices returned to garbage rings */
  uint64_t access_faults;  /* loads/stores the trap handler skipped */
  uint64_t irqs;
  uint64_t unexpected;     /* traps other than access faults and interrupts */
  uint64_t sane_ok;
  uint64_t sane_bad;
  uint64_t sane_first_bad; /* id of the first failed check, 0 if none */
  uint64_t sane_bad_ids;   /* bit n set: check n failed at least once (ids below 64) */
  uint64_t net_rx;         /* frames a well-behaved driver received */
  uint64_t blk_ro_writes;  /* write requests sent to the read-only disk */
  uint64_t blk_rw_writes;  /* write requests sent to the scratch disk */
  uint64_t naps;           /* WFIs with garbage timers around */
  uint64_t resets;         /* board resets through the test finisher */
  uint64_t checksum;       /* everything read back, folded together */
};
extern struct counters stats;

/* Where the attack may let devices write: from the end of the program image to the device tree. */
extern uint64_t arena_start, arena_end, ram_end;
extern char _start[], _end[];

/* runtime.c */
uint64_t rnd(void);
uint64_t below(uint64_t n);       /* uniform in [0, n) */
int chance(unsigned percent);
void seed_rng(uint64_t seed);
uint64_t rng_state(void);
void rng_restore(uint64_t saved);
uint64_t mmio_read(uint64_t addr, unsigned size);
void mmio_write(uint64_t addr, unsigned size, uint64_t value);
uint32_t r32(uint64_t addr);      /* counted, aligned 32-bit register access */
void w32(uint64_t addr, uint32_t value);
void uart_reset(void);
void puts_(const char *s);
void putdec(uint64_t v);
void puthex(uint64_t v);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
uint64_t bootarg(const void *fdt, const char *key, uint64_t fallback);
uint64_t fdt_ram_end(const void *fdt);
void interrupts_scramble(void);
void interrupts_off(void);
uint64_t read_instret(void);

/* mmio-attack.c */
void attack_windows(unsigned accesses);
void attack_virtio_registers(unsigned accesses);

/* virtio-driver.c */
uint64_t virtio_addr(int slot, uint32_t reg);
int virtio_begin(int slot, uint64_t wanted, uint64_t *accepted);
void virtio_queue(int slot, unsigned q, unsigned size, uint64_t desc, uint64_t avail, uint64_t used);
void find_devices(void);
void sane_checks(void);
void quiet_devices(void);
uint32_t build_arp(uint8_t *p, const uint8_t *mac, const uint8_t *target);
extern const uint8_t host_ip[4], guest_ip[4];

/* ring-attack.c */
void attack_rings(int slot);
uint64_t garbage_address(int writable);
uint32_t safe_low(uint64_t addr);
uint64_t alloc(uint64_t len, uint64_t align);
int ours(uint64_t addr, uint64_t len);
#define ATTACK_WINDOW 0x40000ULL

/* payloads.c: the buffers of one request, as a device of this kind might see them */
struct buf {
  uint64_t addr;
  uint32_t len;
  int writable;
};
#define MAX_BUFS 6
unsigned payload(uint32_t device_id, unsigned queue, struct buf *bufs, uint64_t capacity, int read_only, int flood);

#endif
