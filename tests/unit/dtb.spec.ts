// boot/dtb.ts: the DTB QEMU really gives (virt, GICv3), small built ones for
// each corner, and malformed ones that must come back as named errors.
import { parseDtb, dtbApply, readFdt, PSCI_CONDUIT_HVC, PSCI_CONDUIT_SMC, FDT_MAX_BYTES } from "../../boot/dtb";
import { bootInfoFrom } from "../../boot/index";
import { BOOT_LINUX_ARM64, BOOT_LIMINE } from "../../kernel/arch";
import { ARCH_AARCH64 } from "../../boot/handoff";
import {
  BootInfo, BootResult, MemoryKind, BOOT_OK, POWER_NONE, POWER_PSCI,
  E_BOOT_BAD_POINTER, E_BOOT_BAD_MAGIC, E_BOOT_BAD_SIZE, E_BOOT_BAD_TAG, E_BOOT_BAD_MMAP,
  E_BOOT_TOO_MANY, E_BOOT_MISSING, E_BOOT_UNSUPPORTED,
} from "../../boot/bootinfo";
import { LIMINE_SLOT_DTB, LIMINE_SLOT_SMP } from "../../boot/limine";
import { Buf, LimineBuilder, buildHandoff } from "./fixtures";
import { mpAarch64 } from "./fixtures/limine-mp";
import { CPU_START_PSCI_HVC, CPU_START_PSCI_SMC, CPU_START_LIMINE } from "../../kernel/arch";
import {
  FdtBuilder, smallMachine, virtDtb, virtSmp4Dtb, putBe32, getBe32,
  H_MAGIC, H_TOTALSIZE, H_OFF_STRUCT, H_OFF_STRINGS, H_OFF_RSVMAP, H_VERSION, H_SIZE_STRINGS, H_SIZE_STRUCT,
} from "./fixtures/fdt";

function ok(result: BootResult): BootInfo {
  expect(result.error).toBe(BOOT_OK, result.message);
  return result.info!;
}

function fails(result: BootResult, error: i32, words: string): void {
  expect(result.error).toBe(error, result.message);
  expect(result.info).toBeNull();
  expect(result.message.startsWith("dtb: ")).toBe(true, result.message);
  expect(result.message.includes(words)).toBe(true, result.message);
}

// The real blob is large (QEMU pads it to 1 MiB): build it once.
const virt = virtDtb();

