/*
 * Device registers for user-mode drivers: the trampoline's side of the
 * kernel's mmio_read / mmio_write imports.
 *
 * A wasm service cannot reach memory outside its linear memory, so its
 * driver reads and writes device registers through the kernel, which checks
 * the service's CAP_MMIO capability and then calls here with a physical
 * address. The register is reached through the MMIO window (Device-nGnRnE,
 * paging.c), one page mapped on first use and kept: a driver touches the
 * same few pages over and over, and the window never has to be torn down.
 *
 * Mechanism, not policy: the capability is the kernel's check. What this
 * file refuses (-1) is what no capability may make sound: a width other
 * than 1, 2 or 4 bytes, an address not aligned to it (an unaligned access
 * to Device memory faults), an address past the 48-bit physical space, RAM
 * (it is mapped Normal cacheable in the direct map, and one page must not
 * be both), and the GIC the trampoline drives itself.
 */
#include "device.h"

#include "../common/arch.h"
#include "../common/console.h"
#include "paging.h"

#define DEVICE_PAGES 32
#define PHYS_LIMIT (1ull << 48)
#define GICD_BYTES 0x10000ull

struct device_page {
  uint64_t phys; /* page address; 0 with virt 0: unused */
  volatile uint8_t *virt;
};

static struct device_page pages[DEVICE_PAGES];
static const struct fdt_machine *machine;

void device_init(const struct fdt_machine *facts) { machine = facts; }

static bool overlaps(uint64_t page, uint64_t base, uint64_t size) {
  return size != 0 && page < base + size && base < page + PAGE_SIZE;
}

static bool forbidden(uint64_t page) {
  if (!machine) return true;
  for (unsigned i = 0; i < machine->memory_count; i++)
    if (overlaps(page, machine->memory[i].base, machine->memory[i].size)) return true;
  uint64_t gicd_size = machine->gicd.size ? machine->gicd.size : GICD_BYTES;
  return overlaps(page, machine->gicd.base, gicd_size) || overlaps(page, machine->gicr.base, machine->gicr.size);
}

/* The kernel-virtual address of device register `phys`, mapping its page
 * on first use; 0 when refused or when the table of pages is full. */
static volatile uint8_t *device_register(uint64_t phys) {
  uint64_t page = phys & ~(PAGE_SIZE - 1);
  struct device_page *free = 0;
  for (unsigned i = 0; i < DEVICE_PAGES; i++) {
    if (pages[i].virt == 0) {
      if (!free) free = &pages[i];
    } else if (pages[i].phys == page) {
      return pages[i].virt + (phys - page);
    }
  }
  if (!free || forbidden(page)) return 0;
  volatile uint8_t *virt = paging_try_map_mmio_page(page);
  if (!virt) return 0;
  free->phys = page;
  free->virt = virt;
  return virt + (phys - page);
}

static volatile uint8_t *checked(uint64_t phys, uint32_t width) {
  if ((width != 1 && width != 2 && width != 4) || (phys & (width - 1)) || phys >= PHYS_LIMIT) return 0;
  return device_register(phys);
}

int64_t arch_mmio_read(uint64_t phys, uint32_t width) {
  volatile uint8_t *reg = checked(phys, width);
  if (!reg) return -1;
  if (width == 1) return *reg;
  if (width == 2) return *(volatile uint16_t *)reg;
  return *(volatile uint32_t *)reg;
}

int32_t arch_mmio_write(uint64_t phys, uint32_t width, uint32_t value) {
  volatile uint8_t *reg = checked(phys, width);
  if (!reg || (width < 4 && value >> (8 * width) != 0)) return -1;
  if (width == 1) *reg = (uint8_t)value;
  else if (width == 2) *(volatile uint16_t *)reg = (uint16_t)value;
  else *(volatile uint32_t *)reg = value;
  /* The console's PL011 data register (offset 0): the console service's byte. */
  if (machine->uart.base != 0 && phys == machine->uart.base) console_service_byte((uint8_t)value);
  return 0;
}
