/*
 * Per-CPU blocks, application-processor start-up, inter-processor
 * interrupts and TLB shootdown (docs/smp.md "x86_64").
 */
#ifndef CAMOS_X86_SMP_H
#define CAMOS_X86_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct thread_context;

/* A CPU's own state, reached through %gs in kernel mode (GS base; the
 * user's GS is swapped in on the way out). entry.S, traps.S and
 * ap_start.S use the offsets in the comments.
 *
 *   0 kernel_stack_top   8 user_rsp   16 context_frame_top   24 current_tid
 *  32 current   40 self   48 cpu   52 lapic_id   56 start_state   60 online
 *  64 root   72 shootdown_pending   76 lock_napping   80 deferred
 *  88 lock_wait_since
 */
struct percpu {
  uint64_t kernel_stack_top;      /* 0  */
  uint64_t user_rsp;              /* 8  scratch during syscall entry */
  uint64_t context_frame_top;     /* 16 &current->frame + sizeof frame */
  uint64_t current_tid;           /* 24 0: idle */
  struct thread_context *current; /* 32 */
  struct percpu *self;            /* 40 this_cpu() */
  uint32_t cpu;                   /* 48 the kernel's number for it */
  uint32_t lapic_id;              /* 52 */
  uint32_t start_state;           /* 56 START_*, claimed by ap_start.S */
  uint32_t online;                /* 60 set once it can take interrupts */
  /* The address space this CPU may hold translations of: written by the
   * CPU itself before it loads CR3, read by a shootdown's sender. */
  uint64_t root;                  /* 64 */
  uint32_t shootdown_pending;     /* 72 set by the sender, cleared once done */
  uint32_t lock_napping;          /* 76 in hlt, waiting for the big lock */
  uint32_t deferred;              /* 80 DEFERRED_*: interrupts taken while napping */
  uint64_t lock_wait_since;       /* 88 ns; 0 when not waiting */
};

/* start_state: the BSP arms the start, and either the AP claims it on
 * arrival or the BSP gives up on it; whichever comes first wins. */
#define START_IDLE 0u
#define START_ARMED 1u
#define START_ARRIVED 2u
#define START_ABANDONED 3u

static inline struct percpu *this_cpu(void) {
  struct percpu *self;
  __asm__ volatile("movq %%gs:40, %0" : "=r"(self));
  return self;
}

/* The boot CPU's block: GS base, kernel stack. First thing at entry. */
void smp_init_boot_cpu(void);
/* Once the LAPIC is up: the boot CPU's LAPIC id. */
void smp_boot_cpu_online(void);
/* Multiboot2: the page below 1 MiB the SIPI start code is copied to. */
void smp_set_start_page(uint64_t phys);

/* Loads address space `root` on this CPU, recording it for shootdowns. */
void smp_space_load(uint64_t root);
/* Makes every CPU drop its translation of `virt` in `root`, or (virt =
 * SHOOTDOWN_SPACE) its use of `root` altogether; returns once done.
 * Caller holds the big kernel lock. */
#define SHOOTDOWN_SPACE (~0ull)
void smp_shootdown(uint64_t root, uint64_t virt);

/* Interrupt handlers (cpu.c): the thread to run next. */
uint32_t smp_kick_interrupt(void);
void smp_shootdown_interrupt(void);
/* True when this CPU is napping for the big lock: then the interrupt has
 * been answered or noted for later, and the CPU goes back to its nap. */
bool smp_nap_interrupt(uint64_t vector);
/* On every way out of the kernel (user_resume, the idle loop's interrupts):
 * raises what was noted while napping, and wakes the CPUs napping for the
 * lock, which this CPU no longer holds. */
void smp_kernel_left(void);

/* Stops every other CPU (an NMI) so a report is not interleaved; false
 * when another CPU got there first (then this one should stay quiet). */
bool smp_stop_others(void);
/* In the NMI handler: true when the machine is being stopped. */
bool smp_stopping(void);
/* The CPU number by its LAPIC id, for reports (valid in any state). */
uint32_t smp_cpu_for_report(void);
/* One line for the end of a report: CPUs, shootdowns (nothing on one CPU). */
void smp_report(void);

#endif
