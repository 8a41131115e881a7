import { parseMultiboot2, MB2_MAX_TOTAL_SIZE } from "../../boot/multiboot2";
import {
  BootInfo, BootResult, MemoryKind,
  E_BOOT_BAD_MAGIC, E_BOOT_BAD_POINTER, E_BOOT_BAD_SIZE, E_BOOT_BAD_TAG,
  E_BOOT_BAD_MMAP, E_BOOT_TOO_MANY, E_BOOT_MISSING, BOOT_OK,
} from "../../boot/bootinfo";
import { Mb2Builder, MB2_MAGIC, rsdpV1, rsdpV2 } from "./fixtures";

const HHDM: u64 = 0; // linear addresses stand for kernel-virtual ones

// The memory map of a small PC, deliberately out of order:
// [base, length, multiboot2 type]
function pcMap(): u64[] {
  return [
    0x100000, 0x7ee0000, 1,       // RAM above 1 MiB
    0x0, 0x9fc00, 1,              // low RAM
    0x9fc00, 0x400, 2,            // EBDA
    0xf0000, 0x10000, 2,          // BIOS
    0x7fe0000, 0x10000, 3,        // ACPI reclaimable
    0x7ff0000, 0x8000, 4,         // ACPI NVS
    0x7ff8000, 0x8000, 5,         // bad RAM
    0xfffc0000, 0x40000, 2,       // firmware flash
    0x100000000, 0x0, 1,          // empty entry: dropped
  ];
}

function ok(result: BootResult): BootInfo {
  expect(result.error).toBe(BOOT_OK, result.message);
  return result.info!;
}

// A structure with every tag the adapter reads, built once.
let completeInfo: u64 = 0;
let completeSize: u32 = 0;
let oldAcpiTag: u32 = 0;
let newAcpiTag: u32 = 0;
let completeParsed: BootInfo | null = null;

function complete(): BootInfo {
  if (completeParsed !== null) return completeParsed!;
  let mb = new Mb2Builder();
  mb.stringTag(1, "console=ttyS0 quiet");
  mb.stringTag(2, "GRUB 2.12");
  mb.module(0x200000, 0x203000, "/boot/init.elf init");
  mb.module(0x204000, 0x204800, "");
  mb.tag(21, 12); // load base address: not ours, skipped
  mb.mmap(pcMap());
  mb.framebuffer(0xfd000000, 4096, 1024, 768, 32, 1);
  oldAcpiTag = mb.acpi(14, rsdpV1(0xe0000));
  newAcpiTag = mb.acpi(15, rsdpV2(0xe1000, 0xe0000));
  completeInfo = mb.finish();
  completeSize = mb.at;
  completeParsed = ok(parseMultiboot2(completeInfo, MB2_MAGIC, HHDM));
  return completeParsed!;
}

describe("multiboot2: a complete structure", () => {
  it("names the protocol, the loader and the command line", () => {
    let bi = complete();
    expect(bi.protocol).toBe("multiboot2");
    expect(bi.loader).toBe("GRUB 2.12");
    expect(bi.cmdline).toBe("console=ttyS0 quiet");
  });

  it("reads the modules with physical bounds and strings", () => {
    let bi = complete();
    expect(bi.modules.length).toBe(2);
    expect(bi.modules[0].base).toBe(0x200000);
    expect(bi.modules[0].size).toBe(0x3000);
    expect(bi.modules[0].cmdline).toBe("/boot/init.elf init");
    expect(bi.modules[1].size).toBe(0x800);
    expect(bi.modules[1].cmdline).toBe("");
  });

  it("sorts the memory map, maps the types and drops empty entries", () => {
    let bi = complete();
    expect(bi.memory.length).toBe(8);
    for (let i = 1; i < bi.memory.length; i++) {
      expect(bi.memory[i].base).toBeGreaterThan(bi.memory[i - 1].base);
    }
    expect(bi.memory[0].base).toBe(0);
    expect(bi.memory[0].kind).toBe(MemoryKind.Usable);
    expect(bi.memory[1].kind).toBe(MemoryKind.Reserved);
    expect(bi.memory[3].base).toBe(0x100000);
    expect(bi.memory[3].kind).toBe(MemoryKind.Usable);
    expect(bi.memory[4].kind).toBe(MemoryKind.AcpiReclaimable);
    expect(bi.memory[5].kind).toBe(MemoryKind.AcpiNvs);
    expect(bi.memory[6].kind).toBe(MemoryKind.BadMemory);
    expect(bi.memory[7].kind).toBe(MemoryKind.Reserved);
    expect(bi.usableBytes()).toBe(0x9fc00 + 0x7ee0000);
  });

  it("reads the framebuffer", () => {
    let bi = complete();
    let fb = bi.framebuffer!;
    expect(fb.address).toBe(0xfd000000);
    expect(fb.pitch).toBe(4096);
    expect(fb.width).toBe(1024);
    expect(fb.height).toBe(768);
    expect(fb.bpp).toBe(32);
  });

  it("points rsdp at the copy in the new ACPI tag, not the old one", () => {
    let bi = complete();
    expect(bi.rsdp).toBe(completeInfo + newAcpiTag + 8);
    expect(bi.rsdp).not.toBe(completeInfo + oldAcpiTag + 8);
  });

  it("reports the structure's own range so it stays reserved", () => {
    let bi = complete();
    expect(bi.bootDataBase).toBe(completeInfo - HHDM);
    expect(bi.bootDataSize).toBe(<u64>completeSize);
    let reserved = bi.reservedRanges();
    expect(reserved.length).toBe(3); // two modules and the structure
    expect(reserved[2].base).toBe(completeInfo);
  });
});

