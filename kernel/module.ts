// The module verifier: from a boot module (a signed file the loader put in
// memory) to a VerifiedModule, or a named error with a message for the boot
// log. Nothing is loaded or mapped here; kernel/proc.ts does that from what
// this file hands it.
//
// A signed module (tools/module.ts writes it; the layouts are drawn there
// and below):
//
//   0                 elf              elf + manifest         size − 120     size
//   ┌─────────────────┬─────────────────┬────────────────────┬──────────────┐
//   │ ELF executable  │ binary manifest │ trailer header     │ signature    │
//   └─────────────────┴─────────────────┴────────────────────┴──────────────┘
//   └──────────────── SHA-512, signed with Ed25519 ──────────┘
//
// The checks, in order, each with its own message:
//   1. the trailer: size bounds, magic, version, sizes that add up, kind,
//      architecture, the signer's key is the trusted key;
//   2. the signature: Ed25519 over "CAM-OS module v1" || SHA-512(module
//      bytes before the signature);
//   3. the manifest: well-formed, bounded, and within the boot manifest's
//      grant for the service this module file is listed as;
//   4. the ELF: ELF64, little-endian, ET_EXEC for this machine, program
//      headers inside the file, PT_LOAD segments page-aligned, inside
//      [USER_IMAGE_BASE, USER_IMAGE_END), file bytes inside the file, not
//      overlapping, none writable and executable, the entry point in an
//      executable segment.
//
// Memory: the module stays where the loader put it and is read through
// arch.peek. The hash runs over it in 4 KiB chunks through one static
// buffer; only the manifest (at most MAX_BOOT_MANIFEST_BYTES) is copied
// into the heap, and freed once parsed. What was hashed is what is parsed
// afterwards: module memory is reserved (BootInfo.reservedRanges), never
// mapped into user space, and nothing else runs while the kernel does this.

import { peek } from "./arch";
import { IRQ_CONSOLE, IRQ_TIMER } from "./arch";
import {
  CAP_ENDPOINT, CAP_IO_PORTS, CAP_IRQ, CAP_MEMORY, CAP_MMIO, CAP_NOTIFICATION, CAP_PROCESS, CAP_SCHED, CAP_SCHED_TUNE,
  CAP_SLOTS, CAP_TYPE_COUNT, INIT_SLOT_DEATHS, MAX_CPUS, RIGHT_CALL, RIGHT_GRANT, RIGHT_MAP, RIGHT_READ, RIGHT_RECEIVE,
  RIGHT_SEND, RIGHT_WRITE, RIGHTS_ALL, SCHED_ONE, SCHED_SCORES, SCHED_UNPINNED,
} from "./abi";
import { ED25519_OK, ed25519_verify } from "./ed25519";
import { Sha512 } from "./sha512";
import {
  BootManifest, BootObject, BootService, CapGrant, Segment, ServiceManifest, VerifiedModule,
} from "./image";
import { ARCH_AARCH64, ARCH_X86_64, archName } from "../boot/handoff";
import { BootModule, hex } from "../boot/bootinfo";

// ---------------------------------------------------------------------------
// Errors: MODULE_OK, or which check refused the module. The message says
// the rest ("console.mod: bad signature").

export const MODULE_OK: i32 = 0;
export const E_MODULE_SIZE: i32 = 1;        // too small, too big, or trailer sizes that do not add up
export const E_MODULE_FORMAT: i32 = 2;      // no trailer magic, unknown version, wrong kind, reserved bytes set
export const E_MODULE_ARCH: i32 = 3;        // signed for another architecture
export const E_MODULE_KEY: i32 = 4;         // signed by a key this kernel does not trust
export const E_MODULE_SIGNATURE: i32 = 5;   // the signature does not verify
export const E_MODULE_MANIFEST: i32 = 6;    // manifest malformed or out of bounds
export const E_MODULE_UNLISTED: i32 = 7;    // not in the boot manifest, or it names another service
export const E_MODULE_GRANT: i32 = 8;       // the manifest asks for more than the boot manifest grants
export const E_MODULE_ELF: i32 = 9;         // not an ELF64 executable for this machine, headers out of bounds
export const E_MODULE_SEGMENT: i32 = 10;    // a PT_LOAD segment misaligned, out of range, past the file, or overlapping
export const E_MODULE_WX: i32 = 11;         // a segment writable and executable
export const E_MODULE_ENTRY: i32 = 12;      // entry point not in an executable segment

// ---------------------------------------------------------------------------
// Limits. A bigger value is garbage, not a big service.

export const MAX_MODULE_BYTES: u64 = 16 << 20;
export const MAX_CAPS: u32 = 64;
export const MAX_MEMORY_PAGES: u32 = 65536;       // 64 KiB pages: all of wasm32
export const MAX_SERVICES: u32 = 32;
export const MAX_OBJECTS: u32 = 64;
export const MAX_DEPENDS: u32 = 16;
export const MAX_QUEUE_DEPTH: u32 = 1024;
export const MAX_RESTARTS: u32 = 1000;
export const MAX_PROGRAM_HEADERS: u32 = 32;
export const MAX_SEGMENTS: u32 = 16;
export const MAX_IMAGE_BYTES: u64 = 256 << 20;    // all PT_LOAD memory of one service

// User images live below the window of the service's wasm linear memory
// (0x1_0000_0000 and up), above the unmapped low 4 MiB.
export const USER_IMAGE_BASE: u64 = 0x400000;
export const USER_IMAGE_END: u64 = 0x100000000;   // exclusive
const PAGE_BYTES: u64 = 4096;

export const BOOT_MANIFEST_FILE = "boot-manifest.mod";

// ---------------------------------------------------------------------------
// The trailer, the module's last 120 bytes:
//
//    0                  8         10     11     12          16           20     24
//   ┌──────────────────┬─────────┬──────┬──────┬───────────┬────────────┬──────┐
//   │ "CAMSIG01"       │ version │ kind │ arch │ elf bytes │ manifest   │ 0    │
//   │                  │ u16 = 1 │ u8   │ u8   │ u32       │ bytes u32  │ u32  │
//   ├──────────────────┴─────────┴──────┴──────┴───────────┴────────────┴──────┤
//   │ signer's Ed25519 public key, 32 bytes                                    │ 24
//   ├──────────────────────────────────────────────────────────────────────────┤
//   │ Ed25519 signature over "CAM-OS module v1" || SHA-512(bytes [0, size−64))  │ 56
//   └──────────────────────────────────────────────────────────────────────────┘ 120

export const TRAILER_BYTES: u32 = 120;
const TRAILER_VERSION: u16 = 1;
const T_VERSION: usize = 8;
const T_KIND: usize = 10;
const T_ARCH: usize = 11;
const T_ELF_BYTES: usize = 12;
const T_MANIFEST_BYTES: usize = 16;
const T_RESERVED: usize = 20;
const T_PUBLIC_KEY: usize = 24;
const T_SIGNATURE: usize = 56;
const SIGNATURE_BYTES: u32 = 64;
const PUBLIC_KEY_BYTES: u32 = 32;

export const KIND_SERVICE: u8 = 1;
export const KIND_BOOT_MANIFEST: u8 = 2;

const SIGNING_CONTEXT = "CAM-OS module v1";   // 16 bytes, then the 64-byte digest
const CONTEXT_BYTES: usize = 16;
const HASH_CHUNK_BYTES: u32 = 4096;

// Static buffers: verification allocates nothing but the manifest copy.
const trailer: usize = memory.data(<i32>TRAILER_BYTES);
const statement: usize = memory.data(<i32>(CONTEXT_BYTES + 64));
const hashChunk: usize = memory.data(<i32>HASH_CHUNK_BYTES);
const elfScratch: usize = memory.data(64);

