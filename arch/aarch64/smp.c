/*
 * SMP on this architecture: one CPU until the AP start-up lands here.
 */
#include "../common/arch.h"

uint32_t arch_cpu_id(void) { return 0; }

int32_t arch_cpu_start(uint32_t cpu, uint32_t method, uint64_t hwid, uint64_t handle) {
  (void)cpu, (void)method, (void)hwid, (void)handle;
  return -2;
}

void arch_cpu_kick(uint32_t cpu) { (void)cpu; }

void arch_lock_wait(void) { __asm__ volatile("yield"); }
