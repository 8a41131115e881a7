/* The 16550 UART on COM1: the console. Polled; see apic.c for how input
 * reaches the kernel. */
#include "../common/arch.h"
#include "x86.h"

#define COM1 SERIAL_COM1
#define UART_DATA 0
#define UART_INTERRUPT_ENABLE 1
#define UART_DIVISOR_LOW 0
#define UART_DIVISOR_HIGH 1
#define UART_FIFO_CONTROL 2
#define UART_LINE_CONTROL 3
#define UART_MODEM_CONTROL 4
#define UART_LINE_STATUS 5

#define LSR_DATA_READY 0x01
#define LSR_TRANSMIT_EMPTY 0x20
#define LCR_8N1 0x03
#define LCR_DIVISOR_LATCH 0x80
#define BAUD_115200_DIVISOR 1

void serial_init(void) {
  outb(COM1 + UART_INTERRUPT_ENABLE, 0x00);
  outb(COM1 + UART_LINE_CONTROL, LCR_DIVISOR_LATCH);
  outb(COM1 + UART_DIVISOR_LOW, BAUD_115200_DIVISOR);
  outb(COM1 + UART_DIVISOR_HIGH, 0);
  outb(COM1 + UART_LINE_CONTROL, LCR_8N1);
  outb(COM1 + UART_FIFO_CONTROL, 0xC7); /* enable, clear both, 14-byte threshold */
  outb(COM1 + UART_MODEM_CONTROL, 0x03); /* DTR, RTS */
}

void arch_console_putc(char c) {
  while (!(inb(COM1 + UART_LINE_STATUS) & LSR_TRANSMIT_EMPTY)) cpu_pause();
  outb(COM1 + UART_DATA, (uint8_t)c);
}

int arch_console_getc(void) {
  if (!(inb(COM1 + UART_LINE_STATUS) & LSR_DATA_READY)) return -1;
  return inb(COM1 + UART_DATA);
}

bool serial_has_input(void) { return inb(COM1 + UART_LINE_STATUS) & LSR_DATA_READY; }
