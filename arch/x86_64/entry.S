/*
 * SYSCALL entry and the return to user mode.
 *
 * syscall_entry: the CPU has put the user RIP in rcx and RFLAGS in r11, and
 * cleared IF (SFMASK). We swap to the kernel's GS, then push the user state
 * straight into the current thread's context (rsp pointed at the top of its
 * frame), in the same layout traps.S gives an interrupt frame, save the FPU
 * state, switch to the kernel stack and call x86_syscall(frame).
 *
 * user_return(frame): the way back for every entry; restores the FPU state
 * and the registers from a context and leaves by SYSRET when the frame came
 * from SYSCALL (and its RIP is canonical), else by IRETQ.
 */
#include "frame.S.inc"
#define PERCPU_KERNEL_STACK 0
#define PERCPU_USER_RSP 8
#define PERCPU_FRAME_TOP 16
#define FRAME_BYTES (22 * 8)
#define FRAME_VECTOR (15 * 8)
#define FRAME_RIP (17 * 8)
#define FRAME_RFLAGS (19 * 8)
#define FRAME_RSP (20 * 8)
#define CONTEXT_FPU (FRAME_BYTES + 8 + 8) /* frame, root, padding to 16 */
#define USER_CS 0x23
#define USER_DS 0x1B
#define SYSCALL_VECTOR 0x100

.text
.global syscall_entry
syscall_entry:
  swapgs
  movq %rsp, %gs:PERCPU_USER_RSP
  movq %gs:PERCPU_FRAME_TOP, %rsp
  pushq $USER_DS
  pushq %gs:PERCPU_USER_RSP
  pushq %r11
  pushq $USER_CS
  pushq %rcx
  pushq $0
  pushq $SYSCALL_VECTOR
  PUSH_GPRS
  fxsave64 CONTEXT_FPU(%rsp)
  movq %rsp, %rdi
  movq %gs:PERCPU_KERNEL_STACK, %rsp
  cld
  call x86_syscall
  ud2

/* void user_return(struct trap_frame *frame): never returns. */
.global user_return
user_return:
  movq %rdi, %rsp
  fxrstor64 CONTEXT_FPU(%rsp)
  POP_GPRS
  cmpq $SYSCALL_VECTOR, (%rsp)
  jne 1f
  /* SYSRET: rcx = RIP, r11 = RFLAGS; RIP must be canonical (a
   * non-canonical RIP would fault in ring 0 on Intel CPUs). */
  movq 16(%rsp), %rcx
  movq %rcx, %r11
  shrq $47, %r11
  jnz 1f
  movq 32(%rsp), %r11
  movq 40(%rsp), %rsp
  swapgs
  sysretq
1:
  addq $16, %rsp
  swapgs
  iretq
