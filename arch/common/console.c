/*
 * One serial line, two writers: the kernel (its own lines and the services'
 * SYS_LOG lines, each a whole line written under the big lock) and the
 * console service (byte by byte, through SYS_PORT_OUT / SYS_MMIO_WRITE on
 * the same UART). A kernel line that arrives while the console service is in
 * the middle of a line of its own waits here until that line ends, or until
 * the service has written nothing for CONSOLE_HOLD_NS (a prompt waiting for
 * input), so lines never cut into each other. Everything here runs under the
 * big kernel lock; the trampoline's own messages (boot, panic) go straight
 * to the UART.
 */
#include "console.h"

#include "arch.h"

#define HELD_BYTES 16384u
#define CONSOLE_HOLD_NS 200000000ull /* 200 ms */

static char held[HELD_BYTES];
static uint32_t held_length;
static bool service_mid_line;
static uint64_t service_last_ns;

static bool service_busy(void) {
  return service_mid_line && arch_time_ns() - service_last_ns < CONSOLE_HOLD_NS;
}

static void flush(void) {
  for (uint32_t i = 0; i < held_length; i++) arch_console_putc(held[i]);
  held_length = 0;
}

/* Full: the whole lines go out now (late beats lost); a line still being
 * put together (a log line arrives in three writes) stays. */
static void flush_whole_lines(void) {
  uint32_t end = held_length;
  while (end > 0 && held[end - 1] != '\n') end--;
  for (uint32_t i = 0; i < end; i++) arch_console_putc(held[i]);
  for (uint32_t i = end; i < held_length; i++) held[i - end] = held[i];
  held_length -= end;
}

void console_kernel_write(const uint8_t *bytes, uint32_t length) {
  if (held_length == 0 && !service_busy()) {
    for (uint32_t i = 0; i < length; i++) arch_console_putc((char)bytes[i]);
    return;
  }
  if (held_length + length > HELD_BYTES) flush_whole_lines();
  if (held_length + length > HELD_BYTES) flush();
  if (length > HELD_BYTES) {
    for (uint32_t i = 0; i < length; i++) arch_console_putc((char)bytes[i]);
    return;
  }
  for (uint32_t i = 0; i < length; i++) held[held_length++] = (char)bytes[i];
}

void console_service_byte(uint8_t byte) {
  service_mid_line = byte != '\n';
  service_last_ns = arch_time_ns();
  if (!service_mid_line && held_length != 0) flush();
}

void console_tick(void) {
  if (held_length != 0 && !service_busy()) flush();
}
