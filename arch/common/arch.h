/*
 * The per-architecture interface that arch/common/ and arch/wasm-rt/ build on.
 *
 * Each arch/<arch>/ implements every function declared here; nothing in
 * arch/common/ or arch/wasm-rt/ knows which CPU it runs on. These are
 * mechanisms only: which timer rate, which frame, which power-off method is
 * always the kernel's decision, passed in through the kernel's imports.
 */
#ifndef CAMOS_ARCH_H
#define CAMOS_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull

/* Console (the UART the serial shell runs on). */
void arch_console_putc(char c);
int arch_console_getc(void); /* -1 when nothing is waiting */

/* Time. */
uint64_t arch_time_ns(void);
uint64_t arch_cycles(void);
void arch_timer_start(uint32_t hz);

/* Power. Neither returns. */
__attribute__((noreturn)) void arch_reset(uint32_t method, uint64_t arg0, uint64_t arg1);
__attribute__((noreturn)) void arch_power_off(uint32_t method, uint64_t arg0, uint64_t arg1);
__attribute__((noreturn)) void arch_halt_forever(void);

/* Memory. Kernel-virtual address of physical memory through the direct map. */
void *arch_phys_to_virt(uint64_t phys);
/* Maps one 4 KiB page read/write, non-executable, kernel only. False when a
 * page-table frame could not be had. */
bool arch_map_kernel_page(uint64_t virt, uint64_t phys);
/* Physical address of a location inside the loaded kernel image. */
uint64_t arch_kernel_virt_to_phys(const void *virt);

#endif
