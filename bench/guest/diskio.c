/*
 * diskio: direct I/O on a block device for a fixed time or number of operations, timed with
 * CLOCK_MONOTONIC. A static Linux riscv64 program without a C library (raw system calls),
 * so the bare-metal cross compiler builds it and it needs nothing in the guest.
 *
 *   diskio read|write rand|seq BLOCK SPAN LIMIT DEVICE
 *
 * BLOCK bytes per operation (a multiple of 4096, at most 1 MiB); offsets stay in [0, SPAN);
 * LIMIT is a number of operations, or seconds with an "s" suffix. Prints one line:
 *   diskio ops=N bytes=N ns=N
 */

typedef unsigned long u64;
typedef long i64;

#define SYS_openat 56
#define SYS_pread64 67
#define SYS_pwrite64 68
#define SYS_write 64
#define SYS_exit_group 94
#define SYS_clock_gettime 113
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_DIRECT 040000 /* asm-generic/fcntl.h */
#define CLOCK_MONOTONIC 1
#define MAX_BLOCK (1 << 20)

static unsigned char buffer[MAX_BLOCK] __attribute__((aligned(4096)));

static i64 syscall4(i64 n, i64 a, i64 b, i64 c, i64 d) {
  register i64 a0 __asm__("a0") = a;
  register i64 a1 __asm__("a1") = b;
  register i64 a2 __asm__("a2") = c;
  register i64 a3 __asm__("a3") = d;
  register i64 a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a7) : "memory");
  return a0;
}

static u64 length(const char *s) {
  u64 n = 0;
  while (s[n]) n++;
  return n;
}

static void print(const char *s) { syscall4(SYS_write, 1, (i64)s, (i64)length(s), 0); }

static void print_number(u64 v) {
  char text[24];
  int at = sizeof text - 1;
  text[at] = 0;
  do text[--at] = (char)('0' + v % 10); while ((v /= 10) != 0);
  print(text + at);
}

static void fail(const char *what, i64 error) {
  print("diskio: ");
  print(what);
  if (error != 0) {
    print(" failed, errno ");
    print_number((u64)-error);
  }
  print("\n");
  syscall4(SYS_exit_group, 1, 0, 0, 0);
}

static int same(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* A decimal number, with an optional suffix K/M/G (binary) or "s"; *suffix gets it. */
static u64 number(const char *s, char *suffix) {
  u64 v = 0;
  if (*s < '0' || *s > '9') fail("bad number in the arguments", 0);
  while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  *suffix = *s;
  if (*s == 'K') v <<= 10;
  else if (*s == 'M') v <<= 20;
  else if (*s == 'G') v <<= 30;
  else if (*s != 's' && *s != 0) fail("bad suffix in the arguments", 0);
  return v;
}

static u64 now_ns(void) {
  i64 ts[2];
  syscall4(SYS_clock_gettime, CLOCK_MONOTONIC, (i64)ts, 0, 0);
  return (u64)ts[0] * 1000000000ul + (u64)ts[1];
}

static void run(int argc, char **argv) {
  if (argc != 7) fail("usage: diskio read|write rand|seq BLOCK SPAN LIMIT DEVICE", 0);
  int writing = same(argv[1], "write");
  int random = same(argv[2], "rand");
  char suffix;
  u64 block = number(argv[3], &suffix);
  u64 span = number(argv[4], &suffix);
  u64 limit = number(argv[5], &suffix);
  int timed = suffix == 's';
  if (block == 0 || block % 4096 != 0 || block > MAX_BLOCK || span < block) fail("BLOCK must be a multiple of 4096 up to 1M, and SPAN at least BLOCK", 0);
  i64 fd = syscall4(SYS_openat, AT_FDCWD, (i64)argv[6], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT, 0);
  if (fd < 0) fail("open", fd);
  for (u64 i = 0; i < block; i++) buffer[i] = (unsigned char)(i * 131 + 7);

  u64 blocks = span / block, x = 0x9e3779b97f4a7c15ul, ops = 0;
  u64 start = now_ns(), end = start + limit * 1000000000ul, t = start;
  while (timed ? t < end : ops < limit) {
    /* xorshift64: the same offsets on every machine */
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    u64 offset = (random ? x % blocks : ops % blocks) * block;
    i64 done = syscall4(writing ? SYS_pwrite64 : SYS_pread64, fd, (i64)buffer, (i64)block, (i64)offset);
    if (done != (i64)block) fail(writing ? "pwrite" : "pread", done < 0 ? done : -5 /* EIO */);
    ops++;
    t = now_ns();
  }
  print("diskio ops=");
  print_number(ops);
  print(" bytes=");
  print_number(ops * block);
  print(" ns=");
  print_number(t - start);
  print("\n");
}

/* The kernel starts us with argc, argv... at sp. */
__attribute__((used)) static void start_c(u64 *sp) {
  run((int)sp[0], (char **)(sp + 1));
  syscall4(SYS_exit_group, 0, 0, 0, 0);
}

__asm__(
    ".text\n.global _start\n_start:\n"
    "  mv a0, sp\n"
    "  andi sp, sp, -16\n"
    "  call start_c\n");
