/* AArch64 translation tables (TTBR1): kernel image, direct map, wasm and
 * MMIO windows. */
#ifndef CAMOS_AARCH64_PAGING_H
#define CAMOS_AARCH64_PAGING_H
#include <stdbool.h>
#include <stdint.h>

/* Table-descriptor bits that shut EL0 out of everything below a kernel
 * table: APTable = 01 (no EL0 access, bit 61) and UXNTable (bit 60). Every
 * TTBR1 table carries them (paging.c, and user.c for the boot tables). */
#define PAGING_TABLE_KERNEL_ONLY ((1ull << 61) | (1ull << 60))

/* Linux Image path: boot.S's tables are live, the image at `phys_base`. */
void paging_init_linux(uint64_t phys_base);
/* Limine path: Limine's tables are live; adopt its direct map and MAIR. */
void paging_init_limine(uint64_t hhdm_offset, uint64_t kernel_phys_base, uint64_t kernel_virt_base);

/* Maps the DTB read-only into a boot window and returns its address there,
 * or 0 when the blob has no FDT magic or an absurd size. `*size` gets its
 * total size. (The direct map does not exist yet: it needs the DTB.) */
const void *paging_map_boot_dtb(uint64_t phys, uint32_t *size);
/* Adds [phys, phys + bytes) to the direct map as normal memory. */
void paging_map_ram(uint64_t phys, uint64_t bytes);
/* Maps a device range Device-nGnRnE; returns its kernel-virtual address. */
void *paging_map_mmio(uint64_t phys, uint64_t bytes);
/* Maps the one device page holding `phys`; 0 when a page-table frame could
 * not be had (then nothing changed). */
void *paging_try_map_mmio_page(uint64_t phys);

uint64_t paging_hhdm_offset(void);
/* Kernel-virtual address of a page-table frame (in the image or in RAM). */
uint64_t *paging_table_at(uint64_t phys);
/* The Normal and Device MAIR index fields (AttrIndx, already shifted). */
uint64_t paging_attr_normal(void);
uint64_t paging_attr_device(void);
uint64_t paging_kernel_phys_base(void);
#endif
