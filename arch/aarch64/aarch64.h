/* AArch64 system registers and barriers the trampoline needs, as inline
 * functions. GICv3 CPU-interface registers are named by their encodings
 * (S3_<op1>_<CRn>_<CRm>_<op2>) so any assembler takes them. */
#ifndef CAMOS_AARCH64_H
#define CAMOS_AARCH64_H

#include <stdint.h>

#define READ_SYSREG(name)                                \
  ({                                                     \
    uint64_t value_;                                     \
    __asm__ volatile("mrs %0, " #name : "=r"(value_));   \
    value_;                                              \
  })
#define WRITE_SYSREG(name, value) __asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(value)) : "memory")

/* GICv3 CPU interface (EL1). */
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_BPR1_EL1 S3_0_C12_C12_3
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void dsb_sy(void) { __asm__ volatile("dsb sy" ::: "memory"); }
/* Makes page-table writes visible to the table walker. */
static inline void dsb_ishst(void) { __asm__ volatile("dsb ishst" ::: "memory"); }

/* The virtual count: CNTVCT_EL0, after an isb so it is not read early. */
static inline uint64_t counter_now(void) {
  isb();
  return READ_SYSREG(cntvct_el0);
}

static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
