# The services: each services/<name>/main.ts through asc, wasm-opt and
# wasm2c, linked with libsys into a static ring-3 ELF, then signed into a
# boot module. Included by the Makefile, whose variables it uses: ARCH,
# BUILD, KBUILD, NODE_BIN, WASM_FEATURES, CLANG, LLD, BOUNDS_CHECKS, and its
# rules for $(KBUILD)/include/wasm-rt.h and build/tools/%.mjs.
#
#   make services        every service's ELF (and .debug.elf), and a signed
#                        module for each that has a manifest
#
#   services/<name>/*.ts ─asc─► build/services/<name>.wasm ─wasm-opt─► .opt.wasm
#     ─wasm2c─► build/services/<name>_wasm.c ─clang─┐
#   services/libsys/ + arch/wasm-rt/ (common part) ─┴─ld.lld─► $(BUILD)/services/<name>.elf
#     ─tools/sign.ts─► $(BUILD)/modules/<name>.mod
#
# The wasm and the C are the same for every architecture (build/services/);
# objects, ELFs and modules are per architecture.

SERVICES := init console hostile escape spin spin2 spin3 urgent pingd ping

# Services built from another's source under their own name (NAME=SOURCE):
# the same program as its own module, manifest and process, so the test
# images can run several CPU-bound threads at once.
SERVICE_ALIASES := spin2=spin spin3=spin

SERVICE_GEN := build/services
SERVICE_OUT := $(BUILD)/services
MODULE_OUT  := $(BUILD)/modules

