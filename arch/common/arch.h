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
/* User address spaces and threads (kernel/arch.ts space_*, thread_start,
 * context_set): see the contract there. */
uint64_t arch_space_create(void);
int32_t arch_space_map(uint64_t root, uint64_t virt, uint64_t phys, uint32_t flags);
uint64_t arch_space_unmap(uint64_t root, uint64_t virt);
void arch_space_destroy(uint64_t root);
/* The physical frame behind user page `virt` of `root` when user code may
 * read it (and write it, when `write`), else 0. */
uint64_t arch_user_page(uint64_t root, uint64_t virt, bool write);
/* In arch/common/space.c, on top of arch_user_page. */
int32_t arch_space_read(uint64_t root, uint64_t virt, void *dst, uint32_t length);
int32_t arch_space_write(uint64_t root, uint64_t virt, const void *src, uint32_t length);
void arch_thread_start(uint32_t tid, uint64_t root, uint64_t entry, uint64_t stack, uint64_t arg);
void arch_context_set(uint32_t tid, uint32_t reg, uint64_t value);
uint32_t arch_port_in(uint32_t port, uint32_t width);
void arch_port_out(uint32_t port, uint32_t width, uint32_t value);
/* Device registers for user-mode drivers (kernel/arch.ts mmio_read,
 * mmio_write): -1 when refused. Interrupt acknowledgement (irq_ack). */
int64_t arch_mmio_read(uint64_t phys, uint32_t width);
int32_t arch_mmio_write(uint64_t phys, uint32_t width, uint32_t value);
void arch_irq_ack(uint32_t source);

/* Physical address of a location inside the loaded kernel image. */
uint64_t arch_kernel_virt_to_phys(const void *virt);

#endif
