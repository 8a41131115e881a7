/*
 * The generic timer. The counter (CNTVCT_EL0) ticks at CNTFRQ_EL0, which the
 * firmware sets (QEMU: 62.5 MHz before 9.0); it is both the cycle counter
 * the kernel reads and the clock of time_ns. The periodic tick is the EL1
 * virtual timer in compare-value mode: each interrupt moves CNTV_CVAL_EL0 one
 * period on, so ticks do not drift with interrupt latency. Each CPU has its
 * own timer (a PPI) and so its own tick; the counter is shared (CNTVOFF_EL2
 * is 0 on every CPU), so time_ns reads the same everywhere.
 */
#include "timer.h"

#include "../common/arch.h"
#include "../common/kprintf.h"
#include "aarch64.h"
#include "smp.h"

#define CNTV_CTL_ENABLE 1u
#define CNTP_CTL_ENABLE 1u

static uint64_t frequency;
static uint64_t boot_count;
static uint64_t ns_per_tick_q32; /* 32.32 fixed point */
/* Per CPU, indexed by arch_cpu_id(). */
static struct tick {
  uint64_t period;
  uint64_t next_deadline;
} ticks[ARCH_MAX_CPUS];

void timer_init(uint64_t start_count) {
  frequency = READ_SYSREG(cntfrq_el0) & 0xFFFFFFFF;
  if (frequency == 0) panic("timer: CNTFRQ_EL0 is 0 (the firmware did not set the counter frequency)");
  boot_count = start_count;
  ns_per_tick_q32 = (1000000000ull << 32) / frequency;
  WRITE_SYSREG(cntv_ctl_el0, 0);
}

void timer_cpu_init(void) { WRITE_SYSREG(cntv_ctl_el0, 0); }

uint64_t timer_frequency(void) { return frequency; }

/* The calling CPU's timer. */
void arch_timer_start(uint32_t hz) {
  if (hz == 0) {
    WRITE_SYSREG(cntv_ctl_el0, 0);
    return;
  }
  struct tick *tick = &ticks[arch_cpu_id()];
  tick->period = frequency / hz;
  if (tick->period == 0) tick->period = 1;
  tick->next_deadline = counter_now() + tick->period;
  WRITE_SYSREG(cntv_cval_el0, tick->next_deadline);
  WRITE_SYSREG(cntv_ctl_el0, CNTV_CTL_ENABLE);
  isb();
}

void timer_rearm(void) {
  struct tick *tick = &ticks[arch_cpu_id()];
  uint64_t now = counter_now();
  tick->next_deadline += tick->period;
  if (tick->next_deadline <= now) tick->next_deadline = now + tick->period; /* missed ticks are dropped, not replayed */
  WRITE_SYSREG(cntv_cval_el0, tick->next_deadline);
  isb();
}

/* The EL1 physical timer, unused otherwise, as an alarm clock: WFI until
 * `deadline` or any other interrupt, which wakes WFI even masked. */
void timer_nap(uint64_t deadline) {
  WRITE_SYSREG(cntp_cval_el0, deadline);
  WRITE_SYSREG(cntp_ctl_el0, CNTP_CTL_ENABLE);
  isb();
  wait_for_interrupt();
  timer_nap_end();
}

void timer_nap_end(void) {
  WRITE_SYSREG(cntp_ctl_el0, 0);
  isb();
}

uint64_t arch_time_ns(void) {
  return (uint64_t)(((unsigned __int128)(counter_now() - boot_count) * ns_per_tick_q32) >> 32);
}

uint64_t arch_cycles(void) { return counter_now(); }
