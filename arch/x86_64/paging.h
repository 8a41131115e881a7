/* x86_64 4-level paging: the direct map, kernel pages, MMIO windows. */
#ifndef CAMOS_X86_PAGING_H
#define CAMOS_X86_PAGING_H
#include <stdint.h>

/* Multiboot2 path: our boot.S tables are live; extend the direct map to
 * cover RAM up to `highest_phys` and drop the identity map. */
void paging_init_multiboot2(uint64_t highest_phys);
/* Limine path: Limine's tables are live; adopt its direct map. */
void paging_init_limine(uint64_t hhdm_offset, uint64_t kernel_phys_base, uint64_t kernel_virt_base);

uint64_t paging_hhdm_offset(void);
/* The kernel's own PML4 (physical): what an idle CPU runs on. */
uint64_t paging_kernel_root(void);
/* An AP's first PML4 (physical), for ap_start.S. */
uint64_t paging_ap_start_root(void);
/* Maps a device range uncached; returns its kernel-virtual address. */
void *paging_map_mmio(uint64_t phys, uint64_t bytes);
#endif
