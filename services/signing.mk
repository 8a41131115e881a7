# Signing: the key the kernel trusts, the signed boot manifest, and the
# image options that carry the modules. Included by the Makefile after
# services/services.mk, whose MODULE_OUT and SERVICE_MODULES it uses (and the
# Makefile's ARCH, KBUILD, FORCE and build/tools/%.mjs rule).
#
# The key is $(CAMOS_SIGNING_KEY) when set, else keys/dev-ed25519.pem, made
# on first use (tools/sign.ts; keys/ is never committed). Its public half
# becomes build/kernel/trusted_key.ts, which the kernel imports, so the
# kernel trusts exactly the key that signed its modules. That file is
# rewritten only when the key changes: the rule runs every time, and make
# rebuilds the kernel and re-signs the modules only after a change of key.
#
#   $(MODULE_OUT)/boot-manifest.mod        the release images' boot manifest
#   $(MODULE_OUT)/test/boot-manifest.mod   the test images' (with test_only services)

TRUSTED_KEY_TS := $(KBUILD)/trusted_key.ts

$(TRUSTED_KEY_TS): build/tools/sign.mjs FORCE
	@node build/tools/sign.mjs public-key --ts $@

$(KBUILD)/kernel.wasm: $(TRUSTED_KEY_TS)
$(SERVICE_MODULES): $(TRUSTED_KEY_TS)

BOOT_MANIFEST_MODULE      := $(MODULE_OUT)/boot-manifest.mod
TEST_BOOT_MANIFEST_MODULE := $(MODULE_OUT)/test/boot-manifest.mod
ALL_MANIFESTS := services/boot.json $(wildcard services/*/manifest.json)

$(BOOT_MANIFEST_MODULE): $(ALL_MANIFESTS) build/tools/sign.mjs $(TRUSTED_KEY_TS)
	node build/tools/sign.mjs sign-boot-manifest --arch $(ARCH) --profile release --out $@

$(TEST_BOOT_MANIFEST_MODULE): $(ALL_MANIFESTS) build/tools/sign.mjs $(TRUSTED_KEY_TS)
	node build/tools/sign.mjs sign-boot-manifest --arch $(ARCH) --profile test --out $@

# For an ISO rule: its prerequisites, and the options to add to
# `image.mjs iso` (release images leave the test_only services out).
IMAGE_MODULE_DEPS_release := $(SERVICE_MODULES) $(BOOT_MANIFEST_MODULE)
IMAGE_MODULE_DEPS_test    := $(SERVICE_MODULES) $(TEST_BOOT_MANIFEST_MODULE)
IMAGE_MODULE_FLAGS_release := --modules $(MODULE_OUT) --boot-manifest $(BOOT_MANIFEST_MODULE) --profile release
IMAGE_MODULE_FLAGS_test    := --modules $(MODULE_OUT) --boot-manifest $(TEST_BOOT_MANIFEST_MODULE) --profile test

# The same modules as one bundle, for the AArch64 Linux Image path (QEMU
# -initrd <bundle>; the kernel splits it: kernel/module.ts bundleSplit).
MODULE_BUNDLE      := $(BUILD)/modules.img
TEST_MODULE_BUNDLE := $(BUILD)/modules-test.img

$(MODULE_BUNDLE): $(IMAGE_MODULE_DEPS_release) build/tools/image.mjs
	node build/tools/image.mjs bundle --arch $(ARCH) $(IMAGE_MODULE_FLAGS_release) --out $@

$(TEST_MODULE_BUNDLE): $(IMAGE_MODULE_DEPS_test) build/tools/image.mjs
	node build/tools/image.mjs bundle --arch $(ARCH) $(IMAGE_MODULE_FLAGS_test) --out $@

# `make check-manifests`: the boot manifest and every service manifest, for
# every architecture and both profiles, without building anything else.
.PHONY: check-manifests
check-manifests: build/tools/sign.mjs
	node build/tools/sign.mjs check --arch x86_64 --profile test
	node build/tools/sign.mjs check --arch aarch64 --profile test
