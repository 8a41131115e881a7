/*
 * The kernel's backend for the wasm2c runtime (rt_common.c has the rest):
 * linear memory in kernel virtual space, and traps, which in the kernel are
 * panics. It replaces wabt's wasm-rt-impl.c, which assumes an OS (mmap,
 * signals, malloc).
 *
 * Bounds checks use the guard-page mode (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1):
 * each linear memory gets a reserved virtual range of RT_MEMORY_RESERVE_BYTES
 * (any 32-bit index plus any 32-bit offset lands inside it); only its first
 * `size` bytes are mapped. An access past them faults, and the arch page-fault
 * handler calls rt_fault_is_memory_guard() and turns it into an OOB trap.
 *
 *   window base                    +size                        +8 GiB
 *   | mapped, zeroed on grow        | unmapped: fault → OOB trap  |
 */
#include <stdint.h>

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kprintf.h"
#include "backend.h"
#include "rt.h"
#include "wasm-rt.h"

#define WASM_PAGE_SIZE 65536ull
#define RT_MEMORY_RESERVE_BYTES (8ull << 30)
#define RT_MAX_MEMORIES 4
/* wasm_rt_memory_t.size is 32-bit, so one page short of 4 GiB. */
#define RT_MAX_PAGES 65535u

/* Set by the arch code: where in kernel virtual space the windows start. */
extern const uint64_t arch_wasm_window_base;

/* ---- linear memory ---- */

struct window {
  uint64_t base;
  uint64_t mapped_bytes; /* may exceed the memory's size after a failed grow */
};
static struct window windows[RT_MAX_MEMORIES];
static unsigned window_count;

/* Maps zeroed frames until `bytes` of the window are backed. */
static bool window_back(struct window *w, uint64_t bytes) {
  while (w->mapped_bytes < bytes) {
    uint64_t phys = frame_take();
    if (phys == 0 || !arch_map_kernel_page(w->base + w->mapped_bytes, phys)) return false;
    w->mapped_bytes += PAGE_SIZE;
  }
  return true;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  if (window_count == RT_MAX_MEMORIES) panic("wasm-rt: more than %d linear memories", RT_MAX_MEMORIES);
  struct window *w = &windows[window_count++];
  w->base = arch_wasm_window_base + (window_count - 1) * (RT_MEMORY_RESERVE_BYTES + WASM_PAGE_SIZE);
  if (!window_back(w, initial_pages * WASM_PAGE_SIZE))
    panic("wasm-rt: no memory for %u initial wasm pages", initial_pages);
  memory->data = (uint8_t *)(uintptr_t)w->base;
  memory->pages = initial_pages;
  memory->max_pages = max_pages < RT_MAX_PAGES ? max_pages : RT_MAX_PAGES;
  memory->size = (uint32_t)(initial_pages * WASM_PAGE_SIZE);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta) {
  uint32_t old_pages = memory->pages;
  uint64_t new_pages = (uint64_t)old_pages + delta;
  if (new_pages > memory->max_pages) return UINT32_MAX;
  for (unsigned i = 0; i < window_count; i++) {
    if (windows[i].base != (uintptr_t)memory->data) continue;
    if (!window_back(&windows[i], new_pages * WASM_PAGE_SIZE)) return UINT32_MAX;
    memory->pages = (uint32_t)new_pages;
    memory->size = (uint32_t)(new_pages * WASM_PAGE_SIZE);
    return old_pages;
  }
  panic("wasm-rt: grow of an unknown memory at %p", (void *)memory->data);
}

bool rt_fault_is_memory_guard(uint64_t address) {
  for (unsigned i = 0; i < window_count; i++) {
    if (address >= windows[i].base + windows[i].mapped_bytes &&
        address < windows[i].base + RT_MEMORY_RESERVE_BYTES)
      return true;
  }
  return false;
}

/* ---- failures: in the kernel, every trap is a panic ---- */

void rt_fail(const char *why) { panic("%s", why); }

void wasm_rt_trap(wasm_rt_trap_t trap) {
  panic("wasm trap: %s (native pc %p)", wasm_rt_strerror(trap), __builtin_return_address(0));
}

void abort(void) { panic("abort"); }

void camos_assert_failed(const char *expr, const char *file, int line) {
  panic("assertion failed: %s at %s:%d", expr, file, line);
}
