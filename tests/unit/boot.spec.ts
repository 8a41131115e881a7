// boot/index.ts: the whole path from (protocol, info, handoff) to BootInfo.
import { bootInfoFrom } from "../../boot/index";
import { BOOT_MULTIBOOT2, BOOT_LIMINE, BOOT_LINUX_ARM64 } from "../../kernel/arch";
import { ARCH_X86_64 } from "../../boot/handoff";
import {
  BootInfo, BootResult, BOOT_OK, E_BOOT_BAD_HANDOFF, E_BOOT_BAD_MAGIC,
  E_BOOT_UNSUPPORTED, E_BOOT_MISSING, E_BOOT_BAD_POINTER, POWER_NONE, POWER_ACPI_PORT,
} from "../../boot/bootinfo";
import { LIMINE_SLOT_RSDP, LIMINE_SLOT_SMP, LIMINE_SLOT_EXECUTABLE_ADDRESS } from "../../boot/limine";
import {
  Buf, Mb2Builder, MB2_MAGIC, LimineBuilder, AcpiTree, buildHandoff, s5Package,
} from "./fixtures";
import { mpX86 } from "./fixtures/limine-mp";
import { CPU_START_SIPI, CPU_START_LIMINE } from "../../kernel/arch";

const KERNEL_START: u64 = 0x100000;
const KERNEL_END: u64 = 0x180000;

function ok(result: BootResult): BootInfo {
  expect(result.error).toBe(BOOT_OK, result.message);
  return result.info!;
}

function pcMap(): u64[] {
  return [0x0, 0x9fc00, 1, 0x100000, 0x7ee0000, 1, 0x7fe0000, 0x20000, 3];
}

// A GRUB boot of an x86_64 PC with 2 enabled CPUs in its MADT.
function grubBoot(withAcpi: bool): u64 {
  let mb = new Mb2Builder();
  mb.stringTag(1, "quiet");
  mb.mmap(pcMap());
  if (withAcpi) {
    let acpi = new AcpiTree(0, [1, 1, 0], [], 0x604, s5Package(5));
    mb.acpi(15, acpi.rsdp);
  }
  return mb.finish();
}

function x86Handoff(bootMagic: u64): u64 {
  return buildHandoff(ARCH_X86_64, 0, KERNEL_START, KERNEL_END, bootMagic).addr;
}

describe("bootInfoFrom: multiboot2", () => {
  it("combines the loader, the handoff and ACPI", () => {
    let bi = ok(bootInfoFrom(BOOT_MULTIBOOT2, grubBoot(true), x86Handoff(MB2_MAGIC)));
    expect(bi.protocol).toBe("multiboot2");
    expect(bi.arch).toBe("x86_64");
    expect(bi.cmdline).toBe("quiet");
    expect(bi.kernelPhysStart).toBe(KERNEL_START);
    expect(bi.kernelPhysEnd).toBe(KERNEL_END);
    expect(bi.cpuCount).toBe(2);
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[1].hwid).toBe(1);
    expect(bi.cpus[1].method).toBe(CPU_START_SIPI);
    expect(bi.powerMethod).toBe(POWER_ACPI_PORT);
    expect(bi.powerArg0).toBe(0x604);
    expect(bi.powerArg1).toBe(0x3400);
    expect(bi.warnings.length).toBe(0);
  });

  it("assumes one CPU and no power-off without ACPI", () => {
    let bi = ok(bootInfoFrom(BOOT_MULTIBOOT2, grubBoot(false), x86Handoff(MB2_MAGIC)));
    expect(bi.rsdp).toBe(0);
    expect(bi.cpuCount).toBe(1);
    expect(bi.cpus.length).toBe(0); // nothing to start: the kernel runs on the one it has
    expect(bi.powerMethod).toBe(POWER_NONE);
  });

  it("boots on with a warning when the RSDP copy is damaged", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    let acpi = new AcpiTree(0, [1, 1], [], 0x604, s5Package(5));
    acpi.rsdp.u8(8, acpi.rsdp.getU8(8) ^ 0xff);
    mb.acpi(15, acpi.rsdp);
    let bi = ok(bootInfoFrom(BOOT_MULTIBOOT2, mb.finish(), x86Handoff(MB2_MAGIC)));
    expect(bi.cpuCount).toBe(1);
    expect(bi.powerMethod).toBe(POWER_NONE);
    expect(bi.warnings.length).toBe(1);
    expect(bi.warnings[0].includes("checksum")).toBe(true, bi.warnings[0]);
  });

  it("checks the loader magic the handoff carries", () => {
    let r = bootInfoFrom(BOOT_MULTIBOOT2, grubBoot(false), x86Handoff(0));
    expect(r.error).toBe(E_BOOT_BAD_MAGIC);
    expect(r.info).toBeNull();
  });
});

