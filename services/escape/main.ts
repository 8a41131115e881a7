// escape (test images only): the second isolation layer on its own.
//
// A wasm service cannot write outside its linear memory: the sandbox has no
// instruction for it (hostile shows the sandbox's side: its out-of-bounds
// store traps). So this service gets one native function, linked into its
// own ELF only (native.c), that stores to an address of the kernel's image.
// Nothing but the MMU (a supervisor-only page) stands in the way: the
// kernel must kill this process with a page fault, and only it.

import { log, setLogSlot } from "../lib";

// Kernel image, both architectures (arch/*/linker.ld).
const KERNEL_IMAGE: u64 = 0xffffffff80200000;
const SLOT_LOG: u32 = 0;

@external("sys", "native_store")
declare function native_store(address: u64, value: u32): void;

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  log("escape: a native store to the kernel's image at 0x" + KERNEL_IMAGE.toString(16) + " (the MMU must stop it)");
  native_store(KERNEL_IMAGE, 0xdead);
  log("escape: native store into the kernel: ALLOWED");
  return 1;
}
