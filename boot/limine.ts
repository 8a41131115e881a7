// Limine adapter (base revision 2): the bootloader's responses, turned into
// a BootInfo.
//
// The C trampoline places the Limine requests in its `.requests` section and
// passes `info`: the kernel-virtual address of a table of u64 pointers to
// those requests, always in this order (0 = request not compiled in):
//
//   info ──► slot  0  bootloader info       name, version
//            slot  1  memory map            REQUIRED
//            slot  2  HHDM                  REQUIRED
//            slot  3  module                boot modules
//            slot  4  RSDP
//            slot  5  framebuffer
//            slot  6  executable (kernel) file   its cmdline is ours
//            slot  7  executable (kernel) address
//            slot  8  SMP / MP              the CPUs (layout below)
//            slot  9  device tree blob
//            slot 10  paging mode           read for its ID only
//
// Every request and response starts the same way (all u64, little-endian):
//
//   request:  +0 id[0] +8 id[1]   common magic
//             +16 id[2] +24 id[3] per-feature id
//             +32 revision
//             +40 response        kernel-virtual; 0 = not answered
//   response: +0 revision, then the feature's fields (offsets below)
//
// Each slot's request ID is checked, so a table built in the wrong order is
// an error (E_BOOT_BAD_TABLE), not a silent misreading. A null response means
// "not answered": fine for optional features; memmap and HHDM are required.
//
// The MP response (named SMP in older Limine versions) and its per-CPU
// limine_mp_info differ per arch:
//
//   x86_64   response  +0 revision  +8 u32 flags  +12 u32 bsp_lapic_id
//                      +16 cpu_count  +24 cpus (pointer to cpu_count pointers)
//            info      +0 u32 processor_id  +4 u32 lapic_id  +8 reserved
//                      +16 goto_address  +24 extra_argument
//   aarch64  response  +0 revision  +8 flags  +16 bsp_mpidr
//                      +24 cpu_count  +32 cpus
//            info      +0 u32 processor_id  +4 u32 reserved  +8 mpidr
//                      +16 reserved  +24 goto_address  +32 extra_argument
//
// Each CPU becomes CpuEntry(lapic_id | mpidr, CPU_START_LIMINE, the info's
// address as given: kernel-virtual), the CPU waiting until goto_address is
// written there. bsp_lapic_id / bsp_mpidr becomes bootCpuHwid. An
// MPIDR is kept to its affinity fields (Aff3, Aff2..Aff0), the form a DTB's
// cpu reg and PSCI CPU_ON use, so hwids compare alike on every path.
//
// Addresses. Limine pointers carry the HHDM offset already, except the RSDP
// (and SMBIOS/EFI) address, which the protocol makes physical under base
// revision 3 only and HHDM-virtual under every other revision. We request
// revision 2, but accept both: a value below the HHDM offset cannot be an
// HHDM address, so it is taken as physical and the offset is added. The same
// rule is applied to the DTB pointer. BootInfo keeps modules and the
// framebuffer as physical addresses (HHDM offset subtracted), like Multiboot2.

import {
  BootInfo, BootResult, BootModule, CpuEntry, Framebuffer, MemoryRegion, MemoryKind,
  bootOk, bootFail, sortRegions, hex,
  BOOT_OK, E_BOOT_BAD_POINTER, E_BOOT_BAD_MMAP, E_BOOT_TOO_MANY,
  E_BOOT_MISSING, E_BOOT_BAD_TABLE, E_BOOT_BAD_HANDOFF, E_BOOT_UNSUPPORTED,
  MAX_MEMORY_REGIONS, MAX_MODULES, MAX_CPUS, MAX_STRING_BYTES,
} from "./bootinfo";
import { ARCH_X86_64, ARCH_AARCH64 } from "./handoff";
import { readU16, readU32, readU64, readCString } from "./reader";
import { CPU_START_LIMINE } from "../kernel/arch";

