/*
 * The few DTB facts the trampoline needs before the kernel runs. The kernel
 * reads the whole DTB itself (boot/dtb.ts); see fdt.c for why this exists.
 */
#ifndef CAMOS_AARCH64_FDT_H
#define CAMOS_AARCH64_FDT_H
#include <stdint.h>

#define FDT_MAX_MEMORY_RANGES 16

struct fdt_range {
  uint64_t base, size;
};

struct fdt_machine {
  struct fdt_range uart;     /* PL011 registers (stdout-path, else the first arm,pl011) */
  uint32_t uart_intid;       /* its GIC INTID, 0 when unknown (then polled) */
  struct fdt_range gicd;     /* GICv3 distributor */
  struct fdt_range gicr;     /* first redistributor region */
  uint32_t timer_intid;      /* EL1 virtual timer PPI as an INTID, 0 if none */
  uint32_t nap_timer_intid;  /* EL1 physical timer PPI (smp.c's lock-wait naps), 0 if none */
  unsigned memory_count;
  struct fdt_range memory[FDT_MAX_MEMORY_RANGES]; /* /memory reg, for the direct map */
};

/* Fills `out` from the flattened device tree at `fdt` (`size` bytes, magic
 * already checked). Returns 0, or a message saying what is missing or
 * malformed. */
const char *fdt_read_machine(const uint8_t *fdt, uint32_t size, struct fdt_machine *out);

#endif