# ---- AssemblyScript -> wasm -> C ----
# Services may import services/lib and, of the kernel, only abi.ts (the
# ABI) and the pure lineedit.ts and command.ts (the console's shell). Every
# service depends on all of it: a change anywhere rebuilds the few modules,
# a few seconds.
SERVICE_TS := $(wildcard services/*/*.ts) kernel/abi.ts kernel/lineedit.ts kernel/command.ts kernel/format.ts

$(SERVICE_GEN)/%.wasm: services/%/main.ts $(SERVICE_TS) services/asconfig.json node_modules/.installed
	@mkdir -p $(@D)
	$(NODE_BIN)/asc $< --config services/asconfig.json --outFile $@ --textFile $(@D)/$*.wat

# An alias's wasm is its source's, copied: wasm2c's --module-name, the
# manifest and the signature make it a module of its own.
define SERVICE_ALIAS_RULE
$(SERVICE_GEN)/$(1).wasm: $(SERVICE_GEN)/$(2).wasm
	cp $$< $$@
endef
$(foreach alias,$(SERVICE_ALIASES),$(eval $(call SERVICE_ALIAS_RULE,$(word 1,$(subst =, ,$(alias))),$(word 2,$(subst =, ,$(alias))))))

$(SERVICE_GEN)/%.opt.wasm: $(SERVICE_GEN)/%.wasm
	$(NODE_BIN)/wasm-opt $< $(WASM_FEATURES) -O3 --debuginfo --strip-producers -o $@

$(SERVICE_GEN)/%_wasm.c $(SERVICE_GEN)/%_wasm.h: $(SERVICE_GEN)/%.opt.wasm
	wasm2c $< --module-name $* -o $(SERVICE_GEN)/$*_wasm.c

# The ABI's numeric constants as C macros, so libsys and the services
# share kernel/abi.ts as their one definition: a number or a shift of one
# (1 << 48), digit separators dropped, u64 values unsigned long long.
$(SERVICE_GEN)/include/abi.h: kernel/abi.ts services/services.mk
	@mkdir -p $(@D)
	( echo "/* Generated from kernel/abi.ts by services/services.mk: do not edit. */"; \
	  sed -nE 's/^export const ([A-Z][A-Z0-9_]*): *([iu](8|16|32|64)) *= *(-?(0x[0-9a-fA-F_]+|[0-9_]+)( *<< *[0-9]+)?) *;.*/#define \1 \4 \2/p' $< | \
	  sed -E ':a; s/^(#define [A-Z0-9_]+ [^_]*[0-9a-fA-F])_/\1/; ta' | \
	  sed -E 's/^(#define [A-Z0-9_]+ )(-?(0x[0-9a-fA-F]+|[0-9]+))(.*) u64$$/\1(\2ull\4)/; s/^(#define [A-Z0-9_]+ )(.*) [iu](8|16|32)$$/\1(\2)/' ) > $@

# ---- native code for $(ARCH) ----
# Freestanding, static, not position-independent; user mode needs no
# -mno-red-zone or -mcmodel=kernel. Bounds checks as the kernel's
# (BOUNDS_CHECKS): by default the guard pages of the 8 GiB reservation.
# The call-depth limit keeps deep recursion a clean trap (TRAP_EXHAUSTION)
# inside the 64 KiB user stack: the generated functions' frames are at most
# ~170 bytes (clang -fstack-usage), so 200 deep is ~34 KiB. Funcref tables (AssemblyScript's function
# values) take a few hundred bytes; 8 KiB of arena is plenty.
SERVICE_CALL_DEPTH := 200
SERVICE_TABLE_ARENA_BYTES := 8192
SERVICE_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration \
  -ffreestanding -nostdlib -fno-stack-protector -fno-pic -fno-pie -ffunction-sections -fdata-sections \
  -fno-asynchronous-unwind-tables \
  -isystem arch/wasm-rt/include -Iservices/libsys -I$(SERVICE_GEN) -I$(SERVICE_GEN)/include -I$(KBUILD)/include \
  -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=$(if $(filter explicit,$(BOUNDS_CHECKS)),0,1) -DWASM_RT_USE_STACK_DEPTH_COUNT=1 \
  -DWASM_RT_MAX_CALL_STACK_DEPTH=$(SERVICE_CALL_DEPTH) -DRT_TABLE_ARENA_BYTES=$(SERVICE_TABLE_ARENA_BYTES) \
  --target=$(ARCH)-elf

LIBSYS_DEPS := services/services.mk services/libsys/libsys.h arch/wasm-rt/backend.h $(wildcard arch/wasm-rt/include/*.h) \
  $(SERVICE_GEN)/include/abi.h $(KBUILD)/include/wasm-rt.h

# libsys and the common part of arch/wasm-rt, built once per architecture.
LIBSYS_OBJS := $(addprefix $(SERVICE_OUT)/libsys/,runtime.o imports.o syscall_$(ARCH).o start_$(ARCH).o \
  rt_common.o libc.o math.o)

$(SERVICE_OUT)/libsys/%.o: services/libsys/%.c $(LIBSYS_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) -c $< -o $@

$(SERVICE_OUT)/libsys/%.o: services/libsys/%.S
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) -c $< -o $@

$(SERVICE_OUT)/libsys/%.o: arch/wasm-rt/%.c $(LIBSYS_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) $(if $(filter libc,$*),-fno-builtin) -c $< -o $@

# Per service: its generated C (large, and it warns about unused labels and
# parameters), and libsys's entry.c aimed at its symbols.
$(SERVICE_OUT)/%/wasm.o: $(SERVICE_GEN)/%_wasm.c $(SERVICE_GEN)/%_wasm.h $(KBUILD)/include/wasm-rt.h
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) -w -c $< -o $@

$(SERVICE_OUT)/%/entry.o: services/libsys/entry.c $(SERVICE_GEN)/%_wasm.h $(LIBSYS_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) -DLIBSYS_MODULE=$* -include $*_wasm.h -c $< -o $@

# Two links of the same objects: <name>.elf without debug information is
# what gets signed and shipped (DWARF is most of the file: console 455 KB
# against 80 KB loaded); <name>.debug.elf, at the same addresses, is for gdb
# (add-symbol-file).
SERVICE_LDFLAGS := -T services/libsys/$(ARCH).ld -Lservices/libsys -nostdlib -static -z max-page-size=4096 \
  --no-dynamic-linker --gc-sections
SERVICE_LINK_DEPS = $(SERVICE_OUT)/%/wasm.o $(SERVICE_OUT)/%/entry.o $(LIBSYS_OBJS) services/libsys/x86_64.ld services/libsys/$(ARCH).ld

# escape's native store (services/escape/README.md): in its ELF only.
$(SERVICE_OUT)/escape/native.o: services/escape/native.c services/services.mk
	@mkdir -p $(@D)
	$(CLANG) $(SERVICE_CFLAGS) -c $< -o $@
$(SERVICE_OUT)/escape.elf $(SERVICE_OUT)/escape.debug.elf: $(SERVICE_OUT)/escape/native.o

$(SERVICE_OUT)/%.elf: $(SERVICE_LINK_DEPS)
	$(LLD) $(SERVICE_LDFLAGS) --strip-debug -o $@ $(filter %.o,$^)

$(SERVICE_OUT)/%.debug.elf: $(SERVICE_LINK_DEPS)
	$(LLD) $(SERVICE_LDFLAGS) -o $@ $(filter %.o,$^)

# ---- signing (tools/sign.ts) ----
$(MODULE_OUT)/%.mod: $(SERVICE_OUT)/%.elf services/%/manifest.json $(wildcard services/boot.json) build/tools/sign.mjs
	@mkdir -p $(@D)
	node build/tools/sign.mjs sign-module --elf $< --manifest services/$*/manifest.json --arch $(ARCH) --out $@

SERVICE_ELFS := $(SERVICES:%=$(SERVICE_OUT)/%.elf) $(SERVICES:%=$(SERVICE_OUT)/%.debug.elf)
SERVICE_MODULES := $(patsubst services/%/manifest.json,$(MODULE_OUT)/%.mod,$(wildcard $(SERVICES:%=services/%/manifest.json)))

# Keep what the pattern chains would delete as intermediate: the .wat and
# the C are what one reads when debugging a service, and the objects spare
# a rebuild.
.SECONDARY: $(LIBSYS_OBJS) $(foreach s,$(SERVICES),$(SERVICE_GEN)/$(s).wasm $(SERVICE_GEN)/$(s).opt.wasm \
  $(SERVICE_GEN)/$(s)_wasm.c $(SERVICE_GEN)/$(s)_wasm.h $(SERVICE_OUT)/$(s)/wasm.o $(SERVICE_OUT)/$(s)/entry.o)

.PHONY: services
services: deps
	@$(MAKE) --no-print-directory $(SERVICE_ELFS) $(SERVICE_MODULES)
