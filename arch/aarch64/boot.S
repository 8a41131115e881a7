/*
 * AArch64 entry.
 *
 * Linux arm64 Image protocol (qemu -kernel, U-Boot booti): the loader puts
 * the Image at a 2 MiB aligned physical address near the start of RAM and
 * jumps to its first byte with the MMU off, x0 = physical address of the
 * DTB, at EL2 or EL1. The code below runs from wherever that is, so it only
 * uses PC-relative addressing until the MMU is on:
 *
 *   1. read the counter (the boot figures start here), mask interrupts;
 *   2. at EL2: make EL1 a plain AArch64 kernel level (no traps of FP, timer
 *      or GIC system registers, no stage 2), then eret to EL1;
 *   3. FP/SIMD on (CPACR_EL1.FPEN), for the wasm2c code;
 *   4. two small sets of tables, 2 MiB blocks over the image:
 *        TTBR0  identity map            (only for the instruction that turns
 *                                        the MMU on; walks disabled after)
 *        TTBR1  0xFFFFFFFF80000000 + offset -> image base + offset
 *      then MAIR/TCR/SCTLR, MMU and caches on, jump to the higher half;
 *   5. zero .bss, stack, VBAR_EL1, then C: arch_main_linux (main.c), which
 *      reads the DTB and builds the rest of the address space (paging.c).
 *
 * Limine (UEFI): enters limine_entry at EL1 in the higher half on Limine's
 * own page tables; we switch to our stack and vectors and go to C.
 *
 * Secondary CPUs (smp.c): PSCI CPU_ON starts one at secondary_entry, MMU
 * off, x0 = its CPU number, at EL2 or EL1; it takes steps 2 and 3, turns
 * the MMU on with the tables step 4 built (still in place), then takes its
 * stack and TPIDR_EL1 from its per-CPU block and goes to smp_secondary_main.
 * Limine MP sends one to limine_secondary_entry instead, MMU on.
 *
 * TPIDR_EL1 always points at the running CPU's struct cpu_local (smp.h).
 */
#define KERNEL_VMA 0xFFFFFFFF80000000

#define CURRENT_EL_EL1 (1 << 2)
#define CURRENT_EL_EL2 (2 << 2)

/* Block and table descriptors (see paging.c for the layout). */
#define DESC_TABLE 0x3
#define DESC_BLOCK 0x1
#define DESC_AF (1 << 10)
#define DESC_SH_INNER (3 << 8)
#define DESC_ATTR_NORMAL (1 << 2) /* MAIR index 1 */
#define KERNEL_BLOCK (DESC_BLOCK | DESC_AF | DESC_SH_INNER | DESC_ATTR_NORMAL)
#define BLOCK_SHIFT 21
#define BLOCK_MASK ((1 << BLOCK_SHIFT) - 1)

#define CPACR_FPEN (3 << 20)
#define HCR_RW (1 << 31)
#define CNTHCTL_EL1PCTEN_EL1PCEN 0x3
#define CPTR_EL2_NO_FP_TRAP 0x33ff
#define ICC_SRE_EL2 S3_4_C12_C9_5
#define ICH_HCR_EL2 S3_4_C12_C11_0
#define ICC_SRE_SRE 0x1
#define ICC_SRE_ENABLE 0x8
#define SPSR_EL1H_MASKED 0x3c5
#define TCR_EPD0 (1 << 7)

#define BOOT_STACK_BYTES (128 * 1024)

/* struct cpu_local (smp.h), struct limine_mp_info (smp.c) */
#define CPU_LOCAL_BYTES 64
#define CPU_STACK_TOP 0
#define LIMINE_MP_EXTRA_ARGUMENT 32

/* An absolute (link-time) value without a memory load: with the MMU off
 * every data access is Device memory, and a literal pool is not needed. */
.macro mov_abs reg, sym
  movz \reg, #:abs_g3:\sym
  movk \reg, #:abs_g2_nc:\sym
  movk \reg, #:abs_g1_nc:\sym
  movk \reg, #:abs_g0_nc:\sym
.endm

/* EL2 → EL1, for the boot CPU and the secondaries alike: EL1 is AArch64,
 * nothing trapped, no stage 2, EL1 may use the physical counter and timer
 * and the GICv3 system registers; then eret to `at_el1` in EL1h, DAIF
 * masked. */
