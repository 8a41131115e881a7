import {
  acpiRead, acpiApply, findS5SleepType,
  E_ACPI_NO_RSDP, E_ACPI_BAD_RSDP, E_ACPI_BAD_CHECKSUM, E_ACPI_BAD_ROOT,
} from "../../boot/acpi";
import { BootInfo, CpuEntry, POWER_NONE, POWER_ACPI_PORT } from "../../boot/bootinfo";
import { CPU_START_SIPI, CPU_START_LIMINE } from "../../kernel/arch";
import {
  AcpiTree, sdt, madt, fadt, dsdt, xsdt, rsdt, rsdpV1, rsdpV2, s5Package,
} from "./fixtures";

const SLP_EN: u64 = 1 << 13;

// Local APIC flags: 1 enabled, 2 online-capable, 0 disabled.
function pcCpus(): u32[] { return [1, 1, 0, 2]; }
function pcX2Cpus(): u32[] { return [1, 0]; }
const PC_CPUS: u32 = 4; // two enabled, one online-capable, one enabled x2APIC

function pcTree(hhdm: u64): AcpiTree {
  return new AcpiTree(hhdm, pcCpus(), pcX2Cpus(), 0x604, s5Package(5));
}

describe("acpi: a well-formed tree", () => {
  it("counts enabled and online-capable processors of both kinds", () => {
    let f = acpiRead(pcTree(0).rsdp.addr, 0);
    expect(f.ok).toBe(true, f.message);
    expect(f.madtFound).toBe(true);
    expect(f.cpuCount).toBe(PC_CPUS);
  });

  it("finds the PM1a control port and SLP_TYPa, and sets the power method", () => {
    let f = acpiRead(pcTree(0).rsdp.addr, 0);
    expect(f.fadtFound).toBe(true);
    expect(f.pm1aControlPort).toBe(0x604);
    expect(f.slpTypA).toBe(5);
    expect(f.powerMethod).toBe(POWER_ACPI_PORT);
    expect(f.powerArg0).toBe(0x604);
    expect(f.powerArg1).toBe((5 << 10) | SLP_EN);
    expect(f.warnings.length).toBe(0);
  });

  it("reads the revision and OEM id of the RSDP", () => {
    let f = acpiRead(pcTree(0).rsdp.addr, 0);
    expect(f.revision).toBe(2);
    expect(f.oemId).toBe("CAMOS ");
  });

  it("follows physical addresses through the HHDM offset", () => {
    // Tables hold linear - 0x40 as their "physical" addresses.
    let f = acpiRead(pcTree(0x40).rsdp.addr, 0x40);
    expect(f.ok).toBe(true, f.message);
    expect(f.cpuCount).toBe(PC_CPUS);
    expect(f.slpTypA).toBe(5);
  });

  it("uses the RSDT of an ACPI 1.0 RSDP", () => {
    let m = madt([1, 1], []);
    let d = dsdt(s5Package(7));
    let root = rsdt([m, fadt(d, 0, 0xb004)], 0);
    let f = acpiRead(rsdpV1(<u32>root.addr).addr, 0);
    expect(f.ok).toBe(true, f.message);
    expect(f.revision).toBe(0);
    expect(f.cpuCount).toBe(2);
    expect(f.powerArg0).toBe(0xb004);
    expect(f.powerArg1).toBe((7 << 10) | SLP_EN);
  });

  it("falls back to X_PM1a_CNT_BLK when the 32-bit block is 0", () => {
    let d = dsdt(s5Package(5));
    let root = xsdt([madt([1], []), fadt(d, 0, 0, 0x604)], 0);
    let f = acpiRead(rsdpV2(root.addr, 0).addr, 0);
    expect(f.pm1aControlPort).toBe(0x604);
    expect(f.powerMethod).toBe(POWER_ACPI_PORT);
  });

  it("ignores an X_PM1a_CNT_BLK that is not an I/O port", () => {
    let d = dsdt(s5Package(5));
    let fa = fadt(d, 0, 0, 0x604);
    fa.u8(172, 0).seal(9, 276); // system memory space, not I/O
    let root = xsdt([fa], 0);
    let f = acpiRead(rsdpV2(root.addr, 0).addr, 0);
    expect(f.pm1aControlPort).toBe(0);
    expect(f.powerMethod).toBe(POWER_NONE);
  });
});

// SLP_TYPa found in a DSDT holding `aml` after `padding` noise bytes.
function slpTyp(aml: u8[], padding: u32 = 16): i32 {
  let d = dsdt(aml, padding);
  return findS5SleepType(d.addr, d.size);
}