// ---------------------------------------------------------------------------
// Binary manifests (the JSON side: tools/manifest.ts). Little-endian; every
// reserved byte is 0, and is checked.
//
// A capability record, 64 bytes (service manifests and boot grants):
//
//    0      1      2      3      4             8
//   ┌──────┬──────┬──────┬──────┬─────────────┬───────────────────────────┐
//   │ slot │ type │rights│  0   │ irq    u32  │ badge                 u64 │
//   ├──────┴──────┴──────┴──────┴─────────────┼───────────────────────────┤
//   │ base  u64 (io-ports: port, mmio: phys)  │ count u64 (ports / bytes) │ 16
//   ├─────────────────────────────────────────┴───────────────────────────┤
//   │ object: endpoint / notification name, 32 bytes, NUL-padded         │ 32
//   └─────────────────────────────────────────────────────────────────────┘ 64
//
// A service manifest, 80 + 64 × caps bytes:
//
//    0          4         6         8              12          16
//   ┌──────────┬─────────┬─────────┬──────────────┬───────────┐
//   │ "CAMM"   │ format  │ caps    │ memory pages │ 0         │
//   │          │ u16 = 2 │ u16≤64  │ u32          │ u32       │
//   ├──────────┴─────────┴─────────┴──────────────┴───────────┤
//   │ name, 32 bytes NUL-padded                                │ 16
//   │ version, 16 bytes NUL-padded                             │ 48
//   ├───────┬───────┬───────┬───────┬───────┬───────┬──────────┤
//   │urgency│import-│effici-│energy │ trust │ pin   │ 0        │ 64
//   │ u16   │ance   │ency   │ u16   │ u16   │ u16   │ u32      │
//   ├───────┴───────┴───────┴───────┴───────┴───────┴──────────┤
//   │ capability records × caps                                │ 80
//   └──────────────────────────────────────────────────────────┘
//   scores: thousandths, at most SCHED_ONE; pin: a CPU below MAX_CPUS, or
//   SCHED_UNPINNED. Format 1 had no scheduler block.
//
// The boot manifest, 16 + 40 × objects + Σ (96 + 64 × grants) bytes:
//
//    0          4         6         7          8      9          16
//   ┌──────────┬─────────┬─────────┬──────────┬──────┬──────────┐
//   │ "CAMB"   │ format  │ objects │ services │ init │ 0 × 7    │
//   │          │ u16 = 2 │ u8 ≤ 64 │ u8 1..32 │ u8   │          │
//   └──────────┴─────────┴─────────┴──────────┴──────┴──────────┘
//   object record × objects, 40 bytes each:
//   ┌──────────────────────────────┬──────┬──────────┬────────────────┐
//   │ name, 32 bytes NUL-padded    │ type │ 0 × 3    │ queue depth u32│
//   └──────────────────────────────┴──────┴──────────┴────────────────┘
//    0                              32     33         36               40
//   service record × services, 96 + 64 × grants bytes each:
//   ┌──────────────────────────────┬──────────────────────────────┐
//   │ name, 32 bytes NUL-padded    │ module file, 32 bytes        │ 0
//   ├───────────┬───────────┬──────┴─────┬────────┬────────┬──────┤
//   │ memory    │ restart   │ restart    │ depends│ grants │ 0    │ 64
//   │ pages u32 │ limit u32 │ backoff ms │ u8≤16  │ u8≤64  │ u16  │
//   ├───────────┴───────────┴────────────┴────────┴────────┴──────┤
//   │ depends: 16 × u8 service index (unused entries 0)           │ 80
//   │ capability records × grants (slot 0)                        │ 96
//   └─────────────────────────────────────────────────────────────┘

const MANIFEST_FORMAT: u16 = 2;
const NAME_BYTES: u32 = 32;
const VERSION_BYTES: u32 = 16;
const CAP_RECORD_BYTES: u32 = 64;
const SERVICE_HEADER_BYTES: u32 = 80;
const BOOT_HEADER_BYTES: u32 = 16;
const OBJECT_RECORD_BYTES: u32 = 40;
const SERVICE_RECORD_BYTES: u32 = 96;
const IO_PORT_LIMIT: u64 = 0x10000;

export const MAX_SERVICE_MANIFEST_BYTES: u32 = SERVICE_HEADER_BYTES + MAX_CAPS * CAP_RECORD_BYTES;
export const MAX_BOOT_MANIFEST_BYTES: u32 = BOOT_HEADER_BYTES + MAX_OBJECTS * OBJECT_RECORD_BYTES +
  MAX_SERVICES * (SERVICE_RECORD_BYTES + MAX_CAPS * CAP_RECORD_BYTES);

// Capability record fields.
const C_SLOT: usize = 0;
const C_TYPE: usize = 1;
const C_RIGHTS: usize = 2;
const C_RESERVED: usize = 3;
const C_IRQ: usize = 4;
const C_BADGE: usize = 8;
const C_BASE: usize = 16;
const C_COUNT: usize = 24;
const C_OBJECT: usize = 32;

// Service manifest header fields.
const M_FORMAT: usize = 4;
const M_CAP_COUNT: usize = 6;
const M_MEMORY_PAGES: usize = 8;
const M_RESERVED: usize = 12;
const M_NAME: usize = 16;
const M_VERSION: usize = 48;
const M_SCORES: usize = 64;        // SCHED_SCORES × u16
const M_PIN: usize = 74;
const M_SCHED_RESERVED: usize = 76;

// Boot manifest header, object and service record fields.
const B_FORMAT: usize = 4;
const B_OBJECT_COUNT: usize = 6;
const B_SERVICE_COUNT: usize = 7;
const B_INIT: usize = 8;
const B_RESERVED: usize = 9;       // 7 bytes
const O_NAME: usize = 0;
const O_TYPE: usize = 32;
const O_RESERVED: usize = 33;      // 3 bytes
const O_QUEUE_DEPTH: usize = 36;
const S_NAME: usize = 0;
const S_MODULE: usize = 32;
const S_MEMORY_PAGES: usize = 64;
const S_RESTART_LIMIT: usize = 68;
const S_RESTART_BACKOFF: usize = 72;
const S_DEPEND_COUNT: usize = 76;
const S_GRANT_COUNT: usize = 77;
const S_RESERVED: usize = 78;
const S_DEPENDS: usize = 80;

// ---------------------------------------------------------------------------
// ELF64 (System V gABI), the fields checked.

const ELF_HEADER_BYTES: u32 = 64;
const PROGRAM_HEADER_BYTES: u32 = 56;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const EI_VERSION: usize = 6;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const E_TYPE: usize = 16;
const E_MACHINE: usize = 18;
const E_VERSION: usize = 20;
const E_ENTRY: usize = 24;
const E_PHOFF: usize = 32;
const E_EHSIZE: usize = 52;
const E_PHENTSIZE: usize = 54;
const E_PHNUM: usize = 56;
const ET_EXEC: u16 = 2;
export const EM_X86_64: u16 = 62;
export const EM_AARCH64: u16 = 183;
const P_TYPE: usize = 0;
const P_FLAGS: usize = 4;
const P_OFFSET: usize = 8;
const P_VADDR: usize = 16;
const P_FILESZ: usize = 32;
const P_MEMSZ: usize = 40;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;
const PF_W: u32 = 2;

// ---------------------------------------------------------------------------
// Results: a value, or an error code and a message. Messages name the
// module file first, as the boot log prints them.

export class ModuleResult {
  constructor(
    public module: VerifiedModule | null,
    public error: i32,
    public message: string,
  ) {}

