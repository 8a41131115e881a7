/*
 * The entry point of every service on x86_64. The kernel starts the thread
 * here with rsp at the top of the user stack and the argument word in rdi,
 * which passes straight on to libsys_main.
 */
  .section .text._start, "ax"
  .globl _start
  .type _start, @function
_start:
  .cfi_startproc
  .cfi_undefined rip          /* the outermost frame, for debuggers */
  xorl %ebp, %ebp
  andq $-16, %rsp             /* the SysV ABI wants 16-byte alignment at a call */
  call libsys_main
  ud2                         /* libsys_main does not return */
  .cfi_endproc
  .size _start, . - _start

  .section .note.GNU-stack, "", @progbits