describe("dtb: the blob QEMU virt (GICv3) passes to -kernel", () => {
  it("gives the RAM from /memory as one usable region", () => {
    let bi = ok(parseDtb(virt.addr, 0));
    expect(bi.protocol).toBe("linux-arm64");
    expect(bi.memory.length).toBe(1);
    expect(bi.memory[0].base).toBe(0x40000000);
    expect(bi.memory[0].length).toBe(256 << 20);
    expect(bi.memory[0].kind).toBe(MemoryKind.Usable);
  });

  it("counts the CPUs under /cpus and finds PSCI 1.0 over HVC", () => {
    let bi = ok(parseDtb(virt.addr, 0));
    expect(bi.cpuCount).toBe(1);
    expect(bi.powerMethod).toBe(POWER_PSCI);
    expect(bi.powerArg0).toBe(PSCI_CONDUIT_HVC);
    expect(bi.warnings.length).toBe(0);
  });

  it("keeps the blob itself reserved and records where it is", () => {
    let hhdm: u64 = 0;
    let bi = ok(parseDtb(virt.addr, hhdm));
    expect(bi.dtb).toBe(virt.addr);
    expect(bi.bootDataBase).toBe(virt.addr);
    expect(bi.bootDataSize).toBe(1 << 20);
    let reserved = bi.reservedRanges();
    expect(reserved.length).toBe(1);
    expect(reserved[0].base).toBe(virt.addr);
  });

  it("has no command line or initrd without -append or -initrd", () => {
    let bi = ok(parseDtb(virt.addr, 0));
    expect(bi.cmdline).toBe("");
    expect(bi.modules.length).toBe(0);
  });

  it("reads the tree: stdout-path, the GIC's reg and the timer", () => {
    let read = readFdt(virt.addr);
    expect(read.error).toBe(BOOT_OK, read.message);
    let fdt = read.fdt!;
    expect(fdt.version).toBe(17);
    let chosen = fdt.find("/chosen")!;
    expect(fdt.string(chosen.property("stdout-path")!)).toBe("/pl011@9000000");
    let gic = fdt.find("/intc@8000000")!;
    let reg = gic.property("reg")!;
    expect(reg.length).toBe(32); // distributor and redistributor, 2 + 2 cells each
    expect(fdt.cell(reg, 1)).toBe(0x8000000);
    expect(fdt.cell(reg, 5)).toBe(0x80a0000);
    expect(gic.child("its@8080000")).not.toBeNull();
    let timer = fdt.find("/timer")!;
    expect(fdt.stringList(timer.property("compatible")!)![0]).toBe("arm,armv8-timer");
    expect(gic.path()).toBe("/intc@8000000");
  });

  it("goes through bootInfoFrom with an aarch64 handoff", () => {
    let handoff = buildHandoff(ARCH_AARCH64, 0, 0x40200000, 0x40666000, 0, 1234);
    let bi = ok(bootInfoFrom(BOOT_LINUX_ARM64, virt.addr, handoff.addr));
    expect(bi.arch).toBe("aarch64");
    expect(bi.entryCycles).toBe(1234);
    expect(bi.kernelPhysStart).toBe(0x40200000);
    expect(bi.kernelPhysEnd).toBe(0x40666000);
    expect(bi.powerMethod).toBe(POWER_PSCI);
    expect(bi.reservedRanges().length).toBe(2); // the kernel and the DTB
  });
});

describe("dtb: what a loader puts in /chosen and the reservations", () => {
  it("takes bootargs as the command line and the initrd as a module", () => {
    let f = smallMachine();
    f.begin("chosen").str("bootargs", "console=ttyAMA0 init=/init")
      .cells64("linux,initrd-start", [0x48000000]).cells64("linux,initrd-end", [0x48123000]).end();
    let bi = ok(parseDtb(f.end().build().addr, 0));
    expect(bi.cmdline).toBe("console=ttyAMA0 init=/init");
    expect(bi.modules.length).toBe(1);
    expect(bi.modules[0].base).toBe(0x48000000);
    expect(bi.modules[0].size).toBe(0x123000);
    expect(bi.modules[0].path).toBe("initrd");
  });

  it("accepts 32-bit initrd addresses (U-Boot writes one cell)", () => {
    let f = smallMachine();
    f.begin("chosen").cells("linux,initrd-start", [0x44000000]).cells("linux,initrd-end", [0x44001000]).end();
    let bi = ok(parseDtb(f.end().build().addr, 0));
    expect(bi.modules[0].base).toBe(0x44000000);
    expect(bi.modules[0].size).toBe(0x1000);
  });

  it("reserves the memory reservation block and /reserved-memory children", () => {
    let f = smallMachine();
    f.reserve(0x40000000, 0x10000).reserve(0x5ff00000, 0x100000);
    f.begin("reserved-memory").cells("#address-cells", [2]).cells("#size-cells", [2]).prop("ranges", [])
      .begin("tee@5e000000").cells64("reg", [0x5e000000, 0x1000000]).prop("no-map", []).end()
      .begin("cma").cells64("size", [0x4000000]).end() // dynamic: no reg, nothing reserved
      .end();
    let bi = ok(parseDtb(f.end().build().addr, 0));
    expect(bi.memory.length).toBe(4);
    expect(bi.memory[0].base).toBe(0x40000000);
    expect(bi.memory[0].kind).toBe(MemoryKind.Usable);
    expect(bi.memory[1].base).toBe(0x40000000);
    expect(bi.memory[1].length).toBe(0x10000);
    expect(bi.memory[1].kind).toBe(MemoryKind.Reserved);
    expect(bi.memory[2].base).toBe(0x5e000000);
    expect(bi.memory[2].kind).toBe(MemoryKind.Reserved);
    expect(bi.memory[3].base).toBe(0x5ff00000);
    expect(bi.usableBytes()).toBe(0x20000000);
  });

  it("reads several memory nodes and reg entries, in 1-cell form too", () => {
    let f = new FdtBuilder();
    f.begin("").cells("#address-cells", [1]).cells("#size-cells", [1]);
    f.begin("memory@80000000").str("device_type", "memory").cells("reg", [0x80000000, 0x10000000, 0xa0000000, 0x1000000]).end();
    f.begin("memory@0").str("device_type", "memory").cells("reg", [0, 0x8000000]).end();
    f.begin("memory@c0000000").str("device_type", "memory").str("status", "disabled").cells("reg", [0xc0000000, 0x1000]).end();
    let bi = ok(parseDtb(f.end().build().addr, 0));
    expect(bi.memory.length).toBe(3);
    expect(bi.memory[0].base).toBe(0); // sorted
    expect(bi.memory[1].base).toBe(0x80000000);
    expect(bi.memory[2].length).toBe(0x1000000);
  });

  it("counts enabled CPUs only, and skips NOP tokens", () => {
    let f = smallMachine();
    f.begin("cpus").cells("#address-cells", [1]).cells("#size-cells", [0]);
    for (let i = 0; i < 4; i++) f.begin("cpu@" + i.toString()).str("device_type", "cpu").cells("reg", [i]).nop().end();
    f.begin("cpu@4").str("device_type", "cpu").str("status", "disabled").end();
    f.begin("cpu-map").end();
    f.end();
    expect(ok(parseDtb(f.end().build().addr, 0)).cpuCount).toBe(4);
  });

  it("maps the DTB's address back to physical with the HHDM offset", () => {
    let blob = smallMachine().end().build();
    let hhdm: u64 = 0x1000; // the linear address stands in for the kernel-virtual one
    let bi = ok(parseDtb(blob.addr, hhdm));
    expect(bi.hhdmOffset).toBe(hhdm);
    expect(bi.bootDataBase).toBe(blob.addr - hhdm);
  });
});

