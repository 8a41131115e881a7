import {
  parseLimine, LIMINE_SLOT_BOOTLOADER_INFO, LIMINE_SLOT_MEMMAP, LIMINE_SLOT_HHDM,
  LIMINE_SLOT_MODULES, LIMINE_SLOT_RSDP, LIMINE_SLOT_FRAMEBUFFER,
  LIMINE_SLOT_EXECUTABLE_FILE, LIMINE_SLOT_EXECUTABLE_ADDRESS, LIMINE_SLOT_SMP,
  LIMINE_SLOT_DTB, LIMINE_SLOT_PAGING_MODE,
} from "../../boot/limine";
import { ARCH_X86_64, ARCH_AARCH64 } from "../../boot/handoff";
import {
  BootInfo, BootResult, MemoryKind, BOOT_OK, E_BOOT_MISSING, E_BOOT_TOO_MANY,
  E_BOOT_BAD_TABLE, E_BOOT_BAD_POINTER, E_BOOT_BAD_MMAP, E_BOOT_BAD_HANDOFF,
  E_BOOT_UNSUPPORTED,
} from "../../boot/bootinfo";
import { Buf, LimineBuilder, limineFile, pointerArray, cString } from "./fixtures";
import { mpX86, mpAarch64 } from "./fixtures/limine-mp";
import { CPU_START_LIMINE } from "../../kernel/arch";

// A realistic HHDM base. Structures the adapter follows are real linear
// addresses (the adapter never rebases them); addresses it only records
// (modules, framebuffer, RSDP, DTB) are written HHDM-style and must come
// back converted.
const HHDM: u64 = 0xffff800000000000;

function ok(result: BootResult): BootInfo {
  expect(result.error).toBe(BOOT_OK, result.message);
  return result.info!;
}

// The Limine memory map of a small UEFI machine, out of order:
// [base, length, limine type]
function uefiMap(): u64[] {
  return [
    0x100000, 0x6f00000, 0,         // usable
    0x1000, 0x9e000, 0,             // usable low memory
    0x7000000, 0x400000, 6,         // executable and modules
    0x7400000, 0x200000, 5,         // bootloader reclaimable
    0x7600000, 0x10000, 2,          // ACPI reclaimable
    0x7610000, 0x10000, 3,          // ACPI NVS
    0x7620000, 0x1000, 4,           // bad memory
    0x80000000, 0x300000, 7,        // framebuffer
    0xfec00000, 0x1000, 1,          // reserved
    0xfee00000, 0x1000, 42,         // a type from a later revision
  ];
}

// Only what the adapter requires: HHDM and a memory map.
function minimal(): LimineBuilder {
  return new LimineBuilder().hhdm(HHDM).memmap(uefiMap());
}

// Every slot answered, as Limine would on an x86_64 PC.
function full(): LimineBuilder {
  let b = minimal();
  b.bootloader("Limine", "8.4.0");
  let modules = pointerArray([
    limineFile(HHDM + 0x7100000, 0x5000, "/boot/init.elf", "init --verbose"),
    limineFile(HHDM + 0x7106000, 0x800, "/boot/manifest", ""),
  ]);
  b.respond(LIMINE_SLOT_MODULES, new Buf(24).u64(8, 2).u64(16, modules.addr));
  b.respond(LIMINE_SLOT_RSDP, new Buf(16).u64(8, HHDM + 0xf5a40));
  let fb = new Buf(64).u64(0, HHDM + 0x80000000).u64(8, 1280).u64(16, 800)
    .u64(24, 5120).u16(32, 32).u8(34, 1);
  b.respond(LIMINE_SLOT_FRAMEBUFFER, new Buf(24).u64(8, 1).u64(16, pointerArray([fb]).addr));
  let kernelFile = limineFile(HHDM + 0x7000000, 0x300000, "/boot/kernel.elf", "console=ttyS0 smp");
  b.respond(LIMINE_SLOT_EXECUTABLE_FILE, new Buf(16).u64(8, kernelFile.addr));
  b.respond(LIMINE_SLOT_EXECUTABLE_ADDRESS,
    new Buf(24).u64(8, 0x7000000).u64(16, 0xffffffff80000000));
  b.respond(LIMINE_SLOT_SMP, mpX86(0, [0, 1, 2, 3]).response);
  b.request(LIMINE_SLOT_DTB); // asked, not answered (no DTB on a PC)
  b.respond(LIMINE_SLOT_PAGING_MODE, new Buf(16).u64(8, 0));
  return b;
}

