/* x86_64 CPU set-up (GDT, TSS, IDT, SSE) and the trap dispatcher. */
#ifndef CAMOS_X86_CPU_H
#define CAMOS_X86_CPU_H

#include <stdint.h>

/* Interrupt vectors. traps.S has a stub for 0..LAST_STUB_VECTOR and for
 * the spurious vector. The NMI (2) doubles as the stop signal. */
#define TIMER_VECTOR 32     /* this CPU's LAPIC timer */
#define KICK_VECTOR 33      /* arch_cpu_kick: reschedule */
#define SHOOTDOWN_VECTOR 34 /* drop a translation (smp_shootdown) */
#define WAKE_VECTOR 35      /* the big lock was released: stop napping */
#define LAST_STUB_VECTOR WAKE_VECTOR
#define SPURIOUS_VECTOR 255

struct trap_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;
};

/* GDT and TSS of CPU `cpu` (interrupts from user mode land on
 * `kernel_stack_top`), the IDT, SSE. */
void cpu_init(uint32_t cpu, uint64_t kernel_stack_top);
void x86_trap(struct trap_frame *frame);

#endif
