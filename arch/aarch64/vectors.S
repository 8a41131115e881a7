/*
 * EL1 exception vectors. Every entry saves the general registers and the
 * exception syndrome into a frame on the current stack and calls
 * aarch64_trap(frame, vector) (traps.c); an IRQ returns here and erets.
 *
 * The kernel runs with IRQs masked and takes them only in the idle loop,
 * which has no live FP/SIMD state: only the general registers are saved.
 *
 * Frame layout (struct trap_frame in traps.h), 8 bytes each:
 *   x0 .. x30 | elr spsr esr far | vector | pad      (36 slots, 288 bytes)
 *
 * Vector numbers: 4 groups of 4 (sync, IRQ, FIQ, SError):
 *   0-3 current EL with SP_EL0   4-7 current EL with SP_ELx
 *   8-11 lower EL, AArch64       12-15 lower EL, AArch32
 */
#define FRAME_BYTES 288

.macro VECTOR number
  .balign 0x80
  sub sp, sp, #FRAME_BYTES
  stp x0, x1, [sp, #0]
  mov x0, #\number
  b trap_common
.endm

.text
.balign 2048
.global exception_vectors
exception_vectors:
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  VECTOR \n
  .endr

trap_common:
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
  ldp x0, x1, [sp, #0]
  add sp, sp, #FRAME_BYTES
  eret
