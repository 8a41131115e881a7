/* PSCI calls (SMC Calling Convention), through the conduit the DTB names:
 * HVC when the kernel runs at EL1 under a hypervisor or QEMU's own PSCI,
 * SMC when firmware at EL3 (or QEMU with virtualization=on) answers. */
#ifndef CAMOS_AARCH64_PSCI_H
#define CAMOS_AARCH64_PSCI_H

#include <stdbool.h>
#include <stdint.h>

#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0xC4000003u     /* SMC64: target MPIDR, entry (physical), context id */
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)
#define PSCI_INTERNAL_FAILURE (-6)
#define PSCI_INVALID_ADDRESS (-9)

/* x0 comes back as the status; x1..x17 may be clobbered (SMCCC). */
static inline int64_t psci_call(bool smc, uint32_t function, uint64_t arg1, uint64_t arg2, uint64_t arg3) {
  register uint64_t x0 __asm__("x0") = function;
  register uint64_t x1 __asm__("x1") = arg1;
  register uint64_t x2 __asm__("x2") = arg2;
  register uint64_t x3 __asm__("x3") = arg3;
  if (smc)
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9", "x10",
                     "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
  else
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"x4", "x5", "x6", "x7", "x8", "x9", "x10",
                     "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
  return (int64_t)x0;
}

#endif
