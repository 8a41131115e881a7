/*
 * Translation tables, 4 KiB granule, 48-bit virtual addresses, four levels.
 *
 * Kernel virtual layout (all TTBR1; TTBR0 is left for user space):
 *   0xFFFF800000000000  direct map of RAM (Linux Image path; on the Limine
 *                       path, wherever Limine put its HHDM)
 *   0xFFFFC00000000000  wasm linear memory windows (arch/wasm-rt/rt.c)
 *   0xFFFFD00000000000  MMIO window, Device-nGnRnE
 *   0xFFFFE00000000000  boot window: the DTB, read before the direct map exists
 *   0xFFFFFFFF80000000  the kernel image (2 MiB blocks, boot.S)
 *
 * Descriptor (block at level 1/2, page at level 3):
 *   54 UXN | 53 PXN | 47..12 output address | 10 AF | 9..8 SH | 7..6 AP
 *   | 4..2 AttrIndx (MAIR) | 1..0: 01 block, 11 table or page
 * Table descriptors here also carry APTable = 01 and UXNTable (bits 61,
 * 60): EL0 can neither read nor run anything in the kernel half, whatever
 * the entries below say.
 *
 * Device memory is only ever mapped through paging_map_mmio, never through
 * the direct map, which covers the /memory ranges of the DTB and nothing else.
 */
#include "paging.h"

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kprintf.h"
#include "aarch64.h"

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (3ull << 0)
#define DESC_BLOCK (1ull << 0)
#define DESC_PAGE (3ull << 0)
#define DESC_TYPE_MASK (3ull << 0)
#define DESC_ATTR(index) ((uint64_t)(index) << 2)
#define DESC_AP_READ_ONLY (2ull << 6)
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define DESC_ADDRESS 0x0000FFFFFFFFF000ull

#define MAIR_DEVICE_nGnRnE 0x00
#define MAIR_NORMAL_WRITE_BACK 0xFF

#define KERNEL_VMA 0xFFFFFFFF80000000ull
#define LINUX_HHDM 0xFFFF800000000000ull
#define MMIO_WINDOW 0xFFFFD00000000000ull
#define BOOT_WINDOW 0xFFFFE00000000000ull
#define HHDM_LIMIT (1ull << 46) /* 64 TiB of physical space */
#define FDT_MAGIC 0xd00dfeedu
#define FDT_MAX_BYTES (2u << 20)

const uint64_t arch_wasm_window_base = 0xFFFFC00000000000ull;

extern char __kernel_start[], __kernel_end[];
extern uint64_t k_l0[512];

static uint64_t *root;
static uint64_t hhdm_offset;
static uint64_t kernel_phys_base;
static uint64_t kernel_virt_base;
static uint64_t kernel_bytes;
static uint64_t attr_normal;
static uint64_t attr_device;
static uint64_t mmio_next = MMIO_WINDOW;

uint64_t paging_hhdm_offset(void) { return hhdm_offset; }
uint64_t paging_kernel_phys_base(void) { return kernel_phys_base; }
void *arch_phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)(phys + hhdm_offset); }
uint64_t arch_kernel_virt_to_phys(const void *virt) { return (uintptr_t)virt - kernel_virt_base + kernel_phys_base; }

/* Tables live either in the image (boot.S's, and the early frame pool) or
 * in RAM handed out later, which the direct map covers. */
static uint64_t *table_at(uint64_t entry) {
  uint64_t phys = entry & DESC_ADDRESS;
  if (phys >= kernel_phys_base && phys - kernel_phys_base < kernel_bytes)
    return (uint64_t *)(uintptr_t)(phys - kernel_phys_base + kernel_virt_base);
  return arch_phys_to_virt(phys);
}

uint64_t *paging_table_at(uint64_t phys) { return table_at(phys); }
uint64_t paging_attr_normal(void) { return attr_normal; }
uint64_t paging_attr_device(void) { return attr_device; }

/* The next-level table under `table[index]`, made when missing; 0 when no
 * frame could be had. A block there is a bug in the layout above. */
static uint64_t *table_next(uint64_t *table, unsigned index) {
  if (!(table[index] & DESC_VALID)) {
    uint64_t frame = frame_take();
    if (frame == 0) return 0;
    dsb_ishst(); /* the zeroed table before the entry that points at it */
    table[index] = frame | DESC_TABLE | PAGING_TABLE_KERNEL_ONLY;
  }
  if ((table[index] & DESC_TYPE_MASK) != DESC_TABLE) panic("paging: %p lies in a block mapping", (void *)table);
  return table_at(table[index]);
}

/* The entry for `virt` at `level` (1: 1 GiB, 2: 2 MiB, 3: 4 KiB),
 * making the tables above it. */
static uint64_t *entry_at(uint64_t virt, int level) {
  uint64_t *table = root;
  for (int l = 0; l < level; l++) {
    table = table_next(table, (virt >> (39 - 9 * l)) & 511);
    if (!table) return 0;
  }
  return &table[(virt >> (39 - 9 * level)) & 511];
}

static void publish(void) {
  dsb_ishst();
  isb();
}

static bool map_page(uint64_t virt, uint64_t phys, uint64_t attributes) {
  uint64_t *entry = entry_at(virt, 3);
  if (!entry) return false;
  *entry = phys | attributes | DESC_PAGE;
  publish();
  return true;
}

