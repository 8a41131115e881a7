/*
 * The PL011 UART the DTB's stdout-path names: the console.
 *
 * Receive interrupts (RX and receive timeout) are on; the GIC routes them
 * to kernel_irq(IRQ_CONSOLE), which drains the FIFO through console_read.
 * Line settings (baud rate, clock) are left as the loader set them: the
 * divisor needs the UART clock, and QEMU ignores it anyway.
 */
#include "pl011.h"

#include "../common/arch.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define UART_LCR_H 0x2C
#define UART_CR 0x30
#define UART_IMSC 0x38
#define UART_ICR 0x44

#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCR_H_FEN (1u << 4)
#define LCR_H_WLEN_8 (3u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define INT_RX (1u << 4)
#define INT_RT (1u << 6)
#define INT_ALL 0x7FFu

static volatile uint32_t *uart;

static uint32_t reg_read(uint32_t offset) { return uart[offset / 4]; }
static void reg_write(uint32_t offset, uint32_t value) { uart[offset / 4] = value; }

void pl011_init(void *registers, bool interrupts) {
  uart = registers;
  reg_write(UART_CR, 0);
  reg_write(UART_ICR, INT_ALL);
  reg_write(UART_LCR_H, LCR_H_WLEN_8 | LCR_H_FEN);
  reg_write(UART_IMSC, interrupts ? INT_RX | INT_RT : 0);
  reg_write(UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
}

bool pl011_has_input(void) { return uart && !(reg_read(UART_FR) & FR_RXFE); }

/* Before the UART is known there is nobody to talk to: output is dropped. */
void arch_console_putc(char c) {
  if (!uart) return;
  while (reg_read(UART_FR) & FR_TXFF) {
  }
  reg_write(UART_DR, (uint8_t)c);
}

int arch_console_getc(void) {
  if (!pl011_has_input()) return -1;
  return (int)(reg_read(UART_DR) & 0xFF);
}
