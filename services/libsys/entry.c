/*
 * What runs between _start and the service's main(): instantiate the module,
 * call its exported `main(): i32`, exit with what it returns.
 *
 * Built once per service: services.mk compiles this file with
 * -DLIBSYS_MODULE=<name> and -include <name>_wasm.h, so it names that
 * module's wasm2c symbols (Z_<name>_instance_t, Z_<name>_init_module,
 * Z_<name>_instantiate, Z_<name>Z_main). Instantiation also runs the
 * module's start function (AssemblyScript's top-level statements).
 */
#include "libsys.h"

#ifndef LIBSYS_MODULE
#error "build with -DLIBSYS_MODULE=<module name> -include <module>_wasm.h"
#endif

#define W2C_(prefix, module, suffix) prefix##module##suffix
#define W2C(prefix, module, suffix) W2C_(prefix, module, suffix)

static W2C(Z_, LIBSYS_MODULE, _instance_t) instance;

void libsys_main(uint64_t argument) {
  (void)argument; /* the kernel passes 0 for now: nothing to hand on yet */
  wasm_rt_init();
  W2C(Z_, LIBSYS_MODULE, _init_module)();
  W2C(Z_, LIBSYS_MODULE, _instantiate)(&instance, &libsys_imports);
  uint32_t code = W2C(Z_, LIBSYS_MODULE, Z_main)(&instance);
  sys_exit(code);
}