export const LIMINE_SLOT_BOOTLOADER_INFO: i32 = 0;
export const LIMINE_SLOT_MEMMAP: i32 = 1;
export const LIMINE_SLOT_HHDM: i32 = 2;
export const LIMINE_SLOT_MODULES: i32 = 3;
export const LIMINE_SLOT_RSDP: i32 = 4;
export const LIMINE_SLOT_FRAMEBUFFER: i32 = 5;
export const LIMINE_SLOT_EXECUTABLE_FILE: i32 = 6;
export const LIMINE_SLOT_EXECUTABLE_ADDRESS: i32 = 7;
export const LIMINE_SLOT_SMP: i32 = 8;
export const LIMINE_SLOT_DTB: i32 = 9;
export const LIMINE_SLOT_PAGING_MODE: i32 = 10;
export const LIMINE_SLOTS: i32 = 11;

export const LIMINE_COMMON_MAGIC_0: u64 = 0xc7b1dd30df4c8b88;
export const LIMINE_COMMON_MAGIC_1: u64 = 0x0a82e883a194f07b;

// id[2], id[3] of each slot's request, in slot order (PROTOCOL.md).
const SLOT_IDS: StaticArray<u64> = [
  0xf55038d8e2a1202f, 0x279426fcf5f59740, // bootloader info
  0x67cf3d9d378a806f, 0xe304acdfc50c3c62, // memmap
  0x48dcf1cb8ad2b852, 0x63984e959a98244b, // hhdm
  0x3e7e279702be32af, 0xca1c4f3bd1280cee, // module
  0xc5e77b6b397e7b43, 0x27637845accdcf3c, // rsdp
  0x9d5827dcd881dd75, 0xa3148604f6fab11b, // framebuffer
  0xad97e90e83f1ed67, 0x31eb5d1c5ff23b69, // executable (kernel) file
  0x71ba76863cc55f63, 0xb2644a48c516a487, // executable (kernel) address
  0x95a67b819a1b857e, 0xa0b61b723b6a73e0, // smp / mp
  0xb40ddb48fb54bac7, 0x545081493f81ffb7, // dtb
  0x95c1a0edab0944cb, 0xa4e5cb3842f7488a, // paging mode
];

const SLOT_NAMES: StaticArray<string> = [
  "bootloader info", "memmap", "hhdm", "module", "rsdp", "framebuffer",
  "executable file", "executable address", "smp", "dtb", "paging mode",
];

// Request and response field offsets.
const REQ_ID: u64 = 0;
const REQ_RESPONSE: u64 = 40;

const BOOTLOADER_NAME: u64 = 8;
const BOOTLOADER_VERSION: u64 = 16;
const HHDM_OFFSET: u64 = 8;
const LIST_COUNT: u64 = 8;          // memmap, module, framebuffer responses
const LIST_ITEMS: u64 = 16;         // pointer to an array of pointers
const MEMMAP_BASE: u64 = 0;
const MEMMAP_LENGTH: u64 = 8;
const MEMMAP_TYPE: u64 = 16;
const FILE_ADDRESS: u64 = 8;        // struct limine_file
const FILE_SIZE: u64 = 16;
const FILE_PATH: u64 = 24;
const FILE_CMDLINE: u64 = 32;       // "cmdline", renamed "string" later
const RSDP_ADDRESS: u64 = 8;
const FB_ADDRESS: u64 = 0;          // struct limine_framebuffer
const FB_WIDTH: u64 = 8;
const FB_HEIGHT: u64 = 16;
const FB_PITCH: u64 = 24;
const FB_BPP: u64 = 32;             // u16
const EXEC_FILE: u64 = 8;
const EXEC_PHYSICAL_BASE: u64 = 8;
const EXEC_VIRTUAL_BASE: u64 = 16;
const SMP_BSP_LAPIC_ID_X86_64: u64 = 12;  // u32
const SMP_CPU_COUNT_X86_64: u64 = 16;
const SMP_CPUS_X86_64: u64 = 24;
const SMP_BSP_MPIDR_AARCH64: u64 = 16;
const SMP_CPU_COUNT_AARCH64: u64 = 24;
const SMP_CPUS_AARCH64: u64 = 32;
const MP_INFO_LAPIC_ID_X86_64: u64 = 4;   // u32
const MP_INFO_MPIDR_AARCH64: u64 = 8;
const MPIDR_AFFINITY: u64 = 0xff00ffffff;   // drops RES1 bit 31, U, MT
const DTB_POINTER: u64 = 8;

