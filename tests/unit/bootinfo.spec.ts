import {
  BootInfo, BootModule, CpuEntry, MemoryRegion, MemoryKind, sortRegions, bootOk, bootFail, hex,
  BOOT_OK, E_BOOT_MISSING,
} from "../../boot/bootinfo";
import { cpusText } from "../../kernel/bootreport";
import { CPU_START_SIPI, CPU_START_LIMINE, CPU_START_PSCI_HVC } from "../../kernel/arch";

describe("BootInfo model", () => {
  it("sorts regions by base", () => {
    let r = [
      new MemoryRegion(0x300000, 1, MemoryKind.Usable),
      new MemoryRegion(0x100000, 1, MemoryKind.Reserved),
      new MemoryRegion(0x200000, 1, MemoryKind.Usable),
      new MemoryRegion(0, 1, MemoryKind.Usable),
    ];
    sortRegions(r);
    expect(r[0].base).toBe(0);
    expect(r[1].base).toBe(0x100000);
    expect(r[1].kind).toBe(MemoryKind.Reserved);
    expect(r[2].base).toBe(0x200000);
    expect(r[3].base).toBe(0x300000);
  });

  it("saturates a region end instead of wrapping", () => {
    expect(new MemoryRegion(0x1000, 0x1000, 0).end()).toBe(0x2000);
    expect(new MemoryRegion(0xfffffffffffff000, 0x2000, 0).end()).toBe(U64.MAX_VALUE);
  });

  it("sums only usable memory", () => {
    let bi = new BootInfo();
    bi.memory.push(new MemoryRegion(0, 0x9f000, MemoryKind.Usable));
    bi.memory.push(new MemoryRegion(0x9f000, 0x1000, MemoryKind.Reserved));
    bi.memory.push(new MemoryRegion(0x100000, 0x100000, MemoryKind.Usable));
    bi.memory.push(new MemoryRegion(0x200000, 0x100000, MemoryKind.BootloaderReclaimable));
    expect(bi.usableBytes()).toBe(0x9f000 + 0x100000);
  });

  it("lists kernel, non-empty modules and loader data as reserved ranges", () => {
    let bi = new BootInfo();
    bi.kernelPhysStart = 0x100000;
    bi.kernelPhysEnd = 0x180000;
    bi.modules.push(new BootModule(0x200000, 0x3000, "init", ""));
    bi.modules.push(new BootModule(0x204000, 0, "empty", ""));
    bi.bootDataBase = 0x9000;
    bi.bootDataSize = 0x400;
    let r = bi.reservedRanges();
    expect(r.length).toBe(3);
    expect(r[0].base).toBe(0x100000);
    expect(r[0].length).toBe(0x80000);
    expect(r[1].base).toBe(0x200000);
    expect(r[2].base).toBe(0x9000);
    expect(r[2].length).toBe(0x400);
  });

  it("lists nothing for an empty BootInfo", () => {
    expect(new BootInfo().reservedRanges().length).toBe(0);
  });

  it("wraps results and errors", () => {
    let good = bootOk(new BootInfo());
    expect(good.ok).toBe(true);
    expect(good.error).toBe(BOOT_OK);
    let bad = bootFail(E_BOOT_MISSING, "no map");
    expect(bad.ok).toBe(false);
    expect(bad.info).toBeNull();
    expect(bad.message).toBe("no map");
    expect(hex(0x36d76289)).toBe("0x36d76289");
  });
});

// kernel/bootreport.ts's cpus line (the shell's `bootinfo`), from BootInfo.cpus.
function withCpus(count: i32, method: u32): BootInfo {
  let bi = new BootInfo();
  for (let i = 0; i < count; i++) bi.cpus.push(new CpuEntry(<u64>i, method, 0));
  bi.cpuCount = <u32>count;
  return bi;
}

describe("boot report: the cpus line", () => {
  it("gives the count, each hwid and the start method", () => {
    expect(cpusText(withCpus(4, CPU_START_PSCI_HVC))).toBe("4 (hwid 0x0, 0x1, 0x2, 0x3; start psci-hvc)");
  });

  it("names the boot CPU when the loader said which", () => {
    let bi = withCpus(2, CPU_START_LIMINE);
    bi.bootCpuHwid = 0;
    expect(cpusText(bi)).toBe("2 (hwid 0x0, 0x1; boot 0x0; start limine)");
  });

  it("names each start method once, 'none' for CPUs it cannot start", () => {
    let bi = withCpus(3, CPU_START_SIPI);
    bi.cpus[1].method = 0;
    expect(cpusText(bi)).toBe("3 (hwid 0x0, 0x1, 0x2; start sipi, none)");
  });

  it("stays short on a big machine", () => {
    let text = cpusText(withCpus(4096, CPU_START_SIPI));
    expect(text).toBe("4096 (hwid 0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, +4088 more; start sipi)");
  });

  it("is just the count without a list", () => {
    let bi = new BootInfo();
    bi.cpuCount = 1;
    expect(cpusText(bi)).toBe("1");
  });
});
