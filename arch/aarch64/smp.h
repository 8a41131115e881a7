/*
 * Per-CPU state and the secondary CPUs' start-up (smp.c).
 *
 * Each CPU's TPIDR_EL1 points at its own block, from boot.S on (the boot
 * CPU's before any C, a secondary's before it calls smp_secondary_main):
 *
 *     0  stack_top    this CPU's kernel stack (vectors.S CPU_STACK_TOP)
 *     8  number       the kernel's CPU number (arch_cpu_id)
 *    12  current_tid  the thread this CPU runs at EL0; 0: idle
 *    16  mpidr        its affinity (Aff3..Aff0), for SGIs
 *    24  ttbr0        what its TTBR0_EL1 holds, published after the write
 *    32  state        CPU_OFFLINE .. CPU_ONLINE
 *    36  entry_el     the exception level it was started at (2 or 1)
 *    40  lock_wait_start, 48 lock_wait_last: when this wait for the big
 *                     kernel lock began, and its latest arch_lock_wait
 *    64  end (one cache line each: boot.S CPU_LOCAL_BYTES)
 */
#ifndef CAMOS_AARCH64_SMP_H
#define CAMOS_AARCH64_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/arch.h"
#include "aarch64.h"

#define CPU_OFFLINE 0u
#define CPU_STARTING 1u   /* CPU_ON issued, the boot CPU waits */
#define CPU_ONLINE 2u
#define CPU_ABANDONED 3u  /* came up too late: it stops itself */

/* MPIDR_EL1's affinity fields (Aff3 at 39:32, Aff2..Aff0 at 23:0). */
#define MPIDR_AFFINITY 0xFF00FFFFFFull

struct cpu_local {
  uint64_t stack_top;
  uint32_t number;
  uint32_t current_tid;
  uint64_t mpidr;
  volatile uint64_t ttbr0;
  volatile uint32_t state;
  uint32_t entry_el;
  uint64_t lock_wait_start;
  uint64_t lock_wait_last;
} __attribute__((aligned(64)));

extern struct cpu_local cpu_locals[ARCH_MAX_CPUS];

static inline struct cpu_local *this_cpu(void) { return (struct cpu_local *)(uintptr_t)READ_SYSREG(tpidr_el1); }

/* The boot CPU's block (TPIDR_EL1 already points at it): its stack, its
 * MPIDR, online. `psci_entry` says whether secondaries may be started
 * through PSCI (boot.S's tables exist only on the Linux Image path). */
void smp_boot_cpu_init(bool psci_entry);
/* The first CPU to call it sends every other CPU the halt SGI and gets
 * true; a later caller (another CPU) gets false and should stop quietly. */
bool smp_stop_others(void);
/* Stops this CPU for good, interrupts masked. */
__attribute__((noreturn)) void smp_halt_here(void);

#endif
