// Multiboot2 adapter: the boot information structure GRUB leaves in RAM,
// turned into a BootInfo.
//
// The trampoline passes `info` as a kernel-virtual address (physical address
// from EBX + hhdm_offset) and the loader's EAX as handoff.boot_magic.
//
//   info ──► +0  u32 total_size   bytes, header and end tag included
//            +4  u32 reserved
//            +8  tag, tag, ...    each starts 8-byte aligned:
//                  +0 u32 type
//                  +4 u32 size    bytes of this tag, padding excluded
//                  +8 payload
//                end tag: type 0, size 8
//
//   tag payloads used here (offsets from the tag start):
//    1 command line     +8  NUL-terminated string
//    2 loader name      +8  NUL-terminated string
//    3 module           +8  u32 mod_start  +12 u32 mod_end (exclusive)
//                       +16 NUL-terminated string
//    4 basic meminfo    +8  u32 mem_lower KiB (from 0)
//                       +12 u32 mem_upper KiB (from 1 MiB)
//                           used only when no memory map tag is present
//    6 memory map       +8  u32 entry_size (>= 24, multiple of 8)
//                       +12 u32 entry_version
//                       +16 entries: +0 u64 base  +8 u64 length
//                                    +16 u32 type  +20 u32 reserved
//    8 framebuffer      +8  u64 addr  +16 u32 pitch  +20 u32 width
//                       +24 u32 height  +28 u8 bpp  +29 u8 type
//                           (type 2 is EGA text: not a framebuffer for us)
//   14 ACPI old RSDP    +8  a copy of the RSDP v1 (20 bytes)
//   15 ACPI new RSDP    +8  a copy of the RSDP v2 (36 bytes); preferred
//
// Tags 14/15 hold a COPY of the RSDP, so BootInfo.rsdp points inside this
// structure. Parse it before its memory is reused; BootInfo.bootDataBase/Size
// report its physical range so the kernel keeps it reserved afterwards.
//
// Anything malformed (bad magic, absurd total size, a tag running past the
// end, a memory map entry smaller than 24 bytes, ...) is a named error, never
// a trap. Every loop is bounded by total_size and by the maxima in bootinfo.

import {
  BootInfo, BootResult, BootModule, Framebuffer, MemoryRegion, MemoryKind,
  bootOk, bootFail, sortRegions, hex,
  BOOT_OK, E_BOOT_BAD_MAGIC, E_BOOT_BAD_POINTER, E_BOOT_BAD_SIZE,
  E_BOOT_BAD_TAG, E_BOOT_BAD_MMAP, E_BOOT_TOO_MANY, E_BOOT_MISSING,
  MAX_MEMORY_REGIONS, MAX_MODULES, MAX_STRING_BYTES,
} from "./bootinfo";
import { readU8, readU32, readU64, readCString } from "./reader";

export const MB2_BOOT_MAGIC: u64 = 0x36d76289;

export const MB2_TAG_END: u32 = 0;
export const MB2_TAG_CMDLINE: u32 = 1;
export const MB2_TAG_LOADER_NAME: u32 = 2;
export const MB2_TAG_MODULE: u32 = 3;
export const MB2_TAG_BASIC_MEMINFO: u32 = 4;
export const MB2_TAG_MMAP: u32 = 6;
export const MB2_TAG_FRAMEBUFFER: u32 = 8;
export const MB2_TAG_ACPI_OLD: u32 = 14;
export const MB2_TAG_ACPI_NEW: u32 = 15;

// Memory map entry types.
const MB2_MEMORY_AVAILABLE: u32 = 1;
const MB2_MEMORY_ACPI_RECLAIMABLE: u32 = 3;
const MB2_MEMORY_NVS: u32 = 4;
const MB2_MEMORY_BADRAM: u32 = 5;

const MB2_FRAMEBUFFER_EGA_TEXT: u8 = 2;