// smallMachine(conduit) with a /cpus node of `addressCells`, then the caller's cpu nodes.
function withCpus(conduit: string, addressCells: u32): FdtBuilder {
  let f = smallMachine(conduit);
  f.begin("cpus").cells("#address-cells", [addressCells]).cells("#size-cells", [0]);
  return f;
}

function cpu(f: FdtBuilder, reg: u32, method: string): FdtBuilder {
  f.begin("cpu@" + reg.toString(16)).str("device_type", "cpu").cells("reg", [reg]);
  if (method.length > 0) f.str("enable-method", method);
  return f.end();
}

describe("dtb: the CPUs and how to start them", () => {
  it("lists QEMU's 4 CPUs (-smp 4) by MPIDR, started by PSCI over HVC", () => {
    let bi = ok(parseDtb(virtSmp4Dtb().addr, 0));
    expect(bi.cpuCount).toBe(4);
    expect(bi.cpus.length).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(bi.cpus[i].hwid).toBe(<u64>i);
      expect(bi.cpus[i].method).toBe(CPU_START_PSCI_HVC);
      expect(bi.cpus[i].handle).toBe(0);
    }
    expect(bi.bootCpuHwid).toBe(U64.MAX_VALUE); // the kernel's cpu_start finds itself
    expect(bi.powerMethod).toBe(POWER_PSCI);
    expect(bi.warnings.length).toBe(0);
  });

  it("lists QEMU's single CPU, which has no enable-method, without a warning", () => {
    let bi = ok(parseDtb(virt.addr, 0));
    expect(bi.cpus.length).toBe(1);
    expect(bi.cpus[0].hwid).toBe(0);
    expect(bi.cpus[0].method).toBe(0);
    expect(bi.warnings.length).toBe(0);
  });

  it("starts CPUs through SMC when /psci says smc", () => {
    let f = withCpus("smc", 1);
    cpu(f, 0, "psci");
    cpu(f, 1, "psci");
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[1].method).toBe(CPU_START_PSCI_SMC);
  });

  it("lists spin-table CPUs with no method, and one warning naming it", () => {
    let f = withCpus("hvc", 1);
    for (let i: u32 = 0; i < 3; i++) {
      f.begin("cpu@" + i.toString()).str("device_type", "cpu").cells("reg", [i])
        .str("enable-method", "spin-table").cells64("cpu-release-addr", [0x8000fff8]).end();
    }
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpuCount).toBe(3);
    expect(bi.cpus.length).toBe(3);
    expect(bi.cpus[2].hwid).toBe(2);
    expect(bi.cpus[2].method).toBe(0);
    expect(bi.warnings.length).toBe(1);
    expect(bi.warnings[0].includes("\"spin-table\"")).toBe(true, bi.warnings[0]);
    expect(bi.warnings[0].includes("3 CPU")).toBe(true, bi.warnings[0]);
  });

  it("reads a 2-cell reg (Aff3 above bit 31)", () => {
    let f = withCpus("hvc", 2);
    f.begin("cpu@0").str("device_type", "cpu").cells64("reg", [0]).str("enable-method", "psci").end();
    f.begin("cpu@100000101").str("device_type", "cpu").cells64("reg", [0x100000101]).str("enable-method", "psci").end();
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[1].hwid).toBe(0x100000101);
    expect(bi.cpus[1].method).toBe(CPU_START_PSCI_HVC);
  });

  it("leaves out a CPU without a reg, or with one of the wrong size, with a warning each", () => {
    let f = withCpus("hvc", 1);
    cpu(f, 0, "psci");
    f.begin("cpu@1").str("device_type", "cpu").str("enable-method", "psci").end();
    f.begin("cpu@2").str("device_type", "cpu").cells64("reg", [2]).str("enable-method", "psci").end();
    cpu(f, 3, "psci");
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpuCount).toBe(2);
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[1].hwid).toBe(3);
    expect(bi.warnings.length).toBe(2);
    expect(bi.warnings[0].includes("/cpus/cpu@1")).toBe(true, bi.warnings[0]);
    expect(bi.warnings[1].includes("/cpus/cpu@2")).toBe(true, bi.warnings[1]);
  });

  it("skips disabled CPUs and nodes that are not CPUs", () => {
    let f = withCpus("hvc", 1);
    cpu(f, 0, "psci");
    f.begin("cpu@1").str("device_type", "cpu").cells("reg", [1]).str("status", "disabled").end();
    f.begin("l2-cache0").str("compatible", "cache").end();
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpus.length).toBe(1);
    expect(bi.warnings.length).toBe(0);
  });

  it("cannot start psci CPUs without a usable /psci: method 0, and says why", () => {
    let f = new FdtBuilder();
    f.begin("").begin("memory@0").str("device_type", "memory").cells("reg", [0, 0x1000000, 0x1000000]).end();
    f.begin("cpus").cells("#address-cells", [1]).cells("#size-cells", [0]);
    cpu(f, 0, "psci");
    cpu(f, 1, "psci");
    let bi = ok(parseDtb(f.end().end().build().addr, 0));
    expect(bi.cpus.length).toBe(2);
    expect(bi.cpus[1].method).toBe(0);
    expect(bi.warnings.length).toBe(1);
    expect(bi.warnings[0].includes("/psci")).toBe(true, bi.warnings[0]);

    let g = new FdtBuilder();
    g.begin("").begin("memory@0").str("device_type", "memory").cells("reg", [0, 0x1000000, 0x1000000]).end();
    g.begin("psci").str("compatible", "arm,psci").str("method", "hvc").end();
    g.begin("cpus").cells("#address-cells", [1]).cells("#size-cells", [0]);
    cpu(g, 0, "psci");
    cpu(g, 1, "psci");
    let old = ok(parseDtb(g.end().end().build().addr, 0));
    expect(old.cpus[1].method).toBe(0);
    expect(old.warnings.length).toBe(2); // power-off and CPU start
    expect(old.warnings[1].includes("PSCI 0.1")).toBe(true, old.warnings[1]);
  });

  it("takes the DTB's CPUs next to Limine only when Limine gave none", () => {
    let dtb = virtSmp4Dtb();
    let handoff = buildHandoff(ARCH_AARCH64, 0, 0x40200000, 0x40600000, 0);
    let b = new LimineBuilder().hhdm(0).memmap([0x40000000, 0x8000000, 0]);
    b.respond(LIMINE_SLOT_DTB, new Buf(16).u64(8, dtb.addr));
    let bi = ok(bootInfoFrom(BOOT_LIMINE, b.addr, handoff.addr));
    expect(bi.cpuCount).toBe(4);
    expect(bi.cpus.length).toBe(4);
    expect(bi.cpus[3].method).toBe(CPU_START_PSCI_HVC);

    b.respond(LIMINE_SLOT_SMP, mpAarch64(0, [0, 1]).response);
    let withMp = ok(bootInfoFrom(BOOT_LIMINE, b.addr, handoff.addr));
    expect(withMp.cpuCount).toBe(2);
    expect(withMp.cpus.length).toBe(2);
    expect(withMp.cpus[1].method).toBe(CPU_START_LIMINE);
    expect(withMp.bootCpuHwid).toBe(0);
  });
});