describe("acpi: the MADT's CPUs", () => {
  it("lists enabled and online-capable LAPIC and x2APIC entries by APIC id, in order", () => {
    // madt() gives local APIC i the id i, x2APIC i the id 0x100 + i.
    let f = acpiRead(pcTree(0).rsdp.addr, 0);
    expect(f.cpus.length).toBe(<i32>PC_CPUS);
    expect(f.cpuCount).toBe(<u32>f.cpus.length);
    let ids: u64[] = [0, 1, 3, 0x100]; // LAPIC 2 and x2APIC 0x101 are disabled
    for (let i = 0; i < ids.length; i++) {
      expect(f.cpus[i].hwid).toBe(ids[i]);
      expect(f.cpus[i].method).toBe(CPU_START_SIPI);
      expect(f.cpus[i].handle).toBe(0);
    }
  });

  it("reads the full 32-bit x2APIC id and the APIC id byte (not the processor uid)", () => {
    let m = madt([1], [1]);
    m.u8(44 + 2, 7).u8(44 + 3, 0xfe);          // uid 7, APIC id 0xfe
    m.u32(44 + 8 + 4, 0x12345);                 // x2APIC id
    m.seal(9, m.size);
    let f = acpiRead(rsdpV2(xsdt([m], 0).addr, 0).addr, 0);
    expect(f.cpus.length).toBe(2);
    expect(f.cpus[0].hwid).toBe(0xfe);
    expect(f.cpus[1].hwid).toBe(0x12345);
  });

  it("warns about a LAPIC or x2APIC entry too short to read, and goes on", () => {
    let m = madt([1, 1], [1]);
    m.u8(44 + 1, 6);                  // the first LAPIC entry claims 6 bytes...
    m.u8(44 + 6, 0xff).u8(44 + 7, 2); // ...and its last 2 become an entry of an unknown type
    m.seal(9, m.size);
    let f = acpiRead(rsdpV2(xsdt([m], 0).addr, 0).addr, 0);
    expect(f.cpus.length).toBe(2);
    expect(f.cpus[0].hwid).toBe(1);
    expect(f.cpus[1].hwid).toBe(0x100);
    expect(f.warnings.length).toBe(1);
    expect(f.warnings[0].includes("local APIC entry at 0x2c")).toBe(true, f.warnings[0]);
  });

  it("gives the list to a BootInfo without CPUs, and keeps a loader's list", () => {
    let bi = new BootInfo();
    bi.rsdp = pcTree(0).rsdp.addr;
    acpiApply(bi);
    expect(bi.cpus.length).toBe(<i32>PC_CPUS);
    expect(bi.cpus[3].hwid).toBe(0x100);

    let limine = new BootInfo();
    limine.rsdp = pcTree(0).rsdp.addr;
    limine.cpuCount = 1;
    limine.cpus = [new CpuEntry(0, CPU_START_LIMINE, 0x1000)];
    acpiApply(limine);
    expect(limine.cpuCount).toBe(1);
    expect(limine.cpus.length).toBe(1);
    expect(limine.cpus[0].method).toBe(CPU_START_LIMINE);
  });
});

describe("acpi: _S5_ encodings in the DSDT", () => {
  it("reads a BytePrefix value", () => {
    expect(slpTyp(s5Package(5))).toBe(5);
  });

  it("reads ZeroOp, OneOp and OnesOp values", () => {
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00])).toBe(0);
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00])).toBe(1);
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0xff, 0xff, 0x00, 0x00])).toBe(7);
  });

  it("reads WordPrefix and DWordPrefix values, masked to 3 bits", () => {
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x07, 0x02, 0x0b, 0x06, 0x01, 0x00])).toBe(6);
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x01, 0x0c, 0x0b, 0, 0, 0])).toBe(3);
  });

  it("accepts a root-prefixed name and a multi-byte PkgLength", () => {
    expect(slpTyp([0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x0a, 0x02, 0, 0])).toBe(2);
    // PkgLength lead 0x40: one more length byte follows.
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x40, 0x01, 0x04, 0x0a, 0x03, 0, 0])).toBe(3);
  });

  it("skips a decoy _S5_ that is not a Name and finds the real one", () => {
    // dsdt() puts a decoy "_S5_" after a NoopOp in its padding.
    let d = dsdt(s5Package(4), 32);
    expect(d.getU8(37)).toBe(0x5f);
    expect(findS5SleepType(d.addr, d.size)).toBe(4);
  });

  it("finds a name split across two scan chunks", () => {
    for (let pad: u32 = 250; pad < 262; pad++) {
      expect(slpTyp(s5Package(6), pad)).toBe(6, "padding " + pad.toString());
    }
  });

  it("reports -1 without _S5_, or when its package is not one", () => {
    expect(slpTyp([0xa3, 0xa3, 0xa3])).toBe(-1);
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x0a, 0x05])).toBe(-1); // Name(_S5_, 5)
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x02, 0x00])).toBe(-1); // empty package
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x5c])).toBe(-1); // a name, not a value
  });

  it("never reads past the table when _S5_ is its last bytes", () => {
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f])).toBe(-1);
    expect(slpTyp([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x0a])).toBe(-1);
  });
});

