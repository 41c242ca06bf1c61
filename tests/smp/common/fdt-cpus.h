/* How many harts the board has: the device tree's cpu@N nodes (for the SMP test programs). */
#ifndef FDT_CPUS_H
#define FDT_CPUS_H

static unsigned be32(const unsigned char *p) {
  return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | p[3];
}

/* Counts the device tree's nodes named cpu@N (DTSpec 5.4: the structure block's tokens). */
static int count_cpus(const unsigned char *fdt) {
  const unsigned char *p = fdt + be32(fdt + 8);
  int cpus = 0;
  for (;;) {
    unsigned token = be32(p);
    p += 4;
    if (token == 1) {
      const char *name = (const char *)p;
      if (name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == '@') cpus++;
      unsigned long len = 0;
      while (name[len]) len++;
      p += (len + 1 + 3) & ~3UL;
    } else if (token == 3) {
      unsigned len = be32(p);
      p += 8 + ((len + 3) & ~3U);
    } else if (token == 9) {
      return cpus;
    } else if (token != 2 && token != 4) {
      return -1;
    }
  }
}

#endif