.macro DROP_TO_EL1 at_el1
  mov x9, #HCR_RW          /* EL1 is AArch64; no stage 2, nothing trapped */
  msr hcr_el2, x9
  mrs x9, cnthctl_el2
  orr x9, x9, #CNTHCTL_EL1PCTEN_EL1PCEN
  msr cnthctl_el2, x9
  mov x9, #CPTR_EL2_NO_FP_TRAP
  msr cptr_el2, x9
  msr hstr_el2, xzr
  mrs x9, midr_el1
  msr vpidr_el2, x9
  mrs x9, mpidr_el1
  msr vmpidr_el2, x9
  msr vttbr_el2, xzr
  /* GICv3 system-register interface: let EL1 use it. */
  mrs x9, id_aa64pfr0_el1
  ubfx x9, x9, #24, #4
  cbz x9, 2f
  mrs x9, ICC_SRE_EL2
  orr x9, x9, #ICC_SRE_SRE
  orr x9, x9, #ICC_SRE_ENABLE  /* EL1 may use its own ICC_SRE_EL1 */
  msr ICC_SRE_EL2, x9
  isb
  msr ICH_HCR_EL2, xzr
2:
  movz x9, #0x0800         /* SCTLR_EL1: RES1 bits only; MMU, caches off */
  movk x9, #0x30d0, lsl #16
  msr sctlr_el1, x9
  mov x9, #SPSR_EL1H_MASKED
  msr spsr_el2, x9
  adr x9, \at_el1
  msr elr_el2, x9
  eret
.endm

/* The MMU on with boot.S's tables: TTBR0 the identity map (for the next
 * instruction), TTBR1 the higher half. Clobbers x9..x11. */
.macro MMU_ON
  /* MAIR: attr0 Device-nGnRnE, attr1 Normal write-back, attr2 Normal non-cacheable. */
  movz x9, #0xff00
  movk x9, #0x0044, lsl #16
  msr mair_el1, x9
  /* TCR: 48-bit TTBR0 and TTBR1 halves, 4 KiB granules, walks inner
   * shareable and write-back cacheable; IPS = the CPU's PARange (at most
   * 48 bits, all a 4 KiB granule can address without LPA2). */
  movz x9, #0x3510
  movk x9, #0xb510, lsl #16
  mrs x10, id_aa64mmfr0_el1
  and x10, x10, #0x7
  cmp x10, #5
  mov x11, #5
  csel x10, x10, x11, ls
  bfi x9, x10, #32, #3
  msr tcr_el1, x9
  adrp x9, id_l0
  msr ttbr0_el1, x9
  adrp x9, k_l0
  msr ttbr1_el1, x9
  isb
  tlbi vmalle1
  dsb nsh
  isb
  /* SCTLR: RES1 bits, M (MMU), C (data cache), SA (stack alignment check),
   * I (instruction cache). No alignment checking, no WXN. */
  movz x9, #0x180d
  movk x9, #0x30d0, lsl #16
  msr sctlr_el1, x9
  isb
.endm

/* The identity map has done its job: no more TTBR0 walks until user space
 * gets its own tables. */
.macro TTBR0_OFF
  mrs x9, tcr_el1
  orr x9, x9, #TCR_EPD0
  msr tcr_el1, x9
  msr ttbr0_el1, xzr
  isb
  tlbi vmalle1
  dsb nsh
  isb
.endm

/* ---- the arm64 Image header (64 bytes at the start of the image) ---- */
.section .head.text, "ax"
.global _head
_head:
  b primary_entry          /* code0 */
  .long 0                  /* code1 */
  .quad 0                  /* text_offset: load at the 2 MiB aligned base */
  .quad __kernel_size      /* image_size: the whole image, .bss included */
  .quad 0x2                /* flags: little-endian, 4 KiB pages, base near RAM start */
  .quad 0, 0, 0            /* reserved */
  .ascii "ARM\x64"         /* magic */
  .long 0                  /* no PE/COFF header */

primary_entry:
  /* x0 = DTB (physical). Nothing may touch x0 before it is saved. */
  mrs x9, CurrentEL
  cmp x9, #CURRENT_EL_EL2
  b.ne 1f
  msr cntvoff_el2, xzr     /* the virtual count equals the physical one */
