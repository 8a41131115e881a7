/*
 * The part of the wasm2c runtime that does not care where it runs: funcref
 * tables, the function-type registry, trap names and the call-depth counter.
 * The kernel links it with rt.c, every service with services/libsys/;
 * the backend gives linear memory and says what a trap does (backend.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "backend.h"
#include "wasm-rt.h"

#define RT_MAX_FUNC_TYPES 128
#define RT_MAX_TYPE_ARITY 16
/* Funcref tables come from a static arena; a service's are small, so its
 * build passes a smaller one. */
#ifndef RT_TABLE_ARENA_BYTES
#define RT_TABLE_ARENA_BYTES (64 * 1024)
#endif

#define RT_STRING(x) RT_STRING_(x)
#define RT_STRING_(x) #x

uint32_t wasm_rt_call_stack_depth;

static bool initialized;
void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }

/* ---- tables: carved once from a small arena, never freed ---- */

static uint8_t table_arena[RT_TABLE_ARENA_BYTES] __attribute__((aligned(16)));
static size_t table_arena_used;

static void *table_alloc(size_t bytes) {
  bytes = (bytes + 15) & ~(size_t)15;
  if (bytes > RT_TABLE_ARENA_BYTES - table_arena_used)
    rt_fail("wasm-rt: table arena (" RT_STRING(RT_TABLE_ARENA_BYTES) " bytes) exhausted");
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
  if (params + results > RT_MAX_TYPE_ARITY)
    rt_fail("wasm-rt: a function type with more than " RT_STRING(RT_MAX_TYPE_ARITY) " values");
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < params + results; i++) types[i] = va_arg(args, wasm_rt_type_t);
  va_end(args);
  for (uint32_t i = 0; i < func_type_count; i++) {
    if (func_types[i].params == params && func_types[i].results == results &&
        memcmp(func_types[i].types, types, (params + results) * sizeof types[0]) == 0)
      return i + 1; /* 0 is the null funcref's type */
  }
  if (func_type_count == RT_MAX_FUNC_TYPES)
    rt_fail("wasm-rt: more than " RT_STRING(RT_MAX_FUNC_TYPES) " function types");
  func_types[func_type_count].params = params;
  func_types[func_type_count].results = results;
  memcpy(func_types[func_type_count].types, types, (params + results) * sizeof types[0]);
  return ++func_type_count;
}

/* ---- trap names, for reports ---- */

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