  get ok(): bool { return this.error == MODULE_OK; }
}

export class BootManifestResult {
  constructor(
    public manifest: BootManifest | null,
    public error: i32,
    public message: string,
  ) {}

  get ok(): bool { return this.error == MODULE_OK; }
}

// What the parsers and checkers below return. `message` has no file name;
// the callers add it.
export class Check {
  error: i32 = MODULE_OK;
  message: string = "";
  manifest: ServiceManifest | null = null;    // manifestParse
  boot: BootManifest | null = null;           // bootManifestDecode
  entry: u64 = 0;                             // elfCheck
  segments: Segment[] = [];                   // elfCheck

  get ok(): bool { return this.error == MODULE_OK; }

  fail(error: i32, message: string): Check {
    this.error = error;
    this.message = message;
    return this;
  }
}

// ---------------------------------------------------------------------------
// Public entries.

// "x86_64" / "aarch64" to the trailer's arch code (boot/handoff.ts ARCH_*);
// 0 for anything else.
export function moduleArch(name: string): u32 {
  if (name == "x86_64") return ARCH_X86_64;
  if (name == "aarch64") return ARCH_AARCH64;
  return 0;
}

// Verifies boot module `index`, named `file` by the loader, `size` bytes at
// kernel-virtual `addr`, against the boot manifest, for architecture `arch`
// (ARCH_*), trusting only the 32-byte Ed25519 public key at `trustedKey`
// (linear memory; the kernel passes TRUSTED_KEY from
// build/kernel/trusted_key.ts, the tests their own).
export function verifyModule(index: u32, file: string, addr: u64, size: u64, boot: BootManifest,
                             arch: u32, trustedKey: usize): ModuleResult {
  let signed = signedModuleCheck(addr, size, KIND_SERVICE, arch, trustedKey);
  if (!signed.ok) return moduleFail(file, signed);
  let elfBytes = <u64>load<u32>(trailer + T_ELF_BYTES);
  let manifestBytes = load<u32>(trailer + T_MANIFEST_BYTES);

  if (manifestBytes > MAX_SERVICE_MANIFEST_BYTES) {
    return moduleFail(file, new Check().fail(E_MODULE_MANIFEST, "manifest: " + manifestBytes.toString() +
      " bytes, more than the " + MAX_SERVICE_MANIFEST_BYTES.toString() + " a service manifest may have"));
  }
  let copy = heap.alloc(<usize>max<u32>(manifestBytes, 1));
  peek(addr + elfBytes, copy, manifestBytes);
  let parsed = manifestParse(copy, manifestBytes);
  heap.free(copy);
  if (!parsed.ok) return moduleFail(file, parsed);
  let manifest = changetype<ServiceManifest>(parsed.manifest);

  let serviceIndex = serviceByModule(boot, file);
  if (serviceIndex < 0) {
    return moduleFail(file, new Check().fail(E_MODULE_UNLISTED, "not in the boot manifest"));
  }
  let service = boot.services[serviceIndex];
  if (<u32>serviceIndex == boot.init) {
    for (let i = 0; i < manifest.caps.length; i++) {
      if (manifest.caps[i].slot >= INIT_SLOT_DEATHS) {
        return moduleFail(file, new Check().fail(E_MODULE_MANIFEST, "manifest: init's slot " + manifest.caps[i].slot.toString() +
          " is one the kernel fills (" + INIT_SLOT_DEATHS.toString() + ".." + (CAP_SLOTS - 1).toString() + ")"));
      }
    }
  }
  if (manifest.name != service.name) {
    return moduleFail(file, new Check().fail(E_MODULE_UNLISTED, "manifest names service '" + manifest.name +
      "', the boot manifest lists this module as '" + service.name + "'"));
  }
  let beyond = grantCheck(manifest, service);
  if (beyond.length > 0) return moduleFail(file, new Check().fail(E_MODULE_GRANT, beyond));

  let elf = elfCheck(addr, elfBytes, arch);
  if (!elf.ok) return moduleFail(file, elf);

  let module = new VerifiedModule();
  module.index = index;
  module.file = file;
  module.service = <u32>serviceIndex;
  module.elfVirt = addr;
  module.elfBytes = elfBytes;
  module.entry = elf.entry;
  module.segments = elf.segments;
  module.manifest = manifest;
  return new ModuleResult(module, MODULE_OK, "");
}

// Verifies and parses the signed boot manifest module (BOOT_MANIFEST_FILE).
export function bootManifestParse(file: string, addr: u64, size: u64, arch: u32, trustedKey: usize): BootManifestResult {
  let signed = signedModuleCheck(addr, size, KIND_BOOT_MANIFEST, arch, trustedKey);
  if (!signed.ok) return new BootManifestResult(null, signed.error, file + ": " + signed.message);
  let manifestBytes = load<u32>(trailer + T_MANIFEST_BYTES);
  if (manifestBytes > MAX_BOOT_MANIFEST_BYTES) {
    return new BootManifestResult(null, E_MODULE_MANIFEST, file + ": boot manifest: " + manifestBytes.toString() +
      " bytes, more than the " + MAX_BOOT_MANIFEST_BYTES.toString() + " it may have");
  }
  let copy = heap.alloc(<usize>max<u32>(manifestBytes, 1));
  peek(addr, copy, manifestBytes);
  let parsed = bootManifestDecode(copy, manifestBytes);
  heap.free(copy);
  if (!parsed.ok) return new BootManifestResult(null, parsed.error, file + ": " + parsed.message);
  return new BootManifestResult(parsed.boot, MODULE_OK, "");
}

function moduleFail(file: string, check: Check): ModuleResult {
  return new ModuleResult(null, check.error, file + ": " + check.message);
}

