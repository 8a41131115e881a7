/* Local APIC timer, calibrated against the PIT; the TSC clock. */
#ifndef CAMOS_X86_APIC_H
#define CAMOS_X86_APIC_H
#include <stdint.h>
void apic_init(void);
/* Acknowledges the tick and enters the kernel; returns the next thread. */
uint32_t apic_timer_interrupt(void);
uint64_t apic_timer_hz(void);
uint64_t tsc_hz(void);
#endif
