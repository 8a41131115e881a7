/*
 * User mode on AArch64: EL0 set-up, user address spaces (TTBR0) for the
 * kernel's space_* imports, thread contexts, and the dispatch of every entry
 * from EL0 to the kernel.
 *
 *   EL0 ──svc / fault / IRQ──► vectors.S user_entry (context saved, FP too)
 *        ──► aarch64_user_entry ──► kernel_syscall / kernel_fault / gic (kernel_irq)
 *   every entry ──► user_resume(next tid) ──► user_return (vectors.S) ──► eret to EL0
 *                                  (tid 0) ──► idle loop (WFI) on the kernel stack
 *
 * Address spaces. A space is named by its level-0 table (physical). The
 * kernel half lives in TTBR1 and is shared by construction, so a user root
 * holds only user pages: 4 KiB, EL0-accessible (AP), never executable at EL1
 * (PXN, and PXNTable on the tables above), not global (nG). W+X, Device+X
 * and addresses outside the 48-bit TTBR0 half are refused, as the contract
 * in kernel/arch.ts says.
 *
 * ASIDs, not TLB flushes: each space gets an 8-bit ASID when it is created
 * (ASID 0 is the empty space TTBR0 holds when no user space is loaded), so a
 * switch is one write of TTBR0 (root | ASID << 48) and no invalidation; the
 * eret that follows synchronises it. Destroying a space invalidates its ASID
 * (TLBI ASIDE1IS) before the ASID or its tables are used again. 255 spaces
 * at once is far above kernel/abi.ts MAX_PROCESSES (64); space_create
 * answers 0 (no memory) beyond. ASIDs are global, allocated under the big
 * kernel lock.
 *
 * Several CPUs. Every TLB invalidation here is broadcast (TLBI ...IS, then
 * DSB ISH), so when space_unmap or space_destroy returns no CPU holds the
 * old translation; no IPI is needed (docs/smp.md). One thing a broadcast
 * TLBI cannot cover is a CPU whose TTBR0 still points at a space's tables:
 * it may walk them again (speculatively) after the TLBI, into frames that
 * were freed. So each CPU publishes what its TTBR0 holds (cpu_local.ttbr0,
 * after the write and an ISB), an idle CPU loads the empty space, and
 * space_destroy waits until no other CPU has the space loaded before it
 * invalidates and frees. The kernel never destroys the space of a thread
 * running on another CPU, so that wait only covers the few instructions
 * between a kernel entry's end and that CPU's next TTBR0 write.
 *
 * EL0 may: read the virtual counter and CNTFRQ (CNTKCTL_EL1.EL0VCTEN), use
 * FP/SIMD, read and write TPIDR_EL0 (saved per thread). Everything else
 * privileged traps and kills the thread: physical counter and timers, PMU,
 * debug channel, DAIF, cache maintenance and DC ZVA, CTR_EL0, WFI/WFE, and
 * any access to the kernel half (APTable/UXNTable on the TTBR1 tables).
 */
#include "user.h"

#include <string.h>

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "aarch64.h"
#include "gic.h"
#include "paging.h"
#include "smp.h"
#include "timer.h"
#include "traps.h"

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (3ull << 0)
#define DESC_TYPE_MASK (3ull << 0)
#define DESC_PAGE (3ull << 0)
#define DESC_AP_EL0 (1ull << 6)       /* EL0 may access */
#define DESC_AP_READ_ONLY (1ull << 7)
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_NOT_GLOBAL (1ull << 11)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define DESC_PXN_TABLE (1ull << 59)   /* nothing below is executable at EL1 */
#define DESC_ADDRESS 0x0000FFFFFFFFF000ull

#define USER_TOP (1ull << 48)
#define MAP_WRITE (1u << 0)
#define MAP_EXECUTE (1u << 1)
#define MAP_DEVICE (1u << 2)
#define SPACE_REFUSED (-1)
#define SPACE_NO_MEMORY (-2)
#define PORT_NONE 0xFFFFFFFFu

#define ASID_COUNT 256u
#define ASID_SHIFT 48