describe("acpi: damaged tables", () => {
  it("rejects a missing RSDP, a wrong signature and a bad checksum", () => {
    expect(acpiRead(0, 0).error).toBe(E_ACPI_NO_RSDP);
    let t = pcTree(0);
    t.rsdp.u8(0, 0x58); // 'X'
    expect(acpiRead(t.rsdp.addr, 0).error).toBe(E_ACPI_BAD_RSDP);
    let u = pcTree(0);
    u.rsdp.u8(9, 0x41); // OEM id changed, checksum now wrong
    let f = acpiRead(u.rsdp.addr, 0);
    expect(f.error).toBe(E_ACPI_BAD_CHECKSUM);
    expect(f.ok).toBe(false);
    expect(f.cpuCount).toBe(0);
    expect(f.powerMethod).toBe(POWER_NONE);
  });

  it("rejects a bad extended checksum", () => {
    let t = pcTree(0);
    t.rsdp.u8(33, 0x55); // reserved byte after the extended checksum
    expect(acpiRead(t.rsdp.addr, 0).error).toBe(E_ACPI_BAD_CHECKSUM);
  });

  it("rejects an unusable XSDT", () => {
    let t = pcTree(0);
    t.xsdt.u8(20, 0x11); // OEM table id changed, checksum now wrong
    expect(acpiRead(t.rsdp.addr, 0).error).toBe(E_ACPI_BAD_ROOT);
    let v = rsdpV2(0, 0);
    expect(acpiRead(v.addr, 0).error).toBe(E_ACPI_BAD_ROOT);
  });

  it("skips a MADT with a bad checksum, with a warning, and keeps the rest", () => {
    let t = pcTree(0);
    t.madt.u8(44 + 4, 0); // first CPU's flags changed, checksum now wrong
    let f = acpiRead(t.rsdp.addr, 0);
    expect(f.ok).toBe(true);
    expect(f.madtFound).toBe(false);
    expect(f.cpuCount).toBe(0);
    expect(f.warnings.length).toBe(1);
    expect(f.powerMethod).toBe(POWER_ACPI_PORT);
  });

  it("skips a DSDT with a bad checksum: no power-off method", () => {
    let t = pcTree(0);
    t.dsdt.u8(40, 0x99);
    let f = acpiRead(t.rsdp.addr, 0);
    expect(f.slpTypA).toBe(-1);
    expect(f.powerMethod).toBe(POWER_NONE);
    expect(f.cpuCount).toBe(PC_CPUS);
  });

  it("rejects a table whose length is absurd", () => {
    let t = pcTree(0);
    t.fadt.u32(4, 0x7fffffff);
    let f = acpiRead(t.rsdp.addr, 0);
    expect(f.fadtFound).toBe(false);
    expect(f.powerMethod).toBe(POWER_NONE);
    expect(f.warnings.length).toBe(1);
  });

  it("stops at a malformed MADT entry and counts those before it", () => {
    let m = madt([1, 1, 1], []);
    m.u8(44 + 8 + 1, 0).seal(9, m.size); // second entry claims length 0
    let root = xsdt([m], 0);
    let f = acpiRead(rsdpV2(root.addr, 0).addr, 0);
    expect(f.cpuCount).toBe(1);
    expect(f.warnings.length).toBe(1);
  });

  it("ignores tables it does not know and null root entries", () => {
    let other = sdt("HPET", 56).seal(9, 56);
    let m = madt([1, 1], []);
    let root = xsdt([other, m], 0);
    root.u64(36, 0).seal(9, root.size); // first entry now null
    let f = acpiRead(rsdpV2(root.addr, 0).addr, 0);
    expect(f.cpuCount).toBe(2);
  });
});

describe("acpiApply", () => {
  it("fills the CPU count and power method of a BootInfo without them", () => {
    let bi = new BootInfo();
    bi.rsdp = pcTree(0).rsdp.addr;
    acpiApply(bi);
    expect(bi.cpuCount).toBe(PC_CPUS);
    expect(bi.powerMethod).toBe(POWER_ACPI_PORT);
    expect(bi.powerArg0).toBe(0x604);
    expect(bi.powerArg1).toBe((5 << 10) | SLP_EN);
  });

  it("keeps a CPU count the loader already gave", () => {
    let bi = new BootInfo();
    bi.rsdp = pcTree(0).rsdp.addr;
    bi.cpuCount = 16;
    acpiApply(bi);
    expect(bi.cpuCount).toBe(16);
  });

  it("records a broken RSDP as a warning and changes nothing else", () => {
    let bi = new BootInfo();
    let t = pcTree(0);
    t.rsdp.u8(8, t.rsdp.getU8(8) ^ 1);
    bi.rsdp = t.rsdp.addr;
    let f = acpiApply(bi);
    expect(f.error).toBe(E_ACPI_BAD_CHECKSUM);
    expect(bi.cpuCount).toBe(0);
    expect(bi.powerMethod).toBe(POWER_NONE);
    expect(bi.warnings.length).toBe(1);
  });
});
