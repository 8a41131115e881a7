/*
 * The kernel instance and its entries.
 *
 * The kernel is one wasm module with one instance; the trampoline enters it
 * only through these functions, with interrupts off, and each entry runs to
 * completion. kernel_current_export() names the entry that is running, for
 * panic and exception reports.
 */
#ifndef CAMOS_KERNEL_H
#define CAMOS_KERNEL_H

#include <stdint.h>

/* Written by the trampoline, read by boot/handoff.ts through peek. */
struct camos_handoff {
  uint32_t magic; /* HANDOFF_MAGIC */
  uint32_t arch;  /* HANDOFF_ARCH_* */
  uint64_t hhdm_offset;
  uint64_t kernel_phys_start;
  uint64_t kernel_phys_end; /* exclusive, includes .bss */
  uint64_t boot_magic;
  uint64_t entry_cycles; /* cycle counter at the trampoline's entry */
};

#define HANDOFF_MAGIC 0x484D4143u /* "CAMH" */
#define HANDOFF_ARCH_X86_64 1u
#define HANDOFF_ARCH_AARCH64 2u

/* Boot protocols, as in kernel/arch.ts. */
#define BOOT_MULTIBOOT2 1u
#define BOOT_LIMINE 2u
#define BOOT_LINUX_ARM64 3u

/* Entry sources for kernel_irq, as in kernel/arch.ts. */
#define IRQ_TIMER 0u
#define IRQ_CONSOLE 1u
#define IRQ_RESCHEDULE 2u /* another CPU kicked this one (arch_cpu_kick) */

/* Instantiates the kernel and runs kernel_main; returns the first thread. */
uint32_t kernel_start(uint32_t protocol, uint64_t info, const struct camos_handoff *handoff);

/* Each entry returns the thread to run next (0: idle). Every entry takes
 * the big kernel lock for its whole run: one CPU in the kernel at a time. */
uint32_t kernel_enter_irq(uint32_t source);
uint32_t kernel_enter_syscall(uint32_t tid, uint32_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5);
uint32_t kernel_enter_fault(uint32_t tid, uint32_t kind, uint64_t address, uint64_t ip, uint64_t code);
/* An application processor, its trampoline set-up done, joins: the kernel
 * arms its timer and gives it its first thread (usually 0). */
uint32_t kernel_enter_cpu(uint32_t cpu);

/* Fault kinds, as kernel/arch.ts FAULT_*. */
#define FAULT_PAGE 1u
#define FAULT_PROTECTION 2u
#define FAULT_ILLEGAL 3u
#define FAULT_ARITHMETIC 4u
#define FAULT_ALIGNMENT 5u
#define FAULT_BREAKPOINT 6u
#define FAULT_OTHER 7u
const char *kernel_current_export(void);

/* The kernel's frame allocator, or 0 before it is ready or when exhausted.
 * Safe to call while the kernel is running (it allocates nothing). */
uint64_t kernel_frame_alloc(void);
/* Gives a frame back to the kernel's allocator (page tables of a dead
 * space); frames it does not manage are refused and kept. */
void kernel_frame_free(uint64_t phys);

#endif
