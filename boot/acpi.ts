// ACPI at boot: just enough to list the CPUs and to power the machine off.
//
// No AML interpreter: the MADT gives the processors, the FADT gives the PM1a
// control port, and a byte scan of the DSDT finds the \_S5_ package whose
// first element is SLP_TYPa. Tables hold physical addresses; the kernel reads
// them at physical + hhdmOffset.
//
//   RSDP  +0 "RSD PTR "  +8 u8 checksum (bytes 0..19 sum to 0)
//         +9 oem_id[6]   +15 u8 revision (>= 2: has an XSDT)
//         +16 u32 RSDT   +20 u32 length  +24 u64 XSDT
//         +32 u8 extended checksum (all `length` bytes sum to 0)
//
//   SDT header (36 bytes, every table)
//         +0 signature[4]  +4 u32 length (header included)  +8 u8 revision
//         +9 u8 checksum (all `length` bytes sum to 0)
//   RSDT: u32 table addresses from +36      XSDT: u64 table addresses from +36
//
//   MADT "APIC"  +44 entries: +0 u8 type  +1 u8 length
//         type 0 local APIC  +2 u8 processor uid  +3 u8 APIC id   +4 u32 flags
//         type 9 x2APIC      +4 u32 x2APIC id     +8 u32 flags    +12 u32 uid
//         flags bit 0 enabled, bit 1 online-capable: either lists the CPU,
//         started by INIT-SIPI-SIPI to its APIC id (CPU_START_SIPI)
//
//   FADT "FACP"  +40 u32 DSDT  +64 u32 PM1a_CNT_BLK  +140 u64 X_DSDT
//         +172 X_PM1a_CNT_BLK (generic address: +0 u8 space, 1 = system I/O;
//                              +4 u64 address)
//
//   DSDT  AML: NameOp 0x08 ['\'] "_S5_" PackageOp 0x12 PkgLength
//         NumElements SLP_TYPa ...      (SLP_TYPa as ZeroOp 0x00, OneOp
//         0x01, OnesOp 0xFF, BytePrefix 0x0A b, WordPrefix 0x0B, DWordPrefix
//         0x0C)
//
// Power-off is then "write SLP_TYPa << 10 | SLP_EN to PM1a_CNT" (POWER_ACPI_PORT).
// A bad RSDP is an error (no ACPI facts at all); a bad table is skipped with a
// warning. Neither stops the boot: the caller keeps POWER_NONE and one CPU.
// MADT entries are listed as found: firmware that lists one CPU both as a
// local APIC and as an x2APIC would list it twice (the spec forbids it).

import {
  BootInfo, CpuEntry, POWER_NONE, POWER_ACPI_PORT, MAX_CPUS, hex,
} from "./bootinfo";
import { CPU_START_SIPI } from "../kernel/arch";
import { readU8, readU16, readU32, readU64, readBytes, bytesEqual, readFixedString } from "./reader";

export const ACPI_OK: i32 = 0;
export const E_ACPI_NO_RSDP: i32 = 1;       // rsdp address is 0
export const E_ACPI_BAD_RSDP: i32 = 2;      // signature or length wrong
export const E_ACPI_BAD_CHECKSUM: i32 = 3;  // RSDP checksum wrong
export const E_ACPI_BAD_ROOT: i32 = 4;      // RSDT/XSDT unusable

const RSDP_SIGNATURE = "RSD PTR ";
const RSDP_V1_BYTES: u32 = 20;
const RSDP_V2_BYTES: u32 = 36;
const RSDP_MAX_BYTES: u32 = 64; // v2 is 36; leave room, refuse garbage
const RSDP_REVISION: u64 = 15;
const RSDP_OEM_ID: u64 = 9;
const RSDP_RSDT: u64 = 16;
const RSDP_LENGTH: u64 = 20;
const RSDP_XSDT: u64 = 24;

const SDT_HEADER_BYTES: u32 = 36;
const SDT_LENGTH: u64 = 4;
// Real tables are KiB; a DSDT of a big server is a few hundred KiB.
const MAX_TABLE_BYTES: u32 = 16 << 20;
const MAX_ROOT_ENTRIES: u32 = 1024;

const MADT_ENTRIES: u32 = 44;
const MADT_ENTRY_TYPE: u64 = 0;
const MADT_ENTRY_LENGTH: u64 = 1;
const MADT_LOCAL_APIC_ID: u64 = 3;
const MADT_LOCAL_APIC_FLAGS: u64 = 4;
const MADT_X2APIC_ID: u64 = 4;
const MADT_X2APIC_FLAGS: u64 = 8;
const MADT_LOCAL_APIC: u8 = 0;
const MADT_X2APIC: u8 = 9;
const MADT_LOCAL_APIC_BYTES: u32 = 8;
const MADT_X2APIC_BYTES: u32 = 16;
const CPU_ENABLED: u32 = 1 << 0;
const CPU_ONLINE_CAPABLE: u32 = 1 << 1;

