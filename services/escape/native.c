/*
 * The escape service's one native function: a plain store to any address,
 * outside the wasm sandbox. Linked into this test service only, so that the
 * MMU is the only thing that can stop it (services/escape/main.ts).
 */
#include <stdint.h>

struct Z_sys_instance_t;

void Z_sysZ_native_store(struct Z_sys_instance_t *self, uint64_t address, uint32_t value) {
  (void)self;
  *(volatile uint32_t *)(uintptr_t)address = value;
}
