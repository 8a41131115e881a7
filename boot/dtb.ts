// Flattened device tree (DTB) reader.
//
// The Linux arm64 Image path (qemu -kernel, U-Boot booti) hands the kernel a
// DTB and nothing else: parseDtb turns it into the BootInfo. On a path whose
// loader gives its own memory map but also a DTB (Limine on AArch64),
// dtbApply takes only the platform facts from it (PSCI, the CPUs).
//
// The trampoline reads a few nodes of the same DTB in C before the kernel
// runs (UART, GIC, timer, /memory for its direct map: arch/aarch64/fdt.c);
// everything the kernel needs to decide on is read here.
//
// Layout (everything big-endian):
//
//   +0  magic 0xd00dfeed      +4  totalsize          +8  off_dt_struct
//   +12 off_dt_strings        +16 off_mem_rsvmap     +20 version
//   +24 last_comp_version     +28 boot_cpuid_phys    +32 size_dt_strings
//   +36 size_dt_struct (version >= 17)                  40 bytes in all
//
//   memory reservation block: { u64 address, u64 size } ... { 0, 0 }
//   structure block: u32 tokens, 4-byte aligned
//     1 BEGIN_NODE  name\0, padded to 4      2 END_NODE
//     3 PROP        u32 len, u32 nameoff (into the strings block),
//                   value[len], padded to 4
//     4 NOP                                  9 END
//   strings block: NUL-terminated property names
//
// What becomes what:
//   /memory (device_type "memory") reg      -> Usable regions
//   memory reservation block, /reserved-memory/* reg -> Reserved regions
//   the DTB itself                          -> bootData (kept reserved)
//   /chosen bootargs                        -> cmdline
//   /chosen linux,initrd-start/-end         -> module "initrd"
//   /cpus/* (device_type "cpu", not disabled) -> cpus (hwid = reg, the MPIDR
//        affinity, 1 or 2 cells), cpuCount; enable-method "psci" starts
//        through /psci's conduit (CPU_START_PSCI_HVC/SMC), anything else
//        (spin-table) is method 0 and a warning
//   /psci compatible >= 0.2, method hvc|smc -> POWER_PSCI, arg0 0 hvc / 1 smc
//
// Bad input never traps: the header is checked before anything else is read,
// the structure and strings blocks are copied into linear memory once and
// every offset into them is checked, depth and node counts are capped, and
// strings must end inside their block. Limits: reg cells of at most 2 (64-bit
// addresses and sizes); /reserved-memory children without reg (allocated by
// the OS on demand) reserve nothing.

import {
  BootInfo, BootResult, BootModule, CpuEntry, MemoryRegion, MemoryKind, bootOk, bootFail, sortRegions, hex,
  E_BOOT_BAD_POINTER, E_BOOT_BAD_MAGIC, E_BOOT_BAD_SIZE, E_BOOT_BAD_TAG, E_BOOT_BAD_MMAP,
  E_BOOT_TOO_MANY, E_BOOT_MISSING, E_BOOT_UNSUPPORTED, BOOT_OK,
  MAX_MEMORY_REGIONS, MAX_CPUS, MAX_STRING_BYTES, POWER_PSCI,
} from "./bootinfo";
import { readBytes } from "./reader";
import { CPU_START_PSCI_HVC, CPU_START_PSCI_SMC } from "../kernel/arch";

export const FDT_MAGIC: u32 = 0xd00dfeed;
export const FDT_HEADER_BYTES: u32 = 40;
// QEMU's blobs are 1 MiB (mostly padding); real ones are tens of KiB.
export const FDT_MAX_BYTES: u32 = 16 << 20;
export const FDT_MAX_DEPTH: i32 = 32;
export const FDT_MAX_NODES: i32 = 16384;

// Conduit for PSCI calls, BootInfo.powerArg0 under POWER_PSCI.
export const PSCI_CONDUIT_HVC: u64 = 0;
export const PSCI_CONDUIT_SMC: u64 = 1;

const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROP: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;

