// Signed modules, the Node side: the trailer, signing, verifying, and the
// signing key. kernel/module.ts is the other side; the two agree byte for
// byte (tests/unit/module_fixtures.ts is made here and checked there).
//
// A signed module is one file, loaded by the boot loader as one module:
//
//   0                 elf              elf + manifest         size − 120     size
//   ┌─────────────────┬─────────────────┬────────────────────┬──────────────┐
//   │ ELF executable  │ binary manifest │ trailer header     │ signature    │
//   │ (none in a boot │ (CAMM, or CAMB  │ 56 bytes           │ 64 bytes     │
//   │  manifest)      │  for the boot   │                    │              │
//   │                 │  manifest)      │                    │              │
//   └─────────────────┴─────────────────┴────────────────────┴──────────────┘
//   └──────────────────── hashed: SHA-512 ───────────────────┘
//
// The trailer, the last 120 bytes, little-endian:
//
//    0                  8         10     11     12          16           20     24
//   ┌──────────────────┬─────────┬──────┬──────┬───────────┬────────────┬──────┐
//   │ "CAMSIG01"       │ version │ kind │ arch │ elf bytes │ manifest   │ 0    │
//   │                  │ u16 = 1 │ u8   │ u8   │ u32       │ bytes u32  │ u32  │
//   ├──────────────────┴─────────┴──────┴──────┴───────────┴────────────┴──────┤
//   │ signer's Ed25519 public key, 32 bytes (which key: the kernel compares)   │ 24
//   ├──────────────────────────────────────────────────────────────────────────┤
//   │ Ed25519 signature, 64 bytes                                              │ 56
//   └──────────────────────────────────────────────────────────────────────────┘ 120
//
//   kind: 1 service module (ELF + CAMM manifest), 2 boot manifest (CAMB, no ELF)
//   arch: 1 x86_64, 2 aarch64 (boot/handoff.ts ARCH_*)
//   elf bytes + manifest bytes + 120 = the module's size, exactly.
//
// What is signed: the 80-byte statement
//
//   ┌──────────────────────────────┬─────────────────────────────────────────┐
//   │ "CAM-OS module v1" (16 bytes)│ SHA-512 of module bytes [0, size − 64)  │
//   └──────────────────────────────┴─────────────────────────────────────────┘
//
// i.e. everything before the signature (ELF, manifest, trailer header with
// the key), through SHA-512. The kernel hashes a module of megabytes where
// it lies, in 4 KiB chunks, and hands ed25519_verify 80 bytes: nothing of
// the module is copied into the kernel heap. The context string keeps a
// signature over a module from meaning anything else.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ARCH_CODE, Arch } from "./manifest";

export const TRAILER_MAGIC = "CAMSIG01";
export const TRAILER_VERSION = 1;
export const TRAILER_BYTES = 120;
export const TRAILER_HEADER_BYTES = 56;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNING_CONTEXT = "CAM-OS module v1";
export const MAX_MODULE_BYTES = 16 * 1024 * 1024;

export const KIND_SERVICE = 1;
export const KIND_BOOT_MANIFEST = 2;

export const DEV_KEY_PATH = "keys/dev-ed25519.pem";
export const KEY_ENV = "CAMOS_SIGNING_KEY";

export class SignError extends Error {}

// ---------------------------------------------------------------------------
// Keys. A PKCS#8 PEM private key; the public half is derived from it.

// The raw 32-byte public key of an Ed25519 key.
export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return der.subarray(der.length - PUBLIC_KEY_BYTES); // SPKI: 12-byte prefix, then the key
}

// A private key from a 32-byte seed (the tests' fixed keys).
export function keyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new SignError("an Ed25519 seed is 32 bytes");
  const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: "der", type: "pkcs8" });
}

