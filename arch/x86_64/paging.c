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
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "smp.h"
#include "x86.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_USER (1ull << 2)
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
/* The kernel's own PML4. Its upper half is copied into every user space,
 * so kernel mappings below it are shared; a new top-level kernel entry after
 * the first user space exists would not reach that space, and is refused. */
static uint64_t kernel_root;
static bool user_spaces_exist;
static uint64_t kernel_phys_base;
static uint64_t kernel_virt_base;
static uint64_t mmio_next = MMIO_WINDOW;

uint64_t paging_hhdm_offset(void) { return hhdm_offset; }
uint64_t paging_kernel_root(void) { return kernel_root; }
void *arch_phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)(phys + hhdm_offset); }
uint64_t arch_kernel_virt_to_phys(const void *virt) { return (uintptr_t)virt - kernel_virt_base + kernel_phys_base; }

static uint64_t *table_at(uint64_t entry) { return arch_phys_to_virt(entry & PTE_ADDRESS); }

/* The page-table entry for `virt` under `root`, making missing tables with
 * `table_flags`; 0 when a frame could not be had. */
static uint64_t *pte_make(uint64_t root, uint64_t virt, uint64_t table_flags) {
  uint64_t *table = table_at(root);
  for (int shift = 39; shift > 12; shift -= 9) {
    unsigned index = (virt >> shift) & 511;
    if (!(table[index] & PTE_PRESENT)) {
      if (shift == 39 && root == kernel_root && user_spaces_exist)
        panic("paging: new kernel top-level entry for %p after user spaces exist", (void *)virt);
      uint64_t frame = frame_take();
      if (frame == 0) return 0;
      table[index] = frame | table_flags;
    }
    if (table[index] & PTE_HUGE) panic("paging: %p lies in a huge page", (void *)virt);
    table = table_at(table[index]);
  }
  return &table[(virt >> 12) & 511];
}

/* The entry for `virt`, or 0 where a table is missing (never allocates). */
static uint64_t *pte_find(uint64_t root, uint64_t virt) {
  uint64_t *table = table_at(root);
  for (int shift = 39; shift > 12; shift -= 9) {
    uint64_t entry = table[(virt >> shift) & 511];
    if (!(entry & PTE_PRESENT) || (entry & PTE_HUGE)) return 0;
    table = table_at(entry);
  }
  return &table[(virt >> 12) & 511];
}

static bool map_page(uint64_t virt, uint64_t phys, uint64_t flags) {
  uint64_t *pte = pte_make(kernel_root, virt, PTE_PRESENT | PTE_WRITE);
  if (!pte) return false;
  *pte = phys | flags;
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
  kernel_root = read_cr3() & PTE_ADDRESS;
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
  kernel_root = read_cr3() & PTE_ADDRESS;
  kernel_phys_base = phys_base;
  kernel_virt_base = virt_base;
}

/* The first page tables of an AP started by SIPI (ap_start.S): the low
 * 2 MiB, where its start page lies, identity-mapped and executable, for the
 * instruction that turns paging on; the kernel half as the kernel's, for
 * the jump to the image. They live in the image, so a 32-bit CR3 reaches
 * them on a Multiboot2 boot (loaded at 2 MiB). Rebuilt for each start, so
 * the kernel half is current. */
static uint64_t ap_pml4[512] __attribute__((aligned(4096)));
static uint64_t ap_pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t ap_pd_low[512] __attribute__((aligned(4096)));

uint64_t paging_ap_start_root(void) {
  const uint64_t *kernel = table_at(kernel_root);
  for (unsigned i = 256; i < 512; i++) ap_pml4[i] = kernel[i];
  ap_pml4[0] = arch_kernel_virt_to_phys(ap_pdpt_low) | PTE_PRESENT | PTE_WRITE;
  ap_pdpt_low[0] = arch_kernel_virt_to_phys(ap_pd_low) | PTE_PRESENT | PTE_WRITE;
  ap_pd_low[0] = 0 | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
  return arch_kernel_virt_to_phys(ap_pml4);
}

