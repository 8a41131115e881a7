/*
 * SMP on AArch64: the per-CPU blocks, starting secondary CPUs, kicking
 * them, and stopping them all when one CPU stops the machine.
 *
 * Start-up of CPU n (arch_cpu_start, on the boot CPU inside a kernel
 * entry, so under the big kernel lock):
 *
 *   boot CPU                                  CPU n
 *   find n's redistributor (gic.c)
 *   block n: stack, MPIDR, STARTING
 *   PSCI CPU_ON(MPIDR, secondary_entry ──────► boot.S secondary_entry (MMU off,
 *               physical, context id n)          EL2 or EL1): EL2 → EL1, FP on,
 *                                                MMU on with the kernel's tables,
 *                                                stack and TPIDR_EL1 from block n,
 *                                                VBAR → smp_secondary_main(n):
 *                                                GIC redistributor and CPU interface,
 *                                                timer off, EL0 controls, TTBR0 empty
 *   waits (bounded) for ONLINE ◄──────────────── STARTING → ONLINE
 *   returns 0; the kernel entry ends           kernel_enter_cpu(n) (waits for the
 *                                                lock) → its first thread or idle
 *
 * A CPU that reports after the boot CPU gave up (CPU_ABANDONED) stops
 * itself instead of joining: the kernel already counted it as absent.
 *
 * Limine MP (CPU_START_LIMINE): the CPU is already running, parked by
 * Limine with the MMU on; writing goto_address sends it to
 * limine_secondary_entry with x0 = its limine_mp_info.
 */
#include "smp.h"

#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "gic.h"
#include "psci.h"
#include "timer.h"
#include "user.h"

#define CPU_STACK_BYTES (128 * 1024) /* as boot.S BOOT_STACK_BYTES: any CPU runs the kernel */
#define START_TIMEOUT_US 1000000u    /* ~1 s: TCG is slow to start a vCPU */
#define LOCK_SPIN_US 20u             /* a wait for the big lock spins this long, */
#define LOCK_NAP_US 50u              /* then naps this long at a time */

#define START_ONLINE 0
#define START_IS_CALLER 1
#define START_FAILED (-1)
#define START_UNSUPPORTED (-2)

/* struct limine_mp_info on AArch64 (Limine protocol, base revision 2). */
struct limine_mp_info {
  uint32_t processor_id;
  uint32_t reserved1;
  uint64_t mpidr;
  uint64_t reserved;
  uint64_t goto_address;   /* written atomically: the parked CPU jumps */
  uint64_t extra_argument; /* our CPU number, for limine_secondary_entry */
};

_Static_assert(__builtin_offsetof(struct cpu_local, stack_top) == 0, "vectors.S, boot.S CPU_STACK_TOP");
_Static_assert(sizeof(struct cpu_local) == 64, "boot.S CPU_LOCAL_BYTES");
_Static_assert(__builtin_offsetof(struct limine_mp_info, extra_argument) == 32, "boot.S LIMINE_MP_EXTRA_ARGUMENT");

extern uint8_t boot_stack_top[];
extern char secondary_entry[], limine_secondary_entry[];

struct cpu_local cpu_locals[ARCH_MAX_CPUS];
/* CPU 0 keeps boot.S's stack; CPU n > 0 gets cpu_stacks[n - 1]. */
static uint8_t cpu_stacks[ARCH_MAX_CPUS - 1][CPU_STACK_BYTES] __attribute__((aligned(16)));
static bool psci_entry_ok;
static uint32_t cpus_started;            /* secondaries that came online */
static volatile uint32_t stopping_cpu;   /* 1 + the CPU stopping the machine; 0: none */

uint32_t arch_cpu_id(void) { return this_cpu()->number; }

void smp_boot_cpu_init(bool psci_entry) {
  struct cpu_local *cpu = this_cpu();
  cpu->stack_top = (uint64_t)(uintptr_t)boot_stack_top;
  cpu->number = 0;
  cpu->mpidr = READ_SYSREG(mpidr_el1) & MPIDR_AFFINITY;
  cpu->state = CPU_ONLINE;
  psci_entry_ok = psci_entry;
}