function serviceByModule(boot: BootManifest, file: string): i32 {
  for (let i = 0; i < boot.services.length; i++) {
    if (boot.services[i].module == file) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// 1 and 2: the trailer and the signature. On success the trailer is left in
// the static `trailer` buffer for the caller.

@inline function trailerMagicOk(): bool {
  // "CAMSIG01"
  return load<u8>(trailer) == 0x43 && load<u8>(trailer + 1) == 0x41 && load<u8>(trailer + 2) == 0x4d &&
    load<u8>(trailer + 3) == 0x53 && load<u8>(trailer + 4) == 0x49 && load<u8>(trailer + 5) == 0x47 &&
    load<u8>(trailer + 6) == 0x30 && load<u8>(trailer + 7) == 0x31;
}

export function signedModuleCheck(addr: u64, size: u64, kind: u8, arch: u32, trustedKey: usize): Check {
  let check = new Check();
  if (size < <u64>TRAILER_BYTES) {
    return check.fail(E_MODULE_SIZE, "too small to be a signed module (" + size.toString() + " bytes)");
  }
  if (size > MAX_MODULE_BYTES) {
    return check.fail(E_MODULE_SIZE, size.toString() + " bytes, more than the " +
      (MAX_MODULE_BYTES >> 20).toString() + " MiB a module may have");
  }
  peek(addr + size - <u64>TRAILER_BYTES, trailer, TRAILER_BYTES);
  if (!trailerMagicOk()) return check.fail(E_MODULE_FORMAT, "not a signed module (no CAMSIG01 trailer)");
  let version = load<u16>(trailer + T_VERSION);
  if (version != TRAILER_VERSION) {
    return check.fail(E_MODULE_FORMAT, "trailer version " + version.toString() + ", this kernel reads " +
      TRAILER_VERSION.toString());
  }
  if (load<u32>(trailer + T_RESERVED) != 0) return check.fail(E_MODULE_FORMAT, "reserved trailer bytes are not zero");
  let elfBytes = <u64>load<u32>(trailer + T_ELF_BYTES);
  let manifestBytes = <u64>load<u32>(trailer + T_MANIFEST_BYTES);
  if (elfBytes + manifestBytes + <u64>TRAILER_BYTES != size) {
    return check.fail(E_MODULE_SIZE, "trailer sizes (ELF " + elfBytes.toString() + " + manifest " +
      manifestBytes.toString() + " + " + TRAILER_BYTES.toString() + ") are not the module's " + size.toString() + " bytes");
  }
  let actualKind = load<u8>(trailer + T_KIND);
  if (actualKind != kind) {
    if (actualKind == KIND_BOOT_MANIFEST) return check.fail(E_MODULE_FORMAT, "a boot manifest, not a service module");
    if (actualKind == KIND_SERVICE) return check.fail(E_MODULE_FORMAT, "a service module, not a boot manifest");
    return check.fail(E_MODULE_FORMAT, "unknown module kind " + actualKind.toString());
  }
  if (kind == KIND_SERVICE && elfBytes == 0) return check.fail(E_MODULE_FORMAT, "a service module without an ELF");
  if (kind == KIND_BOOT_MANIFEST && elfBytes != 0) return check.fail(E_MODULE_FORMAT, "a boot manifest with an ELF part");
  let moduleArchCode = <u32>load<u8>(trailer + T_ARCH);
  if (moduleArchCode != arch) {
    let name = archName(moduleArchCode);
    return check.fail(E_MODULE_ARCH, "built for " + (name.length > 0 ? name : "architecture " + moduleArchCode.toString()) +
      ", this machine is " + archName(arch));
  }
  if (memory.compare(trailer + T_PUBLIC_KEY, trustedKey, PUBLIC_KEY_BYTES) != 0) {
    return check.fail(E_MODULE_KEY, "signed by another key (" + keyIdText(trailer + T_PUBLIC_KEY) +
      "), this kernel trusts " + keyIdText(trustedKey));
  }
  if (!signatureOk(addr, size, trustedKey)) return check.fail(E_MODULE_SIGNATURE, "bad signature");
  return check;
}

// The first 8 bytes of a key in hex: its id in the boot log.
function keyIdText(key: usize): string {
  let text = "";
  for (let i: usize = 0; i < 8; i++) {
    let b = load<u8>(key + i);
    text += (b < 16 ? "0" : "") + b.toString(16);
  }
  return text;
}

let hasher: Sha512 | null = null;

// Hashes module bytes [0, size − 64) where they lie, 4 KiB at a time, and
// checks the signature in the trailer over the statement.
function signatureOk(addr: u64, size: u64, trustedKey: usize): bool {
  let h = hasher;
  if (h == null) {
    h = new Sha512();
    hasher = h;
  }
  h.reset();
  let hashed = size - <u64>SIGNATURE_BYTES;
  let done: u64 = 0;
  while (done < hashed) {
    let n = <u32>min<u64>(hashed - done, <u64>HASH_CHUNK_BYTES);
    peek(addr + done, hashChunk, n);
    h.update(hashChunk, n);
    done += n;
  }
  for (let i = 0; i < <i32>CONTEXT_BYTES; i++) store<u8>(statement + <usize>i, <u8>SIGNING_CONTEXT.charCodeAt(i));
  h.finish(statement + CONTEXT_BYTES);
  return ed25519_verify(trailer + T_SIGNATURE, statement, CONTEXT_BYTES + 64, trustedKey) == ED25519_OK;
}

// ---------------------------------------------------------------------------
// Reading records out of a manifest copy in linear memory.

@inline function u8at(p: usize, off: usize): u32 { return <u32>load<u8>(p + off); }
@inline function u16at(p: usize, off: usize): u32 { return <u32>load<u16>(p + off); }
@inline function u32at(p: usize, off: usize): u32 { return load<u32>(p + off); }
@inline function u64at(p: usize, off: usize): u64 { return load<u64>(p + off); }

function allZero(p: usize, len: u32): bool {
  for (let i: u32 = 0; i < len; i++) if (load<u8>(p + i) != 0) return false;
  return true;
}

// The length of the NUL-padded field at `p`, or -1 when a byte after the
// first NUL is not NUL (two strings, or garbage, in one field).
function fieldLength(p: usize, width: u32): i32 {
  let len: u32 = 0;
  while (len < width && load<u8>(p + len) != 0) len++;
  return allZero(p + len, width - len) ? <i32>len : -1;
}

// A name as tools/manifest.ts allows it: [a-z0-9][a-z0-9_-]*, else "".
function readName(p: usize, width: u32): string {
  let len = fieldLength(p, width);
  if (len <= 0) return "";
  for (let i = 0; i < len; i++) {
    let c = load<u8>(p + <usize>i);
    let letterOrDigit = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if (!letterOrDigit && (i == 0 || (c != 0x2d && c != 0x5f))) return "";
  }
  return String.UTF8.decodeUnsafe(p, <usize>len);
}

// A module file name: [A-Za-z0-9][A-Za-z0-9._-]*, else "".
function readFileName(p: usize, width: u32): string {
  let len = fieldLength(p, width);
  if (len <= 0) return "";
  for (let i = 0; i < len; i++) {
    let c = load<u8>(p + <usize>i);
    let ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
      (i > 0 && (c == 0x2e || c == 0x2d || c == 0x5f));
    if (!ok) return "";
  }
  return String.UTF8.decodeUnsafe(p, <usize>len);
}

// Printable ASCII without spaces, else "".
function readVersion(p: usize, width: u32): string {
  let len = fieldLength(p, width);
  if (len <= 0) return "";
  for (let i = 0; i < len; i++) {
    let c = load<u8>(p + <usize>i);
    if (c < 0x21 || c > 0x7e) return "";
  }
  return String.UTF8.decodeUnsafe(p, <usize>len);
}

function magicIs(p: usize, magic: string): bool {
  for (let i = 0; i < 4; i++) if (<i32>load<u8>(p + <usize>i) != magic.charCodeAt(i)) return false;
  return true;
}

// Names as the JSON manifests spell them, by CAP_* number.
const CAP_TYPE_NAMES: string[] = ["none", "endpoint", "notification", "irq", "io-ports", "mmio", "memory",
  "process", "spawn", "audit", "log", "power", "sched", "sched-tune"];
// The scores as the JSON "sched" block names them, by SCHED_* number.
const SCHED_SCORE_NAMES: string[] = ["urgency", "importance", "efficiency", "energy", "trust"];

export function capTypeName(type: u8): string {
  return <i32>type < CAP_TYPE_NAMES.length ? CAP_TYPE_NAMES[type] : "type " + type.toString();
}

// What a manifest may ask for: every capability type but the ones that are
// made at run time (shared memory regions, process control from spawn).
function manifestType(type: u8): bool {
  return type >= CAP_ENDPOINT && type < CAP_TYPE_COUNT && type != CAP_MEMORY && type != CAP_PROCESS;
}

// The rights a capability of `type` can use (as tools/manifest.ts
// TYPE_RIGHTS): the scheduler's are read and written, nothing else.
function typeRights(type: u8): u8 {
  if (type == CAP_SCHED) return RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT;
  if (type == CAP_SCHED_TUNE) return RIGHT_WRITE | RIGHT_GRANT;
  return RIGHTS_ALL;
}

export function rightsText(rights: u8): string {
  let names: string[] = [];
  if (rights & RIGHT_SEND) names.push("send");
  if (rights & RIGHT_RECEIVE) names.push("receive");
  if (rights & RIGHT_CALL) names.push("call");
  if (rights & RIGHT_GRANT) names.push("grant");
  if (rights & RIGHT_READ) names.push("read");
  if (rights & RIGHT_WRITE) names.push("write");
  if (rights & RIGHT_MAP) names.push("map");
  return names.length > 0 ? names.join(",") : "none";
}

// "io-ports 0x60..0x64", "endpoint 'bait'", "irq 1", "log".
export function capText(cap: CapGrant): string {
  let type = capTypeName(cap.type);
  if (cap.type == CAP_IO_PORTS || cap.type == CAP_MMIO) return type + " " + hex(cap.base) + ".." + hex(cap.base + cap.count - 1);
  if (cap.type == CAP_ENDPOINT || cap.type == CAP_NOTIFICATION) return type + " '" + cap.name + "'";
  if (cap.type == CAP_IRQ) return type + " " + (cap.irq == IRQ_TIMER ? "timer" : "console");
  return type;
}

// One capability record at `p`: a CapGrant, or the reason in `why[0]`.
// A grant (boot manifest) has slot 0.
function capParse(p: usize, isGrant: bool, why: string[]): CapGrant | null {
  let cap = new CapGrant();
  cap.slot = u8at(p, C_SLOT);
  cap.type = <u8>u8at(p, C_TYPE);
  cap.rights = <u8>u8at(p, C_RIGHTS);
  cap.irq = u32at(p, C_IRQ);
  cap.badge = u64at(p, C_BADGE);
  cap.base = u64at(p, C_BASE);
  cap.count = u64at(p, C_COUNT);
  if (isGrant && cap.slot != 0) { why.push("slot " + cap.slot.toString() + " in a grant"); return null; }
  if (cap.slot >= CAP_SLOTS) { why.push("slot " + cap.slot.toString() + " out of 0.." + (CAP_SLOTS - 1).toString()); return null; }
  if (u8at(p, C_RESERVED) != 0) { why.push("reserved byte set"); return null; }
  if ((cap.rights & ~RIGHTS_ALL) != 0) { why.push("unknown rights " + hex(cap.rights)); return null; }
  let t = cap.type;
  let named = t == CAP_ENDPOINT || t == CAP_NOTIFICATION;
  let ranged = t == CAP_IO_PORTS || t == CAP_MMIO;
  if (!manifestType(t)) { why.push("unknown capability type " + t.toString()); return null; }
  if ((cap.rights & ~typeRights(t)) != 0) {
    why.push(capTypeName(t) + " with rights " + rightsText(cap.rights) + " (it takes " + rightsText(typeRights(t)) + ")"); return null;
  }
  if (named) {
    cap.name = readName(p + C_OBJECT, NAME_BYTES);
    if (cap.name.length == 0) { why.push(capTypeName(t) + " without a valid object name"); return null; }
  } else if (!allZero(p + C_OBJECT, NAME_BYTES)) {
    why.push(capTypeName(t) + " with an object name"); return null;
  }
  if (t != CAP_IRQ && cap.irq != 0) { why.push(capTypeName(t) + " with an irq"); return null; }
  if (t == CAP_IRQ && cap.irq != IRQ_TIMER && cap.irq != IRQ_CONSOLE) {
    why.push("irq " + cap.irq.toString() + " is no interrupt source"); return null;
  }
  if (!ranged && (cap.base != 0 || cap.count != 0)) { why.push(capTypeName(t) + " with a range"); return null; }
  if (ranged) {
    let end = cap.base + cap.count;
    if (cap.count == 0 || end < cap.base) { why.push(capTypeName(t) + " with an empty or wrapping range"); return null; }
    if (t == CAP_IO_PORTS && end > IO_PORT_LIMIT) { why.push("io-ports past 0xffff"); return null; }
    if (t == CAP_MMIO && ((cap.base | cap.count) & (PAGE_BYTES - 1)) != 0) {
      why.push(capText(cap) + " is not whole pages"); return null;
    }
  }
  return cap;
}

// ---------------------------------------------------------------------------
// 3: the service manifest, `len` bytes at `p` in linear memory.

export function manifestParse(p: usize, len: u32): Check {
  let check = new Check();
  if (len < SERVICE_HEADER_BYTES) {
    return check.fail(E_MODULE_MANIFEST, "manifest: " + len.toString() + " bytes, shorter than its " +
      SERVICE_HEADER_BYTES.toString() + "-byte header");
  }
  if (!magicIs(p, "CAMM")) return check.fail(E_MODULE_MANIFEST, "manifest: bad magic (not CAMM)");
  let format = u16at(p, M_FORMAT);
  if (format != <u32>MANIFEST_FORMAT) {
    return check.fail(E_MODULE_MANIFEST, "manifest: format " + format.toString() + ", this kernel reads " + MANIFEST_FORMAT.toString());
  }
  let count = u16at(p, M_CAP_COUNT);
  if (count > MAX_CAPS) {
    return check.fail(E_MODULE_MANIFEST, "manifest: " + count.toString() + " capabilities, at most " + MAX_CAPS.toString());
  }
  if (len != SERVICE_HEADER_BYTES + count * CAP_RECORD_BYTES) {
    return check.fail(E_MODULE_MANIFEST, "manifest: " + len.toString() + " bytes, but " + count.toString() +
      " capabilities make " + (SERVICE_HEADER_BYTES + count * CAP_RECORD_BYTES).toString());
  }
  if (u32at(p, M_RESERVED) != 0) return check.fail(E_MODULE_MANIFEST, "manifest: reserved header bytes are not zero");
  let manifest = new ServiceManifest();
  manifest.memoryPages = u32at(p, M_MEMORY_PAGES);
  if (manifest.memoryPages == 0 || manifest.memoryPages > MAX_MEMORY_PAGES) {
    return check.fail(E_MODULE_MANIFEST, "manifest: memory pages " + manifest.memoryPages.toString() + " out of 1.." +
      MAX_MEMORY_PAGES.toString());
  }
  manifest.name = readName(p + M_NAME, NAME_BYTES);
  if (manifest.name.length == 0) return check.fail(E_MODULE_MANIFEST, "manifest: the service name is missing or malformed");
  manifest.version = readVersion(p + M_VERSION, VERSION_BYTES);
  if (manifest.version.length == 0) return check.fail(E_MODULE_MANIFEST, "manifest: the version is missing or malformed");
  for (let i: u32 = 0; i < SCHED_SCORES; i++) {
    let score = u16at(p, M_SCORES + 2 * i);
    if (score > SCHED_ONE) {
      return check.fail(E_MODULE_MANIFEST, "manifest: " + SCHED_SCORE_NAMES[i] + " score " + score.toString() + " above " +
        SCHED_ONE.toString() + " (thousandths)");
    }
    manifest.scores[i] = score;
  }
  manifest.pin = u16at(p, M_PIN);
  if (manifest.pin != SCHED_UNPINNED && manifest.pin >= MAX_CPUS) {
    return check.fail(E_MODULE_MANIFEST, "manifest: pin " + manifest.pin.toString() + " is neither a cpu (0.." +
      (MAX_CPUS - 1).toString() + ") nor unpinned (" + hex(SCHED_UNPINNED) + ")");
  }
  if (u32at(p, M_SCHED_RESERVED) != 0) return check.fail(E_MODULE_MANIFEST, "manifest: reserved scheduler bytes are not zero");
  let slotsUsed: u64 = 0;
  let why: string[] = [];
  for (let i: u32 = 0; i < count; i++) {
    let cap = capParse(p + SERVICE_HEADER_BYTES + i * CAP_RECORD_BYTES, false, why);
    if (cap == null) return check.fail(E_MODULE_MANIFEST, "manifest: capability " + i.toString() + ": " + why[0]);
    let bit = (<u64>1) << cap.slot;
    if (slotsUsed & bit) {
      return check.fail(E_MODULE_MANIFEST, "manifest: capability " + i.toString() + ": slot " + cap.slot.toString() + " used twice");
    }
    slotsUsed |= bit;
    manifest.caps.push(cap);
  }
  check.manifest = manifest;
  return check;
}

// Does `granted` cover the same object as `asked` (the same endpoint,
// notification or interrupt, or a range that contains the one asked)?
function coversObject(granted: CapGrant, asked: CapGrant): bool {
  if (granted.type != asked.type) return false;
  let t = asked.type;
  if (t == CAP_ENDPOINT || t == CAP_NOTIFICATION) return granted.name == asked.name;
  if (t == CAP_IRQ) return granted.irq == asked.irq;
  if (t == CAP_IO_PORTS || t == CAP_MMIO) {
    // Both ranges were checked not to wrap.
    return asked.base >= granted.base && asked.base + asked.count <= granted.base + granted.count;
  }
  return true; // spawn, audit, log, power, sched, sched-tune: one kernel object each
}

// Why `manifest` asks for more than `service` grants, or "" when it does
// not: every capability must be covered by one grant of the same type and
// object, with rights a subset of the grant's and the grant's badge (a
// service does not choose how servers see it); the memory quota must be
// within the grant's.
export function grantCheck(manifest: ServiceManifest, service: BootService): string {
  if (manifest.memoryPages > service.memoryPages) {
    return "manifest asks for " + manifest.memoryPages.toString() + " memory pages, its grant is " +
      service.memoryPages.toString();
  }
  for (let i = 0; i < manifest.caps.length; i++) {
    let asked = manifest.caps[i];
    let covered = false;
    let sameObject = false;  // some grant covers the object...
    let rightsOk = false;    // ...and some such grant the rights, but not with that badge
    let granted = "";        // what the grants for the object allow, for the message
    for (let j = 0; j < service.grants.length; j++) {
      let g = service.grants[j];
      if (!coversObject(g, asked)) continue;
      sameObject = true;
      let enough = (asked.rights & ~g.rights) == 0;
      if (enough && asked.badge == g.badge) { covered = true; break; }
      if (enough) rightsOk = true;
      granted += (granted.length > 0 ? " | " : "") + rightsText(g.rights) + (g.badge != 0 ? " badge " + hex(g.badge) : "");
    }
    if (covered) continue;
    if (!sameObject) return "manifest asks for " + capText(asked) + " beyond its grant";
    if (!rightsOk) {
      return "manifest asks for " + capText(asked) + " with rights " + rightsText(asked.rights) + " beyond its grant (" + granted + ")";
    }
    return "manifest asks for " + capText(asked) + " with badge " + hex(asked.badge) + ", its grant says " + granted;
  }
  return "";
}

// ---------------------------------------------------------------------------
// The boot manifest, `len` bytes at `p` in linear memory.

export function bootManifestDecode(p: usize, len: u32): Check {
  let check = new Check();
  if (len < BOOT_HEADER_BYTES) {
    return check.fail(E_MODULE_MANIFEST, "boot manifest: " + len.toString() + " bytes, shorter than its header");
  }
  if (!magicIs(p, "CAMB")) return check.fail(E_MODULE_MANIFEST, "boot manifest: bad magic (not CAMB)");
  let format = u16at(p, B_FORMAT);
  if (format != <u32>MANIFEST_FORMAT) {
    return check.fail(E_MODULE_MANIFEST, "boot manifest: format " + format.toString() + ", this kernel reads " + MANIFEST_FORMAT.toString());
  }
  let objectCount = u8at(p, B_OBJECT_COUNT);
  let serviceCount = u8at(p, B_SERVICE_COUNT);
  let init = u8at(p, B_INIT);
  if (!allZero(p + B_RESERVED, 7)) return check.fail(E_MODULE_MANIFEST, "boot manifest: reserved header bytes are not zero");
  if (objectCount > MAX_OBJECTS) {
    return check.fail(E_MODULE_MANIFEST, "boot manifest: " + objectCount.toString() + " objects, at most " + MAX_OBJECTS.toString());
  }
  if (serviceCount == 0 || serviceCount > MAX_SERVICES) {
    return check.fail(E_MODULE_MANIFEST, "boot manifest: " + serviceCount.toString() + " services, not 1.." + MAX_SERVICES.toString());
  }
  if (init >= serviceCount) return check.fail(E_MODULE_MANIFEST, "boot manifest: init is service " + init.toString() + " of " + serviceCount.toString());
  let boot = new BootManifest();
  boot.init = init;

  let at: u32 = BOOT_HEADER_BYTES;
  if (len - at < objectCount * OBJECT_RECORD_BYTES) return check.fail(E_MODULE_MANIFEST, "boot manifest: objects run past its end");
  for (let i: u32 = 0; i < objectCount; i++, at += OBJECT_RECORD_BYTES) {
    let r = p + at;
    let object = new BootObject();
    object.name = readName(r + O_NAME, NAME_BYTES);
    object.type = <u8>u8at(r, O_TYPE);
    object.queueDepth = u32at(r, O_QUEUE_DEPTH);
    let where = "boot manifest: object " + i.toString();
    if (object.name.length == 0) return check.fail(E_MODULE_MANIFEST, where + ": name missing or malformed");
    if (!allZero(r + O_RESERVED, 3)) return check.fail(E_MODULE_MANIFEST, where + ": reserved bytes are not zero");
    if (object.type == CAP_ENDPOINT) {
      if (object.queueDepth == 0 || object.queueDepth > MAX_QUEUE_DEPTH) {
        return check.fail(E_MODULE_MANIFEST, where + ": queue depth " + object.queueDepth.toString() + " out of 1.." + MAX_QUEUE_DEPTH.toString());
      }
    } else if (object.type == CAP_NOTIFICATION) {
      if (object.queueDepth != 0) return check.fail(E_MODULE_MANIFEST, where + ": a notification with a queue");
    } else {
      return check.fail(E_MODULE_MANIFEST, where + ": type " + object.type.toString() + " is not an endpoint or a notification");
    }
    if (objectByName(boot, object.name) != null) return check.fail(E_MODULE_MANIFEST, where + ": '" + object.name + "' declared twice");
    boot.objects.push(object);
  }

  let depends: u8[][] = [];
  let why: string[] = [];
  for (let i: u32 = 0; i < serviceCount; i++) {
    let where = "boot manifest: service " + i.toString();
    if (len - at < SERVICE_RECORD_BYTES) return check.fail(E_MODULE_MANIFEST, where + " runs past its end");
    let r = p + at;
    let service = new BootService();
    service.name = readName(r + S_NAME, NAME_BYTES);
    service.module = readFileName(r + S_MODULE, NAME_BYTES);
    service.memoryPages = u32at(r, S_MEMORY_PAGES);
    service.restartLimit = u32at(r, S_RESTART_LIMIT);
    service.restartBackoffMs = u32at(r, S_RESTART_BACKOFF);
    let dependCount = u8at(r, S_DEPEND_COUNT);
    let grantCount = u8at(r, S_GRANT_COUNT);
    if (service.name.length == 0) return check.fail(E_MODULE_MANIFEST, where + ": name missing or malformed");
    where = "boot manifest: service '" + service.name + "'";
    if (service.module.length == 0) return check.fail(E_MODULE_MANIFEST, where + ": module file name missing or malformed");
    if (service.memoryPages == 0 || service.memoryPages > MAX_MEMORY_PAGES) {
      return check.fail(E_MODULE_MANIFEST, where + ": memory pages " + service.memoryPages.toString() + " out of 1.." + MAX_MEMORY_PAGES.toString());
    }
    if (service.restartLimit > MAX_RESTARTS) return check.fail(E_MODULE_MANIFEST, where + ": restart limit " + service.restartLimit.toString() + " above " + MAX_RESTARTS.toString());
    if (dependCount > MAX_DEPENDS) return check.fail(E_MODULE_MANIFEST, where + ": " + dependCount.toString() + " dependencies, at most " + MAX_DEPENDS.toString());
    if (grantCount > MAX_CAPS) return check.fail(E_MODULE_MANIFEST, where + ": " + grantCount.toString() + " grants, at most " + MAX_CAPS.toString());
    if (u16at(r, S_RESERVED) != 0 || !allZero(r + S_DEPENDS + dependCount, MAX_DEPENDS - dependCount)) {
      return check.fail(E_MODULE_MANIFEST, where + ": reserved bytes are not zero");
    }
    let mine: u8[] = [];
    for (let d: u32 = 0; d < dependCount; d++) {
      let target = u8at(r, S_DEPENDS + d);
      if (target >= serviceCount || target == i) {
        return check.fail(E_MODULE_MANIFEST, where + ": depends on service " + target.toString() + " (of " + serviceCount.toString() + ")");
      }
      mine.push(<u8>target);
    }
    depends.push(mine);
    at += SERVICE_RECORD_BYTES;
    if (len - at < grantCount * CAP_RECORD_BYTES) return check.fail(E_MODULE_MANIFEST, where + ": grants run past its end");
    for (let g: u32 = 0; g < grantCount; g++, at += CAP_RECORD_BYTES) {
      let cap = capParse(p + at, true, why);
      if (cap == null) return check.fail(E_MODULE_MANIFEST, where + ": grant " + g.toString() + ": " + why[0]);
      if (cap.type == CAP_ENDPOINT || cap.type == CAP_NOTIFICATION) {
        let object = objectByName(boot, cap.name);
        if (object == null || object.type != cap.type) {
          return check.fail(E_MODULE_MANIFEST, where + ": grant " + g.toString() + ": no " + capTypeName(cap.type) + " '" + cap.name + "' is declared");
        }
      }
      service.grants.push(cap);
    }
    for (let j = 0; j < boot.services.length; j++) {
      if (boot.services[j].name == service.name) return check.fail(E_MODULE_MANIFEST, where + ": listed twice");
      if (boot.services[j].module == service.module) return check.fail(E_MODULE_MANIFEST, where + ": module " + service.module + " used twice");
    }
    boot.services.push(service);
  }
  if (at != len) {
    return check.fail(E_MODULE_MANIFEST, "boot manifest: " + len.toString() + " bytes, its records end at " + at.toString());
  }
  if (depends[<i32>init].length > 0) return check.fail(E_MODULE_MANIFEST, "boot manifest: init depends on other services");
  if (!dependenciesAcyclic(depends)) return check.fail(E_MODULE_MANIFEST, "boot manifest: the dependencies have a cycle");
  for (let i = 0; i < boot.services.length; i++) {
    for (let d = 0; d < depends[i].length; d++) boot.services[i].depends.push(boot.services[<i32>depends[i][d]].name);
  }
  check.boot = boot;
  return check;
}

function objectByName(boot: BootManifest, name: string): BootObject | null {
  for (let i = 0; i < boot.objects.length; i++) {
    if (boot.objects[i].name == name) return boot.objects[i];
  }
  return null;
}

// Kahn's algorithm: repeatedly retire a service whose dependencies are all
// retired; a cycle leaves some never retired. n ≤ MAX_SERVICES.
function dependenciesAcyclic(depends: u8[][]): bool {
  let n = depends.length;
  let retired: u64 = 0;
  for (let round = 0; round < n; round++) {
    let progress = false;
    for (let i = 0; i < n; i++) {
      if (retired & ((<u64>1) << i)) continue;
      let ready = true;
      for (let d = 0; d < depends[i].length; d++) {
        if (!(retired & ((<u64>1) << depends[i][d]))) { ready = false; break; }
      }
      if (ready) { retired |= (<u64>1) << i; progress = true; }
    }
    if (!progress) break;
  }
  return retired == ((<u64>1) << n) - 1;
}

// ---------------------------------------------------------------------------
// 4: the ELF, `size` bytes at kernel-virtual `addr` (read through peek).

function machineName(machine: u32): string {
  if (machine == <u32>EM_X86_64) return "x86_64";
  if (machine == <u32>EM_AARCH64) return "aarch64";
  return "machine " + machine.toString();
}

export function elfCheck(addr: u64, size: u64, arch: u32): Check {
  let check = new Check();
  if (size < <u64>ELF_HEADER_BYTES) {
    return check.fail(E_MODULE_ELF, "ELF: " + size.toString() + " bytes, shorter than an ELF header");
  }
  let h = elfScratch;
  peek(addr, h, ELF_HEADER_BYTES);
  if (load<u32>(h) != 0x464c457f) return check.fail(E_MODULE_ELF, "not an ELF file");
  if (load<u8>(h + EI_CLASS) != ELFCLASS64 || load<u8>(h + EI_DATA) != ELFDATA2LSB || load<u8>(h + EI_VERSION) != 1) {
    return check.fail(E_MODULE_ELF, "ELF is not 64-bit little-endian version 1");
  }
  let type = load<u16>(h + E_TYPE);
  if (type != ET_EXEC) return check.fail(E_MODULE_ELF, "ELF type " + type.toString() + " is not a static executable (ET_EXEC)");
  let machine = <u32>load<u16>(h + E_MACHINE);
  let expected = arch == ARCH_AARCH64 ? EM_AARCH64 : EM_X86_64;
  if (machine != <u32>expected) {
    return check.fail(E_MODULE_ELF, "ELF for " + machineName(machine) + ", this machine is " + archName(arch));
  }
  if (load<u32>(h + E_VERSION) != 1) return check.fail(E_MODULE_ELF, "ELF version is not 1");
  if (load<u16>(h + E_EHSIZE) != <u16>ELF_HEADER_BYTES || load<u16>(h + E_PHENTSIZE) != <u16>PROGRAM_HEADER_BYTES) {
    return check.fail(E_MODULE_ELF, "ELF header or program header size is not ELF64's");
  }
  let entry = load<u64>(h + E_ENTRY);
  let phoff = load<u64>(h + E_PHOFF);
  let phnum = <u32>load<u16>(h + E_PHNUM);
  if (phnum == 0) return check.fail(E_MODULE_ELF, "ELF has no program headers");
  if (phnum > MAX_PROGRAM_HEADERS) {
    return check.fail(E_MODULE_ELF, "ELF has " + phnum.toString() + " program headers, at most " + MAX_PROGRAM_HEADERS.toString());
  }
  if (phoff > size || <u64>(phnum * PROGRAM_HEADER_BYTES) > size - phoff) {
    return check.fail(E_MODULE_ELF, "ELF program headers lie outside the file");
  }

  let segments: Segment[] = [];
  let indices: u32[] = [];   // program header index of each segment, for messages
  let imageBytes: u64 = 0;
  for (let i: u32 = 0; i < phnum; i++) {
    let ph = elfScratch;
    peek(addr + phoff + <u64>(i * PROGRAM_HEADER_BYTES), ph, PROGRAM_HEADER_BYTES);
    let ptype = load<u32>(ph + P_TYPE);
    if (ptype == PT_INTERP || ptype == PT_DYNAMIC) {
      return check.fail(E_MODULE_ELF, "ELF is dynamically linked (program header " + i.toString() + "); services are static");
    }
    if (ptype != PT_LOAD) continue;
    let where = "segment " + i.toString();
    let flags = load<u32>(ph + P_FLAGS);
    let s = new Segment();
    s.virt = load<u64>(ph + P_VADDR);
    s.memoryBytes = load<u64>(ph + P_MEMSZ);
    s.fileOffset = load<u64>(ph + P_OFFSET);
    s.fileBytes = load<u64>(ph + P_FILESZ);
    s.writable = (flags & PF_W) != 0;
    s.executable = (flags & PF_X) != 0;
    if (<u32>segments.length >= MAX_SEGMENTS) {
      return check.fail(E_MODULE_SEGMENT, "more than " + MAX_SEGMENTS.toString() + " loadable segments");
    }
    if (s.writable && s.executable) return check.fail(E_MODULE_WX, where + " is writable and executable");
    if (s.memoryBytes == 0) return check.fail(E_MODULE_SEGMENT, where + " is empty");
    if (((s.virt | s.fileOffset) & (PAGE_BYTES - 1)) != 0) {
      return check.fail(E_MODULE_SEGMENT, where + " is not page-aligned (address " + hex(s.virt) + ", offset " + hex(s.fileOffset) + ")");
    }
    if (s.fileBytes > s.memoryBytes) return check.fail(E_MODULE_SEGMENT, where + " has more file bytes than memory bytes");
    if (s.fileOffset > size || s.fileBytes > size - s.fileOffset) {
      return check.fail(E_MODULE_SEGMENT, where + " runs past the end of the ELF");
    }
    if (s.virt < USER_IMAGE_BASE || s.virt >= USER_IMAGE_END || s.memoryBytes > USER_IMAGE_END - s.virt) {
      return check.fail(E_MODULE_SEGMENT, where + " (" + hex(s.virt) + ", " + s.memoryBytes.toString() +
        " bytes) lies outside the user image range " + hex(USER_IMAGE_BASE) + ".." + hex(USER_IMAGE_END - 1));
    }
    imageBytes += pageEnd(s) - s.virt;
    if (imageBytes > MAX_IMAGE_BYTES) {
      return check.fail(E_MODULE_SEGMENT, "the segments need more than " + (MAX_IMAGE_BYTES >> 20).toString() + " MiB");
    }
    for (let j = 0; j < segments.length; j++) {
      let o = segments[j];
      if (s.virt < pageEnd(o) && o.virt < pageEnd(s)) {
        return check.fail(E_MODULE_SEGMENT, "segments " + indices[j].toString() + " and " + i.toString() + " overlap");
      }
    }
    segments.push(s);
    indices.push(i);
  }
  if (segments.length == 0) return check.fail(E_MODULE_SEGMENT, "ELF has no loadable segment");

  for (let j = 0; j < segments.length; j++) {
    let s = segments[j];
    if (entry >= s.virt && entry - s.virt < s.memoryBytes) {
      if (!s.executable) {
        return check.fail(E_MODULE_ENTRY, "entry point " + hex(entry) + " is in segment " + indices[j].toString() + ", which is not executable");
      }
      check.entry = entry;
      check.segments = segments;
      return check;
    }
  }
  return check.fail(E_MODULE_ENTRY, "entry point " + hex(entry) + " outside the image");
}

// The segment's end rounded up to a page: what it occupies once mapped.
// Cannot wrap: virt + memoryBytes ≤ USER_IMAGE_END, which is page-aligned.
@inline function pageEnd(s: Segment): u64 {
  return (s.virt + s.memoryBytes + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
}

// ---------------------------------------------------------------------------
// A module bundle: the boot modules in one file, for loaders that pass a
// single blob (the AArch64 Linux Image path: QEMU -initrd, U-Boot booti;
// boot/dtb.ts makes it the module "initrd"). Not signed itself: each
// module in it is, and its name is matched against the signed boot manifest
// like a loader's command line.
//
//    0                  8          12         16
//   ┌──────────────────┬──────────┬──────────┐
//   │ "CAMMODS1"       │ count    │ 0        │
//   │                  │ u32 1..64│ u32      │
//   ├──────────────────┴──────────┴──────────┴─────────────┐
//   │ entry × count, 48 bytes: name, 32 bytes NUL-padded │  16
//   │   (the module's file name), offset u64, size u64    │
//   ├─────────────────────────────────────────────────────┤
//   │ the modules, each at a 4 KiB-aligned offset, in     │
//   │ entry order, not overlapping, inside the bundle     │
//   └─────────────────────────────────────────────────────┘

const BUNDLE_HEADER_BYTES: u32 = 16;
const BUNDLE_ENTRY_BYTES: u32 = 48;
export const MAX_BUNDLE_MODULES: u32 = 64;
const bundleScratch: usize = memory.data(<i32>BUNDLE_ENTRY_BYTES);

export class BundleResult {
  constructor(
    public modules: BootModule[],
    public error: i32,
    public message: string,
  ) {}

  get ok(): bool { return this.error == MODULE_OK; }
}

function bundleFail(message: string): BundleResult {
  return new BundleResult([], E_MODULE_FORMAT, "module bundle: " + message);
}

// True when the `size` bytes at kernel-virtual `addr` start like a bundle.
export function isBundle(addr: u64, size: u64): bool {
  if (size < <u64>BUNDLE_HEADER_BYTES) return false;
  peek(addr, bundleScratch, 8);
  return load<u64>(bundleScratch) == 0x3153444f4d4d4143; // "CAMMODS1"
}

// The modules of the bundle at kernel-virtual `addr`, physical `base`,
// `size` bytes: one BootModule each (physical base, size, its name as the
// command line), as the other loaders would have given them.
export function bundleSplit(addr: u64, base: u64, size: u64): BundleResult {
  if (!isBundle(addr, size)) return bundleFail("no CAMMODS1 header");
  peek(addr + 8, bundleScratch, 8);
  let count = load<u32>(bundleScratch);
  if (load<u32>(bundleScratch + 4) != 0) return bundleFail("reserved header bytes are not zero");
  if (count == 0 || count > MAX_BUNDLE_MODULES) {
    return bundleFail(count.toString() + " modules, not 1.." + MAX_BUNDLE_MODULES.toString());
  }
  let tableEnd = <u64>(BUNDLE_HEADER_BYTES + count * BUNDLE_ENTRY_BYTES);
  if (tableEnd > size) return bundleFail("its table runs past its end");
  let modules: BootModule[] = [];
  let previousEnd = tableEnd;
  for (let i: u32 = 0; i < count; i++) {
    peek(addr + <u64>(BUNDLE_HEADER_BYTES + i * BUNDLE_ENTRY_BYTES), bundleScratch, BUNDLE_ENTRY_BYTES);
    let name = readFileName(bundleScratch, NAME_BYTES);
    let offset = load<u64>(bundleScratch + 32);
    let bytes = load<u64>(bundleScratch + 40);
    let where = "module " + i.toString();
    if (name.length == 0) return bundleFail(where + ": name missing or malformed");
    if ((offset & (PAGE_BYTES - 1)) != 0) return bundleFail(where + " (" + name + ") is not page-aligned");
    if (offset < previousEnd) return bundleFail(where + " (" + name + ") overlaps what comes before it");
    if (offset > size || bytes > size - offset) return bundleFail(where + " (" + name + ") runs past the end");
    for (let j = 0; j < modules.length; j++) {
      if (modules[j].cmdline == name) return bundleFail(where + ": '" + name + "' twice");
    }
    modules.push(new BootModule(base + offset, bytes, name, ""));
    previousEnd = offset + bytes;
  }
  return new BundleResult(modules, MODULE_OK, "");
}
