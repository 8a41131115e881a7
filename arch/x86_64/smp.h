/*
 * Per-CPU blocks (docs/smp.md "x86_64").
 */
#ifndef CAMOS_X86_SMP_H
#define CAMOS_X86_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct thread_context;

/* A CPU's own state, reached through %gs in kernel mode (GS base; the
 * user's GS is swapped in on the way out). entry.S and traps.S use the
 * offsets in the comments.
 *
 *   0 kernel_stack_top   8 user_rsp   16 context_frame_top   24 current_tid
 *  32 current   40 self   48 cpu   56 root
 */
struct percpu {
  uint64_t kernel_stack_top;      /* 0  */
  uint64_t user_rsp;              /* 8  scratch during syscall entry */
  uint64_t context_frame_top;     /* 16 &current->frame + sizeof frame */
  uint64_t current_tid;           /* 24 0: idle */
  struct thread_context *current; /* 32 */
  struct percpu *self;            /* 40 this_cpu() */
  uint32_t cpu;                   /* 48 the kernel's number for it */
  /* The address space this CPU may hold translations of: written by the
   * CPU itself before it loads CR3. */
  uint64_t root;                  /* 56 */
};

static inline struct percpu *this_cpu(void) {
  struct percpu *self;
  __asm__ volatile("movq %%gs:40, %0" : "=r"(self));
  return self;
}

/* The boot CPU's block: GS base, kernel stack. First thing at entry. */
void smp_init_boot_cpu(void);

/* Loads address space `root` on this CPU, recording it. */
void smp_space_load(uint64_t root);

#endif