export function readPrivateKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new SignError(`${path}: not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new SignError(`${path}: a ${key.asymmetricKeyType} key; modules are signed with Ed25519 (openssl genpkey -algorithm ed25519)`);
  }
  return key;
}

// Which key signs, and where it came from: an explicit path, else
// CAMOS_SIGNING_KEY, else the development key, made on first use.
export function signingKey(explicit?: string, env: NodeJS.ProcessEnv = process.env): { key: KeyObject; path: string; created: boolean } {
  const chosen = explicit ?? env[KEY_ENV];
  if (chosen) {
    if (!existsSync(chosen)) throw new SignError(`signing key ${chosen} does not exist (${explicit ? "--key" : KEY_ENV})`);
    return { key: readPrivateKey(chosen), path: chosen, created: false };
  }
  if (existsSync(DEV_KEY_PATH)) return { key: readPrivateKey(DEV_KEY_PATH), path: DEV_KEY_PATH, created: false };
  createDevKey(DEV_KEY_PATH);
  return { key: readPrivateKey(DEV_KEY_PATH), path: DEV_KEY_PATH, created: true };
}

// A new Ed25519 key at `path`, readable by its owner only.
export function createDevKey(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" });
  writeFileSync(path, pem, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600); // whatever the umask did
}

// A warning when a key file can be read by others, else "".
export function keyPermissionWarning(path: string): string {
  const mode = statSync(path).mode & 0o777;
  return (mode & 0o077) !== 0 ? `${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it` : "";
}

export function keyId(publicKey: Buffer): string {
  return publicKey.subarray(0, 8).toString("hex");
}

// ---------------------------------------------------------------------------
// Signing and verifying.

export interface ModuleParts {
  kind: number;          // KIND_*
  arch: Arch;
  elf: Buffer;           // empty for a boot manifest
  manifest: Buffer;
}

export function signedStatement(hashed: Buffer): Buffer {
  const digest = createHash("sha512").update(hashed).digest();
  return Buffer.concat([Buffer.from(SIGNING_CONTEXT, "latin1"), digest]);
}

export function trailerHeader(parts: ModuleParts, publicKey: Buffer): Buffer {
  const header = Buffer.alloc(TRAILER_HEADER_BYTES);
  header.write(TRAILER_MAGIC, 0, "latin1");
  header.writeUInt16LE(TRAILER_VERSION, 8);
  header.writeUInt8(parts.kind, 10);
  header.writeUInt8(ARCH_CODE[parts.arch], 11);
  header.writeUInt32LE(parts.elf.length, 12);
  header.writeUInt32LE(parts.manifest.length, 16);
  publicKey.copy(header, 24);
  return header;
}

// The signed module: ELF | manifest | trailer. Deterministic: Ed25519
// signatures are, and nothing else varies.
export function signModule(parts: ModuleParts, key: KeyObject): Buffer {
  if (parts.kind === KIND_BOOT_MANIFEST && parts.elf.length > 0) throw new SignError("a boot manifest module has no ELF part");
  if (parts.kind === KIND_SERVICE && parts.elf.length === 0) throw new SignError("a service module needs its ELF");
  const hashed = Buffer.concat([parts.elf, parts.manifest, trailerHeader(parts, rawPublicKey(key))]);
  const size = hashed.length + SIGNATURE_BYTES;
  if (size > MAX_MODULE_BYTES) throw new SignError(`the module would be ${size} bytes, more than the ${MAX_MODULE_BYTES} the kernel takes`);
  return Buffer.concat([hashed, sign(null, signedStatement(hashed), key)]);
}

export interface ModuleTrailer {
  version: number;
  kind: number;
  arch: number;
  elfBytes: number;
  manifestBytes: number;
  publicKey: Buffer;
  signature: Buffer;
}

// The trailer of `module`; throws when it is not one.
export function readTrailer(module: Buffer): ModuleTrailer {
  if (module.length < TRAILER_BYTES) throw new SignError(`${module.length} bytes: too small for a signed module`);
  const t = module.subarray(module.length - TRAILER_BYTES);
  if (t.toString("latin1", 0, 8) !== TRAILER_MAGIC) throw new SignError(`no ${TRAILER_MAGIC} trailer: not a signed module`);
  const trailer = {
    version: t.readUInt16LE(8), kind: t.readUInt8(10), arch: t.readUInt8(11),
    elfBytes: t.readUInt32LE(12), manifestBytes: t.readUInt32LE(16),
    publicKey: Buffer.from(t.subarray(24, 56)), signature: Buffer.from(t.subarray(56, 120)),
  };
  if (trailer.version !== TRAILER_VERSION) throw new SignError(`trailer version ${trailer.version}, expected ${TRAILER_VERSION}`);
  if (trailer.elfBytes + trailer.manifestBytes + TRAILER_BYTES !== module.length) {
    throw new SignError(`trailer sizes (ELF ${trailer.elfBytes} + manifest ${trailer.manifestBytes} + ${TRAILER_BYTES}) are not the module's ${module.length} bytes`);
  }
  return trailer;
}