#define SCTLR_SA0 (1ull << 4)         /* EL0 stack alignment check */
#define SCTLR_UMA (1ull << 9)         /* EL0 DAIF access */
#define SCTLR_DZE (1ull << 14)        /* EL0 DC ZVA */
#define SCTLR_UCT (1ull << 15)        /* EL0 CTR_EL0 */
#define SCTLR_NTWI (1ull << 16)       /* EL0 WFI not trapped */
#define SCTLR_NTWE (1ull << 18)       /* EL0 WFE not trapped */
#define SCTLR_UCI (1ull << 26)        /* EL0 cache maintenance */
#define CNTKCTL_EL0VCTEN (1ull << 1)  /* EL0 reads CNTVCT_EL0 (and CNTFRQ_EL0) */
#define MDSCR_TDCC (1ull << 12)       /* EL0 debug communications channel traps */
#define TCR_EPD0 (1ull << 7)

#define ESR_EC_SHIFT 26
#define ESR_ISS_MASK 0x1FFFFFFull
#define ISS_FNV (1ull << 10)          /* data abort: FAR not valid */
#define ISS_FSC_MASK 0x3Full
#define FSC_ALIGNMENT 0x21ull

#define VECTOR_SYNC 0u
#define VECTOR_IRQ 1u
#define VECTOR_LOWER_AARCH64 2u

#define UNLOAD_TIMEOUT_US 1000000u

extern __attribute__((noreturn)) void user_return(struct thread_context *context);

_Static_assert(__builtin_offsetof(struct thread_context, x[30]) == 240, "vectors.S CONTEXT_X30");
_Static_assert(__builtin_offsetof(struct thread_context, elr) == 256, "vectors.S CONTEXT_ELR");
_Static_assert(__builtin_offsetof(struct thread_context, spsr) == 264, "vectors.S: elr, spsr are a pair");
_Static_assert(__builtin_offsetof(struct thread_context, tpidr) == 272, "vectors.S CONTEXT_TPIDR");
_Static_assert(__builtin_offsetof(struct thread_context, fpcr) == 288, "vectors.S CONTEXT_FPCR");
_Static_assert(__builtin_offsetof(struct thread_context, q) == 304, "vectors.S CONTEXT_Q");
_Static_assert(sizeof(struct thread_context) % 16 == 0, "SP_EL1 points at a context: 16-byte aligned");

static struct thread_context contexts[MAX_THREADS];
/* asid_root[a]: the space ASID a belongs to; 0: free. */
static uint64_t asid_root[ASID_COUNT];
static uint64_t empty_root;

/* ---- set-up ---- */

/* Everything in the kernel half out of EL0's reach, however it is mapped:
 * APTable (no EL0 access) and UXNTable on every entry of the TTBR1 root.
 * paging.c puts the same bits on the tables it makes later. */
static void kernel_half_close(void) {
  uint64_t *root = paging_table_at(READ_SYSREG(ttbr1_el1) & DESC_ADDRESS);
  for (unsigned i = 0; i < 512; i++)
    if ((root[i] & DESC_TYPE_MASK) == DESC_TABLE) root[i] |= PAGING_TABLE_KERNEL_ONLY;
  __asm__ volatile("dsb ishst; tlbi vmalle1; dsb nsh; isb" ::: "memory");
}

static bool pmu_present(void) {
  uint64_t version = (READ_SYSREG(id_aa64dfr0_el1) >> 8) & 0xF;
  return version != 0 && version != 0xF;
}

/* TTBR0 gets `value` on this CPU, which then says so (cpu_local.ttbr0). */
static void ttbr0_load(uint64_t value) {
  struct cpu_local *cpu = this_cpu();
  if (cpu->ttbr0 == value) return;
  WRITE_SYSREG(ttbr0_el1, value);
  isb();
  __atomic_store_n(&cpu->ttbr0, value, __ATOMIC_RELEASE);
}

void user_init(void) {
  kernel_half_close();
  /* TTBR0 walks go through an empty table under ASID 0 when no space is loaded. */
  empty_root = frame_take();
  if (empty_root == 0) panic("user: no frame for the empty address space");
  asid_root[0] = empty_root;
  user_cpu_init();
}