describe("dtb: PSCI", () => {
  it("takes SMC as conduit 1", () => {
    let bi = ok(parseDtb(smallMachine("smc").end().build().addr, 0));
    expect(bi.powerMethod).toBe(POWER_PSCI);
    expect(bi.powerArg0).toBe(PSCI_CONDUIT_SMC);
  });

  it("leaves power-off alone for PSCI 0.1, with a warning", () => {
    let f = new FdtBuilder();
    f.begin("").begin("memory@0").str("device_type", "memory").cells("reg", [0, 0x1000000, 0x1000000]).end();
    f.begin("psci").str("compatible", "arm,psci").str("method", "hvc").cells("cpu_on", [0x95c1ba5e]).end();
    let bi = ok(parseDtb(f.end().build().addr, 0));
    expect(bi.powerMethod).toBe(POWER_NONE);
    expect(bi.warnings.length).toBe(1);
    expect(bi.warnings[0].includes("PSCI 0.1")).toBe(true, bi.warnings[0]);
  });

  it("leaves power-off alone for an unknown conduit, with a warning", () => {
    let bi = ok(parseDtb(smallMachine("svc").end().build().addr, 0));
    expect(bi.powerMethod).toBe(POWER_NONE);
    expect(bi.warnings[0].includes("svc")).toBe(true, bi.warnings[0]);
  });

  it("refuses a PSCI node without a method string", () => {
    let f = new FdtBuilder();
    // The root has no #address-cells / #size-cells: the defaults, 2 and 1.
    f.begin("").begin("memory").str("device_type", "memory").cells("reg", [0, 0x1000000, 0x1000000]).end();
    f.begin("psci").str("compatible", "arm,psci-0.2").end();
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_BAD_TAG, "method");
  });
});