const H_MAGIC: u32 = 0;
const H_TOTALSIZE: u32 = 4;
const H_OFF_STRUCT: u32 = 8;
const H_OFF_STRINGS: u32 = 12;
const H_OFF_RSVMAP: u32 = 16;
const H_VERSION: u32 = 20;
const H_LAST_COMP_VERSION: u32 = 24;
const H_SIZE_STRINGS: u32 = 32;
const H_SIZE_STRUCT: u32 = 36;

const FIRST_VERSION: u32 = 16;      // v16: full node names, no unit paths
const SIZE_STRUCT_VERSION: u32 = 17;
const RESERVATION_BYTES: u32 = 16;

const DEFAULT_ADDRESS_CELLS: u32 = 2;
const DEFAULT_SIZE_CELLS: u32 = 1;

// Static scratch for the header and one reservation entry (boot is single-threaded).
const header: usize = memory.data(FDT_HEADER_BYTES);
const reservation: usize = memory.data(RESERVATION_BYTES);

@inline function be32(ptr: usize): u32 {
  return bswap<u32>(load<u32>(ptr));
}

// ---------------------------------------------------------------------------
// The tree, as read: nodes with their properties' values left in the copied
// structure block (offset and length).

// A property as found: its name and value stay in the copied blocks (`name`
// points at the NUL-terminated name in the strings block, `offset` and
// `length` locate the value in the structure block). Made only when a lookup
// finds one: a real DTB has hundreds of properties, and an object and a
// string for each would cost more than the rest of the parse. The bytes
// belong to the Fdt that read them and live as long as it does.
export class FdtProperty {
  constructor(public name: usize, public offset: u32, public length: u32) {}

  get nameText(): string {
    let n: usize = 0;
    while (load<u8>(this.name + n) != 0) n++;
    return String.UTF8.decodeUnsafe(this.name, n);
  }
}

// The NUL-terminated bytes at `ptr` equal `expected`.
function nameIs(ptr: usize, expected: string): bool {
  let n = expected.length;
  for (let i = 0; i < n; i++) {
    if (<i32>load<u8>(ptr + <usize>i) != expected.charCodeAt(i)) return false;
  }
  return load<u8>(ptr + <usize>n) == 0;
}

// A node. Its properties come before its children in the structure block
// (the format requires it), so they are one run in the Fdt's flat table.
export class FdtNode {
  children: FdtNode[] = [];
  firstProperty: i32 = 0;
  propertyCount: i32 = 0;
  constructor(public name: string, public parent: FdtNode | null, public fdt: Fdt | null) {}

  property(name: string): FdtProperty | null {
    let fdt = this.fdt;
    if (fdt === null) return null;
    for (let i = 0; i < this.propertyCount; i++) {
      let k = (this.firstProperty + i) * 3;
      let namePtr = fdt.stringsBlock + <usize>fdt.properties[k];
      if (nameIs(namePtr, name)) return new FdtProperty(namePtr, fdt.properties[k + 1], fdt.properties[k + 2]);
    }
    return null;
  }

  child(name: string): FdtNode | null {
    for (let i = 0; i < this.children.length; i++) {
      if (this.children[i].name == name) return this.children[i];
    }
    return null;
  }

  // The node's name without its unit address ("memory@40000000" -> "memory").
  get baseName(): string {
    let at = this.name.indexOf("@");
    return at < 0 ? this.name : this.name.substring(0, at);
  }

  path(): string {
    let parent = this.parent;
    if (parent === null) return "/";
    let above = parent.path();
    return (above == "/" ? "" : above) + "/" + this.name;
  }
}

export class Fdt {
  root: FdtNode = new FdtNode("", null, null);
  // Every property, in structure-block order: (name offset in the strings
  // block, value offset in the structure block, value length) per property.
  properties: u32[] = [];
  stringsBlock: usize = 0;
  totalSize: u32 = 0;
  version: u32 = 0;
  reservations: MemoryRegion[] = [];
  // Linear copies of the structure and strings blocks. Held as references
  // so the collector keeps them; structBlock is the raw address of the first.
  structData: ArrayBuffer = new ArrayBuffer(0);
  stringsData: ArrayBuffer = new ArrayBuffer(0);
  structBlock: usize = 0;
  structSize: u32 = 0;

