/*
 * AArch64 trampoline entry (after boot.S) and power.
 *
 * The trampoline brings the machine up to where the kernel can run, enters
 * kernel_main, then runs the thread it names (or idles); every later kernel
 * entry comes from EL0 or an interrupt (user.c, gic.c). It decides nothing: the kernel chooses the timer rate, and the
 * power method comes from the kernel's reading of the DTB.
 *
 * Linux Image path, in order:
 *   DTB into a boot window -> the few facts the trampoline needs (fdt.c)
 *   -> UART (from now on panics are readable) -> direct map of RAM
 *   -> GIC, timer, EL0 set-up -> kernel_main(BOOT_LINUX_ARM64, DTB via the direct map)
 * The kernel starts the other CPUs itself (arch_cpu_start, smp.c).
 */
#include "../../boot/limine_requests.h"
#include "../common/arch.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "aarch64.h"
#include "device.h"
#include "fdt.h"
#include "gic.h"
#include "paging.h"
#include "pl011.h"
#include "psci.h"
#include "smp.h"
#include "timer.h"
#include "user.h"

#define UART_MAP_BYTES 0x1000
#define POWER_PSCI 2u
#define PSCI_CONDUIT_SMC 1u

extern char __kernel_start[], __kernel_end[];

static struct camos_handoff handoff;
static struct fdt_machine machine;

/* The UART first, so that every later failure can be reported. */
static void machine_init(const uint8_t *fdt, uint32_t fdt_size) {
  const char *error = fdt_read_machine(fdt, fdt_size, &machine);
  if (machine.uart.base != 0) pl011_init(paging_map_mmio(machine.uart.base, UART_MAP_BYTES), machine.uart_intid != 0);
  if (error) panic("dtb: %s", error);
}

static void devices_init(uint64_t entry_count, uint64_t entry_el) {
  timer_init(entry_count);
  gic_init(&machine);
  device_init(&machine);
  user_init();
  kprintf("trampoline: aarch64, entered at EL%lu%s, GICv3, generic timer %lu Hz, PL011 at %p (%s)\n", entry_el,
          entry_el == 2 ? " (now EL1)" : "", timer_frequency(), (void *)machine.uart.base,
          machine.uart_intid ? "receive interrupts" : "polled");
}

static void fill_handoff(uint64_t entry_count) {
  handoff.magic = HANDOFF_MAGIC;
  handoff.arch = HANDOFF_ARCH_AARCH64;
  handoff.hhdm_offset = paging_hhdm_offset();
  handoff.kernel_phys_start = arch_kernel_virt_to_phys(__kernel_start);
  handoff.kernel_phys_end = arch_kernel_virt_to_phys(__kernel_end);
  handoff.boot_magic = 0;
  handoff.entry_cycles = entry_count;
}

static bool range_in_ram(uint64_t base, uint64_t size) {
  for (unsigned i = 0; i < machine.memory_count; i++) {
    const struct fdt_range *r = &machine.memory[i];
    if (base >= r->base && base - r->base <= r->size && size <= r->size - (base - r->base)) return true;
  }
  return false;
}

void arch_main_linux(uint64_t dtb_phys, uint64_t image_phys, uint64_t entry_count, uint64_t entry_el) {
  smp_boot_cpu_init(true);
  paging_init_linux(image_phys);
  uint32_t fdt_size = 0;
  const uint8_t *fdt = paging_map_boot_dtb(dtb_phys, &fdt_size);
  if (!fdt) arch_halt_forever(); /* no DTB, no UART: nothing can be said */
  machine_init(fdt, fdt_size);
  for (unsigned i = 0; i < machine.memory_count; i++) paging_map_ram(machine.memory[i].base, machine.memory[i].size);
  /* The kernel reads the DTB through the direct map. */
  if (!range_in_ram(dtb_phys, fdt_size)) paging_map_ram(dtb_phys, fdt_size);
  devices_init(entry_count, entry_el);
  fill_handoff(entry_count);
  user_resume(kernel_start(BOOT_LINUX_ARM64, (uint64_t)(uintptr_t)arch_phys_to_virt(dtb_phys), &handoff));
}

/* The DTB answer of Limine's request (boot/limine_requests.c), HHDM-virtual
 * or physical depending on the base revision; 0 when there is none. */
static uint64_t limine_dtb(uint64_t hhdm) {
  const struct limine_request_header *request =
      (const struct limine_request_header *)(uintptr_t)limine_request_table[LIMINE_TABLE_DTB];
  if (request->response == 0) return 0;
  uint64_t address = ((const volatile uint64_t *)(uintptr_t)request->response)[1];
  return address != 0 && address < hhdm ? address + hhdm : address;
}

void arch_main_limine(uint64_t entry_count) {
  smp_boot_cpu_init(false);
  if (!limine_base_revision_supported()) arch_halt_forever();
  uint64_t hhdm = limine_hhdm_offset();
  if (hhdm == 0 || limine_kernel_virtual_base() == 0) arch_halt_forever();
  paging_init_limine(hhdm, limine_kernel_physical_base(), limine_kernel_virtual_base());
  /* Without a DTB there is no UART to report on (ACPI-only firmware:
   * boot QEMU with -machine virt,acpi=off). */
  uint64_t dtb = limine_dtb(hhdm);
  if (dtb == 0) arch_halt_forever();
  const uint8_t *fdt = (const uint8_t *)(uintptr_t)dtb;
  if (__builtin_bswap32(*(const uint32_t *)fdt) != 0xd00dfeedu) arch_halt_forever();
  machine_init(fdt, __builtin_bswap32(((const uint32_t *)fdt)[1]));
  devices_init(entry_count, 1);
  fill_handoff(entry_count);
  user_resume(kernel_start(BOOT_LIMINE, (uint64_t)(uintptr_t)limine_request_table, &handoff));
}

/* ---- power: PSCI, through the conduit the DTB names ---- */

/* Every CPU stops: the others through the halt SGI (smp.c). */
void arch_halt_forever(void) {
  smp_stop_others();
  smp_halt_here();
}

void arch_reset(uint32_t method, uint64_t arg0, uint64_t arg1) {
  (void)arg1;
  if (method == POWER_PSCI) psci_call(arg0 == PSCI_CONDUIT_SMC, PSCI_SYSTEM_RESET, 0, 0, 0);
  kputs("reset did not take effect (no PSCI); CPU stopped\n");
  arch_halt_forever();
}

void arch_power_off(uint32_t method, uint64_t arg0, uint64_t arg1) {
  (void)arg1;
  if (method == POWER_PSCI) psci_call(arg0 == PSCI_CONDUIT_SMC, PSCI_SYSTEM_OFF, 0, 0, 0);
  kputs("power-off did not take effect; CPU stopped\n");
  arch_halt_forever();
}
