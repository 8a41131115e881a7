/*
 * The Limine requests the kernel image carries, and the table of pointers to
 * them that the trampoline passes to kernel_main (boot/limine.ts reads it).
 */
#ifndef CAMOS_LIMINE_REQUESTS_H
#define CAMOS_LIMINE_REQUESTS_H

#include <stdint.h>

/* Every request starts like this; the loader fills `response`. */
struct limine_request_header {
  uint64_t id[4];
  uint64_t revision;
  uint64_t response; /* kernel-virtual pointer, 0 if not answered */
};

/* Indices into limine_request_table, in the order boot/limine.ts expects. */
enum {
  LIMINE_TABLE_BOOTLOADER_INFO,
  LIMINE_TABLE_MEMMAP,
  LIMINE_TABLE_HHDM,
  LIMINE_TABLE_MODULES,
  LIMINE_TABLE_RSDP,
  LIMINE_TABLE_FRAMEBUFFER,
  LIMINE_TABLE_EXECUTABLE_FILE,
  LIMINE_TABLE_EXECUTABLE_ADDRESS,
  LIMINE_TABLE_MP,
  LIMINE_TABLE_DTB,
  LIMINE_TABLE_PAGING_MODE,
  LIMINE_TABLE_COUNT
};

extern const uint64_t limine_request_table[LIMINE_TABLE_COUNT];

/* True when the loader accepted our base revision (it zeroes the tag's
 * revision field when it does). */
int limine_base_revision_supported(void);

/* Answers the trampoline itself needs before the kernel runs. */
uint64_t limine_hhdm_offset(void);
uint64_t limine_kernel_physical_base(void);
uint64_t limine_kernel_virtual_base(void);

#endif
