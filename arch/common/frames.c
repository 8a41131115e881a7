#include "frames.h"

#include <string.h>

#include "arch.h"
#include "kernel.h"

/* Enough for the kernel's initial linear memory, its boot-time heap (BootInfo
 * and the frame bitmap: 2 MiB covers 64 GiB of RAM) and the page tables
 * that map them. It lives in .bss, so the kernel image range (which the
 * kernel reserves) already covers it. */
#define EARLY_POOL_FRAMES 1024u

static uint8_t early_pool[EARLY_POOL_FRAMES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint32_t early_next;

uint64_t frame_take(void) {
  if (early_next < EARLY_POOL_FRAMES) {
    /* .bss is zero at entry and these frames are handed out once. */
    return arch_kernel_virt_to_phys(early_pool[early_next++]);
  }
  uint64_t phys = kernel_frame_alloc();
  if (phys != 0) memset(arch_phys_to_virt(phys), 0, PAGE_SIZE);
  return phys;
}

uint64_t frames_early_used(void) { return early_next; }
uint64_t frames_early_total(void) { return EARLY_POOL_FRAMES; }