describe("dtb: next to Limine on AArch64 (dtbApply)", () => {
  it("takes PSCI from the DTB and keeps Limine's memory map and CPU count", () => {
    let dtb = virtDtb();
    let b = new LimineBuilder().hhdm(0).memmap([0x40000000, 0x8000000, 0]);
    b.respond(LIMINE_SLOT_SMP, mpAarch64(0, [0, 1]).response);
    b.respond(LIMINE_SLOT_DTB, new Buf(16).u64(8, dtb.addr));
    let handoff = buildHandoff(ARCH_AARCH64, 0, 0x40200000, 0x40600000, 0);
    let bi = ok(bootInfoFrom(BOOT_LIMINE, b.addr, handoff.addr));
    expect(bi.protocol).toBe("limine");
    expect(bi.dtb).toBe(dtb.addr);
    expect(bi.memory.length).toBe(1);
    expect(bi.memory[0].length).toBe(0x8000000);
    expect(bi.cpuCount).toBe(2);
    expect(bi.powerMethod).toBe(POWER_PSCI);
    expect(bi.powerArg0).toBe(PSCI_CONDUIT_HVC);
  });

  it("turns a bad DTB into a warning, not a failed boot", () => {
    let info = new BootInfo();
    let bad = smallMachine().end().build();
    putBe32(bad, H_MAGIC, 0x12345678);
    info.dtb = bad.addr;
    dtbApply(info);
    expect(info.warnings.length).toBe(1);
    expect(info.warnings[0].includes("magic")).toBe(true, info.warnings[0]);
    expect(info.powerMethod).toBe(POWER_NONE);
  });
});

