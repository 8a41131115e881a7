/*
 * SMP on x86_64: the per-CPU blocks, starting the application processors,
 * the reschedule and shootdown IPIs, waiting for the big lock, and stopping
 * the machine for a report.
 * The protocol and the vectors are in docs/smp.md "x86_64".
 *
 * Every function that changes shared state here runs inside a kernel entry
 * (the caller holds the big kernel lock), except the answering side of a
 * shootdown, the nap for the lock and the stop, which touch only their own
 * CPU's block and a bit of their own in a mask.
 */
#include "smp.h"

#include <string.h>

#include "../common/arch.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "apic.h"
#include "cpu.h"
#include "paging.h"
#include "user.h"
#include "x86.h"

#define MSR_GS_BASE 0xC0000101
#define PAGE_ADDRESS 0x000FFFFFFFFFF000ull

#define KERNEL_STACK_BYTES (128 * 1024) /* as boot.S's stack for CPU 0 */

/* INIT, 10 ms, SIPI, 200 us, SIPI (Intel SDM vol. 3 "MP initialization"),
 * then up to a second for the AP to arrive: TCG is slow. */
#define INIT_DELAY_NS 10000000ull
#define SIPI_DELAY_NS 200000ull
#define ARRIVAL_TIMEOUT_NS 1000000000ull
/* A CPU that has not answered a shootdown in this long is wedged. */
#define SHOOTDOWN_TIMEOUT_NS 5000000000ull
#define XAPIC_MAX_ID 0xFEu

/* ap_start.S's parameters in the start page. */
struct ap_start_params {
  uint32_t pml4;
  uint32_t reserved;
  uint64_t percpu;
};

/* What Limine gives each CPU (the MP response's entries). */
struct limine_mp_info {
  uint32_t processor_id;
  uint32_t lapic_id;
  uint64_t reserved;
  uint64_t goto_address;   /* the parked CPU jumps here once it is written */
  uint64_t extra_argument;
};

extern uint8_t boot_stack_top[];
extern const uint8_t ap_start[], ap_start_params[], ap_start_end[];
extern void ap_limine_entry(void);
__attribute__((noreturn)) void ap_main(struct percpu *self);

_Static_assert(__builtin_offsetof(struct percpu, kernel_stack_top) == 0, "entry.S, ap_start.S PERCPU_KERNEL_STACK");
_Static_assert(__builtin_offsetof(struct percpu, current_tid) == 24, "entry.S PERCPU_*");
_Static_assert(__builtin_offsetof(struct percpu, current) == 32, "traps.S %gs:32");
_Static_assert(__builtin_offsetof(struct percpu, self) == 40, "this_cpu()");
_Static_assert(__builtin_offsetof(struct percpu, start_state) == 56, "ap_start.S PERCPU_START_STATE");
_Static_assert(__builtin_offsetof(struct limine_mp_info, extra_argument) == 24, "ap_start.S LIMINE_MP_EXTRA_ARGUMENT");

static struct percpu cpus[ARCH_MAX_CPUS];
static uint8_t ap_stacks[ARCH_MAX_CPUS - 1][KERNEL_STACK_BYTES] __attribute__((aligned(16)));
static uint32_t cpus_started = 1;
static uint64_t start_page; /* physical, below 1 MiB; 0 on a Limine boot */
uint64_t ap_kernel_root;    /* ap_start.S loads it on arrival */

/* The shootdown in flight; one at a time, since its sender holds the lock. */
static volatile uint64_t shootdown_root;
static volatile uint64_t shootdown_virt;
static uint64_t shootdowns_sent;
static uint64_t shootdown_ipis;

/* LAPIC id + 1 of the CPU that is stopping the machine; 0 while running. */
static uint32_t stopper;

/* ---- per-CPU blocks ---- */

uint32_t arch_cpu_id(void) { return this_cpu()->cpu; }

static void percpu_enter(struct percpu *self) {
  self->self = self;
  wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)self);
}

void smp_init_boot_cpu(void) {
  cpus[0].kernel_stack_top = (uint64_t)(uintptr_t)boot_stack_top;
  percpu_enter(&cpus[0]);
}

void smp_boot_cpu_online(void) {
  cpus[0].lapic_id = apic_id();
  cpus[0].root = read_cr3() & PAGE_ADDRESS;
  cpus[0].online = 1;
}

void smp_set_start_page(uint64_t phys) { start_page = phys; }

