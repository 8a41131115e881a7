/*
 * User mode on x86_64: per-thread contexts, entry from user mode (SYSCALL,
 * interrupts, exceptions) and the way back. The per-CPU block they run on
 * is in smp.h.
 *
 * The kernel is event-driven: every entry runs to completion on the CPU's
 * one kernel stack and names the thread to run next. So a thread's whole
 * user state lives in its context, saved on entry and restored on exit, and
 * nothing of it stays on the kernel stack.
 */
#ifndef CAMOS_X86_USER_H
#define CAMOS_X86_USER_H

#include <stdint.h>

#include "cpu.h"

#define MAX_THREADS 128 /* as kernel/proc.ts */
#define USER_CS 0x23    /* GDT 0x20 | RPL 3 */
#define USER_DS 0x1B    /* GDT 0x18 | RPL 3 */
#define SYSCALL_VECTOR 0x100 /* marks a frame saved by syscall_entry */

/* A thread's saved user state. `frame` has the layout traps.S pushes, so
 * an interrupt frame and a syscall frame are the same thing. */
struct thread_context {
  struct trap_frame frame;
  uint64_t root; /* address space: physical PML4 */
  uint8_t fpu[512] __attribute__((aligned(16))); /* fxsave area */
} __attribute__((aligned(16)));

/* This CPU's SYSCALL MSRs. */
void user_init(void);
/* Saves an interrupt or exception frame that came from user mode into the
 * current thread's context (its FPU state is saved by traps.S). */
void user_save_frame(const struct trap_frame *frame);
/* Runs `tid` (0: idle loop). Never returns. */
__attribute__((noreturn)) void user_resume(uint32_t tid);
uint32_t user_current_tid(void);

#endif