// Field offsets, from the start of the structure / tag / mmap entry.
const INFO_TOTAL_SIZE: u64 = 0;
const TAG_TYPE: u64 = 0;
const TAG_SIZE: u64 = 4;
const TAG_PAYLOAD: u32 = 8;
const MODULE_START: u64 = 8;
const MODULE_END: u64 = 12;
const MODULE_STRING: u32 = 16;
const MEMINFO_LOWER: u64 = 8;
const MEMINFO_UPPER: u64 = 12;
const MMAP_ENTRY_SIZE: u64 = 8;
const MMAP_ENTRIES: u32 = 16;
const ENTRY_BASE: u64 = 0;
const ENTRY_LENGTH: u64 = 8;
const ENTRY_TYPE: u64 = 16;
const FB_ADDR: u64 = 8;
const FB_PITCH: u64 = 16;
const FB_WIDTH: u64 = 20;
const FB_HEIGHT: u64 = 24;
const FB_BPP: u64 = 28;
const FB_TYPE: u64 = 29;

const HEADER_BYTES: u32 = 8;
const TAG_HEADER_BYTES: u32 = 8;
const MEMINFO_BYTES: u32 = 16;
const MMAP_ENTRY_MIN_BYTES: u32 = 24;
const FRAMEBUFFER_MIN_BYTES: u32 = 30;
const RSDP_V1_BYTES: u32 = 20;
const RSDP_V2_BYTES: u32 = 36;

// GRUB's structure is a few KiB; anything past this is not a boot info.
export const MB2_MAX_TOTAL_SIZE: u32 = 1 << 20;
const MB2_MAX_TAGS: i32 = 4096;

const ONE_MIB: u64 = 1 << 20;

// Parse state: the BootInfo being built, and the first error met.
class Parser {
  info: BootInfo = new BootInfo();
  error: i32 = BOOT_OK;
  message: string = "";
  haveMmap: bool = false;
  haveNewRsdp: bool = false;
  haveBasic: bool = false;
  memLowerKiB: u32 = 0;
  memUpperKiB: u32 = 0;

  fail(error: i32, message: string): bool {
    this.error = error;
    this.message = "multiboot2: " + message;
    return false;
  }
}

@inline function align8(n: u32): u32 {
  return (n + 7) & ~7;
}

function describeTag(type: u32, offset: u32): string {
  return "tag type " + type.toString() + " at offset " + hex(offset);
}

// Parses the structure at kernel-virtual `info`, given the loader's magic
// and the HHDM offset (to report the structure's physical range).
export function parseMultiboot2(info: u64, bootMagic: u64, hhdmOffset: u64): BootResult {
  if (bootMagic != MB2_BOOT_MAGIC) {
    return bootFail(E_BOOT_BAD_MAGIC, "multiboot2: bad boot magic " + hex(bootMagic) +
      " (expected " + hex(MB2_BOOT_MAGIC) + ")");
  }
  if (info == 0 || (info & 7) != 0) {
    return bootFail(E_BOOT_BAD_POINTER, "multiboot2: info pointer " + hex(info) +
      " is null or not 8-byte aligned");
  }
  let total = readU32(info + INFO_TOTAL_SIZE);
  if (total < HEADER_BYTES + TAG_HEADER_BYTES || total > MB2_MAX_TOTAL_SIZE || (total & 7) != 0) {
    return bootFail(E_BOOT_BAD_SIZE, "multiboot2: bad total_size " + hex(total));
  }
  let p = new Parser();
  if (!walkTags(p, info, total)) return bootFail(p.error, p.message);
  if (!finishMemory(p)) return bootFail(p.error, p.message);

  let bi = p.info;
  bi.protocol = "multiboot2";
  if (info >= hhdmOffset) {
    bi.bootDataBase = info - hhdmOffset;
    bi.bootDataSize = total;
  }
  return bootOk(bi);
}

