/* Device registers for user-mode drivers, through the kernel's mmio_read /
 * mmio_write imports (kernel/arch.ts). */
#ifndef CAMOS_AARCH64_DEVICE_H
#define CAMOS_AARCH64_DEVICE_H
#include "fdt.h"
/* Remembers what must never be reached this way: RAM and the GIC. */
void device_init(const struct fdt_machine *machine);
#endif