describe("multiboot2: optional and fallback tags", () => {
  it("uses the old ACPI tag when there is no new one", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    let tag = mb.acpi(14, rsdpV1(0xe0000));
    let info = mb.finish();
    expect(ok(parseMultiboot2(info, MB2_MAGIC, HHDM)).rsdp).toBe(info + tag + 8);
  });

  it("keeps the new ACPI tag even when the old one comes after it", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    let newTag = mb.acpi(15, rsdpV2(0xe1000, 0xe0000));
    mb.acpi(14, rsdpV1(0xe0000));
    let info = mb.finish();
    expect(ok(parseMultiboot2(info, MB2_MAGIC, HHDM)).rsdp).toBe(info + newTag + 8);
  });

  it("falls back to basic meminfo without a memory map", () => {
    let mb = new Mb2Builder();
    mb.basicMeminfo(639, 130048);
    let bi = ok(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM));
    expect(bi.memory.length).toBe(2);
    expect(bi.memory[0].base).toBe(0);
    expect(bi.memory[0].length).toBe(639 * 1024);
    expect(bi.memory[1].base).toBe(0x100000);
    expect(bi.memory[1].length).toBe(<u64>130048 * 1024);
    expect(bi.memory[1].kind).toBe(MemoryKind.Usable);
  });

  it("prefers the memory map over basic meminfo", () => {
    let mb = new Mb2Builder();
    mb.basicMeminfo(639, 130048);
    mb.mmap(pcMap());
    expect(ok(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM)).memory.length).toBe(8);
  });

  it("leaves out an EGA text 'framebuffer' and defaults the rest", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    mb.framebuffer(0xb8000, 160, 80, 25, 16, 2);
    let bi = ok(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM));
    expect(bi.framebuffer).toBeNull();
    expect(bi.rsdp).toBe(0);
    expect(bi.modules.length).toBe(0);
    expect(bi.cmdline).toBe("");
  });

  it("reads a string only as far as its tag goes", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    let tag = mb.tag(1, 8 + 5);
    mb.buf.text(tag + 8, "helloXYZ", false); // no NUL inside the tag
    let bi = ok(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM));
    expect(bi.cmdline).toBe("hello");
  });

  it("accepts memory map entries larger than 24 bytes", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap(), 32);
    let bi = ok(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM));
    expect(bi.memory.length).toBe(8);
    expect(bi.memory[3].length).toBe(0x7ee0000);
  });
});

// A minimal valid structure (just a memory map) to break in one place.
function simple(): Mb2Builder {
  let mb = new Mb2Builder();
  mb.mmap(pcMap());
  return mb;
}

