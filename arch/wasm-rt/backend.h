/*
 * What the common runtime (rt_common.c) needs from the backend it is linked
 * with: the kernel's (rt.c) or user mode's (services/libsys/). Each
 * backend also gives linear memory (wasm_rt_allocate_memory,
 * wasm_rt_grow_memory), wasm_rt_trap, abort and camos_assert_failed.
 */
#ifndef CAMOS_RT_BACKEND_H
#define CAMOS_RT_BACKEND_H

/* The runtime cannot go on (a fixed limit reached while instantiating):
 * the kernel panics, a service exits. `why` is a constant string. */
__attribute__((noreturn)) void rt_fail(const char *why);

#endif
