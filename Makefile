# CAM-OS build. `make run` and `make test` install what is missing first
# (tools/deps.sh), then build only what changed.
#
#   make run   [ARCH=x86_64|aarch64] [SMP=N] [MEM=256M] [FIRMWARE=bios|uefi] [QEMU_FLAGS=...]
#   make debug (the same machine, halted, with QEMU's gdb stub)
#   make test  (unit tests on the host, then the QEMU integration tests)
#   make iso   [LIMINE_DIR=<Limine binary release>]
#   make image [LIMINE_DIR=...]   (a raw disk image for a USB stick)
#   make usb DEVICE=/dev/sdX      (writes it, checks it; docs/flashing.md)
#   make figures   (sizes, build time, instructions and wall time to the prompt)
#
# ARCH=aarch64 boots build/aarch64/Image (a Linux arm64 Image) with QEMU's
# -kernel; FIRMWARE=uefi boots the Limine image from `make iso` instead.

ARCH       ?= x86_64
SMP        ?= 1
MEM        ?= 256M
FIRMWARE   ?= bios
QEMU_FLAGS ?=
LIMINE_DIR ?=
# grub (Multiboot2) unless LIMINE_DIR is given; BOOTLOADER=limine without
# LIMINE_DIR stops with where to get Limine.
BOOTLOADER ?= $(if $(LIMINE_DIR),limine,grub)
# guard: wasm2c's guard-page mode (no bounds checks in the code, the page-fault
# handler turns a hit on the unmapped tail into a trap). explicit: wasm2c
# checks every access; built apart, only to measure what guard pages save.
BOUNDS_CHECKS ?= guard

BUILD   := build/$(ARCH)$(if $(filter explicit,$(BOUNDS_CHECKS)),-explicit)
KBUILD  := build/kernel
NODE_BIN := node_modules/.bin

ifeq ($(filter $(ARCH),x86_64 aarch64),)
$(error ARCH=$(ARCH) is not supported (supported: x86_64, aarch64))
endif

