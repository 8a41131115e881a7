/*
 * User address spaces (TTBR0) for the kernel's space_* imports.
 *
 * A space is named by its level-0 table (physical). The kernel half lives in
 * TTBR1 and is shared by construction, so a user root holds only user pages:
 * 4 KiB pages, EL0-accessible (AP), never executable at EL1 (PXN), not
 * global (nG). W+X, Device+X and addresses outside the 48-bit TTBR0 half are
 * refused, as the contract in kernel/arch.ts says.
 *
 * Not yet on AArch64: running user threads (EL0 entry, SVC, contexts).
 * thread_start and context_set stop the machine with a message saying so;
 * nothing calls them until the process code starts a service.
 */
#include <string.h>

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kernel.h"
#include "../common/kprintf.h"
#include "aarch64.h"
#include "paging.h"

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (3ull << 0)
#define DESC_PAGE (3ull << 0)
#define DESC_AP_EL0 (1ull << 6)       /* EL0 may access */
#define DESC_AP_READ_ONLY (1ull << 7)
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_NOT_GLOBAL (1ull << 11)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define DESC_ADDRESS 0x0000FFFFFFFFF000ull

#define USER_TOP (1ull << 48)
#define MAP_WRITE (1u << 0)
#define MAP_EXECUTE (1u << 1)
#define MAP_DEVICE (1u << 2)
#define SPACE_REFUSED (-1)
#define SPACE_NO_MEMORY (-2)
#define PORT_NONE 0xFFFFFFFFu

/* The level-3 entry for `virt` in `root`; tables are made when `make`. */
static uint64_t *page_entry(uint64_t root, uint64_t virt, bool make) {
  uint64_t *table = paging_table_at(root);
  for (int level = 0; level < 3; level++) {
    uint64_t *entry = &table[(virt >> (39 - 9 * level)) & 511];
    if (!(*entry & DESC_VALID)) {
      if (!make) return 0;
      uint64_t frame = frame_take();
      if (frame == 0) return 0;
      dsb_ishst();
      *entry = frame | DESC_TABLE;
    }
    table = paging_table_at(*entry & DESC_ADDRESS);
  }
  return &table[(virt >> 12) & 511];
}

static void flush_page(uint64_t virt) {
  __asm__ volatile("dsb ishst; tlbi vaae1is, %0; dsb ish; isb" ::"r"(virt >> 12) : "memory");
}

uint64_t arch_space_create(void) { return frame_take(); }

int32_t arch_space_map(uint64_t root, uint64_t virt, uint64_t phys, uint32_t flags) {
  if (virt >= USER_TOP || (virt & (PAGE_SIZE - 1)) || (phys & (PAGE_SIZE - 1))) return SPACE_REFUSED;
  if ((flags & MAP_EXECUTE) && (flags & (MAP_WRITE | MAP_DEVICE))) return SPACE_REFUSED;
  uint64_t *entry = page_entry(root, virt, true);
  if (!entry) return SPACE_NO_MEMORY;
  uint64_t descriptor = phys | DESC_PAGE | DESC_AF | DESC_AP_EL0 | DESC_NOT_GLOBAL | DESC_PXN;
  descriptor |= (flags & MAP_DEVICE) ? paging_attr_device() : paging_attr_normal() | DESC_SH_INNER;
  if (!(flags & MAP_WRITE)) descriptor |= DESC_AP_READ_ONLY;
  if (!(flags & MAP_EXECUTE)) descriptor |= DESC_UXN;
  bool replacing = *entry & DESC_VALID;
  *entry = descriptor;
  if (replacing) flush_page(virt);
  else dsb_ishst();
  return 0;
}

uint64_t arch_space_unmap(uint64_t root, uint64_t virt) {
  if (virt >= USER_TOP) return 0;
  uint64_t *entry = page_entry(root, virt & ~(PAGE_SIZE - 1), false);
  if (!entry || !(*entry & DESC_VALID)) return 0;
  uint64_t phys = *entry & DESC_ADDRESS;
  *entry = 0;
  flush_page(virt);
  return phys;
}

/* Frees a space's tables bottom up (not the pages: those are the kernel's). */
static void free_tables(uint64_t table_phys, int level) {
  uint64_t *table = paging_table_at(table_phys);
  if (level < 3) {
    for (unsigned i = 0; i < 512; i++)
      if (table[i] & DESC_VALID) free_tables(table[i] & DESC_ADDRESS, level + 1);
  }
  kernel_frame_free(table_phys);
}

void arch_space_destroy(uint64_t root) {
  free_tables(root, 0);
  __asm__ volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" ::: "memory");
}

/* Copies page by page through the direct map: never faults; a hole or a
 * missing right fails the whole copy. */
static int32_t space_copy(uint64_t root, uint64_t virt, uint8_t *kernel, uint32_t length, bool to_user) {
  while (length > 0) {
    if (virt >= USER_TOP) return SPACE_REFUSED;
    uint64_t *entry = page_entry(root, virt, false);
    if (!entry || !(*entry & DESC_VALID) || !(*entry & DESC_AP_EL0)) return SPACE_REFUSED;
    if (to_user && (*entry & DESC_AP_READ_ONLY)) return SPACE_REFUSED;
    uint64_t offset = virt & (PAGE_SIZE - 1);
    uint32_t chunk = (uint32_t)(PAGE_SIZE - offset) < length ? (uint32_t)(PAGE_SIZE - offset) : length;
    uint8_t *user = (uint8_t *)arch_phys_to_virt((*entry & DESC_ADDRESS) + offset);
    if (to_user) memcpy(user, kernel, chunk);
    else memcpy(kernel, user, chunk);
    virt += chunk;
    kernel += chunk;
    length -= chunk;
  }
  return 0;
}

int32_t arch_space_read(uint64_t root, uint64_t virt, void *dst, uint32_t length) {
  return space_copy(root, virt, dst, length, false);
}

int32_t arch_space_write(uint64_t root, uint64_t virt, const void *src, uint32_t length) {
  return space_copy(root, virt, (uint8_t *)src, length, true);
}

/* What an entry named to run next: only the idle loop (0) exists so far. */
void user_check_next(uint32_t tid) {
  if (tid != 0) panic("the kernel asked to run thread %u: user threads are not implemented on aarch64 yet", tid);
}

void arch_thread_start(uint32_t tid, uint64_t root, uint64_t entry, uint64_t stack, uint64_t arg) {
  (void)root, (void)stack, (void)arg;
  panic("user threads are not implemented on aarch64 yet (thread %u at %p)", tid, (void *)entry);
}

void arch_context_set(uint32_t tid, uint32_t reg, uint64_t value) {
  (void)reg, (void)value;
  panic("user threads are not implemented on aarch64 yet (context of thread %u)", tid);
}

/* No I/O ports on AArch64: reads see nothing, writes go nowhere. */
uint32_t arch_port_in(uint32_t port, uint32_t width) {
  (void)port, (void)width;
  return PORT_NONE;
}

void arch_port_out(uint32_t port, uint32_t width, uint32_t value) { (void)port, (void)width, (void)value; }