  // A u32 cell of a property's value.
  cell(p: FdtProperty, index: u32): u32 {
    return be32(this.structBlock + p.offset + (index << 2));
  }

  // The value as one NUL-terminated string; null when it is not one.
  string(p: FdtProperty): string | null {
    let strings = this.stringList(p);
    return strings !== null && strings.length == 1 ? strings[0] : null;
  }

  // The value as a list of NUL-terminated strings (compatible); null when
  // the last one is not terminated.
  stringList(p: FdtProperty): string[] | null {
    if (p.length == 0 || load<u8>(this.structBlock + p.offset + p.length - 1) != 0) return null;
    let out: string[] = [];
    let start: u32 = 0;
    for (let i: u32 = 0; i < p.length; i++) {
      if (load<u8>(this.structBlock + p.offset + i) != 0) continue;
      out.push(String.UTF8.decodeUnsafe(this.structBlock + p.offset + start, min<u32>(i - start, MAX_STRING_BYTES)));
      start = i + 1;
    }
    return out;
  }

  // A 1- or 2-cell number (#address-cells style, initrd-start), or -1 as "absent".
  number(p: FdtProperty): i64 {
    if (p.length == 4) return <i64>this.cell(p, 0);
    if (p.length == 8) return <i64>(((<u64>this.cell(p, 0)) << 32) | <u64>this.cell(p, 1));
    return -1;
  }

  // The node's own #address-cells / #size-cells (what its children's reg use).
  addressCells(node: FdtNode): u32 { return this.cellsOf(node, "#address-cells", DEFAULT_ADDRESS_CELLS); }
  sizeCells(node: FdtNode): u32 { return this.cellsOf(node, "#size-cells", DEFAULT_SIZE_CELLS); }

  private cellsOf(node: FdtNode, name: string, fallback: u32): u32 {
    let p = node.property(name);
    return p !== null && p.length == 4 ? this.cell(p, 0) : fallback;
  }

  // The node at an absolute path ("/chosen", "/cpus"), unit addresses included.
  find(path: string): FdtNode | null {
    if (path == "/") return this.root;
    let parts = path.split("/");
    let node: FdtNode | null = this.root;
    for (let i = 1; i < parts.length && node !== null; i++) node = node.child(parts[i]);
    return node;
  }

  // A node's status is "okay" (or absent, which means the same).
  enabled(node: FdtNode): bool {
    let p = node.property("status");
    if (p === null) return true;
    let status = this.string(p);
    return status !== null && (status == "okay" || status == "ok");
  }

  deviceTypeIs(node: FdtNode, type: string): bool {
    let p = node.property("device_type");
    if (p === null) return false;
    let value = this.string(p);
    return value !== null && value == type;
  }
}

export class FdtResult {
  constructor(public fdt: Fdt | null, public error: i32, public message: string) {}
  get ok(): bool { return this.error == BOOT_OK; }
}

function fdtFail(error: i32, message: string): FdtResult {
  return new FdtResult(null, error, "dtb: " + message);
}

// ---------------------------------------------------------------------------
// Reading the blob at kernel-virtual `addr`.

