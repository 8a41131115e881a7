// The trampoline's handoff: the few facts only the C side knows (where it put
// the kernel, how it maps physical memory, which register the loader filled),
// written by C before kernel_main and passed as a kernel-virtual pointer.
//
//   offset  size  field
//   ------  ----  ---------------------------------------------------------
//        0     4  magic = 0x484D4143 ("CAMH" read as little-endian bytes)
//        4     4  arch (1 = x86_64, 2 = aarch64)
//        8     8  hhdm_offset        virtual = physical + hhdm_offset
//                                    for all RAM and ACPI tables
//       16     8  kernel_phys_start
//       24     8  kernel_phys_end    exclusive; whole image incl. .bss
//       32     8  boot_magic         loader's magic register, 0 if none
//       40     8  entry_cycles       cycle counter at the trampoline's first
//                                    C instruction (boot-time figures)
//       48        (size)
//
// Little-endian, no padding. A wrong magic means the pointer is not a
// handoff at all; nothing else in it can be trusted then.

import { readU32, readU64 } from "./reader";
import { BOOT_OK, E_BOOT_BAD_HANDOFF, hex } from "./bootinfo";

export const HANDOFF_MAGIC: u32 = 0x484D4143;
export const HANDOFF_SIZE: u32 = 48;

export const ARCH_X86_64: u32 = 1;
export const ARCH_AARCH64: u32 = 2;

const OFF_MAGIC: u64 = 0;
const OFF_ARCH: u64 = 4;
const OFF_HHDM: u64 = 8;
const OFF_KERNEL_START: u64 = 16;
const OFF_KERNEL_END: u64 = 24;
const OFF_BOOT_MAGIC: u64 = 32;
const OFF_ENTRY_CYCLES: u64 = 40;

export class Handoff {
  error: i32 = BOOT_OK;
  message: string = "";
  arch: u32 = 0;
  hhdmOffset: u64 = 0;
  kernelPhysStart: u64 = 0;
  kernelPhysEnd: u64 = 0;
  bootMagic: u64 = 0;
  entryCycles: u64 = 0;

  get ok(): bool { return this.error == BOOT_OK; }
}

// "x86_64" / "aarch64", "" for an unknown id.
export function archName(arch: u32): string {
  if (arch == ARCH_X86_64) return "x86_64";
  if (arch == ARCH_AARCH64) return "aarch64";
  return "";
}

function handoffFail(h: Handoff, message: string): Handoff {
  h.error = E_BOOT_BAD_HANDOFF;
  h.message = "handoff: " + message;
  return h;
}

// Reads and checks the handoff at kernel-virtual `addr`.
export function readHandoff(addr: u64): Handoff {
  let h = new Handoff();
  if (addr == 0) return handoffFail(h, "null pointer");
  let magic = readU32(addr + OFF_MAGIC);
  if (magic != HANDOFF_MAGIC) {
    return handoffFail(h, "bad magic " + hex(magic) + " (expected " + hex(HANDOFF_MAGIC) + ")");
  }
  h.arch = readU32(addr + OFF_ARCH);
  h.hhdmOffset = readU64(addr + OFF_HHDM);
  h.kernelPhysStart = readU64(addr + OFF_KERNEL_START);
  h.kernelPhysEnd = readU64(addr + OFF_KERNEL_END);
  h.bootMagic = readU64(addr + OFF_BOOT_MAGIC);
  h.entryCycles = readU64(addr + OFF_ENTRY_CYCLES);
  if (archName(h.arch).length == 0) return handoffFail(h, "unknown arch " + h.arch.toString());
  if (h.kernelPhysEnd < h.kernelPhysStart) {
    return handoffFail(h, "kernel image ends (" + hex(h.kernelPhysEnd) +
      ") before it starts (" + hex(h.kernelPhysStart) + ")");
  }
  return h;
}