const FADT_DSDT: u64 = 40;
const FADT_PM1A_CNT: u64 = 64;
const FADT_X_DSDT: u64 = 140;
const FADT_X_PM1A_CNT: u64 = 172;
const GAS_BYTES: u32 = 12;
const GAS_SPACE: u64 = 0;
const GAS_ADDRESS: u64 = 4;
const GAS_SYSTEM_IO: u8 = 1;
const MAX_IO_PORT: u64 = 0xFFFF;

const AML_NAME_OP: u8 = 0x08;
const AML_ROOT_CHAR: u8 = 0x5C; // '\'
const AML_PACKAGE_OP: u8 = 0x12;
const AML_ZERO_OP: u8 = 0x00;
const AML_ONE_OP: u8 = 0x01;
const AML_ONES_OP: u8 = 0xFF;
const AML_BYTE_PREFIX: u8 = 0x0A;
const AML_WORD_PREFIX: u8 = 0x0B;
const AML_DWORD_PREFIX: u8 = 0x0C;
const AML_S5_NAME: u32 = 0x5F35535F; // "_S5_" read as a little-endian u32

const SLP_TYP_MASK: u32 = 0x7;
const SLP_TYP_SHIFT: u32 = 10;
const SLP_EN: u32 = 1 << 13;

// Chunk buffer for checksums and the AML scan; static, boot is single-threaded.
const CHUNK_BYTES: u32 = 256;
const chunk: usize = memory.data(CHUNK_BYTES);

export class AcpiFacts {
  error: i32 = ACPI_OK;
  message: string = "";
  revision: u8 = 0;
  oemId: string = "";
  cpuCount: u32 = 0;            // cpus.length
  cpus: CpuEntry[] = [];        // enabled + online-capable processors, in MADT order
  madtFound: bool = false;
  fadtFound: bool = false;
  pm1aControlPort: u32 = 0;     // 0 = unknown
  slpTypA: i32 = -1;            // -1 = no \_S5_ found
  powerMethod: u32 = POWER_NONE;
  powerArg0: u64 = 0;
  powerArg1: u64 = 0;
  warnings: string[] = [];      // tables skipped, and why

  get ok(): bool { return this.error == ACPI_OK; }
}

function acpiFail(f: AcpiFacts, error: i32, message: string): AcpiFacts {
  f.error = error;
  f.message = "acpi: " + message;
  return f;
}

// Sum of `len` bytes at `addr`, mod 256 (0 for a valid ACPI structure).
function checksum(addr: u64, len: u32): u8 {
  let sum: u32 = 0;
  let done: u32 = 0;
  while (done < len) {
    let n = min<u32>(CHUNK_BYTES, len - done);
    readBytes(addr + done, chunk, n);
    for (let i: u32 = 0; i < n; i++) sum += load<u8>(chunk + i);
    done += n;
  }
  return <u8>sum;
}

// Reads the tables reachable from the RSDP at kernel-virtual `rsdp`.
export function acpiRead(rsdp: u64, hhdmOffset: u64): AcpiFacts {
  let f = new AcpiFacts();
  if (rsdp == 0) return acpiFail(f, E_ACPI_NO_RSDP, "no RSDP");
  if (!bytesEqual(rsdp, RSDP_SIGNATURE)) return acpiFail(f, E_ACPI_BAD_RSDP, "bad RSDP signature");
  if (checksum(rsdp, RSDP_V1_BYTES) != 0) {
    return acpiFail(f, E_ACPI_BAD_CHECKSUM, "bad RSDP checksum");
  }
  f.revision = readU8(rsdp + RSDP_REVISION);
  f.oemId = readFixedString(rsdp + RSDP_OEM_ID, 6);

  let root: u64 = 0;
  let entryBytes: u32 = 4;
  if (f.revision >= 2) {
    let length = readU32(rsdp + RSDP_LENGTH);
    if (length < RSDP_V2_BYTES || length > RSDP_MAX_BYTES) {
      return acpiFail(f, E_ACPI_BAD_RSDP, "bad RSDP length " + length.toString());
    }
    if (checksum(rsdp, length) != 0) {
      return acpiFail(f, E_ACPI_BAD_CHECKSUM, "bad RSDP extended checksum");
    }
    let xsdt = readU64(rsdp + RSDP_XSDT);
    if (xsdt != 0) { root = xsdt; entryBytes = 8; }
  }
  if (root == 0) root = <u64>readU32(rsdp + RSDP_RSDT);
  if (root == 0) return acpiFail(f, E_ACPI_BAD_ROOT, "no RSDT or XSDT");

  let rootVirt = root + hhdmOffset;
  let rootSig = entryBytes == 8 ? "XSDT" : "RSDT";
  if (!tableValid(f, rootVirt, rootSig)) {
    return acpiFail(f, E_ACPI_BAD_ROOT, rootSig + " at " + hex(root) + " is invalid");
  }
  let count = (readU32(rootVirt + SDT_LENGTH) - SDT_HEADER_BYTES) / entryBytes;
  if (count > MAX_ROOT_ENTRIES) count = MAX_ROOT_ENTRIES;

  let madt = findTable(f, rootVirt, entryBytes, count, "APIC", hhdmOffset);
  if (madt != 0) { f.madtFound = true; readCpus(f, madt); }
  let fadt = findTable(f, rootVirt, entryBytes, count, "FACP", hhdmOffset);
  if (fadt != 0) { f.fadtFound = true; readPowerOff(f, fadt, hhdmOffset); }
  return f;
}