# ---- the kernel: AssemblyScript -> wasm -> wasm-opt -> wasm2c -> C ----
# One kernel.wasm serves every architecture: nothing in kernel/ or boot/
# knows the CPU.
KERNEL_TS := $(wildcard kernel/*.ts boot/*.ts)

$(KBUILD)/kernel.wasm: $(KERNEL_TS) asconfig.json node_modules/.installed
	@mkdir -p $(@D)
	$(NODE_BIN)/asc kernel/main.ts --target kernel --outFile $@ --textFile $(@D)/kernel.wat

# The features AssemblyScript 0.27 emits by default; wasm2c 1.0.32 takes them all.
# --debuginfo keeps the name section, so wasm2c names C functions after the
# AssemblyScript ones (panic PCs and gdb then read w2c_kernel_kernel_shell_cmdPanic).
WASM_FEATURES := --enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int

$(KBUILD)/kernel.opt.wasm: $(KBUILD)/kernel.wasm
	$(NODE_BIN)/wasm-opt $< $(WASM_FEATURES) -O3 --debuginfo --strip-producers -o $@

# wasm2c names the header after the output file; the trampoline includes
# kernel_wasm.h.
$(KBUILD)/kernel_wasm.c $(KBUILD)/kernel_wasm.h &: $(KBUILD)/kernel.opt.wasm
	wasm2c $< --module-name kernel -o $(KBUILD)/kernel_wasm.c

# wasm2c's runtime header comes from the wabt package, unchanged.
WASM_RT_HEADER := /usr/include/wasm-rt.h
$(KBUILD)/include/wasm-rt.h: $(WASM_RT_HEADER)
	@mkdir -p $(@D)
	cp $(WASM_RT_HEADER) $@

# ---- native code for $(ARCH) ----
CLANG := clang
LLD   := ld.lld
# From Debian's llvm package (tools/deps.sh): clang does not pull it in.
OBJCOPY := llvm-objcopy

CFLAGS_COMMON := -std=c11 -O2 -g -Wall -Wextra -Werror=implicit-function-declaration \
  -ffreestanding -nostdlib -fno-stack-protector -fno-pic -fno-pie -ffunction-sections -fdata-sections \
  -isystem arch/wasm-rt/include -I$(KBUILD) -I$(KBUILD)/include \
  -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=$(if $(filter explicit,$(BOUNDS_CHECKS)),0,1) -DWASM_RT_USE_STACK_DEPTH_COUNT=1 \
  -DWASM_RT_MAX_CALL_STACK_DEPTH=2000

CFLAGS_x86_64 := --target=x86_64-elf -mno-red-zone -mcmodel=kernel
# The image is linked in the top 2 GiB and reached PC-relative (small code
# model: adrp), so it runs wherever the loader put it before the MMU is on.
CFLAGS_aarch64 := --target=aarch64-elf -mcmodel=small
CFLAGS := $(CFLAGS_COMMON) $(CFLAGS_$(ARCH))

ARCH_C := $(wildcard arch/$(ARCH)/*.c) $(wildcard arch/common/*.c) $(wildcard arch/wasm-rt/*.c) boot/limine_requests.c
ARCH_S := $(wildcard arch/$(ARCH)/*.S)
OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(ARCH_C)) $(patsubst %.S,$(BUILD)/obj/%.o,$(ARCH_S)) \
        $(BUILD)/obj/kernel_wasm.o

HEADERS := $(wildcard arch/$(ARCH)/*.h arch/common/*.h arch/wasm-rt/*.h arch/wasm-rt/include/*.h boot/*.h)

$(BUILD)/obj/%.o: %.c $(HEADERS) $(KBUILD)/kernel_wasm.h $(KBUILD)/include/wasm-rt.h
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(if $(filter arch/wasm-rt/libc.c,$<),-fno-builtin) -c $< -o $@

$(BUILD)/obj/%.o: %.S $(wildcard arch/$(ARCH)/*.inc)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) -c $< -o $@

# The generated C is large and warns about unused labels and parameters.
$(BUILD)/obj/kernel_wasm.o: $(KBUILD)/kernel_wasm.c $(KBUILD)/kernel_wasm.h $(KBUILD)/include/wasm-rt.h
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) -w -c $< -o $@

$(BUILD)/kernel.elf: $(OBJS) arch/$(ARCH)/linker.ld
	$(LLD) -T arch/$(ARCH)/linker.ld -nostdlib -z max-page-size=4096 --no-dynamic-linker --gc-sections -o $@ $(OBJS)

# ---- images ----
# AArch64: the ELF flattened into a Linux arm64 Image (its first bytes are
# the Image header, see arch/aarch64/boot.S), for qemu -kernel and booti.
$(BUILD)/Image: $(BUILD)/kernel.elf
	$(OBJCOPY) -O binary $< $@

TOOLS_TS := $(wildcard tools/*.ts)
build/tools/%.mjs: tools/%.ts $(TOOLS_TS) node_modules/.installed
	@mkdir -p $(@D)
	$(NODE_BIN)/esbuild $< --bundle --platform=node --format=esm --log-level=warning --outfile=$@

# The services: AssemblyScript → wasm → wasm2c → ELF with libsys, then
# signed (services/services.mk); the trusted key, the boot manifest and the
# image options that carry the signed modules (services/signing.mk).
include services/services.mk
include services/signing.mk

# The images carry the signed modules of the release profile; the test ISO
# adds the test-only services (hostile). The Limine image is rebuilt every
# time, since what is in LIMINE_DIR is not make's to track.
GRUB_ISO   := $(BUILD)/cam-os.iso
TEST_ISO   := $(BUILD)/cam-os-test.iso
LIMINE_ISO := $(BUILD)/cam-os-limine.iso
# AArch64 has no GRUB image: its bootable image is always Limine's (UEFI).
ISO := $(if $(or $(filter limine,$(BOOTLOADER)),$(filter aarch64,$(ARCH))),$(LIMINE_ISO),$(GRUB_ISO))

$(GRUB_ISO): $(BUILD)/kernel.elf build/tools/image.mjs $(IMAGE_MODULE_DEPS_release)
	node build/tools/image.mjs iso --arch $(ARCH) --kernel $(BUILD)/kernel.elf --out $@ --bootloader grub $(IMAGE_MODULE_FLAGS_release)

$(TEST_ISO): $(BUILD)/kernel.elf build/tools/image.mjs $(IMAGE_MODULE_DEPS_test)
	node build/tools/image.mjs iso --arch $(ARCH) --kernel $(BUILD)/kernel.elf --out $@ --bootloader grub $(IMAGE_MODULE_FLAGS_test)

$(LIMINE_ISO): $(BUILD)/kernel.elf build/tools/image.mjs $(IMAGE_MODULE_DEPS_release) FORCE
	node build/tools/image.mjs iso --arch $(ARCH) --kernel $(BUILD)/kernel.elf --out $@ --bootloader limine $(if $(LIMINE_DIR),--limine-dir $(LIMINE_DIR)) $(IMAGE_MODULE_FLAGS_release)

FORCE:

# Raw disk images for USB sticks (GPT, BIOS boot + EFI system partition;
# tools/image.ts `disk`, docs/flashing.md): GRUB on x86_64, Limine with
# LIMINE_DIR (and always on AArch64, which stops without it).
GRUB_DISK   := $(BUILD)/cam-os.img
LIMINE_DISK := $(BUILD)/cam-os-limine.img
DISK := $(if $(or $(filter limine,$(BOOTLOADER)),$(filter aarch64,$(ARCH))),$(LIMINE_DISK),$(GRUB_DISK))

$(GRUB_DISK): $(BUILD)/kernel.elf build/tools/image.mjs $(IMAGE_MODULE_DEPS_release)
	node build/tools/image.mjs disk --arch $(ARCH) --kernel $(BUILD)/kernel.elf --out $@ --bootloader grub $(IMAGE_MODULE_FLAGS_release)

$(LIMINE_DISK): $(BUILD)/kernel.elf build/tools/image.mjs $(IMAGE_MODULE_DEPS_release) FORCE
	node build/tools/image.mjs disk --arch $(ARCH) --kernel $(BUILD)/kernel.elf --out $@ --bootloader limine $(if $(LIMINE_DIR),--limine-dir $(LIMINE_DIR)) $(IMAGE_MODULE_FLAGS_release)

# What `make run` boots and what the integration tests boot, per arch.
RUN_IMAGE := $(if $(and $(filter aarch64,$(ARCH)),$(filter bios,$(FIRMWARE))),$(BUILD)/Image,$(ISO))
# The AArch64 Image path takes its signed modules as one bundle (-initrd).
RUN_INITRD := $(if $(filter $(BUILD)/Image,$(RUN_IMAGE)),$(MODULE_BUNDLE))
TEST_IMAGE_x86_64 := $(GRUB_ISO) $(TEST_ISO)
TEST_IMAGE_aarch64 := $(BUILD)/Image $(MODULE_BUNDLE) $(TEST_MODULE_BUNDLE)

# ---- tests ----
INTEGRATION_TS := $(wildcard tests/integration/*.test.ts)
INTEGRATION_MJS := $(patsubst tests/integration/%.ts,build/tests/%.mjs,$(INTEGRATION_TS))
build/tests/%.mjs: tests/integration/%.ts $(TOOLS_TS) node_modules/.installed
	@mkdir -p $(@D)
	$(NODE_BIN)/esbuild $< --bundle --platform=node --format=esm --log-level=warning --outfile=$@

# image-boot.test.ts boots the raw disk image as a USB stick would be.
TEST_IMAGE_x86_64 += $(GRUB_DISK)

# ---- the commands people type ----
.PHONY: all deps kernel iso image usb run-image test-image test-images run debug test unit integration figures clean FORCE

all: iso

deps:
	@tools/deps.sh

node_modules/.installed: package.json package-lock.json
	@tools/deps.sh

kernel: deps
	@$(MAKE) --no-print-directory $(BUILD)/kernel.elf $(if $(filter aarch64,$(ARCH)),$(BUILD)/Image)

iso: deps
	@$(MAKE) --no-print-directory $(ISO)

run-image: deps
	@$(MAKE) --no-print-directory $(RUN_IMAGE) $(RUN_INITRD)

run: run-image build/tools/run.mjs
	node build/tools/run.mjs --arch $(ARCH) --image $(RUN_IMAGE) $(if $(RUN_INITRD),--initrd $(RUN_INITRD)) --kernel $(BUILD)/kernel.elf --smp $(SMP) --mem $(MEM) --firmware $(FIRMWARE) --qemu-flags "$(QEMU_FLAGS)"

debug: run-image build/tools/run.mjs
	node build/tools/run.mjs --arch $(ARCH) --image $(RUN_IMAGE) $(if $(RUN_INITRD),--initrd $(RUN_INITRD)) --kernel $(BUILD)/kernel.elf --smp $(SMP) --mem $(MEM) --firmware $(FIRMWARE) --qemu-flags "$(QEMU_FLAGS)" --debug

# Unit tests run on the host (as-pect); integration tests boot the images in
# QEMU (node --test). tools/test.ts sums both into `N passed, N failed`.
export CAMOS_INTEGRATION_TESTS := $(INTEGRATION_MJS)

# The integration tests boot every architecture in one run.
test-image:
	@$(MAKE) --no-print-directory $(TEST_IMAGE_$(ARCH))

test-images:
	@$(MAKE) --no-print-directory ARCH=x86_64 test-image
	@$(MAKE) --no-print-directory ARCH=aarch64 test-image

test: deps
	@$(MAKE) --no-print-directory test-images $(INTEGRATION_MJS) build/tools/test.mjs
	node build/tools/test.mjs unit integration

unit: deps
	@$(MAKE) --no-print-directory build/tools/test.mjs
	node build/tools/test.mjs unit

integration: deps
	@$(MAKE) --no-print-directory test-images $(INTEGRATION_MJS) build/tools/test.mjs
	node build/tools/test.mjs integration

figures: deps
	@$(MAKE) --no-print-directory build/tools/figures.mjs
	node build/tools/figures.mjs --arch $(ARCH)

image: deps
	@$(MAKE) --no-print-directory $(DISK)

# make usb DEVICE=/dev/sdX [YES=1]: tools/flash.ts writes the image and reads
# it back; it refuses fixed, mounted, system and too small disks.
usb: image build/tools/flash.mjs
	node build/tools/flash.mjs --image $(DISK) --device "$(DEVICE)"$(if $(YES), --yes)

clean:
	rm -rf build
