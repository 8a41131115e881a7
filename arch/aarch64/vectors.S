/*
 * Exception vectors, two kinds of entry:
 *
 * From EL1 (vectors 0-7): the kernel runs with IRQs masked, so the only
 * expected one is an IRQ in the idle loop, which has no live FP/SIMD state.
 * The general registers and the syndrome go into a frame on the current
 * stack, aarch64_trap(frame, vector) (traps.c) runs, and an IRQ that names
 * no thread returns here and erets into the idle loop.
 *
 * From EL0 (vectors 8-15): SP_EL1 points at the running thread's context
 * (user.h). Everything EL0 can see is stored there before any C runs (C code
 * uses the SIMD registers): x0..x30, SP_EL0, ELR_EL1, SPSR_EL1, TPIDR_EL0,
 * FPCR, FPSR, q0..q31. Then this CPU's kernel stack (its per-CPU block,
 * TPIDR_EL1, smp.h), and aarch64_user_entry (user.c), which enters the
 * kernel and never comes back here: it leaves through user_return, below,
 * or the idle loop.
 *
 * EL1 frame layout (struct trap_frame in traps.h), 8 bytes each:
 *   x0 .. x30 | elr spsr esr far | vector | pad      (36 slots, 288 bytes)
 *
 * Vector numbers: 4 groups of 4 (sync, IRQ, FIQ, SError):
 *   0-3 current EL with SP_EL0   4-7 current EL with SP_ELx
 *   8-11 lower EL, AArch64       12-15 lower EL, AArch32
 */
#define FRAME_BYTES 288

/* struct cpu_local (smp.h) */
#define CPU_STACK_TOP 0

/* struct thread_context (user.h) */
#define CONTEXT_X30 240
#define CONTEXT_ELR 256
#define CONTEXT_TPIDR 272
#define CONTEXT_FPCR 288
#define CONTEXT_Q 304
/* SPSR bits EL0 must never get back: M[4:0] (so EL0t, AArch64) and DAIF. */
#define SPSR_MODE_AND_MASKS 0x3ff

/* x2..x29 at [sp + 8 * n]: where both the EL1 frame and a thread context
 * keep them (x0, x1 at 0, x30 at 240). */