/* The root is recorded before CR3 is written: a shootdown sender that reads
 * the old value may skip this CPU, which flushes the old space's
 * translations by the write itself, before it next runs user code. */
void smp_space_load(uint64_t root) {
  struct percpu *self = this_cpu();
  __atomic_store_n(&self->root, root, __ATOMIC_SEQ_CST);
  if ((read_cr3() & PAGE_ADDRESS) != root) write_cr3(root);
}

static struct percpu *cpu_by_lapic(uint32_t lapic_id) {
  for (uint32_t i = 0; i < ARCH_MAX_CPUS; i++) {
    if (cpus[i].online && cpus[i].lapic_id == lapic_id) return &cpus[i];
  }
  return 0;
}

/* ---- starting an application processor ---- */

/* Runs on the new CPU, on its own kernel stack, with the kernel's tables. */
void ap_main(struct percpu *self) {
  percpu_enter(self);
  cpu_init(self->cpu, self->kernel_stack_top);
  apic_init_ap();
  user_init();
  /* Its own id, not the one it was started by: the two agree unless a CPU
   * that came too late took this start (ap_start.S). */
  self->lapic_id = apic_id();
  __atomic_store_n(&self->root, ap_kernel_root, __ATOMIC_SEQ_CST);
  __atomic_store_n(&self->online, 1, __ATOMIC_RELEASE);
  user_resume(kernel_enter_cpu(self->cpu));
}

static void delay_ns(uint64_t ns) {
  uint64_t end = arch_time_ns() + ns;
  while (arch_time_ns() < end) cpu_pause();
}

static bool arrived(const struct percpu *target) {
  return __atomic_load_n(&target->start_state, __ATOMIC_ACQUIRE) != START_ARMED;
}

/* Until the CPU claims its start or the deadline passes; then the start is
 * withdrawn, and a CPU that comes later halts on arrival. */
static int32_t arrival_wait(struct percpu *target, uint64_t deadline) {
  while (!arrived(target)) {
    if (arch_time_ns() > deadline) {
      uint32_t armed = START_ARMED;
      if (__atomic_compare_exchange_n(&target->start_state, &armed, START_ABANDONED, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE))
        return -1;
    }
    cpu_pause();
  }
  /* Arrived: its set-up is a few hundred instructions, and a fault there
   * panics, so this does not need a deadline. */
  while (!__atomic_load_n(&target->online, __ATOMIC_ACQUIRE)) cpu_pause();
  cpus_started++;
  return 0;
}

static void percpu_arm(uint32_t cpu) {
  struct percpu *target = &cpus[cpu];
  target->cpu = cpu;
  target->kernel_stack_top = (uint64_t)(uintptr_t)(ap_stacks[cpu - 1] + KERNEL_STACK_BYTES);
  ap_kernel_root = paging_kernel_root();
  __atomic_store_n(&target->start_state, START_ARMED, __ATOMIC_RELEASE);
}

static int32_t start_by_sipi(uint32_t cpu, uint32_t lapic_id) {
  uint64_t pml4 = paging_ap_start_root();
  if (pml4 >= (1ull << 32)) return -1; /* a 32-bit CR3 cannot hold it */
  percpu_arm(cpu);
  uint8_t *page = arch_phys_to_virt(start_page);
  memcpy(page, ap_start, (size_t)(ap_start_end - ap_start));
  struct ap_start_params *params = (struct ap_start_params *)(page + (ap_start_params - ap_start));
  params->pml4 = (uint32_t)pml4;
  params->percpu = (uint64_t)(uintptr_t)&cpus[cpu];

  uint64_t begin = arch_time_ns();
  apic_send_ipi(lapic_id, IPI_INIT);
  delay_ns(INIT_DELAY_NS);
  for (int i = 0; i < 2; i++) {
    apic_send_ipi(lapic_id, IPI_STARTUP((uint32_t)(start_page >> 12)));
    delay_ns(SIPI_DELAY_NS);
  }
  return arrival_wait(&cpus[cpu], begin + ARRIVAL_TIMEOUT_NS);
}

/* Limine parked the CPU polling its goto_address. Untested: Limine cannot
 * be booted in this project's CI (docs/smp.md). */
static int32_t start_by_limine(uint32_t cpu, struct limine_mp_info *info) {
  percpu_arm(cpu);
  __atomic_store_n(&info->extra_argument, (uint64_t)(uintptr_t)&cpus[cpu], __ATOMIC_RELAXED);
  __atomic_store_n(&info->goto_address, (uint64_t)(uintptr_t)ap_limine_entry, __ATOMIC_RELEASE);
  return arrival_wait(&cpus[cpu], arch_time_ns() + ARRIVAL_TIMEOUT_NS);
}

int32_t arch_cpu_start(uint32_t cpu, uint32_t method, uint64_t hwid, uint64_t handle) {
  uint32_t self = this_cpu()->lapic_id;
  if (method == CPU_START_SIPI) {
    if (hwid == self) return 1;
    if (start_page == 0) return -2; /* no start page: not a Multiboot2 boot */
    /* An INIT would reset a CPU that is already running. */
    if (hwid > XAPIC_MAX_ID || cpus[cpu].online || cpu_by_lapic((uint32_t)hwid)) return -1;
    return start_by_sipi(cpu, (uint32_t)hwid);
  }
  if (method == CPU_START_LIMINE) {
    struct limine_mp_info *info = (struct limine_mp_info *)(uintptr_t)handle;
    if (info == 0) return -1;
    if (info->lapic_id == self) return 1;
    if (cpus[cpu].online || cpu_by_lapic(info->lapic_id)) return -1;
    return start_by_limine(cpu, info);
  }
  return -2;
}

/* ---- reschedule ---- */

void arch_cpu_kick(uint32_t cpu) {
  struct percpu *target = &cpus[cpu];
  if (!__atomic_load_n(&target->online, __ATOMIC_ACQUIRE) || target == this_cpu()) return;
  apic_send_ipi(target->lapic_id, IPI_FIXED(KICK_VECTOR));
}

uint32_t smp_kick_interrupt(void) {
  apic_eoi();
  return kernel_enter_irq(IRQ_RESCHEDULE);
}

/* ---- TLB shootdown ----
 * The sender (holding the big lock) publishes the request, marks each
 * online CPU that has `root` loaded, sends each an IPI and waits until
 * every mark is cleared. A target answers in the IPI's handler, or, when
 * it is spinning for the big lock with interrupts off, in arch_lock_wait;
 * the IPI then finds nothing left to do. */

/* Drops this CPU's translation of the request, if it has `root` loaded. */
static void tlb_drop(uint64_t root, uint64_t virt) {
  if ((read_cr3() & PAGE_ADDRESS) != root) return;
  if (virt == SHOOTDOWN_SPACE) smp_space_load(paging_kernel_root());
  else invlpg(virt);
}

static void shootdown_answer(void) {
  struct percpu *self = this_cpu();
  if (!__atomic_load_n(&self->shootdown_pending, __ATOMIC_ACQUIRE)) return;
  tlb_drop(shootdown_root, shootdown_virt);
  __atomic_store_n(&self->shootdown_pending, 0, __ATOMIC_RELEASE);
}

void smp_shootdown(uint64_t root, uint64_t virt) {
  tlb_drop(root, virt);
  if (cpus_started == 1) return;
  struct percpu *self = this_cpu();
  shootdown_root = root;
  shootdown_virt = virt;
  /* The page-table store before the reads of the other CPUs' roots (their
   * side: smp_space_load). */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  uint32_t targets = 0;
  for (uint32_t i = 0; i < ARCH_MAX_CPUS; i++) {
    struct percpu *other = &cpus[i];
    if (other == self || !__atomic_load_n(&other->online, __ATOMIC_ACQUIRE)) continue;
    if (__atomic_load_n(&other->root, __ATOMIC_SEQ_CST) != root) continue;
    __atomic_store_n(&other->shootdown_pending, 1, __ATOMIC_RELEASE);
    apic_send_ipi(other->lapic_id, IPI_FIXED(SHOOTDOWN_VECTOR));
    targets |= 1u << i;
    shootdown_ipis++;
  }
  if (targets == 0) return;
  shootdowns_sent++;
  uint64_t deadline = arch_time_ns() + SHOOTDOWN_TIMEOUT_NS;
  for (uint32_t i = 0; i < ARCH_MAX_CPUS; i++) {
    if (!(targets & (1u << i))) continue;
    while (__atomic_load_n(&cpus[i].shootdown_pending, __ATOMIC_ACQUIRE)) {
      if (arch_time_ns() > deadline) panic("TLB shootdown: CPU %u did not answer", i);
      cpu_pause();
    }
  }
}

void smp_shootdown_interrupt(void) {
  apic_eoi();
  shootdown_answer();
}

/* ---- waiting for the big lock ----
 * A CPU that has waited NAP_AFTER_NS naps in hlt with interrupts on, so
 * that under a hypervisor (QEMU TCG above all) it gives its host CPU to the
 * one that holds the lock instead of spinning against it. A nap ends with
 * any interrupt: its tick, a shootdown (answered at once), or the wake IPI
 * that every CPU sends to the nappers on its way out of the kernel. It
 * cannot enter the kernel while it waits (it would take a second ticket),
 * so a tick or a kick that comes meanwhile is EOIed, noted, and raised
 * again as a self-IPI once it leaves the kernel. The wake can be missed if
 * the lock is released between the spin loop's last look and the nap; the
 * nap then lasts until the next exit from the kernel on any CPU or this
 * CPU's tick. */

#define NAP_AFTER_NS 50000ull
#define DEFERRED_TICK (1u << 0)
#define DEFERRED_KICK (1u << 1)

static uint32_t nappers; /* bit per CPU */

void arch_lock_wait(void) {
  struct percpu *self = this_cpu();
  shootdown_answer();
  uint64_t now = arch_time_ns();
  if (self->lock_wait_since == 0) self->lock_wait_since = now;
  if (now - self->lock_wait_since < NAP_AFTER_NS) {
    cpu_pause();
    return;
  }
  self->lock_napping = 1;
  __atomic_fetch_or(&nappers, 1u << self->cpu, __ATOMIC_SEQ_CST);
  __asm__ volatile("sti; hlt; cli" ::: "memory");
  __atomic_fetch_and(&nappers, ~(1u << self->cpu), __ATOMIC_SEQ_CST);
  self->lock_napping = 0;
}

bool smp_nap_interrupt(uint64_t vector) {
  struct percpu *self = this_cpu();
  if (!self->lock_napping) return false;
  if (vector == SPURIOUS_VECTOR) return true;
  apic_eoi();
  if (vector == TIMER_VECTOR) self->deferred |= DEFERRED_TICK;
  else if (vector == KICK_VECTOR) self->deferred |= DEFERRED_KICK;
  else if (vector == SHOOTDOWN_VECTOR) shootdown_answer();
  return true;
}

void smp_kernel_left(void) {
  struct percpu *self = this_cpu();
  self->lock_wait_since = 0;
  if (self->deferred) {
    /* Pending until this CPU next enables interrupts: in user mode or idle. */
    if (self->deferred & DEFERRED_TICK) apic_send_ipi(self->lapic_id, IPI_FIXED(TIMER_VECTOR));
    if (self->deferred & DEFERRED_KICK) apic_send_ipi(self->lapic_id, IPI_FIXED(KICK_VECTOR));
    self->deferred = 0;
  }
  uint32_t sleeping = __atomic_load_n(&nappers, __ATOMIC_SEQ_CST) & ~(1u << self->cpu);
  for (uint32_t i = 0; sleeping != 0; i++, sleeping >>= 1) {
    if (sleeping & 1) apic_send_ipi(cpus[i].lapic_id, IPI_FIXED(WAKE_VECTOR));
  }
}

/* ---- stopping the machine for a report ----
 * Nothing here reads %gs: an NMI or exception may land where GS is the
 * user's. The CPU is told by its LAPIC id; before the LAPIC is up there is
 * only the boot CPU. */

static bool lapic_ready(void) { return cpus[0].online; }

uint32_t smp_cpu_for_report(void) {
  struct percpu *cpu = lapic_ready() ? cpu_by_lapic(apic_id()) : 0;
  return cpu ? cpu->cpu : 0;
}

bool smp_stopping(void) { return __atomic_load_n(&stopper, __ATOMIC_ACQUIRE) != 0; }

bool smp_stop_others(void) {
  if (!lapic_ready()) return true;
  uint32_t me = apic_id() + 1;
  uint32_t none = 0;
  if (!__atomic_compare_exchange_n(&stopper, &none, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return none == me;
  for (uint32_t i = 0; i < ARCH_MAX_CPUS; i++) {
    if (cpus[i].online && cpus[i].lapic_id + 1 != me) apic_send_ipi(cpus[i].lapic_id, IPI_NMI);
  }
  return true;
}

void smp_report(void) {
  if (cpus_started == 1) return;
  kprintf("smp: %u CPUs; %lu TLB shootdowns by IPI (%lu IPIs)\n", cpus_started, shootdowns_sent, shootdown_ipis);
}
