// Tiny real ELF64 executables for the tests of the signer and of the
// kernel's verifier (through tests/unit/module_fixtures.ts). Not a test
// file itself: tests import it.

import { Arch } from "../../tools/manifest";

export interface ElfSegment {
  vaddr: bigint;
  offset: bigint;
  filesz: bigint;  // -1n: the whole file
  memsz: bigint;
  flags: number;  // PF_R 4 | PF_W 2 | PF_X 1
}

const EM: Record<Arch, number> = { x86_64: 62, aarch64: 183 };
// exit(0): x86_64 "mov eax, 1; xor edi, edi; syscall; jmp $"; AArch64
// "mov x8, #1; mov x0, #0; svc #0; b .".
const EXIT_CODE: Record<Arch, Buffer> = {
  x86_64: Buffer.from("b80100000031ff0f05ebfe", "hex"),
  aarch64: Buffer.from("280080d2000080d2010000d400000014", "hex"),
};

// An ELF whose first segment (R+X at 0x400000) holds the headers and the
// code, and whose second is 4 KiB of zero-filled data (R+W at 0x401000);
// `segments` replaces them for the malformed cases.
export function tinyElf(arch: Arch, segments?: ElfSegment[], entryOverride?: bigint): Buffer {
  const count = segments?.length ?? 2;
  const codeOffset = 64 + 56 * count;
  const code = EXIT_CODE[arch];
  const size = codeOffset + code.length;
  const loads: ElfSegment[] = segments ?? [
    { vaddr: 0x400000n, offset: 0n, filesz: BigInt(size), memsz: BigInt(size), flags: 4 | 1 },
    { vaddr: 0x401000n, offset: 0n, filesz: 0n, memsz: 0x1000n, flags: 4 | 2 },
  ];
  const out = Buffer.alloc(size);
  out.write("\x7fELF", 0, "latin1");
  out.writeUInt8(2, 4);        // ELFCLASS64
  out.writeUInt8(1, 5);        // little-endian
  out.writeUInt8(1, 6);        // EV_CURRENT
  out.writeUInt16LE(2, 16);    // ET_EXEC
  out.writeUInt16LE(EM[arch], 18);
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(entryOverride ?? 0x400000n + BigInt(codeOffset), 24);
  out.writeBigUInt64LE(64n, 32); // e_phoff
  out.writeUInt16LE(64, 52);   // e_ehsize
  out.writeUInt16LE(56, 54);   // e_phentsize
  out.writeUInt16LE(count, 56);
  loads.forEach((s, i) => {
    const at = 64 + 56 * i;
    out.writeUInt32LE(1, at);  // PT_LOAD
    out.writeUInt32LE(s.flags, at + 4);
    out.writeBigUInt64LE(s.offset, at + 8);
    out.writeBigUInt64LE(s.vaddr, at + 16);
    out.writeBigUInt64LE(s.vaddr, at + 24);
    out.writeBigUInt64LE(s.filesz < 0n ? BigInt(size) : s.filesz, at + 32);
    out.writeBigUInt64LE(s.memsz, at + 40);
    out.writeBigUInt64LE(0x1000n, at + 48);
  });
  code.copy(out, codeOffset);
  return out;
}

