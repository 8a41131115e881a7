/*
 * Page tables, walked through the direct map (HHDM).
 *
 * Kernel virtual layout:
 *   0xFFFF800000000000  direct map of physical memory (Multiboot2 path; on
 *                       the Limine path, wherever Limine put its HHDM)
 *   0xFFFFC00000000000  wasm linear memory windows (arch/wasm-rt/rt.c)
 *   0xFFFFD00000000000  MMIO windows, uncached
 *   0xFFFFFFFF80000000  the kernel image
 *
 * Page-table entry (4 KiB page):
 *   63 NX | 51..12 physical frame | 7 PS | 4 PCD | 3 PWT | 2 U | 1 W | 0 P
 */
#include "paging.h"

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kprintf.h"
#include "x86.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_WRITE_THROUGH (1ull << 3)
#define PTE_CACHE_DISABLE (1ull << 4)
#define PTE_HUGE (1ull << 7)
#define PTE_NO_EXECUTE (1ull << 63)
#define PTE_ADDRESS 0x000FFFFFFFFFF000ull

#define KERNEL_VMA 0xFFFFFFFF80000000ull
#define MULTIBOOT2_HHDM 0xFFFF800000000000ull
#define MMIO_WINDOW 0xFFFFD00000000000ull
#define GIB (1ull << 30)
#define HUGE_PAGE (2ull << 20)
#define DIRECT_MAP_LIMIT (512 * GIB) /* one PDPT's worth */

const uint64_t arch_wasm_window_base = 0xFFFFC00000000000ull;

extern uint64_t boot_pml4[512];

static uint64_t hhdm_offset;
static uint64_t kernel_phys_base;
static uint64_t kernel_virt_base;
static uint64_t mmio_next = MMIO_WINDOW;

uint64_t paging_hhdm_offset(void) { return hhdm_offset; }
void *arch_phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)(phys + hhdm_offset); }
uint64_t arch_kernel_virt_to_phys(const void *virt) { return (uintptr_t)virt - kernel_virt_base + kernel_phys_base; }

static uint64_t *table_at(uint64_t entry) { return arch_phys_to_virt(entry & PTE_ADDRESS); }

/* The next-level table under `table[index]`, made when missing. */
static uint64_t *table_next(uint64_t *table, unsigned index) {
  if (!(table[index] & PTE_PRESENT)) {
    uint64_t frame = frame_take();
    if (frame == 0) return 0;
    table[index] = frame | PTE_PRESENT | PTE_WRITE;
  }
  if (table[index] & PTE_HUGE) panic("paging: %p lies in a huge page", (void *)table);
  return table_at(table[index]);
}

static bool map_page(uint64_t virt, uint64_t phys, uint64_t flags) {
  uint64_t *table = table_at(read_cr3());
  for (int shift = 39; shift > 12; shift -= 9) {
    table = table_next(table, (virt >> shift) & 511);
    if (!table) return false;
  }
  table[(virt >> 12) & 511] = phys | flags;
  invlpg(virt);
  return true;
}

bool arch_map_kernel_page(uint64_t virt, uint64_t phys) {
  return map_page(virt, phys, PTE_PRESENT | PTE_WRITE | PTE_NO_EXECUTE);
}

void *paging_map_mmio(uint64_t phys, uint64_t bytes) {
  uint64_t offset = phys & (PAGE_SIZE - 1);
  uint64_t virt = mmio_next;
  for (uint64_t page = 0; page < offset + bytes; page += PAGE_SIZE) {
    uint64_t flags = PTE_PRESENT | PTE_WRITE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH | PTE_NO_EXECUTE;
    if (!map_page(virt + page, (phys & ~(PAGE_SIZE - 1)) + page, flags)) panic("paging: cannot map MMIO %p", (void *)phys);
    mmio_next += PAGE_SIZE;
  }
  return (void *)(uintptr_t)(virt + offset);
}

void paging_init_multiboot2(uint64_t highest_phys) {
  hhdm_offset = MULTIBOOT2_HHDM;
  kernel_phys_base = 0;
  kernel_virt_base = KERNEL_VMA;
  if (highest_phys > DIRECT_MAP_LIMIT) {
    kprintf("paging: RAM above %llu GiB is not mapped and stays unused\n", DIRECT_MAP_LIMIT / GIB);
    highest_phys = DIRECT_MAP_LIMIT;
  }
  /* boot.S mapped 0..4 GiB; each further GiB takes one page directory. */
  uint64_t *pdpt = table_at(boot_pml4[256]);
  for (uint64_t gib = 4; gib * GIB < highest_phys; gib++) {
    uint64_t frame = frame_take();
    if (frame == 0) panic("paging: no frame for the direct map");
    uint64_t *directory = arch_phys_to_virt(frame);
    for (unsigned i = 0; i < 512; i++) directory[i] = (gib * GIB + i * HUGE_PAGE) | PTE_PRESENT | PTE_WRITE | PTE_HUGE | PTE_NO_EXECUTE;
    pdpt[gib] = frame | PTE_PRESENT | PTE_WRITE;
  }
  boot_pml4[0] = 0; /* the identity map was only for the jump to the higher half */
  write_cr3(read_cr3());
}

void paging_init_limine(uint64_t offset, uint64_t phys_base, uint64_t virt_base) {
  hhdm_offset = offset;
  kernel_phys_base = phys_base;
  kernel_virt_base = virt_base;
}
