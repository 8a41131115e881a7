/*
 * Interrupt and exception entry stubs. Each pushes a zero error code when the
 * CPU does not, then its vector, saves the general registers and calls
 * x86_trap(struct trap_frame *) (cpu.c). Layout of the frame, low to high:
 *
 *   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax
 *   vector error | rip cs rflags rsp ss   (the last five pushed by the CPU)
 */
#include "frame.S.inc"
#define FRAME_TO_FPU (22 * 8 + 16) /* offsetof(struct thread_context, fpu) */

.macro STUB vector, has_error
.global trap_stub_\vector
trap_stub_\vector:
  .if \has_error == 0
  pushq $0
  .endif
  pushq $\vector
  jmp trap_common
.endm

.text
STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0
STUB 32, 0
STUB 33, 0
STUB 34, 0
STUB 35, 0
STUB 255, 0

trap_common:
  /* From user mode (CS RPL 3, 24 bytes up: vector, error, rip, cs): take
   * the kernel's GS. The way back to user mode is user_return (entry.S). */
  testb $3, 24(%rsp)
  jz 1f
  swapgs
1:
  PUSH_GPRS
  /* From user mode, save the thread's FPU/SSE state before any C code can
   * touch those registers (%gs:32 is the current context, entry.S). */
  testb $3, 15 * 8 + 24(%rsp)
  jz 2f
  movq %gs:32, %rax
  fxsave64 FRAME_TO_FPU(%rax)
2:
  movq %rsp, %rdi
  /* The frame is 8 bytes off a 16-byte boundary when the CPU pushed no error
   * code on an aligned stack; align for the C call and restore after. */
  movq %rsp, %rbx
  andq $-16, %rsp
  cld
  call x86_trap
  movq %rbx, %rsp
  POP_GPRS
  addq $16, %rsp
  iretq

/* The table cpu.c installs in the IDT, vectors 0..LAST_STUB_VECTOR (cpu.h)
 * then 255. */
.section .rodata
.balign 8
.global trap_stub_table
trap_stub_table:
  .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35
  .quad trap_stub_\v
  .endr
  .quad trap_stub_255