describe("dtb: malformed blobs are named errors", () => {
  it("refuses a null or misaligned pointer", () => {
    fails(parseDtb(0, 0), E_BOOT_BAD_POINTER, "null");
    fails(parseDtb(smallMachine().end().build().addr + 4, 0), E_BOOT_BAD_POINTER, "aligned");
  });

  it("refuses a bad magic", () => {
    let b = smallMachine().end().build();
    putBe32(b, H_MAGIC, 0xedfe0dd0); // little-endian written by mistake
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_MAGIC, "magic");
  });

  it("refuses absurd total sizes", () => {
    let b = smallMachine().end().build();
    putBe32(b, H_TOTALSIZE, 8);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "totalsize");
    putBe32(b, H_TOTALSIZE, FDT_MAX_BYTES + 1);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "totalsize");
    putBe32(b, H_TOTALSIZE, 0xffffffff);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "totalsize");
  });

  it("refuses versions it does not know", () => {
    let b = smallMachine().end().build();
    putBe32(b, H_VERSION, 15);
    fails(parseDtb(b.addr, 0), E_BOOT_UNSUPPORTED, "version");
  });

  it("refuses block offsets and sizes past the end (truncated blobs)", () => {
    let b = smallMachine().end().build();
    let total = getBe32(b, H_TOTALSIZE);
    let structOff = getBe32(b, H_OFF_STRUCT);
    putBe32(b, H_OFF_STRUCT, total + 4);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "structure block");
    putBe32(b, H_OFF_STRUCT, structOff);
    putBe32(b, H_SIZE_STRUCT, total);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "runs past totalsize");
    putBe32(b, H_SIZE_STRUCT, 0xfffffff0); // would wrap in 32 bits
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_SIZE, "runs past totalsize");

    let c = smallMachine().end().build();
    putBe32(c, H_SIZE_STRINGS, getBe32(c, H_SIZE_STRINGS) + 1);
    fails(parseDtb(c.addr, 0), E_BOOT_BAD_SIZE, "strings block");
    let d = smallMachine().end().build();
    putBe32(d, H_OFF_STRINGS, 0xffffff00);
    fails(parseDtb(d.addr, 0), E_BOOT_BAD_SIZE, "strings block");
    let e = smallMachine().end().build();
    putBe32(e, H_OFF_RSVMAP, 44);
    fails(parseDtb(e.addr, 0), E_BOOT_BAD_SIZE, "reservation");

    // A blob cut short: totalsize says less than its blocks need.
    let cut = smallMachine().end().build();
    putBe32(cut, H_TOTALSIZE, getBe32(cut, H_OFF_STRINGS));
    fails(parseDtb(cut.addr, 0), E_BOOT_BAD_SIZE, "strings block");
  });

  it("refuses a structure block without an END token", () => {
    let f = smallMachine().end();
    f.endToken = false;
    fails(parseDtb(f.build().addr, 0), E_BOOT_BAD_TAG, "without an END");
    let open = smallMachine(); // the root is never closed
    fails(parseDtb(open.build().addr, 0), E_BOOT_BAD_TAG, "inside a node");
  });

  it("refuses unterminated node and property names", () => {
    // A node name whose NUL lies outside the structure block.
    let f = new FdtBuilder();
    f.begin("").end();
    f.endToken = false;
    let b = f.build();
    let structOff = getBe32(b, H_OFF_STRUCT);
    putBe32(b, structOff + 4, 0x61626364); // "abcd" where the root's "" and padding were
    putBe32(b, structOff + 8, 0x65666768);
    putBe32(b, H_SIZE_STRUCT, 12);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_TAG, "not NUL-terminated");

    // A property name running off the end of the strings block.
    let p = smallMachine().end().build();
    let stringsOff = getBe32(p, H_OFF_STRINGS);
    let stringsSize = getBe32(p, H_SIZE_STRINGS);
    p.u8(stringsOff + stringsSize - 1, 0x78); // the last NUL becomes "x"
    fails(parseDtb(p.addr, 0), E_BOOT_BAD_TAG, "not NUL-terminated");
  });

  it("refuses a property name offset past the strings block", () => {
    let f = new FdtBuilder();
    f.begin("").cells("#size-cells", [2]).end();
    let b = f.build();
    let structOff = getBe32(b, H_OFF_STRUCT);
    putBe32(b, structOff + 8 + 8, 0x1000); // the property's nameoff
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_TAG, "name offset");
  });

  it("refuses a property whose length runs past the structure block", () => {
    let f = new FdtBuilder();
    f.begin("").cells("#size-cells", [2]).end();
    let b = f.build();
    putBe32(b, getBe32(b, H_OFF_STRUCT) + 8 + 4, 0x10000);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_TAG, "runs past the structure block");
  });

  it("refuses unknown tokens and a second root", () => {
    let f = new FdtBuilder();
    f.begin("").end();
    f.endToken = false;
    let b = f.build();
    putBe32(b, getBe32(b, H_OFF_STRUCT) + 8, 0x7);
    fails(parseDtb(b.addr, 0), E_BOOT_BAD_TAG, "unknown token");
    let two = new FdtBuilder();
    two.begin("").end().begin("").end();
    fails(parseDtb(two.build().addr, 0), E_BOOT_BAD_TAG, "second root");
  });

  it("refuses a property after a subnode (the format puts properties first)", () => {
    let f = smallMachine();
    f.begin("chosen").end().str("late", "property");
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_BAD_TAG, "after a subnode");
  });

  it("refuses nodes nested absurdly deep", () => {
    let f = new FdtBuilder();
    for (let i = 0; i < 40; i++) f.begin("n" + i.toString());
    for (let i = 0; i < 40; i++) f.end();
    fails(parseDtb(f.build().addr, 0), E_BOOT_TOO_MANY, "deeper");
  });

  it("refuses an unterminated bootargs string", () => {
    let f = smallMachine();
    f.begin("chosen").prop("bootargs", [0x61, 0x62, 0x63]).end();
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_BAD_TAG, "bootargs");
  });

  it("refuses an initrd that ends before it starts", () => {
    let f = smallMachine();
    f.begin("chosen").cells("linux,initrd-start", [0x2000]).cells("linux,initrd-end", [0x1000]).end();
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_BAD_TAG, "initrd");
  });

  it("refuses a blob without memory", () => {
    let f = new FdtBuilder();
    f.begin("").begin("chosen").end();
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_MISSING, "/memory");
  });

  it("refuses a reg that is not a whole number of entries, or wraps", () => {
    let f = new FdtBuilder();
    f.begin("").begin("memory@0").str("device_type", "memory").cells("reg", [0, 0x40000000, 0, 5]).end();
    fails(parseDtb(f.end().build().addr, 0), E_BOOT_BAD_MMAP, "whole number");
    let w = new FdtBuilder();
    w.begin("").cells("#size-cells", [2]).begin("memory@0").str("device_type", "memory")
      .cells64("reg", [0xfffffffffffff000, 0x2000]).end();
    fails(parseDtb(w.end().build().addr, 0), E_BOOT_BAD_MMAP, "wraps");
  });

  it("refuses a memory reservation block without its terminator", () => {
    let f = smallMachine().end();
    let b = f.build();
    // Fill the terminator with a real entry: the block then runs into the
    // structure block's tokens and on past totalsize, or finds garbage.
    putBe32(b, 40 + 4, 0x1000);
    putBe32(b, 40 + 12, 0x1000);
    let r = parseDtb(b.addr, 0);
    expect(r.error).not.toBe(BOOT_OK, r.message);
  });
});