// True when the table at `virt` has signature `sig`, a sane length and a
// zero checksum; otherwise records why in f.warnings.
function tableValid(f: AcpiFacts, virt: u64, sig: string): bool {
  if (!bytesEqual(virt, sig)) return false;
  let length = readU32(virt + SDT_LENGTH);
  if (length < SDT_HEADER_BYTES || length > MAX_TABLE_BYTES) {
    f.warnings.push("acpi: " + sig + " has bad length " + hex(length) + ", skipped");
    return false;
  }
  if (checksum(virt, length) != 0) {
    f.warnings.push("acpi: " + sig + " has a bad checksum, skipped");
    return false;
  }
  return true;
}

// Kernel-virtual address of the first valid table `sig` listed by the root
// table, 0 if none.
function findTable(f: AcpiFacts, root: u64, entryBytes: u32, count: u32, sig: string,
                   hhdmOffset: u64): u64 {
  for (let i: u32 = 0; i < count; i++) {
    let at = root + SDT_HEADER_BYTES + <u64>i * entryBytes;
    let phys = entryBytes == 8 ? readU64(at) : <u64>readU32(at);
    if (phys == 0) continue;
    let virt = phys + hhdmOffset;
    if (tableValid(f, virt, sig)) return virt;
  }
  return 0;
}

// Processors the MADT lists as enabled or online-capable, into f.cpus.
function readCpus(f: AcpiFacts, madt: u64): void {
  let length = readU32(madt + SDT_LENGTH);
  let offset = MADT_ENTRIES;
  while (offset + 2 <= length) {
    let entry = madt + offset;
    let type = readU8(entry + MADT_ENTRY_TYPE);
    let size = <u32>readU8(entry + MADT_ENTRY_LENGTH);
    if (size < 2 || size > length - offset) {
      f.warnings.push("acpi: MADT entry at " + hex(offset) + " is malformed, rest ignored");
      break;
    }
    offset += size;
    let isLocal = type == MADT_LOCAL_APIC;
    if (!isLocal && type != MADT_X2APIC) continue;
    let needed = isLocal ? MADT_LOCAL_APIC_BYTES : MADT_X2APIC_BYTES;
    if (size < needed) {
      f.warnings.push("acpi: MADT " + (isLocal ? "local APIC" : "x2APIC") + " entry at " +
        hex(offset - size) + " is only " + size.toString() + " bytes, ignored");
      continue;
    }
    let flags = readU32(entry + (isLocal ? MADT_LOCAL_APIC_FLAGS : MADT_X2APIC_FLAGS));
    if ((flags & (CPU_ENABLED | CPU_ONLINE_CAPABLE)) == 0) continue;
    if (<u32>f.cpus.length >= MAX_CPUS) {
      f.warnings.push("acpi: MADT lists more than " + MAX_CPUS.toString() + " CPUs, the rest ignored");
      break;
    }
    let hwid = isLocal ? <u64>readU8(entry + MADT_LOCAL_APIC_ID) : <u64>readU32(entry + MADT_X2APIC_ID);
    f.cpus.push(new CpuEntry(hwid, CPU_START_SIPI, 0));
  }
  f.cpuCount = <u32>f.cpus.length;
}

// PM1a control port from the FADT, SLP_TYPa from the DSDT; sets the power
// descriptor when both are known.
function readPowerOff(f: AcpiFacts, fadt: u64, hhdmOffset: u64): void {
  let length = readU32(fadt + SDT_LENGTH);
  f.pm1aControlPort = pm1aControlPort(fadt, length);

  let dsdt: u64 = 0;
  if (length >= <u32>FADT_X_DSDT + 8) dsdt = readU64(fadt + FADT_X_DSDT);
  if (dsdt == 0 && length >= <u32>FADT_DSDT + 4) dsdt = <u64>readU32(fadt + FADT_DSDT);
  if (dsdt != 0) {
    let virt = dsdt + hhdmOffset;
    if (tableValid(f, virt, "DSDT")) f.slpTypA = findS5SleepType(virt, readU32(virt + SDT_LENGTH));
  }
  if (f.pm1aControlPort != 0 && f.slpTypA >= 0) {
    f.powerMethod = POWER_ACPI_PORT;
    f.powerArg0 = f.pm1aControlPort;
    f.powerArg1 = (<u64>f.slpTypA << SLP_TYP_SHIFT) | SLP_EN;
  }
}

