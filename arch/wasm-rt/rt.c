/*
 * The freestanding runtime that wasm2c's output needs in the kernel: linear
 * memory, tables, the function-type registry, traps and the call-depth
 * counter. It replaces wabt's wasm-rt-impl.c, which assumes an OS (mmap,
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
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "../common/arch.h"
#include "../common/frames.h"
#include "../common/kprintf.h"
#include "wasm-rt.h"

#define WASM_PAGE_SIZE 65536ull
#define RT_MEMORY_RESERVE_BYTES (8ull << 30)
#define RT_MAX_MEMORIES 4
/* wasm_rt_memory_t.size is 32-bit, so one page short of 4 GiB. */
#define RT_MAX_PAGES 65535u
#define RT_MAX_FUNC_TYPES 128
#define RT_MAX_TYPE_ARITY 16
#define RT_TABLE_ARENA_BYTES (64 * 1024)

/* Set by the arch code: where in kernel virtual space the windows start. */
extern const uint64_t arch_wasm_window_base;

uint32_t wasm_rt_call_stack_depth;

static bool initialized;
void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }

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

/* ---- tables: carved once from a small arena, never freed ---- */

static uint8_t table_arena[RT_TABLE_ARENA_BYTES] __attribute__((aligned(16)));
static size_t table_arena_used;

static void *table_alloc(size_t bytes) {
  bytes = (bytes + 15) & ~(size_t)15;
  if (bytes > RT_TABLE_ARENA_BYTES - table_arena_used) panic("wasm-rt: table arena exhausted");
  void *p = table_arena + table_arena_used;
  table_arena_used += bytes;
  return p;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements) {
  table->data = table_alloc(elements * sizeof(wasm_rt_funcref_t));
  memset(table->data, 0, elements * sizeof(wasm_rt_funcref_t));
  table->size = elements;
  table->max_size = elements; /* tables never grow in CAM-OS modules */
  (void)max_elements;
}

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *table, uint32_t delta, wasm_rt_funcref_t init) {
  (void)init;
  return delta == 0 ? table->size : UINT32_MAX;
}

/* ---- function types: equal signatures get equal indices ---- */

static struct {
  uint32_t params, results;
  wasm_rt_type_t types[RT_MAX_TYPE_ARITY];
} func_types[RT_MAX_FUNC_TYPES];
static uint32_t func_type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  wasm_rt_type_t types[RT_MAX_TYPE_ARITY];
  if (params + results > RT_MAX_TYPE_ARITY) panic("wasm-rt: function type with %u values", params + results);
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < params + results; i++) types[i] = va_arg(args, wasm_rt_type_t);
  va_end(args);
  for (uint32_t i = 0; i < func_type_count; i++) {
    if (func_types[i].params == params && func_types[i].results == results &&
        memcmp(func_types[i].types, types, (params + results) * sizeof types[0]) == 0)
      return i + 1; /* 0 is the null funcref's type */
  }
  if (func_type_count == RT_MAX_FUNC_TYPES) panic("wasm-rt: more than %d function types", RT_MAX_FUNC_TYPES);
  func_types[func_type_count].params = params;
  func_types[func_type_count].results = results;
  memcpy(func_types[func_type_count].types, types, (params + results) * sizeof types[0]);
  return ++func_type_count;
}

/* ---- traps: in the kernel, every trap is a panic ---- */

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
  case WASM_RT_TRAP_NONE: return "no trap";
  case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
  case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
  case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
  case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
  case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
  case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call signature mismatch";
  case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
  case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
  }
  return "unknown trap";
}

void wasm_rt_trap(wasm_rt_trap_t trap) {
  panic("wasm trap: %s (native pc %p)", wasm_rt_strerror(trap), __builtin_return_address(0));
}

void abort(void) { panic("abort"); }

void camos_assert_failed(const char *expr, const char *file, int line) {
  panic("assertion failed: %s at %s:%d", expr, file, line);
}