// A Limine boot with 4 CPUs in the MADT; HHDM 0 so that the ACPI tables'
// "physical" addresses are readable.
function limineBoot(): LimineBuilder {
  let b = new LimineBuilder().hhdm(0).memmap([0x1000, 0x9e000, 0, 0x100000, 0x7f00000, 0]);
  let acpi = new AcpiTree(0, [1, 1, 1, 1], [], 0x604, s5Package(5));
  b.respond(LIMINE_SLOT_RSDP, new Buf(16).u64(8, acpi.rsdp.addr));
  return b;
}

describe("bootInfoFrom: limine", () => {
  it("keeps the loader's CPUs and still takes power-off from ACPI", () => {
    let b = limineBoot();
    b.respond(LIMINE_SLOT_SMP, mpX86(0, [0, 1]).response);
    let bi = ok(bootInfoFrom(BOOT_LIMINE, b.addr, x86Handoff(0)));
    expect(bi.protocol).toBe("limine");
    expect(bi.cpuCount).toBe(2);
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[0].method).toBe(CPU_START_LIMINE);
    expect(bi.bootCpuHwid).toBe(0);
    expect(bi.powerMethod).toBe(POWER_ACPI_PORT);
  });

  it("lists CPUs from ACPI when the loader did not", () => {
    let bi = ok(bootInfoFrom(BOOT_LIMINE, limineBoot().addr, x86Handoff(0)));
    expect(bi.cpuCount).toBe(4);
    expect(bi.cpus.length).toBe(4);
    expect(bi.cpus[3].method).toBe(CPU_START_SIPI);
    expect(bi.bootCpuHwid).toBe(U64.MAX_VALUE);
  });

  it("uses the loader's kernel base when the handoff has no image range", () => {
    let b = limineBoot();
    b.respond(LIMINE_SLOT_EXECUTABLE_ADDRESS, new Buf(24).u64(8, 0x7000000).u64(16, 0xffffffff80000000));
    let handoff = buildHandoff(ARCH_X86_64, 0, 0, 0, 0).addr;
    let bi = ok(bootInfoFrom(BOOT_LIMINE, b.addr, handoff));
    expect(bi.kernelPhysStart).toBe(0x7000000);
    expect(bi.kernelPhysEnd).toBe(0x7000000);
    let withRange = ok(bootInfoFrom(BOOT_LIMINE, b.addr, x86Handoff(0)));
    expect(withRange.kernelPhysStart).toBe(KERNEL_START);
  });

  it("passes the adapter's errors through", () => {
    let b = new LimineBuilder().hhdm(0);
    expect(bootInfoFrom(BOOT_LIMINE, b.addr, x86Handoff(0)).error).toBe(E_BOOT_MISSING);
  });
});

describe("bootInfoFrom: errors", () => {
  it("stops on a bad handoff before reading the loader's data", () => {
    let handoff = buildHandoff(ARCH_X86_64, 0, 0, 0, MB2_MAGIC).u32(0, 0);
    let r = bootInfoFrom(BOOT_MULTIBOOT2, grubBoot(false), handoff.addr);
    expect(r.error).toBe(E_BOOT_BAD_HANDOFF);
    expect(r.message.includes("handoff")).toBe(true, r.message);
  });

  it("hands the Linux arm64 protocol's DTB to the DTB reader (dtb.spec.ts has the rest)", () => {
    let r = bootInfoFrom(BOOT_LINUX_ARM64, 0, x86Handoff(0));
    expect(r.error).toBe(E_BOOT_BAD_POINTER);
    expect(r.message.startsWith("dtb:")).toBe(true, r.message);
  });

  it("rejects an unknown protocol id", () => {
    let r = bootInfoFrom(42, 0, x86Handoff(0));
    expect(r.error).toBe(E_BOOT_UNSUPPORTED);
    expect(r.message.includes("42")).toBe(true, r.message);
  });
});
