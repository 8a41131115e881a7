/*
 * The user-mode backend of the wasm2c runtime (arch/wasm-rt/rt_common.c has
 * the part shared with the kernel): the one linear memory, and what a trap
 * does. Nothing here can report in words (a service may hold no log
 * capability), so every failure is an exit code the supervisor reads:
 *
 *   wasm trap of kind k           SYS_EXIT(EXIT_TRAP_BASE + k)
 *   abort()                       SYS_EXIT(EXIT_TRAP_BASE + TRAP_UNREACHABLE)
 *   runtime limit, no memory      SYS_EXIT(LIBSYS_EXIT_FAILED)
 *
 * Linear memory (guard-page mode, WASM_RT_MEMCHECK_SIGNAL_HANDLER=1):
 *
 *   USER_WASM_BASE                 + size                     + 8 GiB
 *   | mapped by SYS_MEM_GROW, zeroed | unmapped: the kernel kills  |
 *   |                                | the process, "wasm trap:    |
 *   |                                | out-of-bounds"              |
 *
 * The kernel maps each grow at USER_WASM_BASE + the previous size, so the
 * memory never moves and `data` is fixed for the life of the process.
 */
#include <stdint.h>

#include "../../arch/wasm-rt/backend.h"
#include "libsys.h"

/* wasm_rt_memory_t.size is 32-bit, so one page short of 4 GiB. */
#define MAX_PAGES 65535u

wasm_rt_memory_t *libsys_memory;

/* Asks the kernel for `delta` more pages; false when it refuses. */
static bool kernel_grow(wasm_rt_memory_t *memory, uint32_t delta) {
  uint64_t results[6];
  if (sys6(SYS_MEM_GROW, delta, 0, 0, 0, 0, 0, results) < 0) return false;
  /* Only this file grows the memory (sys.syscall refuses SYS_MEM_GROW), so
   * the kernel's count and ours cannot differ unless something is broken. */
  if (results[0] != memory->pages) rt_fail("libsys: the kernel's page count differs from the runtime's");
  memory->pages += delta;
  memory->size = (uint32_t)(memory->pages * WASM_PAGE_BYTES);
  return true;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  if (libsys_memory != 0) rt_fail("libsys: a module with more than one linear memory");
  memory->data = (uint8_t *)(uintptr_t)USER_WASM_BASE;
  memory->pages = 0;
  memory->size = 0;
  memory->max_pages = max_pages < MAX_PAGES ? max_pages : MAX_PAGES;
  libsys_memory = memory;
  if (initial_pages > memory->max_pages || (initial_pages > 0 && !kernel_grow(memory, initial_pages)))
    rt_fail("libsys: no memory for the initial pages");
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta) {
  uint32_t old_pages = memory->pages;
  if ((uint64_t)old_pages + delta > memory->max_pages) return UINT32_MAX;
  if (delta > 0 && !kernel_grow(memory, delta)) return UINT32_MAX;
  return old_pages;
}

uint8_t *libsys_linear(uint64_t offset, uint64_t length) {
  if (libsys_memory == 0 || offset > libsys_memory->size || length > libsys_memory->size - offset)
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  return libsys_memory->data + offset;
}

/* ---- failures ---- */

void sys_exit(uint64_t code) {
  uint64_t ignored[6];
  sys6(SYS_EXIT, code, 0, 0, 0, 0, 0, ignored);
  for (;;) __builtin_trap(); /* SYS_EXIT does not return */
}

void wasm_rt_trap(wasm_rt_trap_t trap) { sys_exit(EXIT_TRAP_BASE + (uint64_t)trap); }

void abort(void) { wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); }

void rt_fail(const char *why) {
  (void)why; /* in the debugger: the string names the limit */
  sys_exit(LIBSYS_EXIT_FAILED);
}

void camos_assert_failed(const char *expr, const char *file, int line) {
  (void)expr, (void)file, (void)line;
  rt_fail("libsys: assertion failed");
}
