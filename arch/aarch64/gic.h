/* GICv3: distributor, this CPU's redistributor, the ICC system registers. */
#ifndef CAMOS_AARCH64_GIC_H
#define CAMOS_AARCH64_GIC_H
#include <stdint.h>
#include "fdt.h"

/* Maps and enables the GIC from the DTB facts; routes the timer PPI and,
 * when known, the UART's SPI to this CPU as Group 1 interrupts. */
void gic_init(const struct fdt_machine *machine);
/* Acknowledges one interrupt and enters the kernel for it (IRQ vector).
 * Returns the thread to run next: the kernel's answer, or `current` when
 * the interrupt entered no kernel (spurious, unknown). */
uint32_t gic_handle_irq(uint32_t current);
#endif