describe("limine: a fully answered request table", () => {
  it("takes the HHDM offset and names the loader", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.protocol).toBe("limine");
    expect(bi.hhdmOffset).toBe(HHDM);
    expect(bi.loader).toBe("Limine 8.4.0");
  });

  it("maps every memory map type and sorts by base", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.memory.length).toBe(10);
    for (let i = 1; i < bi.memory.length; i++) {
      expect(bi.memory[i].base).toBeGreaterThan(bi.memory[i - 1].base);
    }
    expect(bi.memory[0].base).toBe(0x1000);
    expect(bi.memory[0].kind).toBe(MemoryKind.Usable);
    expect(bi.memory[2].kind).toBe(MemoryKind.KernelAndModules);
    expect(bi.memory[3].kind).toBe(MemoryKind.BootloaderReclaimable);
    expect(bi.memory[4].kind).toBe(MemoryKind.AcpiReclaimable);
    expect(bi.memory[5].kind).toBe(MemoryKind.AcpiNvs);
    expect(bi.memory[6].kind).toBe(MemoryKind.BadMemory);
    expect(bi.memory[7].kind).toBe(MemoryKind.Framebuffer);
    expect(bi.memory[8].kind).toBe(MemoryKind.Reserved);
    expect(bi.memory[9].kind).toBe(MemoryKind.Reserved); // unknown type 42
    expect(bi.usableBytes()).toBe(0x6f00000 + 0x9e000);
  });

  it("reads modules as physical ranges with path and command line", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.modules.length).toBe(2);
    expect(bi.modules[0].base).toBe(0x7100000);
    expect(bi.modules[0].size).toBe(0x5000);
    expect(bi.modules[0].path).toBe("/boot/init.elf");
    expect(bi.modules[0].cmdline).toBe("init --verbose");
    expect(bi.modules[1].base).toBe(0x7106000);
    expect(bi.modules[1].cmdline).toBe("");
  });

  it("keeps an HHDM-virtual RSDP address as it is", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.rsdp).toBe(HHDM + 0xf5a40);
  });

  it("reads the first framebuffer with a physical address", () => {
    let fb = ok(parseLimine(full().addr, ARCH_X86_64, HHDM)).framebuffer!;
    expect(fb.address).toBe(0x80000000);
    expect(fb.width).toBe(1280);
    expect(fb.height).toBe(800);
    expect(fb.pitch).toBe(5120);
    expect(fb.bpp).toBe(32);
  });

  it("takes the command line and addresses of the kernel file", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.cmdline).toBe("console=ttyS0 smp");
    expect(bi.kernelPhysStart).toBe(0x7000000);
    expect(bi.kernelVirtBase).toBe(0xffffffff80000000);
  });

  it("counts CPUs from the x86_64 SMP response and leaves dtb unset", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, HHDM));
    expect(bi.cpuCount).toBe(4);
    expect(bi.dtb).toBe(0);
  });

  it("accepts a handoff that knows no HHDM (0)", () => {
    let bi = ok(parseLimine(full().addr, ARCH_X86_64, 0));
    expect(bi.hhdmOffset).toBe(HHDM);
  });
});

