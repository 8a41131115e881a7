// Builders for the foreign structures the boot adapters read: Multiboot2
// information, Limine requests and responses, ACPI tables, the handoff.
//
// They are laid out byte for byte as the real ones, in linear memory; the
// mocked arch.peek (as-pect.config.js) reads linear memory, so a structure's
// linear address stands in for its kernel-virtual address. Not a spec file:
// specs import it.

// ---------------------------------------------------------------------------
// A zeroed, 16-byte aligned buffer with little-endian writers.

export class Buf {
  base: usize;
  size: u32;

  constructor(size: u32) {
    this.size = size;
    this.base = heap.alloc(<usize>size);
    memory.fill(this.base, 0, <usize>size);
  }

  get addr(): u64 { return <u64>this.base; }

  u8(offset: u32, value: u32): Buf { this.check(offset, 1); store<u8>(this.base + offset, <u8>value); return this; }
  u16(offset: u32, value: u32): Buf { this.check(offset, 2); store<u16>(this.base + offset, <u16>value); return this; }
  u32(offset: u32, value: u32): Buf { this.check(offset, 4); store<u32>(this.base + offset, value); return this; }
  u64(offset: u32, value: u64): Buf { this.check(offset, 8); store<u64>(this.base + offset, value); return this; }

  // ASCII text at `offset`, with a NUL after it when `terminate`.
  text(offset: u32, s: string, terminate: bool = true): Buf {
    this.check(offset, <u32>s.length + (terminate ? 1 : 0));
    for (let i = 0; i < s.length; i++) store<u8>(this.base + offset + <usize>i, <u8>s.charCodeAt(i));
    if (terminate) store<u8>(this.base + offset + <usize>s.length, 0);
    return this;
  }

  bytes(offset: u32, values: u8[]): Buf {
    this.check(offset, <u32>values.length);
    for (let i = 0; i < values.length; i++) store<u8>(this.base + offset + <usize>i, values[i]);
    return this;
  }

  getU8(offset: u32): u8 { return load<u8>(this.base + offset); }

  // Sets byte `at` so that bytes [0, length) sum to 0 mod 256 (ACPI).
  seal(at: u32, length: u32): Buf {
    store<u8>(this.base + at, 0);
    let sum: u32 = 0;
    for (let i: u32 = 0; i < length; i++) sum += load<u8>(this.base + i);
    store<u8>(this.base + at, <u8>(0x100 - (sum & 0xff)));
    return this;
  }

  private check(offset: u32, len: u32): void {
    assert(offset + len <= this.size, "fixture write out of bounds");
  }
}

// A NUL-terminated string in its own buffer; returns its address.
export function cString(s: string): u64 {
  return new Buf(<u32>s.length + 1).text(0, s).addr;
}

// ---------------------------------------------------------------------------
// The trampoline handoff.

export const HANDOFF_MAGIC_VALUE: u32 = 0x484D4143;

export function buildHandoff(arch: u32, hhdm: u64, kernelStart: u64, kernelEnd: u64,
                             bootMagic: u64, entryCycles: u64 = 0): Buf {
  return new Buf(48)
    .u32(0, HANDOFF_MAGIC_VALUE).u32(4, arch).u64(8, hhdm)
    .u64(16, kernelStart).u64(24, kernelEnd).u64(32, bootMagic).u64(40, entryCycles);
}

// ---------------------------------------------------------------------------
// Multiboot2 boot information.

export const MB2_MAGIC: u64 = 0x36d76289;

export class Mb2Builder {
  buf: Buf;
  at: u32 = 8;

  constructor(capacity: u32 = 8192) { this.buf = new Buf(capacity); }

  get addr(): u64 { return this.buf.addr; }

  // Starts a tag of `size` bytes (header included); returns its offset.
  tag(type: u32, size: u32): u32 {
    let offset = this.at;
    this.buf.u32(offset, type).u32(offset + 4, size);
    this.at = offset + ((size + 7) & ~7);
    return offset;
  }

  stringTag(type: u32, s: string): u32 {
    let offset = this.tag(type, 8 + <u32>s.length + 1);
    this.buf.text(offset + 8, s);
    return offset;
  }

  module(start: u32, end: u32, s: string): u32 {
    let offset = this.tag(3, 16 + <u32>s.length + 1);
    this.buf.u32(offset + 8, start).u32(offset + 12, end).text(offset + 16, s);
    return offset;
  }

  // entries: [base, length, type] triples.
  mmap(entries: u64[], entrySize: u32 = 24): u32 {
    let count = <u32>entries.length / 3;
    let offset = this.tag(6, 16 + count * entrySize);
    this.buf.u32(offset + 8, entrySize).u32(offset + 12, 0);
    for (let i: u32 = 0; i < count; i++) {
      let e = offset + 16 + i * entrySize;
      this.buf.u64(e, entries[i * 3]).u64(e + 8, entries[i * 3 + 1]).u32(e + 16, <u32>entries[i * 3 + 2]);
    }
    return offset;
  }

