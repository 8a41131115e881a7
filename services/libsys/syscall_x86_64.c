/*
 * The system call on x86_64: `syscall` with the number in rax and the
 * arguments in rdi, rsi, rdx, r10, r8, r9; the kernel returns the status in
 * rax and the results in the same six registers (kernel/abi.ts). `syscall`
 * itself clobbers rcx (return rip) and r11 (rflags).
 */
#include "libsys.h"

int64_t sys6(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
             uint64_t out[6]) {
  register uint64_t rax __asm__("rax") = number;
  register uint64_t rdi __asm__("rdi") = a0;
  register uint64_t rsi __asm__("rsi") = a1;
  register uint64_t rdx __asm__("rdx") = a2;
  register uint64_t r10 __asm__("r10") = a3;
  register uint64_t r8 __asm__("r8") = a4;
  register uint64_t r9 __asm__("r9") = a5;
  __asm__ volatile("syscall"
                   : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                   :
                   : "rcx", "r11", "memory");
  out[0] = rdi;
  out[1] = rsi;
  out[2] = rdx;
  out[3] = r10;
  out[4] = r8;
  out[5] = r9;
  return (int64_t)rax;
}
