/*
 * The entry point of every service on AArch64. The kernel starts the thread
 * here with sp at the top of the user stack and the argument word in x0,
 * which passes straight on to libsys_main.
 */
  .section .text._start, "ax"
  .globl _start
  .type _start, %function
_start:
  .cfi_startproc
  .cfi_undefined x30          /* the outermost frame, for debuggers */
  mov x29, #0
  mov x30, #0
  mov x9, sp
  and x9, x9, #~15            /* AAPCS64: sp 16-byte aligned */
  mov sp, x9
  bl libsys_main
  udf #0                      /* libsys_main does not return */
  .cfi_endproc
  .size _start, . - _start

  .section .note.GNU-stack, "", %progbits