// Visits every tag up to the end tag; false (with p.error set) on the
// first malformed one.
function walkTags(p: Parser, info: u64, total: u32): bool {
  let offset = HEADER_BYTES;
  for (let count = 0; count < MB2_MAX_TAGS; count++) {
    if (offset + TAG_HEADER_BYTES > total) {
      return p.fail(E_BOOT_BAD_TAG, "no end tag within total_size " + hex(total));
    }
    let tag = info + offset;
    let type = readU32(tag + TAG_TYPE);
    let size = readU32(tag + TAG_SIZE);
    if (size < TAG_HEADER_BYTES) {
      return p.fail(E_BOOT_BAD_TAG, describeTag(type, offset) + " has size " + size.toString());
    }
    if (size > total - offset) {
      return p.fail(E_BOOT_BAD_TAG, describeTag(type, offset) + " (size " + hex(size) +
        ") runs past the end " + hex(total));
    }
    if (type == MB2_TAG_END) {
      if (size != TAG_HEADER_BYTES) return p.fail(E_BOOT_BAD_TAG, "end tag has size " + size.toString());
      return true;
    }
    if (!parseTag(p, tag, type, size, offset)) return false;
    offset += align8(size);
  }
  return p.fail(E_BOOT_TOO_MANY, "more than " + MB2_MAX_TAGS.toString() + " tags");
}

function parseTag(p: Parser, tag: u64, type: u32, size: u32, offset: u32): bool {
  if (type == MB2_TAG_CMDLINE) {
    p.info.cmdline = tagString(tag, size, TAG_PAYLOAD);
  } else if (type == MB2_TAG_LOADER_NAME) {
    p.info.loader = tagString(tag, size, TAG_PAYLOAD);
  } else if (type == MB2_TAG_MODULE) {
    return parseModule(p, tag, size, offset);
  } else if (type == MB2_TAG_BASIC_MEMINFO) {
    if (size < MEMINFO_BYTES) return p.fail(E_BOOT_BAD_TAG, describeTag(type, offset) + " too short");
    p.haveBasic = true;
    p.memLowerKiB = readU32(tag + MEMINFO_LOWER);
    p.memUpperKiB = readU32(tag + MEMINFO_UPPER);
  } else if (type == MB2_TAG_MMAP) {
    return parseMmap(p, tag, size, offset);
  } else if (type == MB2_TAG_FRAMEBUFFER) {
    return parseFramebuffer(p, tag, size, offset);
  } else if (type == MB2_TAG_ACPI_OLD) {
    if (size < TAG_PAYLOAD + RSDP_V1_BYTES) {
      return p.fail(E_BOOT_BAD_TAG, describeTag(type, offset) + " too short for an RSDP");
    }
    if (!p.haveNewRsdp) p.info.rsdp = tag + TAG_PAYLOAD;
  } else if (type == MB2_TAG_ACPI_NEW) {
    if (size < TAG_PAYLOAD + RSDP_V2_BYTES) {
      return p.fail(E_BOOT_BAD_TAG, describeTag(type, offset) + " too short for an RSDP v2");
    }
    p.info.rsdp = tag + TAG_PAYLOAD;
    p.haveNewRsdp = true;
  }
  // Every other tag (EFI tables, APM, SMBIOS, ...) is not ours to read.
  return true;
}

// The string payload starting `skip` bytes into the tag, bounded by the tag.
function tagString(tag: u64, size: u32, skip: u32): string {
  if (size <= skip) return "";
  return readCString(tag + skip, min<u32>(size - skip, MAX_STRING_BYTES));
}

function parseModule(p: Parser, tag: u64, size: u32, offset: u32): bool {
  if (size < MODULE_STRING) {
    return p.fail(E_BOOT_BAD_TAG, describeTag(MB2_TAG_MODULE, offset) + " too short");
  }
  if (p.info.modules.length >= MAX_MODULES) {
    return p.fail(E_BOOT_TOO_MANY, "more than " + MAX_MODULES.toString() + " modules");
  }
  let start = readU32(tag + MODULE_START);
  let end = readU32(tag + MODULE_END);
  if (end < start) {
    return p.fail(E_BOOT_BAD_TAG, describeTag(MB2_TAG_MODULE, offset) + ": module ends (" +
      hex(end) + ") before it starts (" + hex(start) + ")");
  }
  let cmdline = tagString(tag, size, MODULE_STRING);
  p.info.modules.push(new BootModule(start, end - start, cmdline, ""));
  return true;
}

