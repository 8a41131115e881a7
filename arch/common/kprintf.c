/* A printf for the trampoline: enough for reports, no floating point. */
#include "kprintf.h"

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "kernel.h"

void kputs(const char *s) {
  while (*s) {
    if (*s == '\n') arch_console_putc('\r');
    arch_console_putc(*s++);
  }
}

static void put_number(uint64_t value, unsigned base, int width, bool zero_pad, bool negative) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  if (negative) digits[n++] = '-';
  while (n < width--) arch_console_putc(zero_pad ? '0' : ' ');
  while (n > 0) arch_console_putc(digits[--n]);
}

void kvprintf(const char *fmt, va_list args) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      if (*fmt == '\n') arch_console_putc('\r');
      arch_console_putc(*fmt);
      continue;
    }
    fmt++;
    bool zero_pad = *fmt == '0';
    if (zero_pad) fmt++;
    int width = 0;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    int longs = 0;
    while (*fmt == 'l') { longs++; fmt++; }
    switch (*fmt) {
    case 's': kputs(va_arg(args, const char *)); break;
    case 'c': arch_console_putc((char)va_arg(args, int)); break;
    case 'd': {
      int64_t v = longs ? va_arg(args, int64_t) : va_arg(args, int);
      put_number(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, zero_pad, v < 0);
      break;
    }
    case 'u': put_number(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 10, width, zero_pad, false); break;
    case 'x': put_number(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 16, width, zero_pad, false); break;
    case 'p': kputs("0x"); put_number((uintptr_t)va_arg(args, void *), 16, 16, true, false); break;
    case '%': arch_console_putc('%'); break;
    default: arch_console_putc('?'); break;
    }
  }
}

void kprintf(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  kvprintf(fmt, args);
  va_end(args);
}

void panic(const char *fmt, ...) {
  va_list args;
  kputs("\n*** KERNEL PANIC: ");
  va_start(args, fmt);
  kvprintf(fmt, args);
  va_end(args);
  kprintf("\n    while running: %s\n", kernel_current_export());
  kputs("*** system stopped\n");
  arch_halt_forever();
}
