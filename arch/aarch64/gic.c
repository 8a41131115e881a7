/*
 * GICv3 interrupt routing, and the one place interrupts enter the kernel.
 *
 * Two interrupts are used: the EL1 virtual timer (a PPI, configured in this
 * CPU's redistributor) and the console UART's receive interrupt (an SPI,
 * configured in the distributor and routed to this CPU by affinity). Both
 * are made Non-secure Group 1, which the CPU takes as IRQ and acknowledges
 * through ICC_IAR1_EL1. Affinity routing is on (ARE), as GICv3 wants.
 *
 *   distributor   GICD_CTLR, IGROUPR, IPRIORITYR, ICFGR, IROUTER, IS/ICENABLER
 *   redistributor (RD frame) GICR_TYPER (affinity, Last), GICR_WAKER
 *                 (SGI frame, +64 KiB) GICR_IGROUPR0, IPRIORITYR, ISENABLER0
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
#define INTID_SPURIOUS_FIRST 1020u
#define PRIORITY 0xA0u
#define SPIN_LIMIT 1000000u

static volatile uint8_t *gicd;
static volatile uint8_t *gicr_sgi;
static uint32_t timer_intid;
static uint32_t uart_intid;
static bool uart_masked;

static uint32_t read32(volatile uint8_t *base, uint32_t offset) { return *(volatile uint32_t *)(base + offset); }
static void write32(volatile uint8_t *base, uint32_t offset, uint32_t value) { *(volatile uint32_t *)(base + offset) = value; }

static void distributor_wait(void) {
  for (uint32_t i = 0; read32(gicd, GICD_CTLR) & GICD_CTLR_RWP; i++)
    if (i == SPIN_LIMIT) panic("gic: distributor register write never completed");
}

/* Aff3.Aff2.Aff1.Aff0 of this CPU, as GICR_TYPER[63:32] holds it. */
static uint32_t cpu_affinity(void) {
  uint64_t mpidr = READ_SYSREG(mpidr_el1);
  return (uint32_t)(((mpidr >> 32) & 0xFF) << 24 | (mpidr & 0xFFFFFF));
}

/* Finds this CPU's redistributor in the region, mapping frame by frame. */
static volatile uint8_t *find_redistributor(const struct fdt_range *region) {
  uint32_t affinity = cpu_affinity();
  for (uint64_t offset = 0; offset + GICR_FRAME_BYTES <= region->size;) {
    volatile uint8_t *rd = paging_map_mmio(region->base + offset, GICR_FRAME_BYTES);
    uint64_t typer = *(volatile uint64_t *)(rd + GICR_TYPER);
    if ((uint32_t)(typer >> 32) == affinity) return rd;
    if (typer & GICR_TYPER_LAST) break;
    offset += (typer & GICR_TYPER_VLPIS) ? GICR_FRAME_BYTES_VLPI : GICR_FRAME_BYTES;
  }
  panic("gic: no redistributor for CPU affinity %x in %p (+%lx)", affinity, (void *)region->base, region->size);
}

static void redistributor_wake(volatile uint8_t *rd) {
  write32(rd, GICR_WAKER, read32(rd, GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
  for (uint32_t i = 0; read32(rd, GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP; i++)
    if (i == SPIN_LIMIT) panic("gic: redistributor does not wake up");
}

static void enable_ppi(uint32_t intid) {
  write32(gicr_sgi, GICR_IGROUPR0, read32(gicr_sgi, GICR_IGROUPR0) | (1u << intid));
  gicr_sgi[GICR_IPRIORITYR + intid] = PRIORITY;
  write32(gicr_sgi, GICR_ISENABLER0, 1u << intid);
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
  WRITE_SYSREG(ICC_PMR_EL1, 0xFF);  /* every priority passes */
  WRITE_SYSREG(ICC_BPR1_EL1, 0);
  WRITE_SYSREG(ICC_CTLR_EL1, 0);    /* EOImode 0: EOIR also deactivates */
  WRITE_SYSREG(ICC_IGRPEN1_EL1, 1);
  isb();
}

void gic_init(const struct fdt_machine *machine) {
  gicd = paging_map_mmio(machine->gicd.base, GICD_MAP_BYTES);
  write32(gicd, GICD_CTLR, 0);
  distributor_wait();
  write32(gicd, GICD_CTLR, GICD_CTLR_ENABLE);
  distributor_wait();

  volatile uint8_t *rd = find_redistributor(&machine->gicr);
  redistributor_wake(rd);
  gicr_sgi = rd + GICR_SGI_FRAME;

  timer_intid = machine->timer_intid;
  if (timer_intid < 16 || timer_intid >= 32) panic("gic: timer INTID %u is not a PPI", timer_intid);
  enable_ppi(timer_intid);
  uart_intid = machine->uart_intid;
  if (uart_intid >= 32 && uart_intid < INTID_SPURIOUS_FIRST) enable_spi(uart_intid);
  else uart_intid = 0; /* unknown: the timer tick polls the UART */
  cpu_interface_enable();
}

/* Enables or disables an SPI at the distributor; a disable has taken effect
 * when this returns. */
static void spi_enable(uint32_t intid, bool enable) {
  write32(gicd, (enable ? GICD_ISENABLER : GICD_ICENABLER) + 4 * (intid / 32), 1u << (intid % 32));
  if (!enable) distributor_wait();
}

/* One console entry; afterwards the UART's line is masked exactly when
 * received bytes still wait (see the top of the file). */
static uint32_t console_enter(void) {
  uint32_t next = kernel_enter_irq(IRQ_CONSOLE);
  if (uart_intid != 0) {
    bool waiting = pl011_has_input();
    if (waiting != uart_masked) spi_enable(uart_intid, !waiting);
    uart_masked = waiting;
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
    if ((uart_intid == 0 || uart_masked) && pl011_has_input()) next = console_enter();
    return next;
  }
  if (intid == uart_intid) {
    uint32_t next = console_enter();
    WRITE_SYSREG(ICC_EOIR1_EL1, intid); /* after the mask: a line still up is not taken again */
    return next;
  }
  WRITE_SYSREG(ICC_EOIR1_EL1, intid);
  kprintf("gic: unexpected interrupt %u ignored\n", intid);
  return current;
}

/* The holder of an interrupt source serviced it: let it fire again. Only
 * the console's line is ever masked; the timer is the trampoline's own. */
void arch_irq_ack(uint32_t source) {
  if (source == IRQ_CONSOLE && uart_intid != 0 && uart_masked) {
    uart_masked = false;
    spi_enable(uart_intid, true);
  }
}
