// The one entry into boot/: whatever loader started us, hand back a BootInfo
// or a named error the kernel prints before it stops.
//
//   kernel_main(protocol, info, handoff)
//        │
//        ├─ readHandoff(handoff)        trampoline facts (arch, HHDM, image)
//        ├─ parseMultiboot2 / parseLimine / parseDtb (info)   loader facts
//        ├─ handoff facts applied
//        ├─ acpiApply                   CPU count (if the loader gave none),
//        │                              power-off method; never fatal
//        └─ dtbApply                    a DTB next to another loader's map
//                                       (Limine on AArch64): PSCI, CPUs
//
// Nothing here traps on bad input: every failure is a BootResult with an
// E_BOOT_* code and a message.

import { BOOT_MULTIBOOT2, BOOT_LIMINE, BOOT_LINUX_ARM64 } from "../kernel/arch";
import { BootInfo, BootResult, bootFail, E_BOOT_UNSUPPORTED } from "./bootinfo";
import { Handoff, readHandoff, archName } from "./handoff";
import { parseMultiboot2 } from "./multiboot2";
import { parseLimine } from "./limine";
import { acpiApply } from "./acpi";
import { parseDtb, dtbApply } from "./dtb";

export function bootInfoFrom(protocol: u32, info: u64, handoff: u64): BootResult {
  let h = readHandoff(handoff);
  if (!h.ok) return bootFail(h.error, h.message);

  let result: BootResult;
  if (protocol == BOOT_MULTIBOOT2) {
    result = parseMultiboot2(info, h.bootMagic, h.hhdmOffset);
  } else if (protocol == BOOT_LIMINE) {
    result = parseLimine(info, h.arch, h.hhdmOffset);
  } else if (protocol == BOOT_LINUX_ARM64) {
    // `info` is the DTB itself (kernel-virtual), as the Image protocol's x0.
    result = parseDtb(info, h.hhdmOffset);
  } else {
    return bootFail(E_BOOT_UNSUPPORTED, "boot: unknown protocol id " + protocol.toString());
  }
  if (!result.ok) return result;

  let bi = result.info!;
  applyHandoff(bi, h);
  if (bi.rsdp != 0) acpiApply(bi);
  if (bi.dtb != 0 && protocol != BOOT_LINUX_ARM64) dtbApply(bi);
  if (bi.cpuCount == 0) bi.cpuCount = 1; // we are running on one, at least
  return result;
}

// The trampoline knows the image bounds from its linker script; a loader's
// view (Limine's physical base) is kept only when the trampoline gave none.
function applyHandoff(bi: BootInfo, h: Handoff): void {
  bi.arch = archName(h.arch);
  bi.entryCycles = h.entryCycles;
  if (bi.hhdmOffset == 0) bi.hhdmOffset = h.hhdmOffset;
  if (h.kernelPhysEnd > h.kernelPhysStart) {
    bi.kernelPhysStart = h.kernelPhysStart;
    bi.kernelPhysEnd = h.kernelPhysEnd;
  } else if (bi.kernelPhysEnd < bi.kernelPhysStart) {
    bi.kernelPhysEnd = bi.kernelPhysStart;
  }
}
