/* Local APIC: timer calibrated against the PIT, the TSC clock, IPIs. */
#ifndef CAMOS_X86_APIC_H
#define CAMOS_X86_APIC_H
#include <stdint.h>

/* ICR commands for apic_send_ipi (low word; edge-triggered, physical
 * destination). INIT and STARTUP assert the level, as the SDM asks. */
#define IPI_FIXED(vector) (0x4000u | (vector))
#define IPI_NMI 0x4400u
#define IPI_INIT 0x4500u
#define IPI_STARTUP(page_number) (0x4600u | (page_number))

/* Boot CPU: PICs masked, LAPIC on, timers calibrated. */
void apic_init(void);
/* An AP: its LAPIC on, its timer off until arch_timer_start. */
void apic_init_ap(void);
uint32_t apic_id(void);
void apic_eoi(void);
void apic_send_ipi(uint32_t lapic_id, uint32_t command);
/* Acknowledges the tick and enters the kernel; returns the next thread. */
uint32_t apic_timer_interrupt(void);
uint64_t apic_timer_hz(void);
uint64_t tsc_hz(void);
#endif
