/* The generic timer: the EL1 virtual timer for the tick, CNTVCT_EL0 for time. */
#ifndef CAMOS_AARCH64_TIMER_H
#define CAMOS_AARCH64_TIMER_H
#include <stdint.h>
/* Reads CNTFRQ_EL0 and starts the clock at `start_count`. */
void timer_init(uint64_t start_count);
uint64_t timer_frequency(void);
/* A secondary CPU's timer, off until the kernel starts it. */
void timer_cpu_init(void);
/* Sleeps (WFI) until the counter reaches `deadline` or another interrupt
 * is pending; needs gic_can_nap(). timer_nap_end silences a late alarm. */
void timer_nap(uint64_t deadline);
void timer_nap_end(void);
/* Arms the next tick (from the timer interrupt). */
void timer_rearm(void);
#endif
