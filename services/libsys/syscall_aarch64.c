/*
 * The system call on AArch64: `svc #0` with the number in x8 and the
 * arguments in x0..x5; the kernel returns the status in x0 and the results
 * in x1..x6 (kernel/abi.ts).
 */
#include "libsys.h"

int64_t sys6(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
             uint64_t out[6]) {
  register uint64_t x8 __asm__("x8") = number;
  register uint64_t x0 __asm__("x0") = a0;
  register uint64_t x1 __asm__("x1") = a1;
  register uint64_t x2 __asm__("x2") = a2;
  register uint64_t x3 __asm__("x3") = a3;
  register uint64_t x4 __asm__("x4") = a4;
  register uint64_t x5 __asm__("x5") = a5;
  register uint64_t x6 __asm__("x6");
  __asm__ volatile("svc #0"
                   : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "=r"(x6)
                   : "r"(x8)
                   : "memory");
  out[0] = x1;
  out[1] = x2;
  out[2] = x3;
  out[3] = x4;
  out[4] = x5;
  out[5] = x6;
  return (int64_t)x0;
}