// Checks a module's signature against `publicKey` (raw 32 bytes); returns
// its trailer and parts, throws with the reason otherwise.
export function verifyModule(module: Buffer, publicKey: Buffer): { trailer: ModuleTrailer; elf: Buffer; manifest: Buffer } {
  const trailer = readTrailer(module);
  if (!trailer.publicKey.equals(publicKey)) throw new SignError(`signed by another key (${keyId(trailer.publicKey)}, trusted ${keyId(publicKey)})`);
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]);
  const key = createPublicKey({ key: spki, format: "der", type: "spki" });
  const hashed = module.subarray(0, module.length - SIGNATURE_BYTES);
  if (!verify(null, signedStatement(hashed), key, trailer.signature)) throw new SignError("bad signature");
  return {
    trailer,
    elf: module.subarray(0, trailer.elfBytes),
    manifest: module.subarray(trailer.elfBytes, trailer.elfBytes + trailer.manifestBytes),
  };
}

// ---------------------------------------------------------------------------
// The kernel's copy of the public key: AssemblyScript source, imported by
// the kernel file that calls verifyModule (`../build/kernel/trusted_key`).

export function trustedKeySource(publicKey: Buffer, keyPath: string): string {
  const bytes = [...publicKey].map((b) => "0x" + b.toString(16).padStart(2, "0"));
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) rows.push("  " + bytes.slice(i, i + 8).join(", ") + ",");
  return `// Generated by tools/sign.ts from ${keyPath}: do not edit, do not commit.
// The one Ed25519 public key whose signatures the kernel accepts on boot
// modules (kernel/module.ts verifyModule); the key that signed this image.

// The 32-byte raw public key, in static data: a pointer for ed25519_verify.
export const TRUSTED_KEY: usize = memory.data<u8>([
${rows.join("\n")}
]);

// Its first 8 bytes in hex, for the boot log.
export const TRUSTED_KEY_ID: string = "${keyId(publicKey)}";
`;
}

// Writes `text` to `path` only when it differs, so make sees a change only
// when there is one.
export function writeIfChanged(path: string, text: string | Buffer): boolean {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  if (existsSync(path) && readFileSync(path).equals(bytes)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return true;
}

// ---------------------------------------------------------------------------
// The ELF checks of kernel/module.ts elfCheck, with the same messages, so
// the signer refuses at build time what the kernel would refuse at boot.

export const USER_IMAGE_BASE = 0x400000n;
export const USER_IMAGE_END = 0x100000000n;
const PAGE = 0x1000n;
const MACHINE: Record<string, number> = { x86_64: 62, aarch64: 183 };
const MACHINE_NAME: Record<number, string> = { 62: "x86_64", 183: "aarch64" };

// The first reason the kernel would refuse `elf` on `arch`, or "".
export function elfProblem(elf: Buffer, arch: Arch): string {
  if (elf.length < 64) return `ELF: ${elf.length} bytes, shorter than an ELF header`;
  if (elf.readUInt32LE(0) !== 0x464c457f) return "not an ELF file";
  if (elf[4] !== 2 || elf[5] !== 1 || elf[6] !== 1) return "ELF is not 64-bit little-endian version 1";
  const type = elf.readUInt16LE(16);
  if (type !== 2) return `ELF type ${type} is not a static executable (ET_EXEC)`;
  const machine = elf.readUInt16LE(18);
  if (machine !== MACHINE[arch]) return `ELF for ${MACHINE_NAME[machine] ?? `machine ${machine}`}, this machine is ${arch}`;
  if (elf.readUInt32LE(20) !== 1) return "ELF version is not 1";
  if (elf.readUInt16LE(52) !== 64 || elf.readUInt16LE(54) !== 56) return "ELF header or program header size is not ELF64's";
  const entry = elf.readBigUInt64LE(24);
  const phoff = elf.readBigUInt64LE(32);
  const phnum = elf.readUInt16LE(56);
  const size = BigInt(elf.length);
  if (phnum === 0) return "ELF has no program headers";
  if (phnum > 32) return `ELF has ${phnum} program headers, at most 32`;
  if (phoff > size || BigInt(phnum * 56) > size - phoff) return "ELF program headers lie outside the file";

  const segments: { index: number; virt: bigint; end: bigint; memsz: bigint; x: boolean }[] = [];
  let imageBytes = 0n;
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + 56 * i;
    const ptype = elf.readUInt32LE(at);
    if (ptype === 2 || ptype === 3) return `ELF is dynamically linked (program header ${i}); services are static`;
    if (ptype !== 1) continue;
    const flags = elf.readUInt32LE(at + 4);
    const offset = elf.readBigUInt64LE(at + 8);
    const virt = elf.readBigUInt64LE(at + 16);
    const filesz = elf.readBigUInt64LE(at + 32);
    const memsz = elf.readBigUInt64LE(at + 40);
    const where = `segment ${i}`;
    if (segments.length >= 16) return "more than 16 loadable segments";
    if ((flags & 2) !== 0 && (flags & 1) !== 0) return `${where} is writable and executable`;
    if (memsz === 0n) return `${where} is empty`;
    if ((virt | offset) % PAGE !== 0n) return `${where} is not page-aligned (address 0x${virt.toString(16)}, offset 0x${offset.toString(16)})`;
    if (filesz > memsz) return `${where} has more file bytes than memory bytes`;
    if (offset > size || filesz > size - offset) return `${where} runs past the end of the ELF`;
    if (virt < USER_IMAGE_BASE || virt >= USER_IMAGE_END || memsz > USER_IMAGE_END - virt) {
      return `${where} (0x${virt.toString(16)}, ${memsz} bytes) lies outside the user image range 0x400000..0xffffffff`;
    }
    const end = (virt + memsz + PAGE - 1n) / PAGE * PAGE;
    imageBytes += end - virt;
    if (imageBytes > 256n << 20n) return "the segments need more than 256 MiB";
    const other = segments.find((s) => virt < s.end && s.virt < end);
    if (other) return `segments ${other.index} and ${i} overlap`;
    segments.push({ index: i, virt, end, memsz, x: (flags & 1) !== 0 });
  }
  if (segments.length === 0) return "ELF has no loadable segment";
  const home = segments.find((s) => entry >= s.virt && entry - s.virt < s.memsz);
  if (!home) return `entry point 0x${entry.toString(16)} outside the image`;
  if (!home.x) return `entry point 0x${entry.toString(16)} is in segment ${home.index}, which is not executable`;
  return "";
}