// The 32-bit PM1a_CNT_BLK, else the extended one when it is an I/O port.
function pm1aControlPort(fadt: u64, length: u32): u32 {
  if (length >= <u32>FADT_PM1A_CNT + 4) {
    let port = readU32(fadt + FADT_PM1A_CNT);
    if (port != 0 && <u64>port <= MAX_IO_PORT) return port;
  }
  if (length >= <u32>FADT_X_PM1A_CNT + GAS_BYTES &&
      readU8(fadt + FADT_X_PM1A_CNT + GAS_SPACE) == GAS_SYSTEM_IO) {
    let address = readU64(fadt + FADT_X_PM1A_CNT + GAS_ADDRESS);
    if (address != 0 && address <= MAX_IO_PORT) return <u32>address;
  }
  return 0;
}

// SLP_TYPa of the first well-formed \_S5_ package in the AML, -1 if none.
// Scans in chunks that overlap by 3 bytes so a name split across two chunks
// is still seen.
export function findS5SleepType(dsdt: u64, length: u32): i32 {
  let pos = SDT_HEADER_BYTES;
  while (pos + 4 <= length) {
    let n = min<u32>(CHUNK_BYTES, length - pos);
    readBytes(dsdt + pos, chunk, n);
    for (let i: u32 = 0; i + 4 <= n; i++) {
      if (load<u32>(chunk + i) != AML_S5_NAME) continue;
      let slp = decodeS5(dsdt, pos + i, length);
      if (slp >= 0) return slp;
    }
    if (pos + n >= length) break;
    pos += n - 3;
  }
  return -1;
}

// Decodes `Name(_S5_, Package(){ SLP_TYPa, ... })` whose name is at `at`.
function decodeS5(dsdt: u64, at: u32, length: u32): i32 {
  let named = at >= SDT_HEADER_BYTES + 1 && readU8(dsdt + at - 1) == AML_NAME_OP;
  let rooted = at >= SDT_HEADER_BYTES + 2 && readU8(dsdt + at - 1) == AML_ROOT_CHAR &&
    readU8(dsdt + at - 2) == AML_NAME_OP;
  if (!named && !rooted) return -1;
  let p = at + 4;
  if (p >= length || readU8(dsdt + p) != AML_PACKAGE_OP) return -1;
  p++;
  if (p >= length) return -1;
  p += 1 + (<u32>readU8(dsdt + p) >> 6);      // PkgLength: lead byte + 0..3 more
  if (p >= length || readU8(dsdt + p) == 0) return -1; // NumElements
  return decodeSmallInteger(dsdt, p + 1, length);
}

// An AML integer constant at `p`, masked to the 3 bits of SLP_TYP; -1 when
// the element is something else (a name, a method call...).
function decodeSmallInteger(dsdt: u64, p: u32, length: u32): i32 {
  if (p >= length) return -1;
  let op = readU8(dsdt + p);
  let value: u32;
  if (op == AML_ZERO_OP) value = 0;
  else if (op == AML_ONE_OP) value = 1;
  else if (op == AML_ONES_OP) value = 0xFFFFFFFF;
  else if (op == AML_BYTE_PREFIX && p + 2 <= length) value = readU8(dsdt + p + 1);
  else if (op == AML_WORD_PREFIX && p + 3 <= length) value = readU16(dsdt + p + 1);
  else if (op == AML_DWORD_PREFIX && p + 5 <= length) value = readU32(dsdt + p + 1);
  else return -1;
  return <i32>(value & SLP_TYP_MASK);
}

// Reads ACPI for `info` and applies what it found: the CPUs (list and count)
// when the loader gave none, the power-off method, and any warnings.
export function acpiApply(info: BootInfo): AcpiFacts {
  let f = acpiRead(info.rsdp, info.hhdmOffset);
  for (let i = 0; i < f.warnings.length; i++) info.warnings.push(f.warnings[i]);
  if (!f.ok) {
    info.warnings.push(f.message);
    return f;
  }
  if (info.cpuCount == 0) {
    info.cpuCount = f.cpuCount;
    info.cpus = f.cpus;
  }
  info.powerMethod = f.powerMethod;
  info.powerArg0 = f.powerArg0;
  info.powerArg1 = f.powerArg1;
  return f;
}