void user_cpu_init(void) {
  WRITE_SYSREG(cntkctl_el1, CNTKCTL_EL0VCTEN);
  if (pmu_present()) WRITE_SYSREG(pmuserenr_el0, 0);
  WRITE_SYSREG(mdscr_el1, MDSCR_TDCC);
  uint64_t sctlr = READ_SYSREG(sctlr_el1);
  sctlr &= ~(SCTLR_UMA | SCTLR_DZE | SCTLR_UCT | SCTLR_NTWI | SCTLR_NTWE | SCTLR_UCI);
  WRITE_SYSREG(sctlr_el1, sctlr | SCTLR_SA0);
  WRITE_SYSREG(tpidrro_el0, 0);
  WRITE_SYSREG(fpcr, 0);

  /* TTBR0 walks on, through the empty table. */
  WRITE_SYSREG(ttbr0_el1, empty_root);
  isb();
  WRITE_SYSREG(tcr_el1, READ_SYSREG(tcr_el1) & ~TCR_EPD0);
  isb();
  __asm__ volatile("tlbi vmalle1; dsb nsh; isb" ::: "memory");
  __atomic_store_n(&this_cpu()->ttbr0, empty_root, __ATOMIC_RELEASE);
}

/* ---- address spaces (kernel/arch.ts space_*) ---- */

/* The level-3 entry for `virt` in `root`; tables are made when `make`. */
static uint64_t *page_entry(uint64_t root, uint64_t virt, bool make) {
  uint64_t *table = paging_table_at(root);
  for (int level = 0; level < 3; level++) {
    uint64_t *entry = &table[(virt >> (39 - 9 * level)) & 511];
    if (!(*entry & DESC_VALID)) {
      if (!make) return 0;
      uint64_t frame = frame_take();
      if (frame == 0) return 0;
      dsb_ishst();
      *entry = frame | DESC_TABLE | DESC_PXN_TABLE;
    }
    table = paging_table_at(*entry & DESC_ADDRESS);
  }
  return &table[(virt >> 12) & 511];
}

static void flush_page(uint64_t virt) {
  __asm__ volatile("dsb ishst; tlbi vaae1is, %0; dsb ish; isb" ::"r"(virt >> 12) : "memory");
}

static uint32_t asid_of(uint64_t root) {
  for (uint32_t asid = 1; asid < ASID_COUNT; asid++)
    if (asid_root[asid] == root) return asid;
  return 0;
}

uint64_t arch_space_create(void) {
  uint32_t asid = asid_of(0); /* the first free one */
  if (asid == 0) return 0;
  uint64_t root = frame_take();
  if (root != 0) asid_root[asid] = root;
  return root;
}

int32_t arch_space_map(uint64_t root, uint64_t virt, uint64_t phys, uint32_t flags) {
  if (virt >= USER_TOP || (virt & (PAGE_SIZE - 1)) || (phys & (PAGE_SIZE - 1))) return SPACE_REFUSED;
  if ((flags & MAP_EXECUTE) && (flags & (MAP_WRITE | MAP_DEVICE))) return SPACE_REFUSED;
  uint64_t *entry = page_entry(root, virt, true);
  if (!entry) return SPACE_NO_MEMORY;
  uint64_t descriptor = phys | DESC_PAGE | DESC_AF | DESC_AP_EL0 | DESC_NOT_GLOBAL | DESC_PXN;
  descriptor |= (flags & MAP_DEVICE) ? paging_attr_device() : paging_attr_normal() | DESC_SH_INNER;
  if (!(flags & MAP_WRITE)) descriptor |= DESC_AP_READ_ONLY;
  if (!(flags & MAP_EXECUTE)) descriptor |= DESC_UXN;
  bool replacing = *entry & DESC_VALID;
  *entry = descriptor;
  if (replacing) flush_page(virt);
  else dsb_ishst();
  return 0;
}

uint64_t arch_space_unmap(uint64_t root, uint64_t virt) {
  if (virt >= USER_TOP) return 0;
  uint64_t *entry = page_entry(root, virt & ~(PAGE_SIZE - 1), false);
  if (!entry || !(*entry & DESC_VALID)) return 0;
  uint64_t phys = *entry & DESC_ADDRESS;
  *entry = 0;
  flush_page(virt);
  return phys;
}

