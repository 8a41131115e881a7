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

/* ---- SMP (kernel/arch.ts cpu_*; docs/architecture.md "SMP") ----
 * CPUs are numbered by the kernel: 0 is the boot CPU, 1.. in the order the
 * kernel starts them. ARCH_MAX_CPUS bounds the per-CPU state (stacks,
 * per-CPU blocks); the kernel never asks for more. */
#define ARCH_MAX_CPUS 16u
/* cpu_start methods, as kernel/arch.ts CPU_START_*. */
#define CPU_START_SIPI 1u      /* x86_64: INIT-SIPI-SIPI to LAPIC id hwid */
#define CPU_START_LIMINE 2u    /* Limine MP: handle = the CPU's limine_mp_info (kernel virtual) */
#define CPU_START_PSCI_HVC 3u  /* AArch64: PSCI CPU_ON(hwid = MPIDR) through HVC */
#define CPU_START_PSCI_SMC 4u  /* ... through SMC */
/* The index of the CPU running this code (0 before any AP is up). */
uint32_t arch_cpu_id(void);
/* Starts CPU `cpu` and waits (bounded) until it runs trampoline code:
 * 0 online (it then calls kernel_enter_cpu(cpu)), 1 `hwid` is the calling
 * CPU itself, -1 it did not come up, -2 method not supported here. */
int32_t arch_cpu_start(uint32_t cpu, uint32_t method, uint64_t hwid, uint64_t handle);
/* A reschedule interrupt to CPU `cpu`: it enters kernel_irq(IRQ_RESCHEDULE)
 * as soon as it can. Kicking the calling CPU or an offline one does nothing. */
void arch_cpu_kick(uint32_t cpu);
/* Called in the big kernel lock's spin loop: services what another CPU,
 * holding the lock, may be waiting for from this one (a TLB shootdown). */
void arch_lock_wait(void);

/* Physical address of a location inside the loaded kernel image. */
uint64_t arch_kernel_virt_to_phys(const void *virt);

#endif