.macro SAVE_X2_X29
  stp x2, x3, [sp, #16]
  stp x4, x5, [sp, #32]
  stp x6, x7, [sp, #48]
  stp x8, x9, [sp, #64]
  stp x10, x11, [sp, #80]
  stp x12, x13, [sp, #96]
  stp x14, x15, [sp, #112]
  stp x16, x17, [sp, #128]
  stp x18, x19, [sp, #144]
  stp x20, x21, [sp, #160]
  stp x22, x23, [sp, #176]
  stp x24, x25, [sp, #192]
  stp x26, x27, [sp, #208]
  stp x28, x29, [sp, #224]
.endm

.macro RESTORE_X2_X29
  ldp x28, x29, [sp, #224]
  ldp x26, x27, [sp, #208]
  ldp x24, x25, [sp, #192]
  ldp x22, x23, [sp, #176]
  ldp x20, x21, [sp, #160]
  ldp x18, x19, [sp, #144]
  ldp x16, x17, [sp, #128]
  ldp x14, x15, [sp, #112]
  ldp x12, x13, [sp, #96]
  ldp x10, x11, [sp, #80]
  ldp x8, x9, [sp, #64]
  ldp x6, x7, [sp, #48]
  ldp x4, x5, [sp, #32]
  ldp x2, x3, [sp, #16]
.endm

.macro VECTOR number
  .balign 0x80
  sub sp, sp, #FRAME_BYTES
  stp x0, x1, [sp, #0]
  mov x0, #\number
  b trap_common
.endm

.macro USER_VECTOR number
  .balign 0x80
  stp x0, x1, [sp, #0]
  mov x0, #\number
  b user_entry
.endm

.text
.balign 2048
.global exception_vectors
exception_vectors:
  .irp n, 0,1,2,3,4,5,6,7
  VECTOR \n
  .endr
  .irp n, 8,9,10,11,12,13,14,15
  USER_VECTOR \n
  .endr

trap_common:
  SAVE_X2_X29
  mrs x1, elr_el1
  stp x30, x1, [sp, #240]
  mrs x1, spsr_el1
  mrs x2, esr_el1
  stp x1, x2, [sp, #256]
  mrs x1, far_el1
  stp x1, x0, [sp, #272]
  mov x1, x0
  mov x0, sp
  bl aarch64_trap
  ldp x30, x1, [sp, #240]
  msr elr_el1, x1
  ldr x1, [sp, #256]
  msr spsr_el1, x1
  RESTORE_X2_X29
  ldp x0, x1, [sp, #0]
  add sp, sp, #FRAME_BYTES
  eret

/* From EL0: sp is the thread's context, x0 the vector number, x0 and x1
 * already saved. */
user_entry:
  SAVE_X2_X29
  mrs x1, sp_el0
  stp x30, x1, [sp, #CONTEXT_X30]
  mrs x1, elr_el1
  mrs x2, spsr_el1
  stp x1, x2, [sp, #CONTEXT_ELR]
  mrs x1, tpidr_el0
  str x1, [sp, #CONTEXT_TPIDR]
  mrs x1, fpcr
  mrs x2, fpsr
  stp x1, x2, [sp, #CONTEXT_FPCR]
  /* The kernel's floating point never runs in a mode EL0 chose. */
  msr fpcr, xzr
  add x1, sp, #CONTEXT_Q
  stp q0, q1, [x1, #0]
  stp q2, q3, [x1, #32]
  stp q4, q5, [x1, #64]
  stp q6, q7, [x1, #96]
  stp q8, q9, [x1, #128]
  stp q10, q11, [x1, #160]
  stp q12, q13, [x1, #192]
  stp q14, q15, [x1, #224]
  stp q16, q17, [x1, #256]
  stp q18, q19, [x1, #288]
  stp q20, q21, [x1, #320]
  stp q22, q23, [x1, #352]
  stp q24, q25, [x1, #384]
  stp q26, q27, [x1, #416]
  stp q28, q29, [x1, #448]
  stp q30, q31, [x1, #480]
  mov x1, x0
  mov x0, sp
  mrs x2, tpidr_el1
  ldr x2, [x2, #CPU_STACK_TOP]
  mov sp, x2
  mov x29, #0              /* the end of the frame chain, for debuggers */
  mov x30, #0
  bl aarch64_user_entry
  udf #0                   /* aarch64_user_entry does not return */

/* void user_return(struct thread_context *context): restores the thread's
 * EL0 state and erets to it. SP_EL1 stays at the context, for its next
 * entry. Never returns. */
.global user_return
user_return:
  mov sp, x0
  add x1, sp, #CONTEXT_Q
  ldp q0, q1, [x1, #0]
  ldp q2, q3, [x1, #32]
  ldp q4, q5, [x1, #64]
  ldp q6, q7, [x1, #96]
  ldp q8, q9, [x1, #128]
  ldp q10, q11, [x1, #160]
  ldp q12, q13, [x1, #192]
  ldp q14, q15, [x1, #224]
  ldp q16, q17, [x1, #256]
  ldp q18, q19, [x1, #288]
  ldp q20, q21, [x1, #320]
  ldp q22, q23, [x1, #352]
  ldp q24, q25, [x1, #384]
  ldp q26, q27, [x1, #416]
  ldp q28, q29, [x1, #448]
  ldp q30, q31, [x1, #480]
  ldp x1, x2, [sp, #CONTEXT_FPCR]
  msr fpcr, x1
  msr fpsr, x2
  ldr x1, [sp, #CONTEXT_TPIDR]
  msr tpidr_el0, x1
  ldp x1, x2, [sp, #CONTEXT_ELR]
  and x2, x2, #~SPSR_MODE_AND_MASKS
  msr elr_el1, x1
  msr spsr_el1, x2
  ldp x30, x1, [sp, #CONTEXT_X30]
  msr sp_el0, x1
  RESTORE_X2_X29
  ldp x0, x1, [sp, #0]
  eret