describe("multiboot2: malformed structures are named errors", () => {
  it("rejects a wrong boot magic", () => {
    let r = parseMultiboot2(simple().finish(), 0x2badb002, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_MAGIC);
    expect(r.info).toBeNull();
    expect(r.message.includes("magic")).toBe(true, r.message);
  });

  it("rejects a null or misaligned pointer", () => {
    expect(parseMultiboot2(0, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_POINTER);
    expect(parseMultiboot2(simple().finish() + 4, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_POINTER);
  });

  it("rejects a total size too small, misaligned or absurd", () => {
    let mb = simple();
    let info = mb.finish();
    mb.buf.u32(0, 8);
    expect(parseMultiboot2(info, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_SIZE);
    mb.buf.u32(0, mb.at - 4);
    expect(parseMultiboot2(info, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_SIZE);
    mb.buf.u32(0, MB2_MAX_TOTAL_SIZE + 8);
    expect(parseMultiboot2(info, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_SIZE);
  });

  it("rejects a tag that runs past the end", () => {
    let mb = new Mb2Builder();
    mb.mmap(pcMap());
    let tag = mb.stringTag(1, "abc");
    let info = mb.finish();
    mb.buf.u32(tag + 4, 0x1000);
    let r = parseMultiboot2(info, MB2_MAGIC, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_TAG);
    expect(r.message.includes("runs past the end")).toBe(true, r.message);
  });

  it("rejects a structure truncated before its end tag", () => {
    let mb = simple();
    mb.stringTag(1, "abc");
    let info = mb.finish();
    mb.buf.u32(0, mb.at - 8); // total_size stops short of the end tag
    let r = parseMultiboot2(info, MB2_MAGIC, HHDM);
    expect(r.error).toBe(E_BOOT_BAD_TAG);
    expect(r.message.includes("no end tag")).toBe(true, r.message);
  });

  it("rejects a tag smaller than its header and a wrong-size end tag", () => {
    let mb = simple();
    let tag = mb.stringTag(1, "abc");
    let info = mb.finish();
    mb.buf.u32(tag + 4, 4);
    expect(parseMultiboot2(info, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_TAG);

    let mb2 = simple();
    let info2 = mb2.finish();
    mb2.buf.u32(mb2.at - 4, 16);
    mb2.buf.u32(0, mb2.at + 8);
    expect(parseMultiboot2(info2, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_TAG);
  });

  it("rejects memory map entries smaller than 24 bytes or not 8-aligned", () => {
    let mb = new Mb2Builder();
    mb.mmap([0x100000, 0x100000, 1], 16);
    expect(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_MMAP);
    let mb2 = new Mb2Builder();
    mb2.mmap([0x100000, 0x100000, 1], 28);
    expect(parseMultiboot2(mb2.finish(), MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_MMAP);
  });

  it("rejects a memory map that is not a whole number of entries", () => {
    let mb = new Mb2Builder();
    let tag = mb.mmap([0x100000, 0x100000, 1, 0x300000, 0x100000, 1]);
    let info = mb.finish();
    mb.buf.u32(tag + 4, 16 + 24 + 8);
    expect(parseMultiboot2(info, MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_MMAP);
  });

  it("rejects a memory map entry that wraps around", () => {
    let mb = new Mb2Builder();
    mb.mmap([0xfffffffffffff000, 0x2000, 1]);
    expect(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_MMAP);
  });

  it("rejects more memory map entries than the maximum", () => {
    let entries: u64[] = [];
    for (let i: u64 = 0; i < 1025; i++) { entries.push(i << 20); entries.push(0x1000); entries.push(1); }
    let mb = new Mb2Builder(16 + 16 + 1025 * 24 + 16);
    mb.mmap(entries);
    let r = parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM);
    expect(r.error).toBe(E_BOOT_TOO_MANY);
  });

  it("rejects a module that ends before it starts", () => {
    let mb = simple();
    mb.module(0x300000, 0x200000, "backwards");
    expect(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_TAG);
  });

  it("rejects ACPI tags too short to hold an RSDP", () => {
    let mb = simple();
    mb.tag(15, 8 + 20); // a v1-sized copy in a v2 tag
    expect(parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM).error).toBe(E_BOOT_BAD_TAG);
  });

  it("rejects a structure with no memory information at all", () => {
    let mb = new Mb2Builder();
    mb.stringTag(1, "nothing else");
    let r = parseMultiboot2(mb.finish(), MB2_MAGIC, HHDM);
    expect(r.error).toBe(E_BOOT_MISSING);
  });
});