1:
  isb
  mrs x20, cntvct_el0      /* entry_cycles */
  msr daifset, #0xf
  mov x19, x0              /* DTB physical address */
  lsr x21, x9, #2          /* EL at entry, for the boot message */
  cmp x9, #CURRENT_EL_EL2
  b.eq drop_to_el1
  cmp x9, #CURRENT_EL_EL1
  b.eq at_el1
  /* EL3 (or a broken loader): the Image protocol allows only EL2/EL1, and
   * with no UART known yet there is nobody to tell. */
stop:
  wfe
  b stop

drop_to_el1:
  DROP_TO_EL1 at_el1

at_el1:
  mov x9, #CPACR_FPEN
  msr cpacr_el1, x9
  isb

  /* The image base (physical) must be 2 MiB aligned: the kernel is mapped
   * with 2 MiB blocks and linked at a 2 MiB aligned address. */
  adrp x22, _head
  tst x22, #BLOCK_MASK
  b.ne stop

  /* Clear the boot tables (they are not in .bss: see linker.ld). */
  adrp x9, boot_tables_start
  adrp x10, boot_tables_end
3:
  stp xzr, xzr, [x9], #16
  cmp x9, x10
  b.lo 3b

  /* x23 = number of 2 MiB blocks the image needs. */
  mov_abs x9, __kernel_size
  mov x10, #BLOCK_MASK
  add x9, x9, x10
  lsr x23, x9, #BLOCK_SHIFT

  /* TTBR1: k_l0[511] -> k_l1, k_l1[510] -> k_l2, k_l2[i] -> base + i * 2 MiB */
  adrp x9, k_l0
  adrp x10, k_l1
  adrp x11, k_l2
  orr x12, x10, #DESC_TABLE
  str x12, [x9, #511 * 8]
  orr x12, x11, #DESC_TABLE
  str x12, [x10, #510 * 8]
  mov x12, #KERNEL_BLOCK
  orr x12, x12, x22
  mov x13, #0
4:
  str x12, [x11, x13, lsl #3]
  add x12, x12, #(1 << BLOCK_SHIFT)
  add x13, x13, #1
  cmp x13, x23
  b.lo 4b

  /* TTBR0: the same blocks at their physical address. The image must not
   * straddle a 1 GiB boundary (one L2 table). */
  adrp x9, id_l0
  adrp x10, id_l1
  adrp x11, id_l2
  ubfx x14, x22, #39, #9
  orr x12, x10, #DESC_TABLE
  str x12, [x9, x14, lsl #3]
  ubfx x14, x22, #30, #9
  orr x12, x11, #DESC_TABLE
  str x12, [x10, x14, lsl #3]
  ubfx x14, x22, #21, #9
  add x15, x14, x23
  cmp x15, #512
  b.hi stop
  mov x12, #KERNEL_BLOCK
  orr x12, x12, x22
5:
  str x12, [x11, x14, lsl #3]
  add x12, x12, #(1 << BLOCK_SHIFT)
  add x14, x14, #1
  cmp x14, x15
  b.lo 5b

  /* The tables were written with the MMU off (to memory, uncached): drop
   * any stale cache lines over them before the walker reads through the
   * caches. */
  dsb sy
  mrs x9, ctr_el0
  ubfx x9, x9, #16, #4
  mov x10, #4
  lsl x10, x10, x9         /* data cache line size in bytes */
  adrp x9, boot_tables_start
  adrp x11, boot_tables_end
6:
  dc ivac, x9
  add x9, x9, x10
  cmp x9, x11
  b.lo 6b
  dsb sy

  MMU_ON
  mov_abs x9, higher_half
  br x9

.text
higher_half:
  TTBR0_OFF

  /* Zero .bss (a reset reloads the Image but not .bss). DC ZVA zeroes a
   * whole block per instruction when the CPU allows it. */
  adrp x9, __bss_start
  add x9, x9, :lo12:__bss_start
  adrp x10, __bss_end
  add x10, x10, :lo12:__bss_end
  mrs x11, dczid_el0
  tbnz x11, #4, 8f
  and x11, x11, #0xf
  mov x12, #4
  lsl x12, x12, x11        /* DC ZVA block size in bytes */
7:
  dc zva, x9
  add x9, x9, x12
  cmp x9, x10
  b.lo 7b
  b 9f
8:
  stp xzr, xzr, [x9], #16
  cmp x9, x10
  b.lo 8b
9:
  adrp x9, boot_stack_top
  add x9, x9, :lo12:boot_stack_top
  mov sp, x9
  adrp x9, cpu_locals      /* CPU 0's block (smp.c fills it) */
  add x9, x9, :lo12:cpu_locals
  msr tpidr_el1, x9
  adrp x9, exception_vectors
  add x9, x9, :lo12:exception_vectors
  msr vbar_el1, x9
  isb
  mov x0, x19              /* DTB (physical) */
  mov x1, x22              /* image base (physical) */
  mov x2, x20              /* entry_cycles */
  mov x3, x21              /* EL at entry */
  bl arch_main_linux
10:
  wfi
  b 10b

/* Limine: higher half already, Limine's tables, EL1, its stack. */
.global limine_entry
limine_entry:
  msr daifset, #0xf
  isb
  mrs x20, cntvct_el0
  mov x9, #CPACR_FPEN
  msr cpacr_el1, x9
  isb
  adrp x9, boot_stack_top
  add x9, x9, :lo12:boot_stack_top
  mov sp, x9
  adrp x9, cpu_locals
  add x9, x9, :lo12:cpu_locals
  msr tpidr_el1, x9
  adrp x9, exception_vectors
  add x9, x9, :lo12:exception_vectors
  msr vbar_el1, x9
  isb
  mov x0, x20
  bl arch_main_limine
11:
  wfi
  b 11b

/* ---- secondary CPUs ---- */

/* PSCI CPU_ON: physical, MMU off, x0 = the CPU number (context id). */
.global secondary_entry
secondary_entry:
  msr daifset, #0xf
  mov x19, x0
  mrs x9, CurrentEL
  lsr x20, x9, #2          /* EL at entry, for the online message */
  cmp x9, #CURRENT_EL_EL2
  b.ne 12f
  msr cntvoff_el2, xzr     /* the same virtual count as the boot CPU */
  DROP_TO_EL1 secondary_at_el1
12:
  cmp x9, #CURRENT_EL_EL1
  b.ne stop
secondary_at_el1:
  mov x9, #CPACR_FPEN
  msr cpacr_el1, x9
  isb
  MMU_ON
  mov_abs x9, secondary_higher_half
  br x9

secondary_higher_half:
  TTBR0_OFF
  b secondary_common

/* Limine MP: higher half, Limine's tables, EL1, x0 = our limine_mp_info. */
.global limine_secondary_entry
limine_secondary_entry:
  msr daifset, #0xf
  ldr x19, [x0, #LIMINE_MP_EXTRA_ARGUMENT]
  mov x20, #1              /* Limine runs us at EL1 */
  mov x9, #CPACR_FPEN
  msr cpacr_el1, x9
  /* Nothing this CPU cached while parked survives: the kernel has since
   * closed its half to EL0 (APTable) in the shared tables. */
  tlbi vmalle1
  dsb nsh
  isb

/* x19 = the CPU number, x20 its entry EL: its block, its stack, the
 * vectors, then C. */
secondary_common:
  adrp x9, cpu_locals
  add x9, x9, :lo12:cpu_locals
  mov x10, #CPU_LOCAL_BYTES
  madd x9, x19, x10, x9
  msr tpidr_el1, x9
  ldr x10, [x9, #CPU_STACK_TOP]
  mov sp, x10
  adrp x9, exception_vectors
  add x9, x9, :lo12:exception_vectors
  msr vbar_el1, x9
  isb
  mov x29, #0
  mov x30, #0
  mov x0, x19
  mov x1, x20
  bl smp_secondary_main    /* does not return */
13:
  wfi
  b 13b

/* The boot page tables: written with the MMU off, so outside .bss (which
 * is zeroed later, through the MMU). k_l0 stays the TTBR1 root for good. */
.section .boot_tables, "aw", %nobits
.balign 4096
.global boot_tables_start, k_l0
boot_tables_start:
k_l0:  .skip 4096
k_l1:  .skip 4096
k_l2:  .skip 4096
id_l0: .skip 4096
id_l1: .skip 4096
id_l2: .skip 4096
boot_tables_end:

.section .bss
.balign 16
boot_stack: .skip BOOT_STACK_BYTES
.global boot_stack_top
boot_stack_top:
