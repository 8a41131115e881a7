/*
 * GICv3 interrupt routing, and the one place interrupts enter the kernel.
 *
 * Per CPU, in its own redistributor: the EL1 virtual timer (a PPI) and two
 * SGIs, SGI_RESCHEDULE (arch_cpu_kick → kernel_irq(IRQ_RESCHEDULE)) and
 * SGI_HALT (another CPU stopped the machine). Once, in the distributor: the
 * console UART's receive interrupt (an SPI), routed by affinity to CPU 0.
 * All are Non-secure Group 1, which the CPU takes as IRQ and acknowledges
 * through ICC_IAR1_EL1. Affinity routing is on (ARE), as GICv3 wants.
 *
 *   distributor   GICD_CTLR, IGROUPR, IPRIORITYR, ICFGR, IROUTER, IS/ICENABLER
 *   redistributor (RD frame) GICR_TYPER (affinity, Last), GICR_WAKER
 *                 (SGI frame, +64 KiB) GICR_IGROUPR0, IPRIORITYR, ISENABLER0
 *   CPU interface ICC_SRE, PMR, BPR1, CTLR, IGRPEN1; ICC_SGI1R to send SGIs
 *
 * Redistributors are found by walking the region's frames and matching
 * GICR_TYPER's affinity to the CPU's MPIDR; the walk maps one page per
 * frame, once, and is done on the boot CPU (gic_cpu_prepare) before a
 * secondary starts, so a secondary maps nothing itself.
 *
 * The UART line is level-sensitive and stays up while received bytes wait.
 * The kernel either drains the UART itself (its own shell, through
 * console_read) or signals the service that owns it, which drains it later,
 * from user mode. In that case the line is still up when the kernel entry
 * returns: it is then masked at the distributor, so it cannot storm, until
 * the service acknowledges it (SYS_IRQ_ACK → arch_irq_ack) or a later entry
 * finds the UART drained. While it is masked, each tick looks at the UART
 * and enters the kernel if bytes wait (as x86_64, which polls at every
 * tick), so nothing is stranded if no acknowledgement ever comes. The
 * trampoline itself never reads a received byte.
 */
#include "gic.h"

#include "../common/arch.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "aarch64.h"
#include "paging.h"
#include "pl011.h"
#include "smp.h"
#include "timer.h"

#define GICD_CTLR 0x0000
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0C00
#define GICD_IROUTER 0x6000
#define GICD_MAP_BYTES 0x10000

#define GICD_CTLR_RWP (1u << 31)
/* Bits 0, 1, 4: EnableGrp1NS, EnableGrp1A, ARE_NS in the Non-secure view of
 * a GIC with two security states; EnableGrp0, EnableGrp1, ARE in a GIC with
 * one (QEMU virt without EL3). */
#define GICD_CTLR_ENABLE 0x13u

#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SGI_FRAME 0x10000
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400
#define GICR_FRAME_BYTES 0x20000       /* RD + SGI frames (GICv3) */
#define GICR_FRAME_BYTES_VLPI 0x40000  /* plus VLPI + reserved (GICv4) */
#define GICR_TYPER_VLPIS (1u << 1)
#define GICR_TYPER_LAST (1u << 4)
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)

#define ICC_SRE_SRE 1u
#define ICC_SGI1R_EL1 S3_0_C12_C11_5
#define SGI1R_INTID_SHIFT 24
#define SGI1R_AFF1_SHIFT 16
#define SGI1R_AFF2_SHIFT 32
#define SGI1R_IRM (1ull << 40)          /* every PE but this one */
#define SGI1R_RS_SHIFT 44
#define SGI1R_AFF3_SHIFT 48
#define INTID_SPURIOUS_FIRST 1020u
#define PRIORITY 0xA0u
/* Higher (numerically lower) than PRIORITY: a CPU waiting for the big lock
 * inside the UART's handler has that interrupt active, which holds back
 * every interrupt of PRIORITY, also as a WFI wake-up; the nap's alarm must
 * still get through. */
#define PRIORITY_NAP 0x80u
#define PMR_ALL 0xFFu                  /* every priority passes */
#define PMR_NAP 0x90u                  /* the nap's alarm passes, nothing of PRIORITY */
#define SPIN_LIMIT 1000000u
#define MAX_REDISTRIBUTORS 64u          /* frames walked; a CPU beyond them cannot start */

/* A redistributor frame seen by the walk: its affinity and its RD page. */
struct redistributor {
  uint32_t affinity;
  uint64_t phys;
  volatile uint8_t *rd;
};

static volatile uint8_t *gicd;
static struct fdt_range gicr_region;
static struct redistributor redistributors[MAX_REDISTRIBUTORS];
static unsigned redistributors_seen;
static uint64_t walk_offset;           /* next frame to look at */
static bool walk_done;
/* Each CPU's RD and SGI pages, filled by gic_cpu_prepare. */
static volatile uint8_t *cpu_rd[ARCH_MAX_CPUS];
static volatile uint8_t *cpu_sgi[ARCH_MAX_CPUS];
static uint32_t timer_intid;
static uint32_t nap_intid;             /* the physical timer, for lock-wait naps; 0: none */
static uint32_t uart_intid;
/* The UART line's mask state: changed by CPU 0 after a console entry and by
 * whichever CPU runs the owner's irq_ack, so under uart_lock. */
static bool uart_masked;
static volatile uint32_t uart_lock;

static uint32_t read32(volatile uint8_t *base, uint32_t offset) { return *(volatile uint32_t *)(base + offset); }
static void write32(volatile uint8_t *base, uint32_t offset, uint32_t value) { *(volatile uint32_t *)(base + offset) = value; }

static void distributor_wait(void) {
  for (uint32_t i = 0; read32(gicd, GICD_CTLR) & GICD_CTLR_RWP; i++)
    if (i == SPIN_LIMIT) panic("gic: distributor register write never completed");
}

/* Aff3.Aff2.Aff1.Aff0, as GICR_TYPER[63:32] holds it. */
static uint32_t affinity_of(uint64_t mpidr) { return (uint32_t)(((mpidr >> 32) & 0xFF) << 24 | (mpidr & 0xFFFFFF)); }

/* The redistributor whose affinity is `affinity`, walking (and mapping the
 * RD page of) frames not seen yet; 0 when there is none. */
static struct redistributor *redistributor_find(uint32_t affinity) {
  for (unsigned i = 0; i < redistributors_seen; i++)
    if (redistributors[i].affinity == affinity) return &redistributors[i];
  while (!walk_done && redistributors_seen < MAX_REDISTRIBUTORS && walk_offset + GICR_FRAME_BYTES <= gicr_region.size) {
    struct redistributor *r = &redistributors[redistributors_seen++];
    r->phys = gicr_region.base + walk_offset;
    r->rd = paging_map_mmio(r->phys, PAGE_SIZE);
    uint64_t typer = *(volatile uint64_t *)(r->rd + GICR_TYPER);
    r->affinity = (uint32_t)(typer >> 32);
    walk_offset += (typer & GICR_TYPER_VLPIS) ? GICR_FRAME_BYTES_VLPI : GICR_FRAME_BYTES;
    if (typer & GICR_TYPER_LAST) walk_done = true;
    if (r->affinity == affinity) return r;
  }
  return 0;
}

bool gic_cpu_prepare(uint32_t cpu, uint64_t mpidr) {
  struct redistributor *r = redistributor_find(affinity_of(mpidr));
  if (!r) {
    kprintf("gic: no redistributor for MPIDR %lx in %p (+%lx)\n", mpidr, (void *)gicr_region.base, gicr_region.size);
    return false;
  }
  if (cpu_rd[cpu] != r->rd) {
    cpu_rd[cpu] = r->rd;
    cpu_sgi[cpu] = paging_map_mmio(r->phys + GICR_SGI_FRAME, PAGE_SIZE);
  }
  return true;
}

