/* The UART and the test finisher, for the SMP test programs (hart 0 reports). */
#ifndef CONSOLE_H
#define CONSOLE_H

#define UART ((volatile unsigned char *)0x10000000UL)
#define FINISHER ((volatile unsigned int *)0x100000UL)

static void put_char(char c) {
  while ((UART[5] & 0x20) == 0) {}
  UART[0] = (unsigned char)c;
}

static void put_string(const char *s) {
  while (*s) put_char(*s++);
}

static void put_number(unsigned long v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put_string(b + i);
}

#endif