function mb2Kind(type: u32): u32 {
  if (type == MB2_MEMORY_AVAILABLE) return MemoryKind.Usable;
  if (type == MB2_MEMORY_ACPI_RECLAIMABLE) return MemoryKind.AcpiReclaimable;
  if (type == MB2_MEMORY_NVS) return MemoryKind.AcpiNvs;
  if (type == MB2_MEMORY_BADRAM) return MemoryKind.BadMemory;
  return MemoryKind.Reserved;
}

function parseMmap(p: Parser, tag: u64, size: u32, offset: u32): bool {
  let what = describeTag(MB2_TAG_MMAP, offset);
  if (size < MMAP_ENTRIES) return p.fail(E_BOOT_BAD_MMAP, what + " too short");
  if (p.haveMmap) return true; // one map is the truth; later copies are ignored
  let entrySize = readU32(tag + MMAP_ENTRY_SIZE);
  if (entrySize < MMAP_ENTRY_MIN_BYTES || (entrySize & 7) != 0) {
    return p.fail(E_BOOT_BAD_MMAP, what + ": bad entry_size " + entrySize.toString());
  }
  let bytes = size - MMAP_ENTRIES;
  if (bytes % entrySize != 0) {
    return p.fail(E_BOOT_BAD_MMAP, what + ": size is not a whole number of entries");
  }
  let count = bytes / entrySize;
  if (count > <u32>MAX_MEMORY_REGIONS) {
    return p.fail(E_BOOT_TOO_MANY, what + ": " + count.toString() + " entries");
  }
  for (let i: u32 = 0; i < count; i++) {
    let entry = tag + MMAP_ENTRIES + <u64>i * entrySize;
    let base = readU64(entry + ENTRY_BASE);
    let length = readU64(entry + ENTRY_LENGTH);
    let type = readU32(entry + ENTRY_TYPE);
    if (length == 0) continue;
    if (base + length < base) {
      return p.fail(E_BOOT_BAD_MMAP, what + ": entry " + i.toString() + " wraps around");
    }
    p.info.memory.push(new MemoryRegion(base, length, mb2Kind(type)));
  }
  p.haveMmap = true;
  return true;
}

function parseFramebuffer(p: Parser, tag: u64, size: u32, offset: u32): bool {
  if (size < FRAMEBUFFER_MIN_BYTES) {
    return p.fail(E_BOOT_BAD_TAG, describeTag(MB2_TAG_FRAMEBUFFER, offset) + " too short");
  }
  if (readU8(tag + FB_TYPE) == MB2_FRAMEBUFFER_EGA_TEXT) return true;
  p.info.framebuffer = new Framebuffer(readU64(tag + FB_ADDR), readU32(tag + FB_WIDTH),
    readU32(tag + FB_HEIGHT), readU32(tag + FB_PITCH), <u32>readU8(tag + FB_BPP));
  return true;
}

// Without a memory map tag, falls back to basic meminfo (low memory from 0,
// upper memory from 1 MiB); with neither there is nothing to run in.
function finishMemory(p: Parser): bool {
  let bi = p.info;
  if (!p.haveMmap && p.haveBasic) {
    if (p.memLowerKiB > 0) {
      bi.memory.push(new MemoryRegion(0, <u64>p.memLowerKiB << 10, MemoryKind.Usable));
    }
    if (p.memUpperKiB > 0) {
      bi.memory.push(new MemoryRegion(ONE_MIB, <u64>p.memUpperKiB << 10, MemoryKind.Usable));
    }
  }
  if (bi.memory.length == 0) return p.fail(E_BOOT_MISSING, "no memory map and no basic meminfo");
  sortRegions(bi.memory);
  return true;
}
