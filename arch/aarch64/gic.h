/* GICv3: distributor, each CPU's redistributor, the ICC system registers. */
#ifndef CAMOS_AARCH64_GIC_H
#define CAMOS_AARCH64_GIC_H
#include <stdbool.h>
#include <stdint.h>
#include "fdt.h"

/* The SGIs the trampoline uses (INTIDs 0..15 are SGIs). */
#define SGI_RESCHEDULE 0u /* arch_cpu_kick: enter kernel_irq(IRQ_RESCHEDULE) */
#define SGI_HALT 1u       /* another CPU stopped the machine: stop too */

/* Maps and enables the GIC from the DTB facts; sets up the boot CPU as
 * gic_cpu_init does, and routes the UART's SPI, when known, to it. */
void gic_init(const struct fdt_machine *machine);
/* On the boot CPU, before CPU `cpu` starts: finds and maps the
 * redistributor whose affinity is `mpidr`'s. False (and says so) when
 * there is none. */
bool gic_cpu_prepare(uint32_t cpu, uint64_t mpidr);
/* On the CPU itself: wakes its redistributor, enables its timer PPI and
 * the SGIs, and its CPU interface. */
void gic_cpu_init(void);
/* Sends `sgi` to the CPU with affinity `mpidr`, or to every other CPU. */
void gic_send_sgi(uint64_t mpidr, uint32_t sgi);
void gic_send_sgi_others(uint32_t sgi);
/* Whether the physical timer's PPI is known and enabled, so timer_nap can
 * wake a CPU from WFI. */
bool gic_can_nap(void);
/* Only the nap's alarm may interrupt while `napping` (the priority mask). */
void gic_nap_mask(bool napping);
/* Acknowledges one interrupt and enters the kernel for it (IRQ vector).
 * Returns the thread to run next: the kernel's answer, or `current` when
 * the interrupt entered no kernel (spurious, unknown). */
uint32_t gic_handle_irq(uint32_t current);
#endif
