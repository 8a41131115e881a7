/* The serial line shared by the kernel and the console service (console.c). */
#ifndef CAMOS_CONSOLE_H
#define CAMOS_CONSOLE_H

#include <stdint.h>

/* A kernel write (console_write): now, or after the console service's line. */
void console_kernel_write(const uint8_t *bytes, uint32_t length);
/* The console service wrote `byte` to the console UART's data register. */
void console_service_byte(uint8_t byte);
/* At each timer tick: lines held longer than the service has been quiet go out. */
void console_tick(void);

#endif
