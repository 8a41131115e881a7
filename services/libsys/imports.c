/*
 * The `sys.*` imports, the whole surface a service has to the kernel:
 *
 *   sys.syscall(number: u32, a0..a5: u64, results: usize): i64
 *
 * One generic call, so adding a system call never touches libsys. The six
 * result registers land in linear memory at `results` (6 x u64, little
 * endian, any alignment). Two rules keep a hostile service from turning
 * libsys against its own sandbox:
 *   - `results` must lie wholly inside linear memory, checked before the
 *     call is made: otherwise an out-of-bounds trap, and the call never
 *     happens;
 *   - SYS_MEM_GROW belongs to the runtime (wasm code grows its memory with
 *     memory.grow): through sys.syscall it is E_BAD_SYSCALL, so the
 *     runtime's page count always matches the kernel's.
 * Pointers inside the arguments are the kernel's to check (E_FAULT).
 */
#include <string.h>

#include "libsys.h"

#define RESULT_WORDS 6

/* wasm2c hands this to every import; the imports keep no state in it. */
struct Z_sys_instance_t {
  int unused;
};
struct Z_sys_instance_t libsys_imports;

uint64_t Z_sysZ_syscall(struct Z_sys_instance_t *self, uint32_t number, uint64_t a0, uint64_t a1, uint64_t a2,
                        uint64_t a3, uint64_t a4, uint64_t a5, uint32_t results) {
  (void)self;
  uint8_t *out = libsys_linear(results, RESULT_WORDS * sizeof(uint64_t));
  if (number == SYS_MEM_GROW) return (uint64_t)(int64_t)E_BAD_SYSCALL;
  uint64_t words[RESULT_WORDS];
  int64_t status = sys6(number, a0, a1, a2, a3, a4, a5, words);
  memcpy(out, words, sizeof words);
  return (uint64_t)status;
}