describe("limine: optional answers", () => {
  it("defaults everything optional when only HHDM and memmap are answered", () => {
    let bi = ok(parseLimine(minimal().addr, ARCH_X86_64, HHDM));
    expect(bi.loader).toBe("");
    expect(bi.cmdline).toBe("");
    expect(bi.modules.length).toBe(0);
    expect(bi.rsdp).toBe(0);
    expect(bi.dtb).toBe(0);
    expect(bi.framebuffer).toBeNull();
    expect(bi.cpuCount).toBe(0);
  });

  it("converts a physical RSDP address (base revision 3 style) to kernel-virtual", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_RSDP, new Buf(16).u64(8, 0xf5a40));
    expect(ok(parseLimine(b.addr, ARCH_X86_64, HHDM)).rsdp).toBe(HHDM + 0xf5a40);
  });

  it("reads the aarch64 SMP layout and a DTB pointer", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_SMP, mpAarch64(0x80000000, [0, 1, 2, 3, 0x100, 0x101, 0x102, 0x103]).response);
    b.respond(LIMINE_SLOT_DTB, new Buf(16).u64(8, HHDM + 0x48000000));
    let bi = ok(parseLimine(b.addr, ARCH_AARCH64, HHDM));
    expect(bi.cpuCount).toBe(8);
    expect(bi.dtb).toBe(HHDM + 0x48000000);
  });

  it("converts a physical DTB pointer on aarch64 to kernel-virtual", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_DTB, new Buf(16).u64(8, 0x48000000));
    let bi = ok(parseLimine(b.addr, ARCH_AARCH64, HHDM));
    expect(bi.dtb).toBe(HHDM + 0x48000000);
  });

  it("reads no CPU count from an aarch64 MP response at the x86_64 offset", () => {
    let b = minimal();
    // aarch64 layout: the x86_64 cpu_count offset (16) holds bsp_mpidr here.
    b.respond(LIMINE_SLOT_SMP, mpAarch64(0x81000100, [0x100, 0x101, 0x102]).response);
    expect(ok(parseLimine(b.addr, ARCH_AARCH64, HHDM)).cpuCount).toBe(3);
  });

  it("ignores a framebuffer response with no framebuffers", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_FRAMEBUFFER, new Buf(24).u64(8, 0).u64(16, 0));
    expect(ok(parseLimine(b.addr, ARCH_X86_64, HHDM)).framebuffer).toBeNull();
  });

  it("leaves out a framebuffer with absurd geometry, with a warning", () => {
    let b = minimal();
    let fb = new Buf(64).u64(0, HHDM).u64(8, 0x100000000).u64(16, 800).u64(24, 5120);
    b.respond(LIMINE_SLOT_FRAMEBUFFER, new Buf(24).u64(8, 1).u64(16, pointerArray([fb]).addr));
    let bi = ok(parseLimine(b.addr, ARCH_X86_64, HHDM));
    expect(bi.framebuffer).toBeNull();
    expect(bi.warnings.length).toBe(1);
  });

  it("treats a bootloader without a version string", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_BOOTLOADER_INFO, new Buf(24).u64(8, cString("Limine")).u64(16, 0));
    expect(ok(parseLimine(b.addr, ARCH_X86_64, HHDM)).loader).toBe("Limine");
  });
});

describe("limine: the MP response's CPUs", () => {
  it("lists every x86_64 CPU by LAPIC id, with its limine_mp_info as the handle", () => {
    let b = minimal();
    let mp = mpX86(2, [2, 0, 4, 6]);
    b.respond(LIMINE_SLOT_SMP, mp.response);
    let bi = ok(parseLimine(b.addr, ARCH_X86_64, HHDM));
    expect(bi.cpuCount).toBe(4);
    expect(bi.cpus.length).toBe(4);
    let ids: u64[] = [2, 0, 4, 6];
    for (let i = 0; i < 4; i++) {
      expect(bi.cpus[i].hwid).toBe(ids[i]);
      expect(bi.cpus[i].method).toBe(CPU_START_LIMINE);
      expect(bi.cpus[i].handle).toBe(mp.infos[i].addr);
    }
    expect(bi.bootCpuHwid).toBe(2);
  });

  it("lists aarch64 CPUs by MPIDR affinity, bits 31, 30 and 24 dropped", () => {
    let b = minimal();
    let mp = mpAarch64(0x80000000, [0x80000000, 0x81000001, 0xc0000100, 0x0200000000]);
    b.respond(LIMINE_SLOT_SMP, mp.response);
    let bi = ok(parseLimine(b.addr, ARCH_AARCH64, HHDM));
    expect(bi.cpus.length).toBe(4);
    expect(bi.cpus[0].hwid).toBe(0);
    expect(bi.cpus[1].hwid).toBe(1);
    expect(bi.cpus[2].hwid).toBe(0x100);
    expect(bi.cpus[3].hwid).toBe(0x0200000000); // Aff3
    expect(bi.cpus[3].handle).toBe(mp.infos[3].addr);
    expect(bi.cpus[3].method).toBe(CPU_START_LIMINE);
    expect(bi.bootCpuHwid).toBe(0);
  });

  it("leaves the list empty and the boot CPU unknown without an MP response", () => {
    let bi = ok(parseLimine(minimal().addr, ARCH_X86_64, HHDM));
    expect(bi.cpus.length).toBe(0);
    expect(bi.bootCpuHwid).toBe(U64.MAX_VALUE);
  });

  it("accepts zero CPUs with a null array", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_SMP, new Buf(32).u32(12, 0).u64(16, 0).u64(24, 0));
    let bi = ok(parseLimine(b.addr, ARCH_X86_64, HHDM));
    expect(bi.cpuCount).toBe(0);
    expect(bi.cpus.length).toBe(0);
  });

  it("rejects a count with a null cpus array, on both layouts", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_SMP, new Buf(32).u64(16, 2).u64(24, 0));
    let r = parseLimine(b.addr, ARCH_X86_64, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_POINTER);
    expect(r.message.includes("cpus array is null")).toBe(true, r.message);
    let c = minimal();
    c.respond(LIMINE_SLOT_SMP, new Buf(40).u64(24, 2).u64(32, 0));
    expect(parseLimine(c.addr, ARCH_AARCH64, HHDM).error).toBe(E_BOOT_BAD_POINTER);
  });

  it("rejects a null entry in the cpus array", () => {
    let b = minimal();
    let mp = mpX86(0, [0, 1, 2]);
    let cpus = pointerArray(mp.infos).u64(8, 0); // cpus[1] = null
    mp.response.u64(24, cpus.addr);
    b.respond(LIMINE_SLOT_SMP, mp.response);
    let r = parseLimine(b.addr, ARCH_X86_64, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_POINTER);
    expect(r.message.includes("cpus[1]")).toBe(true, r.message);
  });

  it("rejects more CPUs than MAX_CPUS before reading the array", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_SMP, new Buf(40).u64(24, 4097).u64(32, 0));
    expect(parseLimine(b.addr, ARCH_AARCH64, HHDM).error).toBe(E_BOOT_TOO_MANY);
  });
});