/* Frees a space's tables bottom up (not the pages: those are the kernel's). */
static void free_tables(uint64_t table_phys, int level) {
  uint64_t *table = paging_table_at(table_phys);
  if (level < 3) {
    for (unsigned i = 0; i < 512; i++)
      if (table[i] & DESC_VALID) free_tables(table[i] & DESC_ADDRESS, level + 1);
  }
  kernel_frame_free(table_phys);
}

/* Waits until no other CPU has `root` in its TTBR0 (see the top of the
 * file); a CPU that keeps it for a second runs a thread of a space being
 * destroyed, which the kernel promises never happens. */
static void wait_unloaded_elsewhere(uint64_t root) {
  uint64_t started = counter_now(), limit = timer_frequency() * UNLOAD_TIMEOUT_US / 1000000u;
  for (uint32_t cpu = 0; cpu < ARCH_MAX_CPUS; cpu++) {
    struct cpu_local *other = &cpu_locals[cpu];
    if (other == this_cpu() || __atomic_load_n(&other->state, __ATOMIC_ACQUIRE) != CPU_ONLINE) continue;
    while ((__atomic_load_n(&other->ttbr0, __ATOMIC_ACQUIRE) & DESC_ADDRESS) == root) {
      if (counter_now() - started > limit) panic("space_destroy: CPU %u still runs in space %p", cpu, (void *)root);
      __asm__ volatile("yield");
    }
  }
}

/* Off every TTBR0 first, then its ASID's TLB entries go everywhere, and
 * only then its tables and the ASID are free for reuse. */
void arch_space_destroy(uint64_t root) {
  uint32_t asid = asid_of(root);
  if (asid == 0) panic("space_destroy: %p is no address space", (void *)root);
  if ((this_cpu()->ttbr0 & DESC_ADDRESS) == root) ttbr0_load(empty_root);
  wait_unloaded_elsewhere(root);
  __asm__ volatile("dsb ishst; tlbi aside1is, %0; dsb ish; isb" ::"r"((uint64_t)asid << ASID_SHIFT) : "memory");
  free_tables(root, 0);
  asid_root[asid] = 0;
}

/* The frame behind a user page with the rights EL0 has on it (write too
 * when asked), or 0; arch/common/space.c copies through it. */
uint64_t arch_user_page(uint64_t root, uint64_t virt, bool write) {
  if (virt >= USER_TOP) return 0;
  uint64_t *entry = page_entry(root, virt, false);
  if (!entry || !(*entry & DESC_VALID) || !(*entry & DESC_AP_EL0)) return 0;
  if (write && (*entry & DESC_AP_READ_ONLY)) return 0;
  return *entry & DESC_ADDRESS;
}

/* ---- threads (kernel/arch.ts thread_start, context_set) ---- */

static struct thread_context *context_of(uint32_t tid) {
  if (tid == 0 || tid >= MAX_THREADS) panic("no context for thread %u", tid);
  return &contexts[tid];
}

/* EL0t with DAIF clear (SPSR 0), x0 = arg, the FP/SIMD registers zero, FPCR
 * 0 (round to nearest, no flush to zero, no traps) and FPSR 0. */
void arch_thread_start(uint32_t tid, uint64_t root, uint64_t entry, uint64_t stack, uint64_t arg) {
  uint32_t asid = asid_of(root);
  if (asid == 0) panic("thread_start: %p is no address space", (void *)root);
  struct thread_context *context = context_of(tid);
  memset(context, 0, sizeof *context);
  context->elr = entry;
  context->sp = stack;
  context->x[0] = arg;
  context->ttbr0 = root | (uint64_t)asid << ASID_SHIFT;
}

/* REG_STATUS is x0; results 0..5 are x1..x6 (kernel/abi.ts). */
void arch_context_set(uint32_t tid, uint32_t reg, uint64_t value) {
  if (reg > 6) panic("context_set: no register %u", reg);
  context_of(tid)->x[reg] = value;
}

/* ---- running threads ---- */

/* On this CPU's kernel stack, with no user space loaded (so no space
 * waits for an idle CPU to leave it). */
