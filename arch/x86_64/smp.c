/*
 * SMP on x86_64: the per-CPU blocks. One CPU until the AP start-up lands
 * here.
 */
#include "smp.h"

#include "../common/arch.h"
#include "x86.h"

#define MSR_GS_BASE 0xC0000101
#define PAGE_ADDRESS 0x000FFFFFFFFFF000ull

extern uint8_t boot_stack_top[];

_Static_assert(__builtin_offsetof(struct percpu, kernel_stack_top) == 0, "entry.S PERCPU_KERNEL_STACK");
_Static_assert(__builtin_offsetof(struct percpu, current_tid) == 24, "entry.S PERCPU_*");
_Static_assert(__builtin_offsetof(struct percpu, current) == 32, "traps.S %gs:32");
_Static_assert(__builtin_offsetof(struct percpu, self) == 40, "this_cpu()");

static struct percpu cpus[ARCH_MAX_CPUS];

/* ---- per-CPU blocks ---- */

uint32_t arch_cpu_id(void) { return this_cpu()->cpu; }

static void percpu_enter(struct percpu *self) {
  self->self = self;
  wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)self);
}

void smp_init_boot_cpu(void) {
  cpus[0].kernel_stack_top = (uint64_t)(uintptr_t)boot_stack_top;
  percpu_enter(&cpus[0]);
}

/* The root is recorded before CR3 is written (for TLB shootdown). */
void smp_space_load(uint64_t root) {
  struct percpu *self = this_cpu();
  __atomic_store_n(&self->root, root, __ATOMIC_SEQ_CST);
  if ((read_cr3() & PAGE_ADDRESS) != root) write_cr3(root);
}

int32_t arch_cpu_start(uint32_t cpu, uint32_t method, uint64_t hwid, uint64_t handle) {
  (void)cpu, (void)method, (void)hwid, (void)handle;
  return -2;
}

void arch_cpu_kick(uint32_t cpu) { (void)cpu; }

void arch_lock_wait(void) { cpu_pause(); }
