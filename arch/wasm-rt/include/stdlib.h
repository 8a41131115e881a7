/* Freestanding <stdlib.h>: wasm-rt.h includes it; the kernel has no libc. */
#ifndef CAMOS_STDLIB_H
#define CAMOS_STDLIB_H
#include <stddef.h>
__attribute__((noreturn)) void abort(void);
#endif
