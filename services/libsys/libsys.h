/*
 * libsys: the user-mode runtime every service links with. It runs one wasm2c
 * module in ring 3 / EL0: its linear memory at USER_WASM_BASE, grown through
 * SYS_MEM_GROW; a trap becomes SYS_EXIT(EXIT_TRAP_BASE + kind); its `sys.*`
 * imports become system calls.
 *
 *   _start (start_<arch>.S) ─► libsys_main (entry.c: instantiate, main())
 *                               ─► sys_exit(main's result)
 *
 * abi.h is generated from kernel/abi.ts at build time (services/services.mk),
 * so the numbers here and in the services have one definition.
 */
#ifndef CAMOS_LIBSYS_H
#define CAMOS_LIBSYS_H

#include <stdint.h>

#include "abi.h"
#include "wasm-rt.h"

/* One system call: status (E_OK or a negative E_*) returned, the six result
 * registers in out[0..5] (whatever the kernel left there, even on error).
 * syscall_<arch>.c. sys_exit is in runtime.c. */
int64_t sys6(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
             uint64_t out[6]);

__attribute__((noreturn)) void sys_exit(uint64_t code);

/* Exit code when libsys itself cannot run the module (no memory for its
 * initial pages, a runtime limit, an assertion). Below EXIT_TRAP_BASE: the
 * runtime is part of the program. */
#define LIBSYS_EXIT_FAILED 0xffu

/* The module's one linear memory, once instantiation allocated it; the
 * imports check every pointer against it. runtime.c. */
extern wasm_rt_memory_t *libsys_memory;

/* The bytes [offset, offset + length) of linear memory, or an OOB trap:
 * a pointer from the service never makes libsys touch anything else. */
uint8_t *libsys_linear(uint64_t offset, uint64_t length);

/* What wasm2c passes to every `sys.*` import. imports.c. */
struct Z_sys_instance_t;
extern struct Z_sys_instance_t libsys_imports;

/* Called by _start with the kernel's argument word; never returns. entry.c,
 * built once per service. */
__attribute__((noreturn)) void libsys_main(uint64_t argument);

#endif