// Limine memory map types.
const LIMINE_MEMMAP_USABLE: u64 = 0;
const LIMINE_MEMMAP_RESERVED: u64 = 1;
const LIMINE_MEMMAP_ACPI_RECLAIMABLE: u64 = 2;
const LIMINE_MEMMAP_ACPI_NVS: u64 = 3;
const LIMINE_MEMMAP_BAD_MEMORY: u64 = 4;
const LIMINE_MEMMAP_BOOTLOADER_RECLAIMABLE: u64 = 5;
const LIMINE_MEMMAP_EXECUTABLE_AND_MODULES: u64 = 6;
const LIMINE_MEMMAP_FRAMEBUFFER: u64 = 7;

class Parser {
  info: BootInfo = new BootInfo();
  error: i32 = BOOT_OK;
  message: string = "";
  table: u64 = 0;
  hhdm: u64 = 0;

  fail(error: i32, message: string): bool {
    if (this.error == BOOT_OK) {
      this.error = error;
      this.message = "limine: " + message;
    }
    return false;
  }

  // HHDM-virtual -> physical; a value already below the HHDM is physical.
  toPhysical(addr: u64): u64 {
    return addr >= this.hhdm ? addr - this.hhdm : addr;
  }

  // Physical or HHDM-virtual -> kernel-virtual (see the header).
  toVirtual(addr: u64): u64 {
    if (addr == 0) return 0;
    return addr < this.hhdm ? addr + this.hhdm : addr;
  }
}

// The response pointer of `slot`, 0 when the slot is empty or unanswered.
// Sets p.error when the slot holds a request with the wrong ID.
function responseOf(p: Parser, slot: i32): u64 {
  let request = readU64(p.table + <u64>slot * 8);
  if (request == 0) return 0;
  let ok = readU64(request + REQ_ID) == LIMINE_COMMON_MAGIC_0 &&
    readU64(request + REQ_ID + 8) == LIMINE_COMMON_MAGIC_1 &&
    readU64(request + REQ_ID + 16) == SLOT_IDS[slot * 2] &&
    readU64(request + REQ_ID + 24) == SLOT_IDS[slot * 2 + 1];
  if (!ok) {
    p.fail(E_BOOT_BAD_TABLE, "table slot " + slot.toString() + " is not a " +
      SLOT_NAMES[slot] + " request");
    return 0;
  }
  return readU64(request + REQ_RESPONSE);
}

// Parses the request table at kernel-virtual `table`. `arch` is the
// handoff's arch id (the SMP response layout differs per arch); `hhdmOffset`
// is the handoff's view of the HHDM, 0 if it has none (then Limine's is used).
export function parseLimine(table: u64, arch: u32, hhdmOffset: u64): BootResult {
  if (table == 0 || (table & 7) != 0) {
    return bootFail(E_BOOT_BAD_POINTER, "limine: request table pointer " + hex(table) +
      " is null or not 8-byte aligned");
  }
  if (arch != ARCH_X86_64 && arch != ARCH_AARCH64) {
    return bootFail(E_BOOT_UNSUPPORTED, "limine: unknown arch " + arch.toString());
  }
  let p = new Parser();
  p.table = table;
  let ok = parseHhdm(p, hhdmOffset) && parseMemmap(p) && parseBootloader(p) &&
    parseModules(p) && parseRsdp(p) && parseFramebuffer(p) && parseExecutable(p) &&
    parseSmp(p, arch) && parseDtb(p) && checkPagingMode(p);
  if (!ok) return bootFail(p.error, p.message);
  p.info.protocol = "limine";
  return bootOk(p.info);
}

function parseHhdm(p: Parser, handoffHhdm: u64): bool {
  let resp = responseOf(p, LIMINE_SLOT_HHDM);
  if (p.error != BOOT_OK) return false;
  if (resp == 0) return p.fail(E_BOOT_MISSING, "no HHDM response (required)");
  let offset = readU64(resp + HHDM_OFFSET);
  if (handoffHhdm != 0 && handoffHhdm != offset) {
    return p.fail(E_BOOT_BAD_HANDOFF, "HHDM offset " + hex(offset) +
      " differs from the handoff's " + hex(handoffHhdm));
  }
  p.hhdm = offset;
  p.info.hhdmOffset = offset;
  return true;
}