export function readFdt(addr: u64): FdtResult {
  if (addr == 0) return fdtFail(E_BOOT_BAD_POINTER, "null pointer");
  if ((addr & 7) != 0) return fdtFail(E_BOOT_BAD_POINTER, "blob at " + hex(addr) + " is not 8-byte aligned");
  readBytes(addr, header, FDT_HEADER_BYTES);
  let magic = be32(header + H_MAGIC);
  if (magic != FDT_MAGIC) return fdtFail(E_BOOT_BAD_MAGIC, "bad magic " + hex(magic) + " (expected 0xd00dfeed)");
  let total = be32(header + H_TOTALSIZE);
  if (total < FDT_HEADER_BYTES || total > FDT_MAX_BYTES) {
    return fdtFail(E_BOOT_BAD_SIZE, "absurd totalsize " + hex(total));
  }
  let version = be32(header + H_VERSION);
  let lastCompatible = be32(header + H_LAST_COMP_VERSION);
  if (version < FIRST_VERSION || lastCompatible > SIZE_STRUCT_VERSION) {
    return fdtFail(E_BOOT_UNSUPPORTED, "version " + version.toString() + " (compatible with " +
      lastCompatible.toString() + ") is not 16 or 17");
  }
  let structOff = be32(header + H_OFF_STRUCT);
  let stringsOff = be32(header + H_OFF_STRINGS);
  let rsvOff = be32(header + H_OFF_RSVMAP);
  let stringsSize = be32(header + H_SIZE_STRINGS);
  if (structOff < FDT_HEADER_BYTES || structOff > total) {
    return fdtFail(E_BOOT_BAD_SIZE, "structure block offset " + hex(structOff) + " outside totalsize " + hex(total));
  }
  let structSize = version >= SIZE_STRUCT_VERSION ? be32(header + H_SIZE_STRUCT) : total - structOff;
  if ((structOff & 3) != 0) return fdtFail(E_BOOT_BAD_SIZE, "structure block offset " + hex(structOff) + " not 4-byte aligned");
  if (<u64>structOff + structSize > <u64>total) {
    return fdtFail(E_BOOT_BAD_SIZE, "structure block (" + hex(structOff) + " + " + hex(structSize) +
      ") runs past totalsize " + hex(total));
  }
  if (stringsOff < FDT_HEADER_BYTES || <u64>stringsOff + stringsSize > <u64>total) {
    return fdtFail(E_BOOT_BAD_SIZE, "strings block (" + hex(stringsOff) + " + " + hex(stringsSize) +
      ") runs past totalsize " + hex(total));
  }
  if (rsvOff < FDT_HEADER_BYTES || rsvOff >= total || (rsvOff & 7) != 0) {
    return fdtFail(E_BOOT_BAD_SIZE, "memory reservation block offset " + hex(rsvOff) + " is bad");
  }

  let fdt = new Fdt();
  fdt.totalSize = total;
  fdt.version = version;
  let error = readReservations(fdt, addr, rsvOff, total);
  if (error !== null) return error;

  // One copy of each block; the parser reads only these from now on.
  fdt.structSize = structSize;
  fdt.structData = new ArrayBuffer(<i32>max<u32>(structSize, 4));
  fdt.structBlock = changetype<usize>(fdt.structData);
  readBytes(addr + structOff, fdt.structBlock, structSize);
  fdt.stringsData = new ArrayBuffer(<i32>max<u32>(stringsSize, 1));
  let strings = changetype<usize>(fdt.stringsData);
  fdt.stringsBlock = strings;
  fdt.root.fdt = fdt;
  readBytes(addr + stringsOff, strings, stringsSize);
  return parseStructure(fdt, strings, stringsSize);
}

function readReservations(fdt: Fdt, addr: u64, offset: u32, total: u32): FdtResult | null {
  let entry = reservation;
  for (let i = 0; i <= MAX_MEMORY_REGIONS; i++) {
    let at = offset + <u32>i * RESERVATION_BYTES;
    if (<u64>at + RESERVATION_BYTES > <u64>total) {
      return fdtFail(E_BOOT_BAD_SIZE, "memory reservation block runs past totalsize " + hex(total));
    }
    readBytes(addr + at, entry, RESERVATION_BYTES);
    let base = (<u64>be32(entry) << 32) | <u64>be32(entry + 4);
    let size = (<u64>be32(entry + 8) << 32) | <u64>be32(entry + 12);
    if (base == 0 && size == 0) return null;
    if (i >= MAX_MEMORY_REGIONS) return fdtFail(E_BOOT_TOO_MANY, "more than " + MAX_MEMORY_REGIONS.toString() + " memory reservations");
    if (base + size < base) return fdtFail(E_BOOT_BAD_MMAP, "memory reservation " + i.toString() + " wraps around");
    if (size > 0) fdt.reservations.push(new MemoryRegion(base, size, MemoryKind.Reserved));
  }
  return fdtFail(E_BOOT_TOO_MANY, "more than " + MAX_MEMORY_REGIONS.toString() + " memory reservations");
}