describe("limine: bad tables are named errors", () => {
  it("requires the memory map", () => {
    let b = new LimineBuilder().hhdm(HHDM);
    let r = parseLimine(b.addr, ARCH_X86_64, HHDM);
    expect(r.error).toBe(E_BOOT_MISSING);
    expect(r.info).toBeNull();
    expect(r.message.includes("memory map")).toBe(true, r.message);
    b.request(LIMINE_SLOT_MEMMAP); // present but unanswered
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_MISSING);
  });

  it("requires the HHDM", () => {
    let b = new LimineBuilder().memmap(uefiMap());
    let r = parseLimine(b.addr, ARCH_X86_64, HHDM);
    expect(r.error).toBe(E_BOOT_MISSING);
    expect(r.message.includes("HHDM")).toBe(true, r.message);
  });

  it("rejects an HHDM that disagrees with the handoff", () => {
    expect(parseLimine(minimal().addr, ARCH_X86_64, 0xffff900000000000).error).toBe(E_BOOT_BAD_HANDOFF);
  });

  it("rejects a table whose slots are in the wrong order", () => {
    let b = minimal();
    b.request(LIMINE_SLOT_RSDP, LIMINE_SLOT_DTB); // a DTB request in the RSDP slot
    let r = parseLimine(b.addr, ARCH_X86_64, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_TABLE);
    expect(r.message.includes("slot 4")).toBe(true, r.message);
  });

  it("rejects a request without the common magic", () => {
    let b = minimal();
    b.requests[LIMINE_SLOT_HHDM].u64(0, 0x1234);
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_TABLE);
  });

  it("rejects a null or misaligned table pointer and an unknown arch", () => {
    expect(parseLimine(0, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_POINTER);
    expect(parseLimine(minimal().addr + 4, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_POINTER);
    expect(parseLimine(minimal().addr, 7, HHDM).error).toBe(E_BOOT_UNSUPPORTED);
  });

  it("rejects absurd memory map counts, and an empty map", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_MEMMAP, new Buf(24).u64(8, 5000).u64(16, new Buf(8).addr));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_TOO_MANY);
    b.respond(LIMINE_SLOT_MEMMAP, new Buf(24).u64(8, 0xffffffffffffffff).u64(16, new Buf(8).addr));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_TOO_MANY);
    b.respond(LIMINE_SLOT_MEMMAP, new Buf(24).u64(8, 0).u64(16, 0));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_MISSING);
  });

  it("rejects null memory map pointers and wrapping entries", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_MEMMAP, new Buf(24).u64(8, 2).u64(16, 0));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_POINTER);
    b.respond(LIMINE_SLOT_MEMMAP, new Buf(24).u64(8, 1).u64(16, new Buf(8).addr));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_MMAP);
    let wrap = new LimineBuilder().hhdm(HHDM).memmap([0xfffffffffffff000, 0x2000, 0]);
    expect(parseLimine(wrap.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_MMAP);
  });

  it("rejects absurd module and CPU counts", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_MODULES, new Buf(24).u64(8, 1000).u64(16, new Buf(8).addr));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_TOO_MANY);
    let c = minimal();
    c.respond(LIMINE_SLOT_SMP, new Buf(32).u64(16, <u64>1 << 40));
    expect(parseLimine(c.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_TOO_MANY);
  });

  it("rejects a null module entry", () => {
    let b = minimal();
    b.respond(LIMINE_SLOT_MODULES, new Buf(24).u64(8, 1).u64(16, new Buf(8).addr));
    expect(parseLimine(b.addr, ARCH_X86_64, HHDM).error).toBe(E_BOOT_BAD_POINTER);
  });
});
