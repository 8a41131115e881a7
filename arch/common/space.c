/*
 * Copies between a user address space and the kernel, for the space_read /
 * space_write imports: page by page through the direct map, so no fault is
 * possible, and a hole or a missing right anywhere fails the whole copy.
 * Each arch answers only which frame backs a user page (arch_user_page).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch.h"

#define SPACE_REFUSED (-1)

static int32_t space_copy(uint64_t root, uint64_t virt, uint8_t *kernel, uint32_t length, bool to_user) {
  while (length > 0) {
    uint64_t frame = arch_user_page(root, virt & ~(PAGE_SIZE - 1), to_user);
    if (frame == 0) return SPACE_REFUSED;
    uint64_t offset = virt & (PAGE_SIZE - 1);
    uint32_t chunk = (uint32_t)(PAGE_SIZE - offset) < length ? (uint32_t)(PAGE_SIZE - offset) : length;
    uint8_t *user = (uint8_t *)arch_phys_to_virt(frame + offset);
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