  basicMeminfo(lowerKiB: u32, upperKiB: u32): u32 {
    let offset = this.tag(4, 16);
    this.buf.u32(offset + 8, lowerKiB).u32(offset + 12, upperKiB);
    return offset;
  }

  framebuffer(addr: u64, pitch: u32, width: u32, height: u32, bpp: u32, type: u32): u32 {
    let offset = this.tag(8, 32);
    this.buf.u64(offset + 8, addr).u32(offset + 16, pitch).u32(offset + 20, width)
      .u32(offset + 24, height).u8(offset + 28, bpp).u8(offset + 29, type);
    return offset;
  }

  // Tag 14 (v1, 20 bytes) or 15 (v2, 36 bytes) holding a copy of `rsdp`.
  acpi(type: u32, rsdp: Buf): u32 {
    let len: u32 = type == 15 ? 36 : 20;
    let offset = this.tag(type, 8 + len);
    memory.copy(this.buf.base + offset + 8, rsdp.base, len);
    return offset;
  }

  // Writes the end tag and total_size; returns the structure's address.
  finish(): u64 {
    this.tag(0, 8);
    this.buf.u32(0, this.at);
    return this.addr;
  }
}

// ---------------------------------------------------------------------------
// Limine: the trampoline's request table, requests and responses.

export const LIMINE_MAGIC_0: u64 = 0xc7b1dd30df4c8b88;
export const LIMINE_MAGIC_1: u64 = 0x0a82e883a194f07b;

// id[2], id[3] per table slot, straight from Limine's PROTOCOL.md.
export const LIMINE_IDS: u64[] = [
  0xf55038d8e2a1202f, 0x279426fcf5f59740, // 0 bootloader info
  0x67cf3d9d378a806f, 0xe304acdfc50c3c62, // 1 memmap
  0x48dcf1cb8ad2b852, 0x63984e959a98244b, // 2 hhdm
  0x3e7e279702be32af, 0xca1c4f3bd1280cee, // 3 module
  0xc5e77b6b397e7b43, 0x27637845accdcf3c, // 4 rsdp
  0x9d5827dcd881dd75, 0xa3148604f6fab11b, // 5 framebuffer
  0xad97e90e83f1ed67, 0x31eb5d1c5ff23b69, // 6 executable file
  0x71ba76863cc55f63, 0xb2644a48c516a487, // 7 executable address
  0x95a67b819a1b857e, 0xa0b61b723b6a73e0, // 8 smp
  0xb40ddb48fb54bac7, 0x545081493f81ffb7, // 9 dtb
  0x95c1a0edab0944cb, 0xa4e5cb3842f7488a, // 10 paging mode
];

export class LimineBuilder {
  table: Buf = new Buf(11 * 8);
  requests: Buf[] = [];

  constructor() {
    for (let slot = 0; slot < 11; slot++) this.requests.push(new Buf(64));
  }

  get addr(): u64 { return this.table.addr; }

  // Puts the request for `idSlot`'s feature into table slot `slot` (they
  // differ only when a test builds a table in the wrong order).
  request(slot: i32, idSlot: i32 = -1): LimineBuilder {
    let id = idSlot < 0 ? slot : idSlot;
    let r = this.requests[slot];
    r.u64(0, LIMINE_MAGIC_0).u64(8, LIMINE_MAGIC_1)
      .u64(16, LIMINE_IDS[id * 2]).u64(24, LIMINE_IDS[id * 2 + 1]).u64(32, 0);
    this.table.u64(<u32>slot * 8, r.addr);
    return this;
  }

  respond(slot: i32, response: Buf): LimineBuilder {
    this.request(slot);
    this.requests[slot].u64(40, response.addr);
    return this;
  }

  hhdm(offset: u64): LimineBuilder {
    return this.respond(2, new Buf(16).u64(8, offset));
  }

  // entries: [base, length, type] triples.
  memmap(entries: u64[]): LimineBuilder {
    let count = entries.length / 3;
    let array = new Buf(<u32>max(count, 1) * 8);
    for (let i = 0; i < count; i++) {
      let e = new Buf(24).u64(0, entries[i * 3]).u64(8, entries[i * 3 + 1]).u64(16, entries[i * 3 + 2]);
      array.u64(<u32>i * 8, e.addr);
    }
    return this.respond(1, new Buf(24).u64(8, <u64>count).u64(16, array.addr));
  }

  bootloader(name: string, version: string): LimineBuilder {
    return this.respond(0, new Buf(24).u64(8, cString(name)).u64(16, cString(version)));
  }
}

// struct limine_file with the fields the adapter reads.
export function limineFile(address: u64, size: u64, path: string, cmdline: string): Buf {
  return new Buf(128).u64(0, 0).u64(8, address).u64(16, size)
    .u64(24, cString(path)).u64(32, cString(cmdline));
}

// An array of pointers to the given buffers.
export function pointerArray(items: Buf[]): Buf {
  let array = new Buf(<u32>max(items.length, 1) * 8);
  for (let i = 0; i < items.length; i++) array.u64(<u32>i * 8, items[i].addr);
  return array;
}

// ---------------------------------------------------------------------------
// ACPI: RSDP, XSDT/RSDT, MADT, FADT, DSDT with correct checksums.
// Table addresses written into other tables are "physical": linear - hhdm.

