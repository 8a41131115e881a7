/*
 * x86_64 entry.
 *
 * Multiboot2: GRUB enters _start32 in 32-bit protected mode, paging off,
 * EAX = 0x36d76289, EBX = physical address of the boot information. We build
 * the first page tables (2 MiB pages), switch to long mode and jump to the
 * higher half:
 *
 *   PML4[0]   -> pdpt_low    identity 0..4 GiB   (dropped once in C)
 *   PML4[256] -> pdpt_hhdm   0xFFFF800000000000 + phys, 0..4 GiB
 *   PML4[511] -> pdpt_kernel 0xFFFFFFFF80000000 + phys, 0..1 GiB (the image)
 *
 * Limine: enters limine_entry in long mode on its own page tables, with the
 * image mapped at its link address; we only switch to our stack.
 */
#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(x) ((x) - KERNEL_VMA)

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_HUGE 0x80

#include "long_mode.S.inc"

#define BOOT_STACK_BYTES (128 * 1024)

/* ---- Multiboot2 header ---- */
.section .multiboot2, "a"
.balign 8
mb2_header:
  .long MB2_MAGIC
  .long MB2_ARCH_I386
  .long mb2_header_end - mb2_header
  .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
  /* entry address tag: where to start, as a physical address */
  .balign 8
  .short 3, 0
  .long 12
  .long PHYS(_start32)
  /* end tag */
  .balign 8
  .short 0, 0
  .long 8
mb2_header_end:

.section .boot.text, "ax"
.code32
.global _start32
_start32:
  cli
  cld
  movl %eax, PHYS(boot_magic)
  movl %ebx, PHYS(boot_info)
  movl $PHYS(boot_stack_top), %esp

  /* Long mode present? (CPUID 0x80000001 EDX bit 29) */
  movl $0x80000000, %eax
  cpuid
  cmpl $0x80000001, %eax
  jb no_long_mode
  movl $0x80000001, %eax
  cpuid
  testl $(1 << 29), %edx
  jz no_long_mode

  /* Four page directories map 0..4 GiB in 2 MiB pages. */
  movl $PHYS(boot_pd), %edi
  xorl %ecx, %ecx
1:
  movl %ecx, %eax
  shll $21, %eax
  orl $(PTE_PRESENT | PTE_WRITE | PTE_HUGE), %eax
  movl %eax, (%edi, %ecx, 8)
  movl %ecx, %eax
  shrl $11, %eax                  /* high half of (index << 21) */
  movl %eax, 4(%edi, %ecx, 8)
  incl %ecx
  cmpl $(4 * 512), %ecx
  jb 1b

  /* pdpt_low[0..3] and pdpt_hhdm[0..3] -> the four directories. */
  xorl %ecx, %ecx
2:
  movl %ecx, %eax
  shll $12, %eax
  addl $(PHYS(boot_pd) + PTE_PRESENT + PTE_WRITE), %eax
  movl %eax, PHYS(boot_pdpt_low)(, %ecx, 8)
  movl %eax, PHYS(boot_pdpt_hhdm)(, %ecx, 8)
  incl %ecx
  cmpl $4, %ecx
  jb 2b
  /* pdpt_kernel[510] -> the first directory (0..1 GiB). */
  movl $(PHYS(boot_pd) + PTE_PRESENT + PTE_WRITE), PHYS(boot_pdpt_kernel) + 510 * 8

  movl $(PHYS(boot_pdpt_low) + PTE_PRESENT + PTE_WRITE), PHYS(boot_pml4)
  movl $(PHYS(boot_pdpt_hhdm) + PTE_PRESENT + PTE_WRITE), PHYS(boot_pml4) + 256 * 8
  movl $(PHYS(boot_pdpt_kernel) + PTE_PRESENT + PTE_WRITE), PHYS(boot_pml4) + 511 * 8

  movl $PHYS(boot_pml4), %eax
  movl %eax, %cr3
  LONG_MODE_PAGING_ON

  lgdt PHYS(boot_gdt_pointer)
  ljmp $0x08, $PHYS(long_mode_low)

/* No long mode: say so on COM1 and stop. */
no_long_mode:
  movl $PHYS(no_long_mode_message), %esi
3:
  movb (%esi), %al
  testb %al, %al
  jz 5f
  movw $0x3FD, %dx
4:
  inb %dx, %al
  testb $0x20, %al
  jz 4b
  movb (%esi), %al
  movw $0x3F8, %dx
  outb %al, %dx
  incl %esi
  jmp 3b
5:
  hlt
  jmp 5b

.code64
long_mode_low:
  movw $0x10, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  movabsq $long_mode_high, %rax
  jmp *%rax

.text
long_mode_high:
  movabsq $boot_stack_top, %rsp
  xorl %ebp, %ebp
  movl boot_magic(%rip), %edi
  movl boot_info(%rip), %esi
  call arch_main_multiboot2
6:
  hlt
  jmp 6b

.global limine_entry
limine_entry:
  cli
  cld
  movabsq $boot_stack_top, %rsp
  xorl %ebp, %ebp
  call arch_main_limine
7:
  hlt
  jmp 7b

.section .rodata
no_long_mode_message:
  .asciz "CAM-OS: this CPU has no 64-bit long mode; stopping.\r\n"

.balign 8
boot_gdt:
  .quad 0
  .quad 0x00AF9A000000FFFF   /* 0x08: 64-bit code */
  .quad 0x00CF92000000FFFF   /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
  .short boot_gdt_end - boot_gdt - 1
  .quad PHYS(boot_gdt)

.data
.balign 4
boot_magic: .long 0
boot_info:  .long 0

.section .bss
.balign 4096
.global boot_pml4
boot_pml4:        .skip 4096
boot_pdpt_low:    .skip 4096
boot_pdpt_hhdm:   .skip 4096
boot_pdpt_kernel: .skip 4096
boot_pd:          .skip 4 * 4096
.balign 16
boot_stack:       .skip BOOT_STACK_BYTES
.global boot_stack_top
boot_stack_top:
