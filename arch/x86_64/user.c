/*
 * User mode on x86_64: SYSCALL set-up, thread contexts, address spaces,
 * and the dispatch of every entry from user mode to the kernel.
 *
 *   user ──syscall──► syscall_entry (entry.S) ──► x86_syscall ──► kernel_syscall
 *   user ──interrupt/exception──► traps.S ──► x86_trap (cpu.c) ──► user_save_frame,
 *                                             kernel_irq / kernel_fault
 *   every entry ──► user_resume(next tid) ──► user_return (entry.S) ──► user
 *                                   (tid 0) ──► idle loop (sti; hlt)
 *
 * Each CPU runs this with its own per-CPU block (smp.h, through %gs) and
 * kernel stack; the contexts are shared, and the kernel runs a thread on
 * one CPU at a time.
 */
#include "user.h"

#include <string.h>

#include "../common/arch.h"
#include "../common/console.h"
#include "../common/frames.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "paging.h"
#include "smp.h"
#include "x86.h"

#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_SFMASK 0xC0000084
#define MSR_KERNEL_GS_BASE 0xC0000102
#define EFER_SCE (1u << 0)
/* Cleared on SYSCALL: IF (the kernel runs with interrupts off), TF, DF,
 * AC, NT. */
#define SFMASK_BITS 0x44700u
#define RFLAGS_IF 0x200u
#define RFLAGS_RESERVED 0x2u
#define MXCSR_DEFAULT 0x1F80u
#define FCW_DEFAULT 0x037Fu

extern void syscall_entry(void);
extern __attribute__((noreturn)) void user_return(struct trap_frame *frame);

_Static_assert(sizeof(struct trap_frame) == 22 * 8, "entry.S FRAME_BYTES");
_Static_assert(__builtin_offsetof(struct thread_context, fpu) == 22 * 8 + 16, "entry.S CONTEXT_FPU");

static struct thread_context contexts[MAX_THREADS];

/* This CPU's SYSCALL set-up; its GS base (the per-CPU block) is set. */
void user_init(void) {
  wrmsr(MSR_KERNEL_GS_BASE, 0);
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  /* SYSCALL loads CS 0x08, SS 0x10; SYSRET loads CS 0x10+16, SS 0x10+8. */
  wrmsr(MSR_STAR, (0x10ull << 48) | (0x08ull << 32));
  wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
  wrmsr(MSR_SFMASK, SFMASK_BITS);
}

uint32_t user_current_tid(void) { return (uint32_t)this_cpu()->current_tid; }

static struct thread_context *context_of(uint32_t tid) {
  if (tid == 0 || tid >= MAX_THREADS) panic("no context for thread %u", tid);
  return &contexts[tid];
}

/* traps.S has already saved the FPU state into the context. */
void user_save_frame(const struct trap_frame *frame) {
  this_cpu()->current->frame = *frame;
}

/* An idle CPU holds the kernel's own space only, so no user space it ran
 * last can be torn down under it (smp_shootdown). */
static __attribute__((noreturn)) void idle(void) {
  struct percpu *self = this_cpu();
  self->current_tid = 0;
  self->current = 0;
  smp_space_load(paging_kernel_root());
  __asm__ volatile(
      "movq %0, %%rsp\n"
      "1: sti; hlt; cli; jmp 1b" ::"r"(self->kernel_stack_top));
  __builtin_unreachable();
}

void user_resume(uint32_t tid) {
  smp_kernel_left();
  if (tid == 0) idle();
  struct thread_context *context = context_of(tid);
  struct percpu *self = this_cpu();
  self->current_tid = tid;
  self->current = context;
  self->context_frame_top = (uint64_t)(uintptr_t)(&context->frame + 1);
  smp_space_load(context->root);
  user_return(&context->frame);
}

/* From syscall_entry: the frame is already the current thread's context. */
__attribute__((noreturn)) void x86_syscall(struct trap_frame *frame) {
  uint32_t next = kernel_enter_syscall(user_current_tid(), (uint32_t)frame->rax, frame->rdi,
                                       frame->rsi, frame->rdx, frame->r10, frame->r8, frame->r9);
  user_resume(next);
}

/* ---- threads (kernel/arch.ts thread_start, context_set) ---- */

void arch_thread_start(uint32_t tid, uint64_t root, uint64_t entry, uint64_t stack, uint64_t arg) {
  struct thread_context *context = context_of(tid);
  memset(context, 0, sizeof *context);
  context->frame.rip = entry;
  context->frame.cs = USER_CS;
  context->frame.rflags = RFLAGS_IF | RFLAGS_RESERVED;
  context->frame.rsp = stack;
  context->frame.ss = USER_DS;
  context->frame.rdi = arg;
  context->root = root;
  /* fxsave layout: FCW at 0, MXCSR at 24. */
  *(uint16_t *)&context->fpu[0] = FCW_DEFAULT;
  *(uint32_t *)&context->fpu[24] = MXCSR_DEFAULT;
}

/* REG_STATUS is rax; results 0..5 are rdi, rsi, rdx, r10, r8, r9, the
 * argument registers, so a result can be an argument for the next call. */
void arch_context_set(uint32_t tid, uint32_t reg, uint64_t value) {
  struct trap_frame *f = &context_of(tid)->frame;
  switch (reg) {
  case 0: f->rax = value; break;
  case 1: f->rdi = value; break;
  case 2: f->rsi = value; break;
  case 3: f->rdx = value; break;
  case 4: f->r10 = value; break;
  case 5: f->r8 = value; break;
  case 6: f->r9 = value; break;
  default: panic("context_set: no register %u", reg);
  }
}

/* ---- I/O ports ---- */

uint32_t arch_port_in(uint32_t port, uint32_t width) {
  uint32_t value = 0xFFFFFFFFu;
  if (width == 1) value = inb((uint16_t)port);
  else if (width == 2) value = inw((uint16_t)port);
  else if (width == 4) value = inl((uint16_t)port);
  return value;
}

void arch_port_out(uint32_t port, uint32_t width, uint32_t value) {
  if (width == 1) outb((uint16_t)port, (uint8_t)value);
  else if (width == 2) outw((uint16_t)port, (uint16_t)value);
  else if (width == 4) outl((uint16_t)port, value);
  if (width == 1 && port == SERIAL_COM1) console_service_byte((uint8_t)value);
}

/* ---- devices the x86_64 trampoline has no mechanism for ---- */

/* Device registers are port I/O here (CAP_IO_PORTS); MMIO for user drivers
 * is refused. */
int64_t arch_mmio_read(uint64_t phys, uint32_t width) {
  (void)phys, (void)width;
  return -1;
}

int32_t arch_mmio_write(uint64_t phys, uint32_t width, uint32_t value) {
  (void)phys, (void)width, (void)value;
  return -1;
}

/* The UART is polled at every tick (apic.c), never masked: nothing to undo. */
void arch_irq_ack(uint32_t source) { (void)source; }
