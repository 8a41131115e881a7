/* What the arch code asks of the wasm runtime. */
#ifndef CAMOS_RT_H
#define CAMOS_RT_H
#include <stdbool.h>
#include <stdint.h>
/* True when a fault address lies in the unmapped guard of a linear memory. */
bool rt_fault_is_memory_guard(uint64_t address);
#endif
