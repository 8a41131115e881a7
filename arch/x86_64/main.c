/*
 * x86_64 trampoline entry: from boot.S (Multiboot2 or Limine) to the kernel.
 * Sets up the CPU, paging, the console and the clocks, writes the handoff,
 * enters kernel_main, then idles; every later kernel entry comes from an
 * interrupt (cpu.c). The trampoline decides nothing: the kernel chooses the
 * timer rate and everything else.
 */
#include "../../boot/limine_requests.h"
#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "apic.h"
#include "cpu.h"
#include "paging.h"
#include "smp.h"
#include "user.h"
#include "x86.h"

#define MULTIBOOT2_BOOT_MAGIC 0x36d76289u
#define MULTIBOOT2_TAG_END 0
#define MULTIBOOT2_TAG_MMAP 6

void serial_init(void);

extern char __kernel_start[], __kernel_end[];
extern uint8_t boot_stack_top[];

static struct camos_handoff handoff;
static uint64_t entry_cycles;

static void common_init(void) {
  cpu_init(0, (uint64_t)(uintptr_t)boot_stack_top);
  apic_init();
  user_init();
  kprintf("trampoline: x86_64, LAPIC timer %lu Hz, TSC %lu MHz\n", apic_timer_hz(), tsc_hz() / 1000000);
}

static void fill_handoff(uint64_t boot_magic) {
  handoff.magic = HANDOFF_MAGIC;
  handoff.arch = HANDOFF_ARCH_X86_64;
  handoff.hhdm_offset = paging_hhdm_offset();
  handoff.kernel_phys_start = arch_kernel_virt_to_phys(__kernel_start);
  handoff.kernel_phys_end = arch_kernel_virt_to_phys(__kernel_end);
  handoff.boot_magic = boot_magic;
  handoff.entry_cycles = entry_cycles;
}

/* The end of the highest RAM region in the Multiboot2 memory map; the direct
 * map must reach it. (The full map is parsed by boot/multiboot2.ts.) */
static uint64_t multiboot2_highest_ram(const uint8_t *info) {
  uint32_t total = *(const uint32_t *)info;
  uint64_t highest = 4ull << 30;
  for (uint32_t offset = 8; offset + 8 <= total;) {
    uint32_t type = *(const uint32_t *)(info + offset);
    uint32_t size = *(const uint32_t *)(info + offset + 4);
    if (type == MULTIBOOT2_TAG_END || size < 8) break;
    if (type == MULTIBOOT2_TAG_MMAP && size >= 16) {
      uint32_t entry_size = *(const uint32_t *)(info + offset + 8);
      for (uint32_t e = 16; entry_size >= 24 && e + entry_size <= size; e += entry_size) {
        const uint8_t *entry = info + offset + e;
        uint64_t end = *(const uint64_t *)entry + *(const uint64_t *)(entry + 8);
        if (*(const uint32_t *)(entry + 16) == 1 && end > highest) highest = end;
      }
    }
    offset += (size + 7) & ~7u;
  }
  return highest;
}

void arch_main_multiboot2(uint32_t magic, uint32_t info_phys) {
  entry_cycles = rdtsc();
  smp_init_boot_cpu();
  serial_init();
  if (magic != MULTIBOOT2_BOOT_MAGIC) panic("not started by a Multiboot2 loader (magic %x)", magic);
  /* Still identity-mapped here, so the low physical address is readable. */
  paging_init_multiboot2(multiboot2_highest_ram((const uint8_t *)(uintptr_t)info_phys));
  common_init();
  fill_handoff(magic);
  user_resume(kernel_start(BOOT_MULTIBOOT2, (uint64_t)(uintptr_t)arch_phys_to_virt(info_phys), &handoff));
}

void arch_main_limine(void) {
  entry_cycles = rdtsc();
  smp_init_boot_cpu();
  serial_init();
  if (!limine_base_revision_supported()) panic("this Limine does not support base revision 2; use Limine 8.x or later");
  if (limine_hhdm_offset() == 0 || limine_kernel_virtual_base() == 0) panic("Limine gave no HHDM or kernel address");
  paging_init_limine(limine_hhdm_offset(), limine_kernel_physical_base(), limine_kernel_virtual_base());
  common_init();
  fill_handoff(0);
  user_resume(kernel_start(BOOT_LIMINE, (uint64_t)(uintptr_t)limine_request_table, &handoff));
}

/* ---- power ---- */

#define RESET_CONTROL_PORT 0xCF9
#define KBC_COMMAND_PORT 0x64
#define KBC_PULSE_RESET 0xFE
#define POWER_ACPI_PORT 1

void arch_halt_forever(void) {
  for (;;) __asm__ volatile("cli; hlt");
}

/* The chipset's reset, whatever the power method (ACPI's RESET_REG is
 * not read yet; 0xCF9 and the keyboard controller cover PCs and QEMU). */
void arch_reset(uint32_t method, uint64_t arg0, uint64_t arg1) {
  (void)method, (void)arg0, (void)arg1;
  outb(RESET_CONTROL_PORT, 0x02);
  outb(RESET_CONTROL_PORT, 0x06); /* full reset through the chipset */
  outb(KBC_COMMAND_PORT, KBC_PULSE_RESET);
  /* Last resort: a triple fault, with an empty IDT. */
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty = {0, 0};
  __asm__ volatile("lidt %0; int3" ::"m"(empty));
  arch_halt_forever();
}

/* Chipsets (and QEMU) act on a sleep request asynchronously: give it a
 * second before saying it failed. */
#define POWER_OFF_GRACE_NS 1000000000ull

void arch_power_off(uint32_t method, uint64_t arg0, uint64_t arg1) {
  if (method == POWER_ACPI_PORT) {
    outw((uint16_t)arg0, (uint16_t)arg1);
    uint64_t deadline = arch_time_ns() + POWER_OFF_GRACE_NS;
    while (arch_time_ns() < deadline) cpu_pause();
  }
  kputs("power-off did not take effect; CPU stopped\n");
  arch_halt_forever();
}