/* ---- start-up ---- */

static const char *psci_error(int64_t status) {
  switch (status) {
  case PSCI_NOT_SUPPORTED: return "not supported";
  case PSCI_INVALID_PARAMETERS: return "invalid parameters (no such MPIDR)";
  case PSCI_DENIED: return "denied";
  case PSCI_ALREADY_ON: return "already on";
  case PSCI_ON_PENDING: return "already being turned on";
  case PSCI_INTERNAL_FAILURE: return "internal failure";
  case PSCI_INVALID_ADDRESS: return "invalid entry address";
  default: return "unknown error";
  }
}

/* Waits for CPU `cpu` to report online, at most START_TIMEOUT_US. On a
 * timeout the CPU is marked abandoned, unless it made it just then. */
static int32_t wait_online(uint32_t cpu, uint64_t started) {
  struct cpu_local *block = &cpu_locals[cpu];
  uint64_t limit = timer_frequency() * START_TIMEOUT_US / 1000000u;
  while (__atomic_load_n(&block->state, __ATOMIC_ACQUIRE) == CPU_STARTING && counter_now() - started < limit)
    __asm__ volatile("yield");
  uint32_t expected = CPU_STARTING;
  if (__atomic_compare_exchange_n(&block->state, &expected, CPU_ABANDONED, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    kprintf("smp: CPU %u (MPIDR %lx) did not come up within %u ms\n", cpu, block->mpidr, START_TIMEOUT_US / 1000);
    return START_FAILED;
  }
  cpus_started++;
  uint64_t us = (counter_now() - started) * 1000000u / timer_frequency();
  kprintf("smp: CPU %u (MPIDR %lx) online in %lu us, entered at EL%u\n", cpu, block->mpidr, us, block->entry_el);
  return START_ONLINE;
}

/* Fills block `cpu` for a CPU about to start; false when it cannot be
 * (already used, no redistributor). */
static bool block_prepare(uint32_t cpu, uint64_t mpidr) {
  struct cpu_local *block = &cpu_locals[cpu];
  if (block->state != CPU_OFFLINE) {
    kprintf("smp: CPU %u was started before\n", cpu);
    return false;
  }
  if (!gic_cpu_prepare(cpu, mpidr)) return false;
  block->stack_top = (uint64_t)(uintptr_t)(cpu_stacks[cpu - 1] + CPU_STACK_BYTES);
  block->number = cpu;
  block->current_tid = 0;
  block->mpidr = mpidr;
  block->ttbr0 = 0;
  __atomic_store_n(&block->state, CPU_STARTING, __ATOMIC_RELEASE);
  return true;
}

static int32_t start_psci(uint32_t cpu, bool smc, uint64_t mpidr) {
  /* The PSCI entry turns the MMU on with boot.S's tables, which only the
   * Linux Image path builds. */
  if (!psci_entry_ok) return START_UNSUPPORTED;
  if (!block_prepare(cpu, mpidr)) return START_FAILED;
  uint64_t started = counter_now();
  int64_t status = psci_call(smc, PSCI_CPU_ON, mpidr, arch_kernel_virt_to_phys(secondary_entry), cpu);
  if (status != PSCI_SUCCESS) {
    cpu_locals[cpu].state = CPU_OFFLINE;
    kprintf("smp: PSCI CPU_ON for CPU %u (MPIDR %lx): %s (%ld)\n", cpu, mpidr, psci_error(status), status);
    return START_FAILED;
  }
  return wait_online(cpu, started);
}

/* Untested: no Limine binaries here. */
static int32_t start_limine(uint32_t cpu, uint64_t handle) {
  struct limine_mp_info *info = (struct limine_mp_info *)(uintptr_t)handle;
  if (info == 0) return START_FAILED;
  uint64_t mpidr = info->mpidr & MPIDR_AFFINITY;
  if (mpidr == this_cpu()->mpidr) return START_IS_CALLER;
  if (!block_prepare(cpu, mpidr)) return START_FAILED;
  uint64_t started = counter_now();
  info->extra_argument = cpu;
  __atomic_store_n(&info->goto_address, (uint64_t)(uintptr_t)limine_secondary_entry, __ATOMIC_RELEASE);
  __asm__ volatile("dsb ish; sev" ::: "memory"); /* in case the parked CPU waits in WFE */
  return wait_online(cpu, started);
}

int32_t arch_cpu_start(uint32_t cpu, uint32_t method, uint64_t hwid, uint64_t handle) {
  if (method == CPU_START_LIMINE) return start_limine(cpu, handle);
  if (method != CPU_START_PSCI_HVC && method != CPU_START_PSCI_SMC) return START_UNSUPPORTED;
  uint64_t mpidr = hwid & MPIDR_AFFINITY;
  if (mpidr == this_cpu()->mpidr) return START_IS_CALLER;
  return start_psci(cpu, method == CPU_START_PSCI_SMC, mpidr);
}

/* From boot.S, on CPU `cpu`'s own stack, TPIDR_EL1 and VBAR_EL1 set, the
 * MMU on; interrupts masked. */
__attribute__((noreturn)) void smp_secondary_main(uint32_t cpu, uint64_t entry_el) {
  struct cpu_local *self = this_cpu();
  self->entry_el = (uint32_t)entry_el;
  gic_cpu_init();
  timer_cpu_init();
  user_cpu_init();
  uint32_t expected = CPU_STARTING;
  if (!__atomic_compare_exchange_n(&self->state, &expected, CPU_ONLINE, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    smp_halt_here(); /* too late: the kernel went on without this CPU */
  user_resume(kernel_enter_cpu(cpu));
}

/* ---- kicks, the lock, stopping ---- */

void arch_cpu_kick(uint32_t cpu) {
  if (cpu >= ARCH_MAX_CPUS || cpu == arch_cpu_id()) return;
  if (__atomic_load_n(&cpu_locals[cpu].state, __ATOMIC_ACQUIRE) != CPU_ONLINE) return;
  gic_send_sgi(cpu_locals[cpu].mpidr, SGI_RESCHEDULE);
}

static uint64_t counts_of_us(uint64_t us) { return timer_frequency() * us / 1000000u; }

/* Nothing to service for the holder: TLB maintenance is broadcast by the
 * hardware (docs/smp.md). A stopping machine ends the wait. A long wait
 * naps in WFI (the physical timer as alarm) instead of spinning: under
 * TCG with more vCPUs than free host cores, spinners take the host time
 * the holder and the next in line need (docs/smp.md, "Waiting for the big
 * lock"). A call long after the previous one begins a new wait. */
void arch_lock_wait(void) {
  if (stopping_cpu != 0) smp_halt_here();
  struct cpu_local *self = this_cpu();
  uint64_t now = counter_now();
  if (now - self->lock_wait_last > counts_of_us(LOCK_SPIN_US)) self->lock_wait_start = now;
  if (gic_can_nap() && now - self->lock_wait_start > counts_of_us(LOCK_SPIN_US)) {
    gic_nap_mask(true);
    timer_nap(now + counts_of_us(LOCK_NAP_US));
    gic_nap_mask(false);
    now = counter_now();
  } else {
    __asm__ volatile("yield");
  }
  self->lock_wait_last = now;
}

void smp_halt_here(void) {
  for (;;) __asm__ volatile("msr daifset, #0xf; wfi");
}

bool smp_stop_others(void) {
  uint32_t me = arch_cpu_id() + 1, expected = 0;
  if (!__atomic_compare_exchange_n(&stopping_cpu, &expected, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return expected == me;
  if (cpus_started > 0) gic_send_sgi_others(SGI_HALT);
  return true;
}
