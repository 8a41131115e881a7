/* The EL1 exception frame vectors.S builds, and its C handlers. */
#ifndef CAMOS_AARCH64_TRAPS_H
#define CAMOS_AARCH64_TRAPS_H
#include <stdint.h>

struct trap_frame {
  uint64_t x[31];
  uint64_t elr, spsr, esr, far;
  uint64_t vector;
  uint64_t pad;
};

void aarch64_trap(struct trap_frame *frame, uint64_t vector);

struct thread_context;
/* Reports an entry from EL0 that is the machine's problem, not the
 * thread's (FIQ, SError, AArch32 state), and stops the machine. */
__attribute__((noreturn)) void traps_report_user(const struct thread_context *context, uint64_t vector);
#endif
