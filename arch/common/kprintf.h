/* Formatted output on the console, for the trampoline's own messages. */
#ifndef CAMOS_KPRINTF_H
#define CAMOS_KPRINTF_H

#include <stdarg.h>

/* Supports %s %c %d %u %x %p with optional l/ll, width and 0 padding. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list args);
void kputs(const char *s);

/* Prints the report, then stops the machine. */
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
