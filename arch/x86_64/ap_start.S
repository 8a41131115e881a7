/*
 * Where an application processor starts (smp.c).
 *
 * INIT-SIPI-SIPI (Multiboot2): smp.c copies ap_start .. ap_start_end to the
 * start page, a page below 1 MiB, and fills its parameters; the SIPI starts
 * the AP there in real mode, CS = page >> 4, IP = 0. The code finds its own
 * address in CS, so it runs wherever the page is:
 *
 *   16-bit: patch the GDT pointer and the two far jumps with the page's
 *           address, load the GDT, caches on (INIT leaves CR0.CD and NW
 *           set), protected mode on
 *   32-bit: PAE, CR3 = the parameters' first tables (the page identity-
 *           mapped, the kernel half as the kernel's), EFER.LME and NXE,
 *           paging on
 *   64-bit: still in the page; jump to ap_enter in the kernel image
 *
 * Parameters (struct ap_start_params in smp.c), at ap_start_params:
 *   +0 u32 physical address of the first PML4 (below 4 GiB)
 *   +8 u64 the CPU's struct percpu (kernel virtual)
 *
 * Limine: the AP arrives at ap_limine_entry in long mode on Limine's page
 * tables, RDI = its limine_mp_info, whose extra_argument is the struct
 * percpu; it joins at ap_enter.
 *
 * ap_enter(percpu): loads the kernel's own page tables, claims the start
 * (start_state ARMED -> ARRIVED; if the boot CPU gave up on it, the CPU
 * halts and touches nothing), takes its kernel stack and calls ap_main.
 */
#include "long_mode.S.inc"

#define START_GDT_CODE32 0x08
#define START_GDT_DATA 0x10
#define START_GDT_CODE64 0x18

#define PARAMS_PML4 0
#define PARAMS_PERCPU 8

#define PERCPU_KERNEL_STACK 0
#define PERCPU_START_STATE 56
#define START_ARMED 1
#define START_ARRIVED 2

#define LIMINE_MP_EXTRA_ARGUMENT 24

/* Offset inside the start page. */
#define AT(label) ((label) - ap_start)

.section .rodata
.balign 16
.global ap_start
ap_start:
.code16
  cli
  cld
  movw %cs, %ax
  movw %ax, %ds
  xorl %ebx, %ebx
  movw %ax, %bx
  shll $4, %ebx                       /* ebx = the page's physical address */
  leal AT(start_gdt)(%ebx), %eax
  movl %eax, AT(start_gdt_pointer) + 2
  leal AT(start32)(%ebx), %eax
  movl %eax, AT(far_jump32)
  leal AT(start64)(%ebx), %eax
  movl %eax, AT(far_jump64)
  lgdtl AT(start_gdt_pointer)
  movl %cr0, %eax
  andl $~(CR0_CD | CR0_NW), %eax
  orl $CR0_PE, %eax
  movl %eax, %cr0
  ljmpl *AT(far_jump32)

.code32
start32:
  movw $START_GDT_DATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  movl AT(ap_start_params) + PARAMS_PML4(%ebx), %eax
  movl %eax, %cr3
  LONG_MODE_PAGING_ON
  ljmpl *AT(far_jump64)(%ebx)

.code64
start64:
  movl %ebx, %ebx                     /* the upper half is undefined after the switch */
  movq AT(ap_start_params) + PARAMS_PERCPU(%rbx), %rdi
  movabsq $ap_enter, %rax
  jmp *%rax

.balign 8
start_gdt:
  .quad 0
  .quad 0x00CF9A000000FFFF            /* 0x08: 32-bit code */
  .quad 0x00CF92000000FFFF            /* 0x10: data */
  .quad 0x00AF9A000000FFFF            /* 0x18: 64-bit code */
start_gdt_end:
start_gdt_pointer:
  .short start_gdt_end - start_gdt - 1
  .long 0                             /* patched: the page + AT(start_gdt) */
.balign 4
far_jump32:
  .long 0                             /* patched */
  .short START_GDT_CODE32
.balign 4
far_jump64:
  .long 0                             /* patched */
  .short START_GDT_CODE64
.balign 8
.global ap_start_params
ap_start_params:
  .long 0                             /* PML4, filled by smp.c */
  .long 0
  .quad 0                             /* struct percpu * */
.global ap_start_end
ap_start_end:

.text
.code64
.global ap_limine_entry
ap_limine_entry:
  cli
  cld
  movq LIMINE_MP_EXTRA_ARGUMENT(%rdi), %rdi
  /* Our tables use NX bits: make sure they are not reserved bits here. */
  movq %rdi, %rsi
  movl $MSR_EFER, %ecx
  rdmsr
  orl $EFER_NXE, %eax
  wrmsr
  movq %rsi, %rdi
  jmp ap_enter

/* rdi = this CPU's struct percpu. */
ap_enter:
  movq ap_kernel_root(%rip), %rax
  movq %rax, %cr3
  movl $START_ARMED, %eax
  movl $START_ARRIVED, %ecx
  lock cmpxchgl %ecx, PERCPU_START_STATE(%rdi)
  jne 1f
  movq PERCPU_KERNEL_STACK(%rdi), %rsp
  xorl %ebp, %ebp
  call ap_main
1:
  cli
  hlt
  jmp 1b