export function sdt(signature: string, length: u32, revision: u32 = 1): Buf {
  return new Buf(length).text(0, signature, false).u32(4, length).u8(8, revision)
    .text(10, "CAMOS ", false).text(16, "CAMTABLE", false);
}

export function rsdpV2(xsdtPhys: u64, rsdtPhys: u32): Buf {
  let b = new Buf(36).text(0, "RSD PTR ", false).text(9, "CAMOS ", false)
    .u8(15, 2).u32(16, rsdtPhys).u32(20, 36).u64(24, xsdtPhys);
  b.seal(8, 20);
  return b.seal(32, 36);
}

export function rsdpV1(rsdtPhys: u32): Buf {
  let b = new Buf(20).text(0, "RSD PTR ", false).text(9, "CAMOS ", false)
    .u8(15, 0).u32(16, rsdtPhys);
  return b.seal(8, 20);
}

export function xsdt(tables: Buf[], hhdm: u64): Buf {
  let b = sdt("XSDT", 36 + <u32>tables.length * 8);
  for (let i = 0; i < tables.length; i++) b.u64(36 + <u32>i * 8, tables[i].addr - hhdm);
  return b.seal(9, b.size);
}

export function rsdt(tables: Buf[], hhdm: u64): Buf {
  let b = sdt("RSDT", 36 + <u32>tables.length * 4);
  for (let i = 0; i < tables.length; i++) b.u32(36 + <u32>i * 4, <u32>(tables[i].addr - hhdm));
  return b.seal(9, b.size);
}

// MADT with `localApicFlags` type-0 entries, `x2apicFlags` type-9 entries,
// and one I/O APIC entry (never a CPU).
export function madt(localApicFlags: u32[], x2apicFlags: u32[]): Buf {
  let length = 44 + <u32>localApicFlags.length * 8 + <u32>x2apicFlags.length * 16 + 12;
  let b = sdt("APIC", length).u32(36, 0xfee00000).u32(40, 1);
  let at: u32 = 44;
  for (let i = 0; i < localApicFlags.length; i++) {
    b.u8(at, 0).u8(at + 1, 8).u8(at + 2, i).u8(at + 3, i).u32(at + 4, localApicFlags[i]);
    at += 8;
  }
  for (let i = 0; i < x2apicFlags.length; i++) {
    b.u8(at, 9).u8(at + 1, 16).u32(at + 4, 0x100 + i).u32(at + 8, x2apicFlags[i]).u32(at + 12, 0x100 + i);
    at += 16;
  }
  b.u8(at, 1).u8(at + 1, 12).u32(at + 4, 0xfec00000); // I/O APIC
  return b.seal(9, length);
}

// FADT (ACPI 6 size) pointing at `dsdt`, with the given PM1a control port.
// xPm1aPort != 0 also fills X_PM1a_CNT_BLK as a system I/O address.
export function fadt(dsdt: Buf | null, hhdm: u64, pm1aPort: u32, xPm1aPort: u64 = 0): Buf {
  let b = sdt("FACP", 276, 6);
  if (dsdt !== null) {
    b.u32(40, <u32>(dsdt.addr - hhdm)).u64(140, dsdt.addr - hhdm);
  }
  b.u32(64, pm1aPort);
  if (xPm1aPort != 0) b.u8(172, 1).u8(173, 16).u8(175, 2).u64(176, xPm1aPort);
  return b.seal(9, 276);
}

// DSDT whose AML is `padding` bytes of noise (NoopOp 0xA3, with a decoy
// "_S5_" that is not a name), then `aml`.
export function dsdt(aml: u8[], padding: u32 = 16): Buf {
  let length = 36 + padding + <u32>aml.length;
  let b = sdt("DSDT", length, 2);
  for (let i: u32 = 0; i < padding; i++) b.u8(36 + i, 0xa3);
  if (padding >= 8) b.text(36 + 1, "_S5_", false); // preceded by NoopOp: a decoy
  b.bytes(36 + padding, aml);
  return b.seal(9, length);
}

// AML for Name(_S5_, Package(4){ 0x05, 0x05, 0, 0 }) with a BytePrefix value.
export function s5Package(slpTyp: u8): u8[] {
  return [0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, slpTyp, 0x0a, slpTyp, 0x00, 0x00];
}

// A whole ACPI tree: RSDP v2 -> XSDT -> {MADT, FADT -> DSDT}.
export class AcpiTree {
  rsdp: Buf;
  xsdt: Buf;
  madt: Buf;
  fadt: Buf;
  dsdt: Buf;

  constructor(hhdm: u64, cpus: u32[], x2cpus: u32[], pm1aPort: u32, aml: u8[]) {
    let m = madt(cpus, x2cpus);
    let d = dsdt(aml);
    let f = fadt(d, hhdm, pm1aPort);
    let x = xsdt([m, f], hhdm);
    this.madt = m;
    this.dsdt = d;
    this.fadt = f;
    this.xsdt = x;
    this.rsdp = rsdpV2(x.addr - hhdm, 0);
  }
}
