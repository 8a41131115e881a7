/*
 * The Local APIC (timer, EOI, inter-processor interrupts) and the clocks.
 *
 * At boot the legacy 8259 PICs are remapped and masked, and the PIT's
 * channel 2 measures a 10 ms window against which the LAPIC timer and the
 * TSC are calibrated. time_ns comes from the TSC, the tick from the LAPIC
 * timer in periodic mode. Every CPU sees its own LAPIC at the same address;
 * an AP enables its own and reuses the boot CPU's calibration (one bus
 * clock, and the TSCs of one package run together).
 *
 * Console input: with no I/O APIC driver yet, the UART is polled at CPU 0's
 * every tick and a waiting byte enters the kernel as IRQ_CONSOLE. At the
 * kernel's 100 Hz that is a 10 ms worst-case latency; QEMU's UART holds
 * input back while its FIFO is full, so nothing is lost there.
 */
#include "apic.h"

#include "../common/arch.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "paging.h"
#include "cpu.h"
#include "smp.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1u << 11)

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3E0

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define TIMER_DIVIDE_BY_16 0x3
#define ICR_DELIVERY_PENDING (1u << 12)

#define PIT_HZ 1193182u
#define PIT_CHANNEL2 0x42
#define PIT_COMMAND 0x43
#define PIT_GATE_PORT 0x61
#define CALIBRATION_MS 10u

bool serial_has_input(void);

static volatile uint32_t *lapic;
static uint64_t lapic_hz;
static uint64_t tsc_frequency;
static uint64_t tsc_boot;
static uint64_t ns_per_tsc_q32; /* nanoseconds per TSC tick, 32.32 fixed point */

static uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static void lapic_write(uint32_t reg, uint32_t value) { lapic[reg / 4] = value; }

static void pic_disable(void) {
  /* Remap to 0x20..0x2F first so a stray legacy IRQ cannot look like an
   * exception, then mask every line. */
  outb(0x20, 0x11); outb(0xA0, 0x11);
  outb(0x21, 0x20); outb(0xA1, 0x28);
  outb(0x21, 0x04); outb(0xA1, 0x02);
  outb(0x21, 0x01); outb(0xA1, 0x01);
  outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

/* Counts LAPIC timer ticks and TSC cycles across CALIBRATION_MS of PIT time. */
static void calibrate(void) {
  uint32_t pit_count = PIT_HZ * CALIBRATION_MS / 1000;
  uint8_t gate = inb(PIT_GATE_PORT);
  outb(PIT_GATE_PORT, (gate & ~0x02) | 0x01); /* speaker off, gate on */
  outb(PIT_COMMAND, 0xB0);                    /* channel 2, lo/hi, mode 0 */
  outb(PIT_CHANNEL2, pit_count & 0xFF);
  outb(PIT_CHANNEL2, pit_count >> 8);
  gate = inb(PIT_GATE_PORT) & ~0x01;
  outb(PIT_GATE_PORT, gate); /* restart the count on the gate's rising edge */

  lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
  outb(PIT_GATE_PORT, gate | 0x01);
  lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFF);
  uint64_t tsc_start = rdtsc();
  while (!(inb(PIT_GATE_PORT) & 0x20)) cpu_pause(); /* OUT2 rises at zero */
  uint64_t tsc_end = rdtsc();
  uint32_t lapic_ticks = 0xFFFFFFFF - lapic_read(LAPIC_TIMER_CURRENT);
  lapic_write(LAPIC_TIMER_INITIAL, 0);

  lapic_hz = (uint64_t)lapic_ticks * 1000 / CALIBRATION_MS;
  tsc_frequency = (tsc_end - tsc_start) * 1000 / CALIBRATION_MS;
  if (lapic_hz == 0 || tsc_frequency == 0) panic("timer calibration failed (LAPIC %lu Hz, TSC %lu Hz)", lapic_hz, tsc_frequency);
  ns_per_tsc_q32 = (1000000000ull << 32) / tsc_frequency;
}

/* This CPU's LAPIC on, every interrupt priority accepted, its timer off. */
static void lapic_enable(void) {
  wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE);
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
  lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
}

void apic_init(void) {
  pic_disable();
  lapic = (volatile uint32_t *)paging_map_mmio(rdmsr(MSR_APIC_BASE) & ~0xFFFull, PAGE_SIZE);
  lapic_enable();
  tsc_boot = rdtsc();
  calibrate();
}

void apic_init_ap(void) { lapic_enable(); }

uint32_t apic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

void apic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

/* One IPI at a time per CPU: the previous one has left the ICR before the
 * next is written, and this one has when we return. */
void apic_send_ipi(uint32_t lapic_id, uint32_t command) {
  while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING) cpu_pause();
  lapic_write(LAPIC_ICR_HIGH, lapic_id << 24);
  lapic_write(LAPIC_ICR_LOW, command);
  while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING) cpu_pause();
}

uint64_t apic_timer_hz(void) { return lapic_hz; }
uint64_t tsc_hz(void) { return tsc_frequency; }

void arch_timer_start(uint32_t hz) {
  if (hz == 0) {
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    return;
  }
  lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
  lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
  lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)(lapic_hz / hz));
}

uint32_t apic_timer_interrupt(void) {
  apic_eoi();
  uint32_t next = kernel_enter_irq(IRQ_TIMER);
  if (this_cpu()->cpu == 0 && serial_has_input()) next = kernel_enter_irq(IRQ_CONSOLE);
  return next;
}

uint64_t arch_time_ns(void) {
  return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_boot) * ns_per_tsc_q32) >> 32);
}

uint64_t arch_cycles(void) { return rdtsc(); }
