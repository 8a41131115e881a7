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
#define MULTIBOOT2_TAG_MODULE 3
#define MULTIBOOT2_TAG_MMAP 6
#define MULTIBOOT2_RAM 1
#define LOW_MEMORY_END 0x100000ull

void serial_init(void);

extern char __kernel_start[], __kernel_end[];
extern uint8_t boot_stack_top[];

static struct camos_handoff handoff;
static uint64_t entry_cycles;

static void common_init(void) {
  cpu_init(0, (uint64_t)(uintptr_t)boot_stack_top);
  apic_init();
  smp_boot_cpu_online();
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

/* The next tag of type `type` after `tag` (0: from the first), or 0. */
static const uint8_t *multiboot2_tag(const uint8_t *info, const uint8_t *tag, uint32_t type) {
  uint32_t total = *(const uint32_t *)info;
  uint32_t offset = 8;
  if (tag) offset = (uint32_t)(tag - info) + ((*(const uint32_t *)(tag + 4) + 7) & ~7u);
  while (offset + 8 <= total) {
    uint32_t this_type = *(const uint32_t *)(info + offset);
    uint32_t size = *(const uint32_t *)(info + offset + 4);
    if (this_type == MULTIBOOT2_TAG_END || size < 8) break;
    if (this_type == type) return info + offset;
    offset += (size + 7) & ~7u;
  }
  return 0;
}

/* RAM region `index` of the memory map, as [base, end); false past the last
 * entry. Regions of other types come back empty (0, 0). Entry: +0 u64
 * base, +8 u64 length, +16 u32 type. */
static bool multiboot2_ram(const uint8_t *info, uint32_t index, uint64_t *base, uint64_t *end) {
  const uint8_t *tag = multiboot2_tag(info, 0, MULTIBOOT2_TAG_MMAP);
  if (!tag) return false;
  uint32_t size = *(const uint32_t *)(tag + 4);
  uint32_t entry_size = *(const uint32_t *)(tag + 8);
  if (entry_size < 24 || 16 + (uint64_t)(index + 1) * entry_size > size) return false;
  const uint8_t *entry = tag + 16 + index * entry_size;
  bool ram = *(const uint32_t *)(entry + 16) == MULTIBOOT2_RAM;
  *base = ram ? *(const uint64_t *)entry : 0;
  *end = ram ? *base + *(const uint64_t *)(entry + 8) : 0;
  return true;
}

/* The end of the highest RAM region; the direct map must reach it. (The
 * full map is parsed by boot/multiboot2.ts.) */
static uint64_t multiboot2_highest_ram(const uint8_t *info) {
  uint64_t highest = 4ull << 30, base, end;
  for (uint32_t i = 0; multiboot2_ram(info, i, &base, &end); i++) {
    if (end > highest) highest = end;
  }
  return highest;
}

static bool overlaps(uint64_t page, uint64_t start, uint64_t end) { return page < end && start < page + PAGE_SIZE; }

/* Whether `page` holds loader data the kernel still reads: the information
 * structure itself or a module. */
static bool multiboot2_in_use(const uint8_t *info, uint64_t info_phys, uint64_t page) {
  if (overlaps(page, info_phys, info_phys + *(const uint32_t *)info)) return true;
  for (const uint8_t *tag = multiboot2_tag(info, 0, MULTIBOOT2_TAG_MODULE); tag;
       tag = multiboot2_tag(info, tag, MULTIBOOT2_TAG_MODULE)) {
    if (overlaps(page, *(const uint32_t *)(tag + 8), *(const uint32_t *)(tag + 12))) return true;
  }
  return false;
}

/* The page the APs start in (smp.c, ap_start.S): below 1 MiB, where a SIPI
 * can point; RAM by the memory map; above page 0 (the real-mode IVT and
 * BIOS data); not loader data the kernel still reads. The kernel's frame
 * allocator never hands out memory below 1 MiB (kernel/frames.ts), and
 * nothing else in the kernel writes there, so the page is the trampoline's.
 * The lowest such page; 0 if there is none. */
static uint64_t multiboot2_start_page(const uint8_t *info, uint64_t info_phys) {
  uint64_t best = 0, base, end;
  for (uint32_t i = 0; multiboot2_ram(info, i, &base, &end); i++) {
    uint64_t page = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (page < PAGE_SIZE) page = PAGE_SIZE;
    for (; page + PAGE_SIZE <= end && page + PAGE_SIZE <= LOW_MEMORY_END; page += PAGE_SIZE) {
      if (best != 0 && page >= best) break;
      if (!multiboot2_in_use(info, info_phys, page)) {
        best = page;
        break;
      }
    }
  }
  return best;
}

void arch_main_multiboot2(uint32_t magic, uint32_t info_phys) {
  entry_cycles = rdtsc();
  smp_init_boot_cpu();
  serial_init();
  if (magic != MULTIBOOT2_BOOT_MAGIC) panic("not started by a Multiboot2 loader (magic %x)", magic);
  /* Still identity-mapped here, so the low physical address is readable. */
  const uint8_t *info = (const uint8_t *)(uintptr_t)info_phys;
  smp_set_start_page(multiboot2_start_page(info, info_phys));
  paging_init_multiboot2(multiboot2_highest_ram(info));
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

/* The other CPUs stop too (an NMI); the first CPU to get here says how
 * far SMP got, a later one stays quiet. */
void arch_halt_forever(void) {
  if (smp_stop_others()) smp_report();
  cpu_halt();
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