function limineKind(type: u64): u32 {
  if (type == LIMINE_MEMMAP_USABLE) return MemoryKind.Usable;
  if (type == LIMINE_MEMMAP_RESERVED) return MemoryKind.Reserved;
  if (type == LIMINE_MEMMAP_ACPI_RECLAIMABLE) return MemoryKind.AcpiReclaimable;
  if (type == LIMINE_MEMMAP_ACPI_NVS) return MemoryKind.AcpiNvs;
  if (type == LIMINE_MEMMAP_BAD_MEMORY) return MemoryKind.BadMemory;
  if (type == LIMINE_MEMMAP_BOOTLOADER_RECLAIMABLE) return MemoryKind.BootloaderReclaimable;
  if (type == LIMINE_MEMMAP_EXECUTABLE_AND_MODULES) return MemoryKind.KernelAndModules;
  if (type == LIMINE_MEMMAP_FRAMEBUFFER) return MemoryKind.Framebuffer;
  return MemoryKind.Reserved; // types added by later revisions: hands off
}

function parseMemmap(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_MEMMAP);
  if (p.error != BOOT_OK) return false;
  if (resp == 0) return p.fail(E_BOOT_MISSING, "no memory map response (required)");
  let count = readU64(resp + LIST_COUNT);
  let entries = readU64(resp + LIST_ITEMS);
  if (count == 0) return p.fail(E_BOOT_MISSING, "memory map is empty");
  if (count > <u64>MAX_MEMORY_REGIONS) {
    return p.fail(E_BOOT_TOO_MANY, "memory map claims " + count.toString() + " entries");
  }
  if (entries == 0) return p.fail(E_BOOT_BAD_POINTER, "memory map entry array is null");
  for (let i: u64 = 0; i < count; i++) {
    let entry = readU64(entries + i * 8);
    if (entry == 0) return p.fail(E_BOOT_BAD_MMAP, "memory map entry " + i.toString() + " is null");
    let base = readU64(entry + MEMMAP_BASE);
    let length = readU64(entry + MEMMAP_LENGTH);
    let type = readU64(entry + MEMMAP_TYPE);
    if (length == 0) continue;
    if (base + length < base) {
      return p.fail(E_BOOT_BAD_MMAP, "memory map entry " + i.toString() + " wraps around");
    }
    p.info.memory.push(new MemoryRegion(base, length, limineKind(type)));
  }
  sortRegions(p.info.memory);
  return true;
}

function parseBootloader(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_BOOTLOADER_INFO);
  if (p.error != BOOT_OK) return false;
  if (resp == 0) return true;
  let name = readCString(readU64(resp + BOOTLOADER_NAME), MAX_STRING_BYTES);
  let version = readCString(readU64(resp + BOOTLOADER_VERSION), MAX_STRING_BYTES);
  p.info.loader = version.length > 0 ? name + " " + version : name;
  return true;
}

function parseModules(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_MODULES);
  if (p.error != BOOT_OK) return false;
  if (resp == 0) return true;
  let count = readU64(resp + LIST_COUNT);
  let files = readU64(resp + LIST_ITEMS);
  if (count > <u64>MAX_MODULES) {
    return p.fail(E_BOOT_TOO_MANY, "module response claims " + count.toString() + " modules");
  }
  if (count > 0 && files == 0) return p.fail(E_BOOT_BAD_POINTER, "module array is null");
  for (let i: u64 = 0; i < count; i++) {
    let file = readU64(files + i * 8);
    if (file == 0) return p.fail(E_BOOT_BAD_POINTER, "module " + i.toString() + " is null");
    let address = readU64(file + FILE_ADDRESS);
    let size = readU64(file + FILE_SIZE);
    let path = readCString(readU64(file + FILE_PATH), MAX_STRING_BYTES);
    let cmdline = readCString(readU64(file + FILE_CMDLINE), MAX_STRING_BYTES);
    p.info.modules.push(new BootModule(p.toPhysical(address), size, cmdline, path));
  }
  return true;
}

function parseRsdp(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_RSDP);
  if (p.error != BOOT_OK) return false;
  if (resp != 0) p.info.rsdp = p.toVirtual(readU64(resp + RSDP_ADDRESS));
  return true;
}