/* ---- user address spaces (kernel/arch.ts space_*) ----
 * The lower half (PML4 0..255) is the user's; tables there carry the user
 * bit and leaves decide the rights. A translation that goes away (unmap,
 * a mapping replaced, the space destroyed) is dropped on every CPU that may
 * hold it before the call returns (smp_shootdown); a new one needs nothing,
 * since no CPU caches a translation that was not present. */

#define USER_TOP 0x0000800000000000ull
#define MAP_WRITE (1u << 0)
#define MAP_EXECUTE (1u << 1)
#define MAP_DEVICE (1u << 2)
#define SPACE_REFUSED (-1)
#define SPACE_NO_MEMORY (-2)

uint64_t arch_space_create(void) {
  uint64_t root = frame_take();
  if (root == 0) return 0;
  uint64_t *pml4 = table_at(root);
  const uint64_t *kernel = table_at(kernel_root);
  for (unsigned i = 256; i < 512; i++) pml4[i] = kernel[i];
  user_spaces_exist = true;
  return root;
}

int32_t arch_space_map(uint64_t root, uint64_t virt, uint64_t phys, uint32_t flags) {
  if (virt >= USER_TOP || (virt & (PAGE_SIZE - 1)) || (phys & (PAGE_SIZE - 1))) return SPACE_REFUSED;
  if ((flags & MAP_WRITE) && (flags & MAP_EXECUTE)) return SPACE_REFUSED;
  if ((flags & MAP_DEVICE) && (flags & MAP_EXECUTE)) return SPACE_REFUSED;
  uint64_t *pte = pte_make(root, virt, PTE_PRESENT | PTE_WRITE | PTE_USER);
  if (!pte) return SPACE_NO_MEMORY;
  uint64_t entry = phys | PTE_PRESENT | PTE_USER;
  if (flags & MAP_WRITE) entry |= PTE_WRITE;
  if (!(flags & MAP_EXECUTE)) entry |= PTE_NO_EXECUTE;
  if (flags & MAP_DEVICE) entry |= PTE_CACHE_DISABLE | PTE_WRITE_THROUGH;
  uint64_t old = *pte;
  *pte = entry;
  if ((old & PTE_PRESENT) && old != entry) smp_shootdown(root, virt);
  return 0;
}

uint64_t arch_space_unmap(uint64_t root, uint64_t virt) {
  if (virt >= USER_TOP) return 0;
  uint64_t *pte = pte_find(root, virt & ~(PAGE_SIZE - 1));
  if (!pte || !(*pte & PTE_PRESENT)) return 0;
  uint64_t phys = *pte & PTE_ADDRESS;
  *pte = 0;
  smp_shootdown(root, virt & ~(PAGE_SIZE - 1));
  return phys;
}

/* Frees the user half's tables, bottom up; the kernel half is shared and
 * stays. Frames from the early pool are not the kernel's to take back, and
 * kernel_frame_free says so; that is fine. */
static void free_tables(uint64_t table_phys, int level) {
  uint64_t *table = table_at(table_phys);
  unsigned entries = level == 4 ? 256 : 512;
  if (level > 1) {
    for (unsigned i = 0; i < entries; i++) {
      if (table[i] & PTE_PRESENT) free_tables(table[i] & PTE_ADDRESS, level - 1);
    }
  }
  kernel_frame_free(table_phys);
}

void arch_space_destroy(uint64_t root) {
  if (root == kernel_root) panic("space_destroy of the kernel's own space");
  smp_shootdown(root, SHOOTDOWN_SPACE);
  free_tables(root, 4);
}

/* The frame behind a user page with the rights user code has on it (write
 * too when asked), or 0; arch/common/space.c copies through it. */
uint64_t arch_user_page(uint64_t root, uint64_t virt, bool write) {
  if (virt >= USER_TOP) return 0;
  uint64_t *pte = pte_find(root, virt);
  uint64_t need = PTE_PRESENT | PTE_USER | (write ? PTE_WRITE : 0);
  if (!pte || (*pte & need) != need) return 0;
  return *pte & PTE_ADDRESS;
}