static __attribute__((noreturn)) void idle(void) {
  struct cpu_local *cpu = this_cpu();
  cpu->current_tid = 0;
  ttbr0_load(empty_root);
  __asm__ volatile(
      "mov sp, %0\n"
      "1: msr daifclr, #2\n"
      "wfi\n"
      "msr daifset, #2\n"
      "b 1b" ::"r"(cpu->stack_top));
  __builtin_unreachable();
}

void user_resume(uint32_t tid) {
  if (tid == 0) idle();
  struct thread_context *context = context_of(tid);
  uint64_t root = context->ttbr0 & DESC_ADDRESS;
  if (asid_root[context->ttbr0 >> ASID_SHIFT] != root) panic("thread %u runs in a destroyed address space", tid);
  this_cpu()->current_tid = tid;
  ttbr0_load(context->ttbr0);
  user_return(context);
}

static uint32_t abort_kind(uint64_t iss) {
  uint64_t fsc = iss & ISS_FSC_MASK;
  if (fsc == FSC_ALIGNMENT) return FAULT_ALIGNMENT;
  if (fsc < 0x10) return FAULT_PAGE; /* address size, translation, access flag, permission */
  return FAULT_OTHER;                /* external abort, TLB conflict, ... */
}

/* ESR_EL1.EC (and, for aborts, the fault status code) as a FAULT_* kind. */
static uint32_t fault_kind(uint32_t ec, uint64_t iss) {
  switch (ec) {
  case 0x20: case 0x24: return abort_kind(iss);  /* instruction / data abort from EL0 */
  case 0x00: case 0x0E: return FAULT_ILLEGAL;    /* undefined instruction, illegal state */
  case 0x01: case 0x07: case 0x11: case 0x18: return FAULT_PROTECTION; /* WFI/WFE, FP, SVC32, MSR/MRS */
  case 0x22: case 0x26: return FAULT_ALIGNMENT;  /* PC, SP alignment */
  case 0x28: case 0x2C: return FAULT_ARITHMETIC; /* trapped floating point */
  case 0x30: case 0x32: case 0x34: case 0x3C: return FAULT_BREAKPOINT;
  default: return FAULT_OTHER;
  }
}

/* The faulting address where the CPU gives one, else the pc. */
static uint64_t fault_address(uint32_t ec, uint64_t iss, uint64_t elr) {
  if (ec == 0x20 || ec == 0x22 || ec == 0x34 || (ec == 0x24 && !(iss & ISS_FNV))) return READ_SYSREG(far_el1);
  return elr;
}

static uint32_t user_exception(uint32_t tid, struct thread_context *context) {
  uint64_t esr = READ_SYSREG(esr_el1);
  uint32_t ec = (uint32_t)(esr >> ESR_EC_SHIFT) & 0x3F;
  uint64_t iss = esr & ESR_ISS_MASK;
  if (ec == 0x15) {
    const uint64_t *x = context->x;
    return kernel_enter_syscall(tid, (uint32_t)x[8], x[0], x[1], x[2], x[3], x[4], x[5]);
  }
  return kernel_enter_fault(tid, fault_kind(ec, iss), fault_address(ec, iss, context->elr), context->elr, esr);
}

/* From vectors.S user_entry, on the kernel stack, the thread's state saved. */
__attribute__((noreturn)) void aarch64_user_entry(struct thread_context *context, uint64_t vector) {
  uint32_t tid = this_cpu()->current_tid;
  if (context != &contexts[tid] || tid == 0) panic("entry from EL0 with no thread running (context %p)", (void *)context);
  uint32_t next;
  if (vector >> 2 == VECTOR_LOWER_AARCH64 && (vector & 3) == VECTOR_SYNC) next = user_exception(tid, context);
  else if (vector >> 2 == VECTOR_LOWER_AARCH64 && (vector & 3) == VECTOR_IRQ) next = gic_handle_irq(tid);
  else traps_report_user(context, vector); /* FIQ, SError, AArch32: the machine, not the thread */
  user_resume(next);
}

/* ---- devices ---- */

/* No I/O ports on AArch64: reads see nothing, writes go nowhere. */
uint32_t arch_port_in(uint32_t port, uint32_t width) {
  (void)port, (void)width;
  return PORT_NONE;
}

void arch_port_out(uint32_t port, uint32_t width, uint32_t value) { (void)port, (void)width, (void)value; }