static uint64_t normal_data(void) { return DESC_AF | DESC_SH_INNER | attr_normal | DESC_PXN | DESC_UXN; }

bool arch_map_kernel_page(uint64_t virt, uint64_t phys) { return map_page(virt, phys, normal_data()); }

/* Maps a range with the largest blocks that fit (1 GiB, 2 MiB, 4 KiB). */
static void map_range(uint64_t virt, uint64_t phys, uint64_t bytes, uint64_t attributes) {
  while (bytes > 0) {
    int level = 3;
    for (int l = 1; l <= 2; l++) {
      uint64_t size = 1ull << (39 - 9 * l);
      if (((virt | phys) & (size - 1)) == 0 && bytes >= size) {
        level = l;
        break;
      }
    }
    uint64_t size = 1ull << (39 - 9 * level);
    uint64_t *entry = entry_at(virt, level);
    if (!entry) panic("paging: no frame for the tables mapping %p", (void *)virt);
    *entry = phys | attributes | (level == 3 ? DESC_PAGE : DESC_BLOCK);
    virt += size;
    phys += size;
    bytes -= size;
  }
  publish();
}

static uint64_t mair_index(uint64_t mair, uint8_t attribute) {
  for (unsigned i = 0; i < 8; i++) {
    if (((mair >> (8 * i)) & 0xFF) == attribute) return DESC_ATTR(i);
  }
  panic("paging: MAIR_EL1 %lx has no attribute %x", mair, attribute);
}

static void adopt_mair(void) {
  uint64_t mair = READ_SYSREG(mair_el1);
  attr_normal = mair_index(mair, MAIR_NORMAL_WRITE_BACK);
  attr_device = mair_index(mair, MAIR_DEVICE_nGnRnE);
}

void paging_init_linux(uint64_t phys_base) {
  hhdm_offset = LINUX_HHDM;
  kernel_phys_base = phys_base;
  kernel_virt_base = KERNEL_VMA;
  kernel_bytes = (uint64_t)(__kernel_end - __kernel_start);
  root = k_l0;
  adopt_mair(); /* boot.S's: attr0 device, attr1 normal */
}

void paging_init_limine(uint64_t offset, uint64_t phys_base, uint64_t virt_base) {
  hhdm_offset = offset;
  kernel_phys_base = phys_base;
  kernel_virt_base = virt_base;
  kernel_bytes = (uint64_t)(__kernel_end - __kernel_start);
  root = arch_phys_to_virt(READ_SYSREG(ttbr1_el1) & DESC_ADDRESS);
  adopt_mair();
}

static uint32_t be32(const void *p) { return __builtin_bswap32(*(const volatile uint32_t *)p); }

const void *paging_map_boot_dtb(uint64_t phys, uint32_t *size) {
  if (phys == 0 || (phys & 7) != 0) return 0;
  uint64_t offset = phys & (PAGE_SIZE - 1);
  uint64_t attributes = DESC_AF | DESC_SH_INNER | attr_normal | DESC_AP_READ_ONLY | DESC_PXN | DESC_UXN;
  /* The header first (it may straddle a page), then the rest. */
  for (uint64_t page = 0; page < offset + 8; page += PAGE_SIZE)
    if (!map_page(BOOT_WINDOW + page, phys - offset + page, attributes)) return 0;
  const uint8_t *fdt = (const uint8_t *)(uintptr_t)(BOOT_WINDOW + offset);
  if (be32(fdt) != FDT_MAGIC) return 0;
  uint32_t total = be32(fdt + 4);
  if (total < 8 || total > FDT_MAX_BYTES) return 0;
  for (uint64_t page = 0; page < offset + total; page += PAGE_SIZE)
    if (!map_page(BOOT_WINDOW + page, phys - offset + page, attributes)) return 0;
  *size = total;
  return fdt;
}

void paging_map_ram(uint64_t phys, uint64_t bytes) {
  uint64_t start = phys & ~(PAGE_SIZE - 1);
  uint64_t end = (phys + bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  if (end > HHDM_LIMIT) {
    kprintf("paging: RAM above %lu TiB is not mapped and stays unused\n", (unsigned long)(HHDM_LIMIT >> 40));
    end = HHDM_LIMIT;
  }
  if (end > start) map_range(start + hhdm_offset, start, end - start, DESC_AF | DESC_SH_INNER | attr_normal | DESC_PXN | DESC_UXN);
}

static uint64_t device_attributes(void) { return DESC_AF | attr_device | DESC_PXN | DESC_UXN; }

void *paging_map_mmio(uint64_t phys, uint64_t bytes) {
  uint64_t offset = phys & (PAGE_SIZE - 1);
  uint64_t virt = mmio_next;
  for (uint64_t page = 0; page < offset + bytes; page += PAGE_SIZE) {
    if (!map_page(virt + page, (phys & ~(PAGE_SIZE - 1)) + page, device_attributes()))
      panic("paging: cannot map MMIO %p", (void *)phys);
    mmio_next += PAGE_SIZE;
  }
  return (void *)(uintptr_t)(virt + offset);
}

void *paging_try_map_mmio_page(uint64_t phys) {
  if (!map_page(mmio_next, phys & ~(PAGE_SIZE - 1), device_attributes())) return 0;
  mmio_next += PAGE_SIZE;
  return (void *)(uintptr_t)(mmio_next - PAGE_SIZE);
}
