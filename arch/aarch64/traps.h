/* The exception frame vectors.S builds, and its C handler. */
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
#endif