// ---------------------------------------------------------------------------
// A module bundle: the boot modules in one file, for boot paths whose loader
// passes a single blob (the AArch64 Linux Image path: QEMU -initrd, U-Boot
// booti). Not signed itself: every module in it is, and the kernel matches
// names against the signed boot manifest as it does loader command lines.
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

export const BUNDLE_MAGIC = "CAMMODS1";
export const BUNDLE_HEADER_BYTES = 16;
export const BUNDLE_ENTRY_BYTES = 48;
export const BUNDLE_MAX_MODULES = 64;
const BUNDLE_ALIGN = 4096;

export function encodeBundle(modules: { name: string; bytes: Buffer }[]): Buffer {
  if (modules.length === 0 || modules.length > BUNDLE_MAX_MODULES) throw new SignError(`a bundle holds 1..${BUNDLE_MAX_MODULES} modules, not ${modules.length}`);
  const align = (n: number) => Math.ceil(n / BUNDLE_ALIGN) * BUNDLE_ALIGN;
  let at = align(BUNDLE_HEADER_BYTES + BUNDLE_ENTRY_BYTES * modules.length);
  const offsets = modules.map((m) => {
    const offset = at;
    at = align(at + m.bytes.length);
    return offset;
  });
  const last = modules.length - 1;
  const out = Buffer.alloc(offsets[last] + modules[last].bytes.length);
  out.write(BUNDLE_MAGIC, 0, "latin1");
  out.writeUInt32LE(modules.length, 8);
  modules.forEach((m, i) => {
    const entry = BUNDLE_HEADER_BYTES + BUNDLE_ENTRY_BYTES * i;
    const name = Buffer.from(m.name, "utf8");
    if (name.length > 32) throw new SignError(`module name ${m.name} is longer than 32 bytes`);
    name.copy(out, entry);
    out.writeBigUInt64LE(BigInt(offsets[i]), entry + 32);
    out.writeBigUInt64LE(BigInt(m.bytes.length), entry + 40);
    m.bytes.copy(out, offsets[i]);
  });
  return out;
}

export function decodeBundle(bundle: Buffer): { name: string; bytes: Buffer }[] {
  if (bundle.length < BUNDLE_HEADER_BYTES || bundle.toString("latin1", 0, 8) !== BUNDLE_MAGIC) throw new SignError("not a module bundle (no CAMMODS1)");
  const count = bundle.readUInt32LE(8);
  const out: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const entry = BUNDLE_HEADER_BYTES + BUNDLE_ENTRY_BYTES * i;
    const raw = bundle.subarray(entry, entry + 32);
    const end = raw.indexOf(0);
    const offset = Number(bundle.readBigUInt64LE(entry + 32));
    const size = Number(bundle.readBigUInt64LE(entry + 40));
    out.push({ name: raw.subarray(0, end < 0 ? 32 : end).toString("utf8"), bytes: bundle.subarray(offset, offset + size) });
  }
  return out;
}