// Builds the node tree from the copied structure block.
function parseStructure(fdt: Fdt, strings: usize, stringsSize: u32): FdtResult {
  let block = fdt.structBlock;
  let end = fdt.structSize;
  let off: u32 = 0;
  let current: FdtNode | null = null;
  let depth = 0;
  let nodes = 0;
  let rootDone = false;
  while (true) {
    if (off + 4 > end) return fdtFail(E_BOOT_BAD_TAG, "structure block ends at " + hex(off) + " without an END token");
    let token = be32(block + off);
    let at = off;
    off += 4;
    if (token == TOKEN_BEGIN_NODE) {
      if (rootDone) return fdtFail(E_BOOT_BAD_TAG, "a second root node at " + hex(at));
      let len = terminated(block + off, end - off);
      if (len < 0) return fdtFail(E_BOOT_BAD_TAG, "node name at " + hex(off) + " is not NUL-terminated");
      if (++depth > FDT_MAX_DEPTH) return fdtFail(E_BOOT_TOO_MANY, "nodes nest deeper than " + FDT_MAX_DEPTH.toString());
      if (++nodes > FDT_MAX_NODES) return fdtFail(E_BOOT_TOO_MANY, "more than " + FDT_MAX_NODES.toString() + " nodes");
      let name = String.UTF8.decodeUnsafe(block + off, <usize>len);
      off = align4(off + <u32>len + 1);
      if (current === null) {
        fdt.root.name = name;
        current = fdt.root;
      } else {
        let node = new FdtNode(name, current, fdt);
        current.children.push(node);
        current = node;
      }
      current.firstProperty = fdt.properties.length / 3;
    } else if (token == TOKEN_PROP) {
      if (current === null) return fdtFail(E_BOOT_BAD_TAG, "property at " + hex(at) + " outside any node");
      if (current.children.length > 0) return fdtFail(E_BOOT_BAD_TAG, "property at " + hex(at) + " after a subnode");
      if (off + 8 > end) return fdtFail(E_BOOT_BAD_TAG, "property header at " + hex(at) + " runs past the structure block");
      let len = be32(block + off);
      let nameOff = be32(block + off + 4);
      off += 8;
      if (len > end - off) {
        return fdtFail(E_BOOT_BAD_TAG, "property at " + hex(at) + " (length " + hex(len) + ") runs past the structure block");
      }
      if (nameOff >= stringsSize) return fdtFail(E_BOOT_BAD_TAG, "property name offset " + hex(nameOff) + " is past the strings block");
      let nameLen = terminated(strings + nameOff, stringsSize - nameOff);
      if (nameLen < 0) return fdtFail(E_BOOT_BAD_TAG, "property name at strings offset " + hex(nameOff) + " is not NUL-terminated");
      fdt.properties.push(nameOff);
      fdt.properties.push(off);
      fdt.properties.push(len);
      current.propertyCount++;
      off = align4(off + len);
    } else if (token == TOKEN_END_NODE) {
      if (current === null) return fdtFail(E_BOOT_BAD_TAG, "END_NODE at " + hex(at) + " without a node");
      current = current.parent;
      depth--;
      if (current === null) rootDone = true;
    } else if (token == TOKEN_END) {
      if (!rootDone) return fdtFail(E_BOOT_BAD_TAG, "END at " + hex(at) + " inside a node, or no root node");
      return new FdtResult(fdt, BOOT_OK, "");
    } else if (token != TOKEN_NOP) {
      return fdtFail(E_BOOT_BAD_TAG, "unknown token " + hex(token) + " at " + hex(at));
    }
  }
}