// The first framebuffer, if any; one with absurd geometry is left out with
// a warning rather than failing the boot over a screen.
function parseFramebuffer(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_FRAMEBUFFER);
  if (p.error != BOOT_OK) return false;
  if (resp == 0 || readU64(resp + LIST_COUNT) == 0) return true;
  let list = readU64(resp + LIST_ITEMS);
  let fb = list != 0 ? readU64(list) : 0;
  if (fb == 0) return p.fail(E_BOOT_BAD_POINTER, "framebuffer array or entry is null");
  let width = readU64(fb + FB_WIDTH);
  let height = readU64(fb + FB_HEIGHT);
  let pitch = readU64(fb + FB_PITCH);
  if (width > U32.MAX_VALUE || height > U32.MAX_VALUE || pitch > U32.MAX_VALUE) {
    p.info.warnings.push("limine: framebuffer geometry absurd, ignored");
    return true;
  }
  p.info.framebuffer = new Framebuffer(p.toPhysical(readU64(fb + FB_ADDRESS)),
    <u32>width, <u32>height, <u32>pitch, <u32>readU16(fb + FB_BPP));
  return true;
}

function parseExecutable(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_EXECUTABLE_FILE);
  if (p.error != BOOT_OK) return false;
  if (resp != 0) {
    let file = readU64(resp + EXEC_FILE);
    if (file != 0) p.info.cmdline = readCString(readU64(file + FILE_CMDLINE), MAX_STRING_BYTES);
  }
  resp = responseOf(p, LIMINE_SLOT_EXECUTABLE_ADDRESS);
  if (p.error != BOOT_OK) return false;
  if (resp != 0) {
    p.info.kernelPhysStart = readU64(resp + EXEC_PHYSICAL_BASE);
    p.info.kernelVirtBase = readU64(resp + EXEC_VIRTUAL_BASE);
  }
  return true;
}

// The CPUs of the MP response, each with its limine_mp_info as the handle.
function parseSmp(p: Parser, arch: u32): bool {
  let resp = responseOf(p, LIMINE_SLOT_SMP);
  if (p.error != BOOT_OK) return false;
  if (resp == 0) return true;
  let x86 = arch == ARCH_X86_64;
  let count = readU64(resp + (x86 ? SMP_CPU_COUNT_X86_64 : SMP_CPU_COUNT_AARCH64));
  let cpus = readU64(resp + (x86 ? SMP_CPUS_X86_64 : SMP_CPUS_AARCH64));
  if (count > <u64>MAX_CPUS) {
    return p.fail(E_BOOT_TOO_MANY, "SMP response claims " + count.toString() + " CPUs");
  }
  if (count > 0 && cpus == 0) {
    return p.fail(E_BOOT_BAD_POINTER, "SMP response lists " + count.toString() +
      " CPUs but its cpus array is null");
  }
  for (let i: u64 = 0; i < count; i++) {
    let cpu = readU64(cpus + i * 8);
    if (cpu == 0) return p.fail(E_BOOT_BAD_POINTER, "SMP cpus[" + i.toString() + "] is null");
    let hwid = x86 ? <u64>readU32(cpu + MP_INFO_LAPIC_ID_X86_64)
      : readU64(cpu + MP_INFO_MPIDR_AARCH64) & MPIDR_AFFINITY;
    p.info.cpus.push(new CpuEntry(hwid, CPU_START_LIMINE, cpu));
  }
  p.info.cpuCount = <u32>count;
  p.info.bootCpuHwid = x86 ? <u64>readU32(resp + SMP_BSP_LAPIC_ID_X86_64)
    : readU64(resp + SMP_BSP_MPIDR_AARCH64) & MPIDR_AFFINITY;
  return true;
}

function parseDtb(p: Parser): bool {
  let resp = responseOf(p, LIMINE_SLOT_DTB);
  if (p.error != BOOT_OK) return false;
  if (resp != 0) p.info.dtb = p.toVirtual(readU64(resp + DTB_POINTER));
  return true;
}

// Nothing to take from the paging mode answer yet; its slot is still checked.
function checkPagingMode(p: Parser): bool {
  responseOf(p, LIMINE_SLOT_PAGING_MODE);
  return p.error == BOOT_OK;
}