static void redistributor_wake(volatile uint8_t *rd) {
  write32(rd, GICR_WAKER, read32(rd, GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
  for (uint32_t i = 0; read32(rd, GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP; i++)
    if (i == SPIN_LIMIT) panic("gic: redistributor does not wake up");
}

/* A PPI or SGI in this CPU's SGI frame. */
static void enable_private(volatile uint8_t *sgi_frame, uint32_t intid, uint8_t priority) {
  write32(sgi_frame, GICR_IGROUPR0, read32(sgi_frame, GICR_IGROUPR0) | (1u << intid));
  sgi_frame[GICR_IPRIORITYR + intid] = priority;
  write32(sgi_frame, GICR_ISENABLER0, 1u << intid);
}

static void enable_spi(uint32_t intid) {
  uint32_t word = intid / 32, bit = 1u << (intid % 32);
  write32(gicd, GICD_IGROUPR + 4 * word, read32(gicd, GICD_IGROUPR + 4 * word) | bit);
  gicd[GICD_IPRIORITYR + intid] = PRIORITY;
  uint32_t config = GICD_ICFGR + 4 * (intid / 16);
  write32(gicd, config, read32(gicd, config) & ~(2u << (2 * (intid % 16)))); /* level-sensitive */
  uint64_t mpidr = READ_SYSREG(mpidr_el1);
  *(volatile uint64_t *)(gicd + GICD_IROUTER + 8 * intid) = mpidr & 0xFF00FFFFFFull; /* Aff3..Aff0, IRM = 0 */
  write32(gicd, GICD_ISENABLER + 4 * word, bit);
}

static void cpu_interface_enable(void) {
  WRITE_SYSREG(ICC_SRE_EL1, READ_SYSREG(ICC_SRE_EL1) | ICC_SRE_SRE);
  isb();
  if (!(READ_SYSREG(ICC_SRE_EL1) & ICC_SRE_SRE)) panic("gic: the GICv3 system-register interface is disabled (ICC_SRE_EL1.SRE)");
  WRITE_SYSREG(ICC_PMR_EL1, PMR_ALL);
  WRITE_SYSREG(ICC_BPR1_EL1, 0);
  WRITE_SYSREG(ICC_CTLR_EL1, 0);    /* EOImode 0: EOIR also deactivates */
  WRITE_SYSREG(ICC_IGRPEN1_EL1, 1);
  isb();
}

void gic_cpu_init(void) {
  uint32_t cpu = arch_cpu_id();
  redistributor_wake(cpu_rd[cpu]);
  enable_private(cpu_sgi[cpu], timer_intid, PRIORITY);
  enable_private(cpu_sgi[cpu], SGI_RESCHEDULE, PRIORITY);
  enable_private(cpu_sgi[cpu], SGI_HALT, PRIORITY);
  if (nap_intid != 0) enable_private(cpu_sgi[cpu], nap_intid, PRIORITY_NAP);
  cpu_interface_enable();
}

void gic_init(const struct fdt_machine *machine) {
  gicd = paging_map_mmio(machine->gicd.base, GICD_MAP_BYTES);
  write32(gicd, GICD_CTLR, 0);
  distributor_wait();
  write32(gicd, GICD_CTLR, GICD_CTLR_ENABLE);
  distributor_wait();

  gicr_region = machine->gicr;
  timer_intid = machine->timer_intid;
  if (timer_intid < 16 || timer_intid >= 32) panic("gic: timer INTID %u is not a PPI", timer_intid);
  nap_intid = machine->nap_timer_intid;
  if (nap_intid < 16 || nap_intid >= 32 || nap_intid == timer_intid) nap_intid = 0;
  if (!gic_cpu_prepare(0, READ_SYSREG(mpidr_el1))) panic("gic: the boot CPU has no redistributor");
  uart_intid = machine->uart_intid;
  if (uart_intid >= 32 && uart_intid < INTID_SPURIOUS_FIRST) enable_spi(uart_intid);
  else uart_intid = 0; /* unknown: the timer tick polls the UART */
  gic_cpu_init();
}

/* An SGI to the CPU with affinity `mpidr`: TargetList names Aff0 within
 * its group of 16 (RS). Earlier stores are visible to it first. */
void gic_send_sgi(uint64_t mpidr, uint32_t sgi) {
  uint64_t aff0 = mpidr & 0xFF;
  uint64_t value = (1ull << (aff0 & 15)) | ((mpidr >> 8) & 0xFF) << SGI1R_AFF1_SHIFT |
                   (uint64_t)sgi << SGI1R_INTID_SHIFT | ((mpidr >> 16) & 0xFF) << SGI1R_AFF2_SHIFT |
                   (aff0 >> 4) << SGI1R_RS_SHIFT | ((mpidr >> 32) & 0xFF) << SGI1R_AFF3_SHIFT;
  __asm__ volatile("dsb ishst" ::: "memory");
  WRITE_SYSREG(ICC_SGI1R_EL1, value);
  isb();
}

bool gic_can_nap(void) { return nap_intid != 0; }

/* While a CPU naps waiting for the lock, a tick or a kick pending for it
 * must not end the nap: it could not act on them before it has the lock. */
void gic_nap_mask(bool napping) {
  WRITE_SYSREG(ICC_PMR_EL1, napping ? PMR_NAP : PMR_ALL);
  isb();
}

void gic_send_sgi_others(uint32_t sgi) {
  __asm__ volatile("dsb ishst" ::: "memory");
  WRITE_SYSREG(ICC_SGI1R_EL1, SGI1R_IRM | (uint64_t)sgi << SGI1R_INTID_SHIFT);
  isb();
}

/* Enables or disables an SPI at the distributor; a disable has taken effect
 * when this returns. */
static void spi_enable(uint32_t intid, bool enable) {
  write32(gicd, (enable ? GICD_ISENABLER : GICD_ICENABLER) + 4 * (intid / 32), 1u << (intid % 32));
  if (!enable) distributor_wait();
}

static void uart_state_lock(void) {
  while (__atomic_exchange_n(&uart_lock, 1, __ATOMIC_ACQUIRE)) __asm__ volatile("yield");
}

static void uart_state_unlock(void) { __atomic_store_n(&uart_lock, 0, __ATOMIC_RELEASE); }

/* One console entry; afterwards the UART's line is masked exactly when
 * received bytes still wait (see the top of the file). On CPU 0 only. */
static uint32_t console_enter(void) {
  uint32_t next = kernel_enter_irq(IRQ_CONSOLE);
  if (uart_intid != 0) {
    uart_state_lock();
    bool waiting = pl011_has_input();
    if (waiting != uart_masked) spi_enable(uart_intid, !waiting);
    uart_masked = waiting;
    uart_state_unlock();
  }
  return next;
}

uint32_t gic_handle_irq(uint32_t current) {
  uint32_t intid = (uint32_t)READ_SYSREG(ICC_IAR1_EL1) & 0xFFFFFF;
  if (intid >= INTID_SPURIOUS_FIRST && intid < INTID_SPURIOUS_FIRST + 4) return current;
  if (intid == timer_intid) {
    timer_rearm();
    WRITE_SYSREG(ICC_EOIR1_EL1, intid);
    uint32_t next = kernel_enter_irq(IRQ_TIMER);
    /* The UART's CPU looks at it when its line cannot tell. */
    if (arch_cpu_id() == 0 && (uart_intid == 0 || uart_masked) && pl011_has_input()) next = console_enter();
    return next;
  }
  if (intid == SGI_RESCHEDULE) {
    WRITE_SYSREG(ICC_EOIR1_EL1, intid);
    return kernel_enter_irq(IRQ_RESCHEDULE);
  }
  if (intid == SGI_HALT) smp_halt_here(); /* the CPU that sent it reports */
  if (intid != 0 && intid == nap_intid) {
    timer_nap_end(); /* a nap's alarm, late: nothing to do */
    WRITE_SYSREG(ICC_EOIR1_EL1, intid);
    return current;
  }
  if (intid == uart_intid) {
    uint32_t next = console_enter();
    WRITE_SYSREG(ICC_EOIR1_EL1, intid); /* after the mask: a line still up is not taken again */
    return next;
  }
  WRITE_SYSREG(ICC_EOIR1_EL1, intid);
  kprintf("gic: unexpected interrupt %u ignored on CPU %u\n", intid, arch_cpu_id());
  return current;
}

/* The holder of an interrupt source serviced it: let it fire again. Only
 * the console's line is ever masked; the timer is the trampoline's own.
 * Any CPU (the owner's SYS_IRQ_ACK runs wherever the owner does). */
void arch_irq_ack(uint32_t source) {
  if (source != IRQ_CONSOLE || uart_intid == 0) return;
  uart_state_lock();
  if (uart_masked) {
    uart_masked = false;
    spi_enable(uart_intid, true);
  }
  uart_state_unlock();
}