@inline function align4(n: u32): u32 {
  return (n + 3) & ~3;
}

// Length of the NUL-terminated string at `ptr` within `room` bytes, -1 if
// there is no NUL (capped at MAX_STRING_BYTES like every loader string).
function terminated(ptr: usize, room: u32): i32 {
  let limit = min<u32>(room, MAX_STRING_BYTES);
  for (let i: u32 = 0; i < limit; i++) {
    if (load<u8>(ptr + i) == 0) return <i32>i;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// From the tree to the BootInfo.

class Builder {
  info: BootInfo = new BootInfo();
  error: i32 = BOOT_OK;
  message: string = "";
  // How enable-method "psci" CPUs start: set by readPsci, which runs first;
  // 0 (with psciWhy saying why) when /psci gives no usable CPU_ON.
  psciStart: u32 = 0;
  psciWhy: string = "no /psci node (or it is disabled)";
  constructor(public fdt: Fdt) {}

  fail(error: i32, message: string): bool {
    if (this.error == BOOT_OK) {
      this.error = error;
      this.message = "dtb: " + message;
    }
    return false;
  }
}

// Parses the DTB at kernel-virtual `dtb` (Linux arm64 Image protocol).
// `hhdmOffset` turns that address back into the physical range to keep.
export function parseDtb(dtb: u64, hhdmOffset: u64): BootResult {
  let read = readFdt(dtb);
  if (!read.ok) return bootFail(read.error, read.message);
  let b = new Builder(read.fdt!);
  let bi = b.info;
  bi.protocol = "linux-arm64";
  bi.dtb = dtb;
  bi.hhdmOffset = hhdmOffset;
  bi.bootDataBase = dtb - hhdmOffset;
  bi.bootDataSize = <u64>b.fdt.totalSize;
  let ok = readMemory(b) && readReserved(b) && readChosen(b) && readPsci(b) && readCpus(b);
  if (!ok) return bootFail(b.error, b.message);
  sortRegions(bi.memory);
  return bootOk(bi);
}

// The platform facts of a DTB that came with another loader's BootInfo
// (Limine on AArch64): PSCI, and the CPUs when the loader gave none.
// Never fatal: a bad DTB becomes a warning.
export function dtbApply(info: BootInfo): void {
  let read = readFdt(info.dtb);
  if (!read.ok) {
    info.warnings.push(read.message);
    return;
  }
  let b = new Builder(read.fdt!);
  if (!readPsci(b) || !readCpus(b)) {
    info.warnings.push(b.message);
    return;
  }
  for (let i = 0; i < b.info.warnings.length; i++) info.warnings.push(b.info.warnings[i]);
  if (info.cpuCount == 0) {
    info.cpuCount = b.info.cpuCount;
    info.cpus = b.info.cpus;
  }
  if (b.info.powerMethod != 0) {
    info.powerMethod = b.info.powerMethod;
    info.powerArg0 = b.info.powerArg0;
    info.powerArg1 = b.info.powerArg1;
  }
}

// Appends every (address, size) of `node`'s reg as `kind`, in the cells of
// its parent `bus`.
function addRegs(b: Builder, node: FdtNode, bus: FdtNode, kind: u32, errorCode: i32): bool {
  let reg = node.property("reg");
  if (reg === null) return true;
  let ac = b.fdt.addressCells(bus);
  let sc = b.fdt.sizeCells(bus);
  let what = node.path() + " reg";
  if (ac < 1 || ac > 2 || sc > 2) {
    return b.fail(errorCode, what + ": #address-cells " + ac.toString() + " / #size-cells " + sc.toString() + " not supported");
  }
  let entryBytes = (ac + sc) << 2;
  if (reg.length % entryBytes != 0) {
    return b.fail(errorCode, what + " is " + reg.length.toString() + " bytes, not a whole number of " +
      entryBytes.toString() + "-byte entries");
  }
  let count = reg.length / entryBytes;
  for (let i: u32 = 0; i < count; i++) {
    let cell = i * (ac + sc);
    let base = cellsValue(b.fdt, reg, cell, ac);
    let size = cellsValue(b.fdt, reg, cell + ac, sc);
    if (size == 0) continue;
    if (base + size < base) return b.fail(errorCode, what + " entry " + i.toString() + " wraps around");
    if (b.info.memory.length >= MAX_MEMORY_REGIONS) {
      return b.fail(E_BOOT_TOO_MANY, "more than " + MAX_MEMORY_REGIONS.toString() + " memory regions");
    }
    b.info.memory.push(new MemoryRegion(base, size, kind));
  }
  return true;
}

function cellsValue(fdt: Fdt, p: FdtProperty, first: u32, cells: u32): u64 {
  let value: u64 = 0;
  for (let i: u32 = 0; i < cells; i++) value = (value << 32) | <u64>fdt.cell(p, first + i);
  return value;
}

function readMemory(b: Builder): bool {
  let root = b.fdt.root;
  let usable = 0;
  for (let i = 0; i < root.children.length; i++) {
    let node = root.children[i];
    if (!b.fdt.deviceTypeIs(node, "memory") || !b.fdt.enabled(node)) continue;
    let before = b.info.memory.length;
    if (!addRegs(b, node, root, MemoryKind.Usable, E_BOOT_BAD_MMAP)) return false;
    usable += b.info.memory.length - before;
  }
  if (usable == 0) return b.fail(E_BOOT_MISSING, "no /memory node with a reg");
  return true;
}

function readReserved(b: Builder): bool {
  let fdt = b.fdt;
  for (let i = 0; i < fdt.reservations.length; i++) {
    if (b.info.memory.length >= MAX_MEMORY_REGIONS) {
      return b.fail(E_BOOT_TOO_MANY, "more than " + MAX_MEMORY_REGIONS.toString() + " memory regions");
    }
    b.info.memory.push(fdt.reservations[i]);
  }
  let reserved = fdt.find("/reserved-memory");
  if (reserved === null) return true;
  for (let i = 0; i < reserved.children.length; i++) {
    let node = reserved.children[i];
    if (!fdt.enabled(node)) continue;
    if (!addRegs(b, node, reserved, MemoryKind.Reserved, E_BOOT_BAD_MMAP)) return false;
  }
  return true;
}

function readChosen(b: Builder): bool {
  let fdt = b.fdt;
  let chosen = fdt.find("/chosen");
  if (chosen === null) return true;
  let bootargs = chosen.property("bootargs");
  if (bootargs !== null) {
    let text = fdt.string(bootargs);
    if (text === null) return b.fail(E_BOOT_BAD_TAG, "/chosen bootargs is not a NUL-terminated string");
    b.info.cmdline = text;
  }
  let start = chosen.property("linux,initrd-start");
  let end = chosen.property("linux,initrd-end");
  if (start !== null && end !== null) {
    let from = fdt.number(start);
    let to = fdt.number(end);
    if (from < 0 || to < 0) return b.fail(E_BOOT_BAD_TAG, "/chosen linux,initrd-start/-end are not 1 or 2 cells");
    if (to < from) {
      return b.fail(E_BOOT_BAD_TAG, "initrd ends (" + hex(<u64>to) + ") before it starts (" + hex(<u64>from) + ")");
    }
    if (to > from) b.info.modules.push(new BootModule(<u64>from, <u64>(to - from), "", "initrd"));
  }
  return true;
}

// Every enabled /cpus child of device_type "cpu", the boot CPU included
// (the kernel's cpu_start recognises it). Never fatal: a CPU without a
// readable reg is left out, one with no start method we know is listed with
// method 0; each kind of trouble is one warning, however many CPUs share it.
// Needs readPsci first (b.psciStart).
function readCpus(b: Builder): bool {
  let fdt = b.fdt;
  let cpus = fdt.find("/cpus");
  if (cpus === null) return true;
  let ac = fdt.addressCells(cpus);
  let unstartable = 0;
  let why = "";
  for (let i = 0; i < cpus.children.length; i++) {
    let node = cpus.children[i];
    if (!fdt.deviceTypeIs(node, "cpu") || !fdt.enabled(node)) continue;
    if (<u32>b.info.cpus.length >= MAX_CPUS) {
      b.info.warnings.push("dtb: more than " + MAX_CPUS.toString() + " CPUs, the rest ignored");
      break;
    }
    let reg = node.property("reg");
    if (reg === null || ac < 1 || ac > 2 || reg.length != ac << 2) {
      b.info.warnings.push("dtb: " + node.path() + " has no reg of " + ac.toString() +
        " cells (#address-cells of /cpus), left out");
      continue;
    }
    let name = enableMethod(fdt, node);
    let method = name == "psci" ? b.psciStart : 0;
    if (method == 0 && unstartable++ == 0) why = unstartableText(b, node, name);
    b.info.cpus.push(new CpuEntry(cellsValue(fdt, reg, 0, ac), method, 0));
  }
  // One CPU is the boot CPU, already running: nothing to start, nothing to say.
  if (unstartable > 0 && b.info.cpus.length > 1) {
    b.info.warnings.push("dtb: " + unstartable.toString() + " CPU(s) cannot be started: " + why);
  }
  b.info.cpuCount = <u32>b.info.cpus.length;
  return true;
}

// The enable-method of a cpu node, "" when it has none (or not a string).
function enableMethod(fdt: Fdt, node: FdtNode): string {
  let p = node.property("enable-method");
  let method = p !== null ? fdt.string(p) : null;
  return method !== null ? method : "";
}

// Why a cpu node with method 0 cannot be started, naming its enable-method.
function unstartableText(b: Builder, node: FdtNode, method: string): string {
  if (method == "") return node.path() + " has no enable-method";
  if (method == "psci") return node.path() + " enable-method \"psci\", but " + b.psciWhy;
  return node.path() + " enable-method \"" + method + "\" is not supported";
}

// PSCI 0.2 and later have fixed function IDs, SYSTEM_OFF, SYSTEM_RESET and
// CPU_ON among them; PSCI 0.1 ("arm,psci" alone) has neither the first two
// nor a fixed CPU_ON, so it powers nothing off and starts no CPU. Sets
// b.psciStart for readCpus.
function readPsci(b: Builder): bool {
  let fdt = b.fdt;
  let psci = fdt.find("/psci");
  if (psci === null || !fdt.enabled(psci)) return true;
  let compatible = psci.property("compatible");
  let list = compatible !== null ? fdt.stringList(compatible) : null;
  if (list === null) return b.fail(E_BOOT_BAD_TAG, "/psci compatible is missing or not a string list");
  let modern = false;
  for (let i = 0; i < list.length; i++) {
    if (list[i] == "arm,psci-0.2" || list[i] == "arm,psci-1.0") modern = true;
  }
  if (!modern) {
    b.psciWhy = "/psci is PSCI 0.1 only (no fixed CPU_ON id)";
    b.info.warnings.push("dtb: PSCI 0.1 only (no SYSTEM_OFF or SYSTEM_RESET): halt stops the CPU");
    return true;
  }
  let method = psci.property("method");
  let conduit = method !== null ? fdt.string(method) : null;
  if (conduit === null) return b.fail(E_BOOT_BAD_TAG, "/psci method is missing or not a string");
  if (conduit == "hvc") {
    b.info.powerArg0 = PSCI_CONDUIT_HVC;
    b.psciStart = CPU_START_PSCI_HVC;
  } else if (conduit == "smc") {
    b.info.powerArg0 = PSCI_CONDUIT_SMC;
    b.psciStart = CPU_START_PSCI_SMC;
  } else {
    b.psciWhy = "/psci method \"" + conduit + "\" is unknown";
    b.info.warnings.push("dtb: unknown PSCI method \"" + conduit + "\": halt stops the CPU");
    return true;
  }
  b.info.powerMethod = POWER_PSCI;
  b.info.powerArg1 = 0;
  return true;
}
