/*
 * User mode on AArch64: per-thread contexts, entry from EL0 and the way back.
 *
 * The kernel is event-driven: every entry runs to completion on the CPU's
 * one kernel stack and names the thread to run next. So a thread's whole
 * EL0 state lives in its context, saved on entry (vectors.S) and restored
 * on exit (user_return), and nothing of it stays on the kernel stack.
 */
#ifndef CAMOS_AARCH64_USER_H
#define CAMOS_AARCH64_USER_H

#include <stdint.h>

#define MAX_THREADS 128 /* as kernel/proc.ts */

/*
 * A thread's saved EL0 state; vectors.S and user_return use the offsets
 * (CONTEXT_* there, checked by _Static_assert in user.c):
 *
 *     0  x0 .. x30        248  sp (SP_EL0)     256  elr (ELR_EL1)
 *   264  spsr (SPSR_EL1)  272  tpidr (TPIDR_EL0)
 *   280  ttbr0: the space's root | ASID << 48, what TTBR0_EL1 gets
 *   288  fpcr             296  fpsr            304  q0 .. q31 (16 bytes each)
 *   816  end
 *
 * While the thread runs at EL0, SP_EL1 points at its context: the lower-EL
 * vectors store straight into it, then switch to the kernel stack.
 */
struct thread_context {
  uint64_t x[31];
  uint64_t sp;
  uint64_t elr;
  uint64_t spsr;
  uint64_t tpidr;
  uint64_t ttbr0;
  uint64_t fpcr;
  uint64_t fpsr;
  __uint128_t q[32];
} __attribute__((aligned(16)));

/* The empty address space, then user_cpu_init for the boot CPU. Before
 * the kernel starts. */
void user_init(void);
/* This CPU's EL0 access and trap controls, TTBR0 walks on, the empty
 * space loaded. */
void user_cpu_init(void);
/* Runs `tid` at EL0 (0: the idle loop on the kernel stack). Never returns. */
__attribute__((noreturn)) void user_resume(uint32_t tid);

#endif
