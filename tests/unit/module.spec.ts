// kernel/module.ts: signed modules, manifests, grants, ELF checks.
//
// The signed inputs come from tests/unit/module_fixtures.ts (made by the
// real Node tools with fixed test keys; see its header); the malformed
// cases are those fixtures with bytes changed here, or ELFs and manifests
// built here in memory. The mocked arch.peek reads linear memory, so a
// buffer's address stands in for a module's kernel-virtual address.

import {
  verifyModule, bootManifestParse, bootManifestDecode, manifestParse, grantCheck, elfCheck, moduleArch,
  MODULE_OK, E_MODULE_SIZE, E_MODULE_FORMAT, E_MODULE_ARCH, E_MODULE_KEY, E_MODULE_SIGNATURE, E_MODULE_MANIFEST,
  E_MODULE_UNLISTED, E_MODULE_GRANT, E_MODULE_ELF, E_MODULE_SEGMENT, E_MODULE_WX, E_MODULE_ENTRY,
  MAX_MODULE_BYTES, TRAILER_BYTES, EM_AARCH64, ModuleResult, bundleSplit, isBundle,
} from "../../kernel/module";
import { BootManifest, CapGrant, ServiceManifest, VerifiedModule } from "../../kernel/image";
import {
  CAP_TYPE_COUNT, CAP_ENDPOINT, CAP_IO_PORTS, CAP_IRQ, CAP_LOG, CAP_NOTIFICATION, CAP_SCHED, CAP_SCHED_TUNE, RIGHT_CALL,
  RIGHT_GRANT, RIGHT_READ, RIGHT_RECEIVE, RIGHT_SEND, RIGHT_WRITE, SCHED_ENERGY, SCHED_TRUST, SCHED_UNPINNED, SCHED_URGENCY,
} from "../../kernel/abi";
import { ARCH_AARCH64, ARCH_X86_64 } from "../../boot/handoff";
import { Buf } from "./fixtures";
import {
  TEST_KEY_A, TEST_KEY_B, SERVICE_MODULE, SERVICE_MODULE_KEY_B, SERVICE_MODULE_AARCH64, GREEDY_MODULE,
  WX_MODULE, OVERLAP_MODULE, ENTRY_OUTSIDE_MODULE, BOOT_MANIFEST_MODULE, BOOT_MANIFEST_MODULE_AARCH64, BUNDLE,
} from "./module_fixtures";

// ---------------------------------------------------------------------------
// Helpers.

function hexDigit(c: i32): u32 {
  return c <= 0x39 ? <u32>(c - 0x30) : <u32>(c - 0x61 + 10);
}

// A fixture's bytes in a fresh buffer (`extra` zero bytes after them).
function fromHex(hex: string, extra: u32 = 0): Buf {
  let n = <u32>hex.length / 2;
  let b = new Buf(n + extra);
  for (let i: u32 = 0; i < n; i++) {
    b.u8(i, (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1)));
  }
  return b;
}

const keyA = fromHex(TEST_KEY_A);
const keyB = fromHex(TEST_KEY_B);

// The fixture boot manifest (x86_64), parsed afresh so a test may change it.
function fixtureBoot(): BootManifest {
  let m = fromHex(BOOT_MANIFEST_MODULE);
  let r = bootManifestParse("boot-manifest.mod", m.addr, m.size, ARCH_X86_64, keyA.base);
  return changetype<BootManifest>(r.manifest);
}

// `size` < 0: the whole buffer.
function verify(m: Buf, file: string = "fixture.mod", size: i64 = -1): ModuleResult {
  return verifyModule(3, file, m.addr, size < 0 ? <u64>m.size : <u64>size, fixtureBoot(), ARCH_X86_64, keyA.base);
}

// A NUL-padded name field of 32 bytes at `at`, replaced by `name`.
function setName(b: Buf, at: u32, name: string): void {
  for (let i: u32 = 0; i < 32; i++) b.u8(at + i, 0);
  b.text(at, name, false);
}

function flipBit(b: Buf, offset: u32, bit: u32 = 0): void {
  b.u8(offset, <u32>b.getU8(offset) ^ (1 << bit));
}

function trailerAt(b: Buf): u32 { return b.size - TRAILER_BYTES; }
function elfBytesOf(b: Buf): u32 { return load<u32>(b.base + trailerAt(b) + 12); }
function manifestBytesOf(b: Buf): u32 { return load<u32>(b.base + trailerAt(b) + 16); }

// The manifest part of a signed module, copied into its own buffer.
function manifestOf(hex: string, extra: u32 = 0): Buf {
  let m = fromHex(hex);
  let len = manifestBytesOf(m);
  let b = new Buf(len + extra);
  memory.copy(b.base, m.base + elfBytesOf(m), len);
  return b;
}

function cap(type: u8, rights: u8): CapGrant {
  let c = new CapGrant();
  c.type = type;
  c.rights = rights;
  return c;
}

// ---------------------------------------------------------------------------
// An ELF64 built in memory: header, program headers at 64, then whatever.

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

class Elf {
  b: Buf;
  phnum: u32 = 0;

  constructor(size: u32 = 8192, machine: u32 = 62) {
    this.b = new Buf(size);
    this.b.bytes(0, [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    this.b.u16(16, 2).u16(18, machine).u32(20, 1).u64(24, 0x400100).u64(32, 64)
      .u16(52, 64).u16(54, 56).u16(56, 0);
  }

  // One program header; returns this for chaining.
  segment(vaddr: u64, memsz: u64, flags: u32, offset: u64 = 0, filesz: u64 = 0x200, type: u32 = 1): Elf {
    let at = 64 + 56 * this.phnum;
    this.b.u32(at, type).u32(at + 4, flags).u64(at + 8, offset).u64(at + 16, vaddr).u64(at + 24, vaddr)
      .u64(at + 32, filesz).u64(at + 40, memsz).u64(at + 48, 0x1000);
    this.phnum++;
    this.b.u16(56, this.phnum);
    return this;
  }

  entry(at: u64): Elf { this.b.u64(24, at); return this; }

  // A good two-segment executable: code at 0x400000, data at 0x401000.
  static good(): Elf {
    return new Elf().segment(0x400000, 0x1000, PF_R | PF_X).segment(0x401000, 0x2000, PF_R | PF_W, 0x1000, 0x100);
  }

  check(arch: u32 = ARCH_X86_64): i32 {
    let c = elfCheck(this.b.addr, <u64>this.b.size, arch);
    lastMessage = c.message;
    return c.error;
  }
}

let lastMessage = "";

// ---------------------------------------------------------------------------

describe("verifyModule: a good module", () => {
  it("accepts the fixture service and says what is in it", () => {
    let m = fromHex(SERVICE_MODULE);
    let r = verify(m);
    expect(r.message).toBe("");
    expect(r.error).toBe(MODULE_OK);
    let v = changetype<VerifiedModule>(r.module);
    expect(v.index).toBe(3);
    expect(v.file).toBe("fixture.mod");
    expect(v.service).toBe(1);
    expect(v.elfVirt).toBe(m.addr);
    expect(v.elfBytes).toBe(<u64>elfBytesOf(m));
    expect(v.entry).toBe(0x4000b0);
    expect(v.segments.length).toBe(2);
    expect(v.segments[0].virt).toBe(0x400000);
    expect(v.segments[0].executable).toBe(true);
    expect(v.segments[0].writable).toBe(false);
    expect(v.segments[0].fileBytes).toBe(<u64>elfBytesOf(m));
    expect(v.segments[1].virt).toBe(0x401000);
    expect(v.segments[1].memoryBytes).toBe(0x1000);
    expect(v.segments[1].fileBytes).toBe(0);
    expect(v.segments[1].writable).toBe(true);
    expect(v.segments[1].executable).toBe(false);
  });

  it("parses the manifest: name, version, quota, each capability", () => {
    let v = changetype<VerifiedModule>(verify(fromHex(SERVICE_MODULE)).module);
    let man = v.manifest;
    expect(man.name).toBe("fixture");
    expect(man.version).toBe("1.2.3");
    expect(man.memoryPages).toBe(4);
    expect(man.caps.length).toBe(5);
    expect(man.caps[0].slot).toBe(0);
    expect(man.caps[0].type).toBe(CAP_ENDPOINT);
    expect(man.caps[0].name).toBe("fixture");
    expect(man.caps[0].rights).toBe(RIGHT_RECEIVE);
    expect(man.caps[1].name).toBe("init");
    expect(man.caps[1].rights).toBe(RIGHT_CALL);
    expect(man.caps[1].badge).toBe(7);
    expect(man.caps[2].type).toBe(CAP_IO_PORTS);
    expect(man.caps[2].base).toBe(0x3f8);
    expect(man.caps[2].count).toBe(8);
    expect(man.caps[2].rights).toBe(RIGHT_READ | RIGHT_WRITE);
    expect(man.caps[3].type).toBe(CAP_IRQ);
    expect(man.caps[3].irq).toBe(1);
    expect(man.caps[4].slot).toBe(63);
    expect(man.caps[4].type).toBe(CAP_LOG);
  });

  it("parses the scheduler block: five scores in thousandths and the pin", () => {
    let man = changetype<VerifiedModule>(verify(fromHex(SERVICE_MODULE)).module).manifest;
    expect(man.scores.length).toBe(5);
    expect(man.scores[SCHED_URGENCY]).toBe(900);
    expect(man.scores[1]).toBe(800);
    expect(man.scores[2]).toBe(250);
    expect(man.scores[SCHED_ENERGY]).toBe(125);
    expect(man.scores[SCHED_TRUST]).toBe(1000);
    expect(man.pin).toBe(3);
    // GREEDY_MODULE's JSON has no "sched" block: 500 each, any CPU.
    let g = manifestOf(GREEDY_MODULE);
    let greedy = changetype<ServiceManifest>(manifestParse(g.base, g.size).manifest);
    for (let i = 0; i < 5; i++) expect(greedy.scores[i]).toBe(500);
    expect(greedy.pin).toBe(SCHED_UNPINNED);
  });

  it("accepts the AArch64 build on AArch64, with its own grants", () => {
    let b = fromHex(BOOT_MANIFEST_MODULE_AARCH64);
    let boot = bootManifestParse("boot-manifest.mod", b.addr, b.size, ARCH_AARCH64, keyA.base);
    expect(boot.message).toBe("");
    let m = fromHex(SERVICE_MODULE_AARCH64);
    let r = verifyModule(0, "fixture.mod", m.addr, m.size, changetype<BootManifest>(boot.manifest), ARCH_AARCH64, keyA.base);
    expect(r.message).toBe("");
    let v = changetype<VerifiedModule>(r.module);
    expect(v.manifest.caps[2].base).toBe(0x09000000);
    expect(v.manifest.caps[2].count).toBe(0x1000);
  });

  it("names architectures as the trailer does", () => {
    expect(moduleArch("x86_64")).toBe(ARCH_X86_64);
    expect(moduleArch("aarch64")).toBe(ARCH_AARCH64);
    expect(moduleArch("riscv64")).toBe(0);
  });
});

describe("verifyModule: size and trailer", () => {
  it("refuses a module cut at any field boundary", () => {
    let m = fromHex(SERVICE_MODULE);
    let elf = elfBytesOf(m);
    let cuts: u32[] = [0, 1, 63, 64, 119, 120, elf, elf + 1, elf + manifestBytesOf(m), m.size - 120,
      m.size - 112, m.size - 64, m.size - 1];
    for (let i = 0; i < cuts.length; i++) {
      let r = verify(m, "fixture.mod", <i64>cuts[i]);
      expect(r.ok).toBe(false, "cut at " + cuts[i].toString());
      expect(r.error == E_MODULE_SIZE || r.error == E_MODULE_FORMAT).toBe(true, r.message);
    }
    expect(verify(m, "fixture.mod", 119).message).toBe("fixture.mod: too small to be a signed module (119 bytes)");
    expect(verify(m, "fixture.mod", <i64>m.size - 1).message).toBe("fixture.mod: not a signed module (no CAMSIG01 trailer)");
  });

  it("refuses an oversize module before reading it", () => {
    let m = fromHex(SERVICE_MODULE);
    let r = verify(m, "big.mod", <i64>MAX_MODULE_BYTES + 1);
    expect(r.error).toBe(E_MODULE_SIZE);
    expect(r.message).toBe("big.mod: 16777217 bytes, more than the 16 MiB a module may have");
  });

  it("refuses a bad magic, an unknown version, reserved bytes set", () => {
    let m = fromHex(SERVICE_MODULE);
    flipBit(m, trailerAt(m) + 3);
    expect(verify(m).error).toBe(E_MODULE_FORMAT);
    m = fromHex(SERVICE_MODULE);
    m.u16(trailerAt(m) + 8, 2);
    expect(verify(m).message).toBe("fixture.mod: trailer version 2, this kernel reads 1");
    m = fromHex(SERVICE_MODULE);
    m.u8(trailerAt(m) + 21, 1);
    expect(verify(m).error).toBe(E_MODULE_FORMAT);
  });

  it("refuses sizes that point past the end or do not add up", () => {
    let m = fromHex(SERVICE_MODULE);
    m.u32(trailerAt(m) + 12, 0xffffffff);
    let r = verify(m);
    expect(r.error).toBe(E_MODULE_SIZE);
    expect(r.message).toBe("fixture.mod: trailer sizes (ELF 4294967295 + manifest 400 + 120) are not the module's " +
      m.size.toString() + " bytes");
    m = fromHex(SERVICE_MODULE);
    m.u32(trailerAt(m) + 16, manifestBytesOf(m) + 1);
    expect(verify(m).error).toBe(E_MODULE_SIZE);
    m = fromHex(SERVICE_MODULE);
    m.u32(trailerAt(m) + 16, 0xffffffff).u32(trailerAt(m) + 12, 0xffffffff);
    expect(verify(m).error).toBe(E_MODULE_SIZE);
  });

  it("refuses a boot manifest where a service module belongs, and the other way round", () => {
    let b = fromHex(BOOT_MANIFEST_MODULE);
    expect(verify(b).message).toBe("fixture.mod: a boot manifest, not a service module");
    let m = fromHex(SERVICE_MODULE);
    let r = bootManifestParse("boot-manifest.mod", m.addr, m.size, ARCH_X86_64, keyA.base);
    expect(r.error).toBe(E_MODULE_FORMAT);
    expect(r.message).toBe("boot-manifest.mod: a service module, not a boot manifest");
  });

  it("refuses a module built for the other architecture", () => {
    let r = verify(fromHex(SERVICE_MODULE_AARCH64));
    expect(r.error).toBe(E_MODULE_ARCH);
    expect(r.message).toBe("fixture.mod: built for aarch64, this machine is x86_64");
  });
});

describe("verifyModule: signature", () => {
  it("refuses a module signed by another key", () => {
    let r = verify(fromHex(SERVICE_MODULE_KEY_B));
    expect(r.error).toBe(E_MODULE_KEY);
    expect(r.message).toBe("fixture.mod: signed by another key (654576bcd9793182), this kernel trusts 52ded674d04fc63d");
  });

  it("refuses another key's signature that claims the trusted key", () => {
    let m = fromHex(SERVICE_MODULE_KEY_B);
    memory.copy(m.base + trailerAt(m) + 24, keyA.base, 32);
    let r = verify(m);
    expect(r.error).toBe(E_MODULE_SIGNATURE);
    expect(r.message).toBe("fixture.mod: bad signature");
  });

  it("accepts key B's module when the kernel trusts key B", () => {
    let m = fromHex(SERVICE_MODULE_KEY_B);
    let r = verifyModule(0, "fixture.mod", m.addr, m.size, fixtureBoot(), ARCH_X86_64, keyB.base);
    expect(r.message).toBe("");
  });

  it("refuses one flipped bit in the ELF, the manifest, or the signature", () => {
    let m = fromHex(SERVICE_MODULE);
    let elf = elfBytesOf(m);
    let places: u32[] = [0, 24, elf - 1, elf, elf + 20, elf + manifestBytesOf(m) - 1, m.size - 64, m.size - 33, m.size - 1];
    for (let i = 0; i < places.length; i++) {
      let bad = fromHex(SERVICE_MODULE);
      flipBit(bad, places[i], i & 7);
      let r = verify(bad);
      expect(r.error).toBe(E_MODULE_SIGNATURE, "bit flipped at " + places[i].toString());
      expect(r.message).toBe("fixture.mod: bad signature");
    }
  });

  it("refuses a changed boot manifest", () => {
    let b = fromHex(BOOT_MANIFEST_MODULE);
    flipBit(b, 40, 1);
    let r = bootManifestParse("boot-manifest.mod", b.addr, b.size, ARCH_X86_64, keyA.base);
    expect(r.error).toBe(E_MODULE_SIGNATURE);
    expect(r.message).toBe("boot-manifest.mod: bad signature");
    b = fromHex(BOOT_MANIFEST_MODULE);
    r = bootManifestParse("boot-manifest.mod", b.addr, b.size, ARCH_X86_64, keyB.base);
    expect(r.error).toBe(E_MODULE_KEY);
  });
});

describe("verifyModule: manifest against the boot manifest's grant", () => {
  it("refuses a manifest asking for I/O ports beyond its grant", () => {
    let r = verify(fromHex(GREEDY_MODULE), "greedy.mod");
    expect(r.error).toBe(E_MODULE_GRANT);
    expect(r.message).toBe("greedy.mod: manifest asks for io-ports 0x60..0x64 beyond its grant");
  });

  it("refuses a module the boot manifest does not list, or lists as another service", () => {
    let r = verify(fromHex(SERVICE_MODULE), "stray.mod");
    expect(r.error).toBe(E_MODULE_UNLISTED);
    expect(r.message).toBe("stray.mod: not in the boot manifest");
    r = verify(fromHex(GREEDY_MODULE), "fixture.mod");
    expect(r.error).toBe(E_MODULE_UNLISTED);
    expect(r.message).toBe("fixture.mod: manifest names service 'greedy', the boot manifest lists this module as 'fixture'");
  });

  it("refuses rights beyond the grant", () => {
    let boot = fixtureBoot();
    let fixture = boot.services[1];
    fixture.grants[0].rights = RIGHT_SEND;
    let man = manifestOfFixture();
    expect(grantCheck(man, fixture)).toBe("manifest asks for endpoint 'fixture' with rights receive beyond its grant (send)");
  });

  it("refuses a range beyond the grant, at either end", () => {
    let fixture = fixtureBoot().services[1];
    fixture.grants[2].count = 7;   // 0x3f8..0x3fe
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for io-ports 0x3f8..0x3ff beyond its grant");
    fixture.grants[2].base = 0x3f9;
    fixture.grants[2].count = 8;   // 0x3f9..0x400
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for io-ports 0x3f8..0x3ff beyond its grant");
    fixture.grants[2].base = 0x3f0;
    fixture.grants[2].count = 0x10; // 0x3f0..0x3ff covers it
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("");
  });

  it("refuses another object, another interrupt, another badge", () => {
    let fixture = fixtureBoot().services[1];
    fixture.grants[0].name = "other";
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for endpoint 'fixture' beyond its grant");
    fixture = fixtureBoot().services[1];
    fixture.grants[3].irq = 0;
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for irq console beyond its grant");
    fixture = fixtureBoot().services[1];
    fixture.grants[1].badge = 8;
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for endpoint 'init' with badge 0x7, its grant says call badge 0x8");
  });

  it("refuses a type the grant lacks, and a quota above the grant", () => {
    let fixture = fixtureBoot().services[1];
    fixture.grants[5].type = CAP_NOTIFICATION; // the log grant becomes something else
    fixture.grants[5].name = "events";
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for log beyond its grant");
    fixture = fixtureBoot().services[1];
    fixture.memoryPages = 3;
    expect(grantCheck(manifestOfFixture(), fixture)).toBe("manifest asks for 4 memory pages, its grant is 3");
  });

  it("passes the boot log message through verifyModule", () => {
    let m = fromHex(SERVICE_MODULE);
    let boot = fixtureBoot();
    boot.services[1].grants[0].rights = RIGHT_SEND;
    let r = verifyModule(0, "fixture.mod", m.addr, m.size, boot, ARCH_X86_64, keyA.base);
    expect(r.error).toBe(E_MODULE_GRANT);
    expect(r.message).toBe("fixture.mod: manifest asks for endpoint 'fixture' with rights receive beyond its grant (send)");
  });

  it("refuses an init manifest that asks for the slots the kernel gives init", () => {
    let m = fromHex(SERVICE_MODULE);
    let boot = fixtureBoot();
    boot.init = 1; // pretend the fixture is init: its log capability sits in slot 63
    let r = verifyModule(0, "fixture.mod", m.addr, m.size, boot, ARCH_X86_64, keyA.base);
    expect(r.error).toBe(E_MODULE_MANIFEST);
    expect(r.message).toBe("fixture.mod: manifest: init's slot 63 is one the kernel fills (60..63)");
  });

  it("grants the scheduler capabilities like any other: type and rights", () => {
    let fixture = fixtureBoot().services[1];
    let man = manifestOfFixture();
    man.caps.push(cap(CAP_SCHED, RIGHT_READ));
    expect(grantCheck(man, fixture)).toBe("manifest asks for sched beyond its grant");
    fixture.grants.push(cap(CAP_SCHED_TUNE, RIGHT_WRITE));
    expect(grantCheck(man, fixture)).toBe("manifest asks for sched beyond its grant");
    fixture.grants.push(cap(CAP_SCHED, RIGHT_WRITE));
    expect(grantCheck(man, fixture)).toBe("manifest asks for sched with rights read beyond its grant (write)");
    fixture.grants.push(cap(CAP_SCHED, RIGHT_READ | RIGHT_WRITE));
    expect(grantCheck(man, fixture)).toBe("");
  });

  it("accepts fewer rights than granted, and a sub-range", () => {
    let fixture = fixtureBoot().services[1];
    let man = manifestOfFixture();
    man.caps[2].base = 0x3fa;
    man.caps[2].count = 2;
    man.caps[2].rights = RIGHT_READ;
    expect(grantCheck(man, fixture)).toBe("");
  });
});

function manifestOfFixture(): ServiceManifest {
  let b = manifestOf(SERVICE_MODULE);
  return changetype<ServiceManifest>(manifestParse(b.base, b.size).manifest);
}

describe("verifyModule: the ELF of a signed module", () => {
  it("refuses a writable and executable segment", () => {
    let r = verify(fromHex(WX_MODULE));
    expect(r.error).toBe(E_MODULE_WX);
    expect(r.message).toBe("fixture.mod: segment 0 is writable and executable");
  });

  it("refuses overlapping segments", () => {
    let r = verify(fromHex(OVERLAP_MODULE));
    expect(r.error).toBe(E_MODULE_SEGMENT);
    expect(r.message).toBe("fixture.mod: segments 0 and 1 overlap");
  });

  it("refuses an entry point outside the image", () => {
    let r = verify(fromHex(ENTRY_OUTSIDE_MODULE));
    expect(r.error).toBe(E_MODULE_ENTRY);
    expect(r.message).toBe("fixture.mod: entry point 0x500000 outside the image");
  });
});

describe("elfCheck", () => {
  it("accepts a good executable and reports its segments", () => {
    let e = Elf.good();
    expect(e.check()).toBe(MODULE_OK, lastMessage);
    let c = elfCheck(e.b.addr, <u64>e.b.size, ARCH_X86_64);
    expect(c.entry).toBe(0x400100);
    expect(c.segments.length).toBe(2);
    expect(c.segments[1].fileOffset).toBe(0x1000);
    expect(c.segments[1].memoryBytes).toBe(0x2000);
  });

  it("refuses what is not an ELF64 little-endian executable for this machine", () => {
    let e = Elf.good(); e.b.u8(1, 0x46);
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("not an ELF file");
    e = Elf.good(); e.b.u8(4, 1);
    expect(e.check()).toBe(E_MODULE_ELF);
    e = Elf.good(); e.b.u8(5, 2);
    expect(e.check()).toBe(E_MODULE_ELF);
    e = Elf.good(); e.b.u16(16, 3);
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF type 3 is not a static executable (ET_EXEC)");
    e = Elf.good(); e.b.u16(54, 32);
    expect(e.check()).toBe(E_MODULE_ELF);
    let tiny = new Buf(63);
    expect(elfCheck(tiny.addr, 63, ARCH_X86_64).message).toBe("ELF: 63 bytes, shorter than an ELF header");
  });

  it("refuses the wrong machine", () => {
    expect(Elf.good().check(ARCH_AARCH64)).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF for x86_64, this machine is aarch64");
    let e = new Elf(8192, <u32>EM_AARCH64).segment(0x400000, 0x1000, PF_R | PF_X);
    expect(e.check(ARCH_X86_64)).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF for aarch64, this machine is x86_64");
    expect(e.check(ARCH_AARCH64)).toBe(MODULE_OK);
  });

  it("refuses absurd or misplaced program headers", () => {
    let e = new Elf();
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF has no program headers");
    e = Elf.good(); e.b.u16(56, 40);
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF has 40 program headers, at most 32");
    e = Elf.good(); e.b.u64(32, <u64>e.b.size - 100);
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF program headers lie outside the file");
    e = Elf.good(); e.b.u64(32, 0xfffffffffffffff0);
    expect(e.check()).toBe(E_MODULE_ELF);
    e = Elf.good().segment(0, 0, 0, 0, 0, 3); // PT_INTERP
    expect(e.check()).toBe(E_MODULE_ELF);
    expect(lastMessage).toBe("ELF is dynamically linked (program header 2); services are static");
  });

  it("refuses a writable and executable segment", () => {
    let e = new Elf().segment(0x400000, 0x1000, PF_R | PF_W | PF_X);
    expect(e.check()).toBe(E_MODULE_WX);
    expect(lastMessage).toBe("segment 0 is writable and executable");
  });

  it("refuses misaligned, empty, oversized and out-of-file segments", () => {
    expect(new Elf().segment(0x400010, 0x1000, PF_R | PF_X).check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segment 0 is not page-aligned (address 0x400010, offset 0x0)");
    expect(new Elf().segment(0x400000, 0x1000, PF_R | PF_X, 0x10).check()).toBe(E_MODULE_SEGMENT);
    expect(new Elf().segment(0x400000, 0, PF_R | PF_X).check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segment 0 is empty");
    expect(new Elf().segment(0x400000, 0x100, PF_R | PF_X, 0, 0x200).check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segment 0 has more file bytes than memory bytes");
    expect(new Elf().segment(0x400000, 0x2000, PF_R | PF_X, 0x1000, 0x1001).check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segment 0 runs past the end of the ELF");
    expect(new Elf().segment(0x400000, 0x2000, PF_R | PF_X, 0xfffffffffffff000, 0x2000).check()).toBe(E_MODULE_SEGMENT);
  });

  it("refuses segments outside the user image range", () => {
    expect(new Elf().segment(0x3ff000, 0x1000, PF_R | PF_X).check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segment 0 (0x3ff000, 4096 bytes) lies outside the user image range 0x400000..0xffffffff");
    expect(new Elf().segment(0xfffff000, 0x1001, PF_R).check()).toBe(E_MODULE_SEGMENT);
    expect(new Elf().segment(0x100000000, 0x1000, PF_R).check()).toBe(E_MODULE_SEGMENT);
    expect(new Elf().segment(0xfffffffffffff000, 0x2000, PF_R).check()).toBe(E_MODULE_SEGMENT);
    expect(new Elf().segment(0x400000, 0xfffffffffffff000, PF_R).check()).toBe(E_MODULE_SEGMENT);
    // The last page below the window is fine.
    let e = new Elf().segment(0xfffff000, 0x1000, PF_R | PF_X).entry(0xfffff000);
    expect(e.check()).toBe(MODULE_OK, lastMessage);
  });

  it("refuses too many segments and too much memory", () => {
    let e = new Elf();
    for (let i: u64 = 0; i < 17; i++) e.segment(0x400000 + i * 0x1000, 0x1000, PF_R, 0, 0);
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("more than 16 loadable segments");
    e = new Elf().segment(0x400000, 0x8000000, PF_R | PF_X).segment(0x8400000, 0x8000001, PF_R | PF_W);
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("the segments need more than 256 MiB");
  });

  it("refuses overlapping segments, counting whole pages", () => {
    let e = new Elf().segment(0x400000, 0x10, PF_R | PF_X, 0, 0x10).segment(0x400000, 0x10, PF_R | PF_W, 0, 0);
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segments 0 and 1 overlap");
    // The first ends mid-page; the second starts on that page's boundary.
    e = new Elf().segment(0x400000, 0x1001, PF_R | PF_X).segment(0x401000, 0x1000, PF_R | PF_W, 0, 0);
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    e = new Elf().segment(0x402000, 0x1000, PF_R | PF_W, 0, 0).segment(0x400000, 0x3000, PF_R | PF_X);
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("segments 0 and 1 overlap");
  });

  it("refuses an entry point outside the image or in a segment that is not executable", () => {
    expect(Elf.good().entry(0x3fffff).check()).toBe(E_MODULE_ENTRY);
    expect(lastMessage).toBe("entry point 0x3fffff outside the image");
    expect(Elf.good().entry(0x403000).check()).toBe(E_MODULE_ENTRY);
    expect(Elf.good().entry(0x401000).check()).toBe(E_MODULE_ENTRY);
    expect(lastMessage).toBe("entry point 0x401000 is in segment 1, which is not executable");
    expect(Elf.good().entry(0x400fff).check()).toBe(MODULE_OK);
  });

  it("refuses a segment with no loadable segment at all", () => {
    let e = new Elf().segment(0, 0, PF_R, 0, 0, 4); // PT_NOTE only
    expect(e.check()).toBe(E_MODULE_SEGMENT);
    expect(lastMessage).toBe("ELF has no loadable segment");
  });
});

// ---------------------------------------------------------------------------
// The service manifest, byte by byte. Offsets: header fields as drawn in
// kernel/module.ts; the scores at 64 + 2 i, the pin at 74, reserved 76..79;
// capability i at 80 + 64 i.

function parseManifest(b: Buf): string {
  let c = manifestParse(b.base, b.size);
  return c.message;
}

const SCORES: u32 = 64;
const PIN: u32 = 74;
const CAP0: u32 = 80;

describe("manifestParse", () => {
  it("refuses a short manifest, a bad magic, an unknown format", () => {
    let b = manifestOf(SERVICE_MODULE);
    expect(manifestParse(b.base, 79).message).toBe("manifest: 79 bytes, shorter than its 80-byte header");
    b.u8(0, 0x58);
    expect(parseManifest(b)).toBe("manifest: bad magic (not CAMM)");
    b = manifestOf(SERVICE_MODULE); b.u16(4, 1); // format 1: no scheduler block
    expect(parseManifest(b)).toBe("manifest: format 1, this kernel reads 2");
    b = manifestOf(SERVICE_MODULE); b.u16(4, 3);
    expect(parseManifest(b)).toBe("manifest: format 3, this kernel reads 2");
  });

  it("refuses absurd counts and lengths that do not match them", () => {
    let b = manifestOf(SERVICE_MODULE); b.u16(6, 1000);
    expect(parseManifest(b)).toBe("manifest: 1000 capabilities, at most 64");
    b = manifestOf(SERVICE_MODULE); b.u16(6, 65);
    expect(parseManifest(b)).toBe("manifest: 65 capabilities, at most 64");
    b = manifestOf(SERVICE_MODULE); b.u16(6, 6);
    expect(parseManifest(b)).toBe("manifest: 400 bytes, but 6 capabilities make 464");
    b = manifestOf(SERVICE_MODULE, 64);
    expect(manifestParse(b.base, b.size).error).toBe(E_MODULE_MANIFEST);
  });

  it("refuses a bad quota, name or version, and reserved bytes", () => {
    let b = manifestOf(SERVICE_MODULE); b.u32(8, 0);
    expect(parseManifest(b)).toBe("manifest: memory pages 0 out of 1..65536");
    b = manifestOf(SERVICE_MODULE); b.u32(8, 65537);
    expect(parseManifest(b)).toBe("manifest: memory pages 65537 out of 1..65536");
    b = manifestOf(SERVICE_MODULE); b.u32(12, 1);
    expect(parseManifest(b)).toBe("manifest: reserved header bytes are not zero");
    b = manifestOf(SERVICE_MODULE); b.u8(16, 0);
    expect(parseManifest(b)).toBe("manifest: the service name is missing or malformed");
    b = manifestOf(SERVICE_MODULE); b.u8(17, 0x49); // 'I': upper case
    expect(parseManifest(b)).toBe("manifest: the service name is missing or malformed");
    b = manifestOf(SERVICE_MODULE); b.u8(16 + 30, 0x41); // garbage after the NUL
    expect(parseManifest(b)).toBe("manifest: the service name is missing or malformed");
    b = manifestOf(SERVICE_MODULE); b.u8(49, 0x20); // a space in the version
    expect(parseManifest(b)).toBe("manifest: the version is missing or malformed");
  });

  it("bounds the scheduler block: scores up to 1000, a pin below 16 or none, reserved bytes zero", () => {
    let b = manifestOf(SERVICE_MODULE); b.u16(SCORES + 2 * 2, 1001);
    expect(parseManifest(b)).toBe("manifest: efficiency score 1001 above 1000 (thousandths)");
    b = manifestOf(SERVICE_MODULE); b.u16(SCORES, 0xffff);
    expect(parseManifest(b)).toBe("manifest: urgency score 65535 above 1000 (thousandths)");
    b = manifestOf(SERVICE_MODULE); b.u16(SCORES + 2 * 4, 1000).u16(SCORES + 2 * 3, 0);
    expect(parseManifest(b)).toBe("");
    b = manifestOf(SERVICE_MODULE); b.u16(PIN, 16);
    expect(parseManifest(b)).toBe("manifest: pin 16 is neither a cpu (0..15) nor unpinned (0xffff)");
    b = manifestOf(SERVICE_MODULE); b.u16(PIN, 0xfffe);
    expect(parseManifest(b)).toBe("manifest: pin 65534 is neither a cpu (0..15) nor unpinned (0xffff)");
    b = manifestOf(SERVICE_MODULE); b.u16(PIN, 15);
    expect(parseManifest(b)).toBe("");
    b = manifestOf(SERVICE_MODULE); b.u16(PIN, <u32>SCHED_UNPINNED);
    let c = manifestParse(b.base, b.size);
    expect(c.message).toBe("");
    expect(changetype<ServiceManifest>(c.manifest).pin).toBe(SCHED_UNPINNED);
    for (let i: u32 = 76; i < 80; i++) {
      b = manifestOf(SERVICE_MODULE); b.u8(i, 1);
      expect(parseManifest(b)).toBe("manifest: reserved scheduler bytes are not zero", "byte " + i.toString());
    }
  });

  it("takes the scheduler capabilities, with the rights they can use", () => {
    let log = CAP0 + 64 * 4; // slot 63, becomes sched or sched-tune
    let b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED).u8(log + 2, RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT);
    let c = manifestParse(b.base, b.size);
    expect(c.message).toBe("");
    expect(changetype<ServiceManifest>(c.manifest).caps[4].type).toBe(CAP_SCHED);
    b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED_TUNE).u8(log + 2, RIGHT_WRITE);
    expect(parseManifest(b)).toBe("");
    b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED).u8(log + 2, RIGHT_READ | RIGHT_CALL);
    expect(parseManifest(b)).toBe("manifest: capability 4: sched with rights call,read (it takes grant,read,write)");
    b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED_TUNE).u8(log + 2, RIGHT_READ | RIGHT_WRITE);
    expect(parseManifest(b)).toBe("manifest: capability 4: sched-tune with rights read,write (it takes grant,write)");
    b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED).u8(log + 32, 0x61);
    expect(parseManifest(b)).toBe("manifest: capability 4: sched with an object name");
    b = manifestOf(SERVICE_MODULE); b.u8(log + 1, CAP_SCHED_TUNE).u64(log + 16, 1);
    expect(parseManifest(b)).toBe("manifest: capability 4: sched-tune with a range");
  });

  it("refuses bad slots: out of range or used twice", () => {
    let b = manifestOf(SERVICE_MODULE); b.u8(CAP0, 64);
    expect(parseManifest(b)).toBe("manifest: capability 0: slot 64 out of 0..63");
    b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 64, 0);
    expect(parseManifest(b)).toBe("manifest: capability 1: slot 0 used twice");
  });

  it("refuses unknown types and rights, and reserved bytes", () => {
    let types: u32[] = [0, 6, 7, <u32>CAP_TYPE_COUNT, 200, 255];
    for (let i = 0; i < types.length; i++) {
      let b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 64 * 4 + 1, types[i]);
      expect(parseManifest(b)).toBe("manifest: capability 4: unknown capability type " + types[i].toString());
    }
    let b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 2, 0x80);
    expect(parseManifest(b)).toBe("manifest: capability 0: unknown rights 0x80");
    b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 3, 1);
    expect(parseManifest(b)).toBe("manifest: capability 0: reserved byte set");
  });

  it("refuses fields a type does not have, and missing ones", () => {
    let b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 32, 0); // endpoint without a name
    expect(parseManifest(b)).toBe("manifest: capability 0: endpoint without a valid object name");
    b = manifestOf(SERVICE_MODULE); b.u8(CAP0 + 64 * 4 + 32, 0x61); // log with a name
    expect(parseManifest(b)).toBe("manifest: capability 4: log with an object name");
    b = manifestOf(SERVICE_MODULE); b.u64(CAP0 + 64 * 4 + 16, 0x60); // log with a range
    expect(parseManifest(b)).toBe("manifest: capability 4: log with a range");
    b = manifestOf(SERVICE_MODULE); b.u32(CAP0 + 4, 1); // endpoint with an irq
    expect(parseManifest(b)).toBe("manifest: capability 0: endpoint with an irq");
    b = manifestOf(SERVICE_MODULE); b.u32(CAP0 + 64 * 3 + 4, 7);
    expect(parseManifest(b)).toBe("manifest: capability 3: irq 7 is no interrupt source");
  });

  it("refuses empty, wrapping, and out-of-range port and MMIO ranges", () => {
    let at = CAP0 + 64 * 2;
    let b = manifestOf(SERVICE_MODULE); b.u64(at + 24, 0);
    expect(parseManifest(b)).toBe("manifest: capability 2: io-ports with an empty or wrapping range");
    b = manifestOf(SERVICE_MODULE); b.u64(at + 16, 0xfffffffffffffff0).u64(at + 24, 0x20);
    expect(parseManifest(b)).toBe("manifest: capability 2: io-ports with an empty or wrapping range");
    b = manifestOf(SERVICE_MODULE); b.u64(at + 16, 0xfffc);
    expect(parseManifest(b)).toBe("manifest: capability 2: io-ports past 0xffff");
    b = manifestOf(SERVICE_MODULE); b.u8(at + 1, 5).u64(at + 16, 0x9000000).u64(at + 24, 0x800);
    expect(parseManifest(b)).toBe("manifest: capability 2: mmio 0x9000000..0x90007ff is not whole pages");
    b = manifestOf(SERVICE_MODULE); b.u8(at + 1, 5).u64(at + 16, 0x9000000).u64(at + 24, 0x1000);
    expect(parseManifest(b)).toBe("");
  });

  it("refuses an empty manifest", () => {
    expect(manifestParse(0, 0).error).toBe(E_MODULE_MANIFEST);
  });
});

// ---------------------------------------------------------------------------
// The boot manifest. Layout of the fixture (x86_64): header 16, 3 objects
// of 40 at 16, services at 136 (init: 3 grants), 424 (fixture: 6 grants),
// 904 (greedy: 1 grant); 1064 bytes.

const OBJECTS: u32 = 16;
const INIT: u32 = 136;
const FIXTURE: u32 = 424;
const GREEDY: u32 = 904;

function decode(b: Buf): string {
  return bootManifestDecode(b.base, b.size).message;
}

describe("bootManifestParse", () => {
  it("reads the fixture boot manifest", () => {
    let boot = fixtureBoot();
    expect(boot.init).toBe(0);
    expect(boot.objects.length).toBe(3);
    expect(boot.objects[0].name).toBe("init");
    expect(boot.objects[0].type).toBe(CAP_ENDPOINT);
    expect(boot.objects[0].queueDepth).toBe(8);
    expect(boot.objects[2].name).toBe("events");
    expect(boot.objects[2].type).toBe(CAP_NOTIFICATION);
    expect(boot.services.length).toBe(3);
    let f = boot.services[1];
    expect(f.name).toBe("fixture");
    expect(f.module).toBe("fixture.mod");
    expect(f.memoryPages).toBe(8);
    expect(f.restartLimit).toBe(3);
    expect(f.restartBackoffMs).toBe(50);
    expect(f.depends.length).toBe(1);
    expect(f.depends[0]).toBe("init");
    expect(f.grants.length).toBe(6);
    expect(f.grants[0].rights).toBe(RIGHT_SEND | RIGHT_RECEIVE);
    expect(f.grants[2].base).toBe(0x3f8);
    expect(boot.services[2].depends[0]).toBe("fixture");
    let init = boot.services[0];
    expect(init.grants.length).toBe(3);
    expect(init.grants[0].type).toBe(CAP_LOG);
    expect(init.grants[1].type).toBe(CAP_SCHED);
    expect(init.grants[1].rights).toBe(RIGHT_READ | RIGHT_WRITE);
    expect(init.grants[2].type).toBe(CAP_SCHED_TUNE);
    expect(init.grants[2].rights).toBe(RIGHT_WRITE);
  });

  it("refuses a scheduler grant with rights it cannot use", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(INIT + 96 + 64 * 2 + 2, RIGHT_WRITE | RIGHT_SEND);
    expect(decode(b)).toBe("boot manifest: service 'init': grant 2: sched-tune with rights send,write (it takes grant,write)");
  });

  it("refuses a short header, a bad magic, an unknown format, reserved bytes", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE);
    expect(bootManifestDecode(b.base, 15).message).toBe("boot manifest: 15 bytes, shorter than its header");
    b.u8(3, 0x4d);
    expect(decode(b)).toBe("boot manifest: bad magic (not CAMB)");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u16(4, 1);
    expect(decode(b)).toBe("boot manifest: format 1, this kernel reads 2");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(15, 1);
    expect(decode(b)).toBe("boot manifest: reserved header bytes are not zero");
  });

  it("refuses absurd counts and an init out of range", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(6, 200);
    expect(decode(b)).toBe("boot manifest: 200 objects, at most 64");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(7, 0);
    expect(decode(b)).toBe("boot manifest: 0 services, not 1..32");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(7, 33);
    expect(decode(b)).toBe("boot manifest: 33 services, not 1..32");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(8, 3);
    expect(decode(b)).toBe("boot manifest: init is service 3 of 3");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(6, 60);
    expect(decode(b)).toBe("boot manifest: objects run past its end");
  });

  it("refuses records cut short and bytes after the last record", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE);
    let cuts: u32[] = [INIT, INIT + 95, FIXTURE + 100, GREEDY, b.size - 1];
    for (let i = 0; i < cuts.length; i++) {
      let c = bootManifestDecode(b.base, cuts[i]);
      expect(c.error).toBe(E_MODULE_MANIFEST, "cut at " + cuts[i].toString());
    }
    b = manifestOf(BOOT_MANIFEST_MODULE, 8);
    expect(decode(b)).toBe("boot manifest: 1072 bytes, its records end at 1064");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 77, 60);
    expect(decode(b)).toBe("boot manifest: service 'fixture': grants run past its end");
  });

  it("refuses bad objects", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(OBJECTS + 32, 3);
    expect(decode(b)).toBe("boot manifest: object 0: type 3 is not an endpoint or a notification");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u32(OBJECTS + 36, 0);
    expect(decode(b)).toBe("boot manifest: object 0: queue depth 0 out of 1..1024");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u32(OBJECTS + 80 + 36, 1);
    expect(decode(b)).toBe("boot manifest: object 2: a notification with a queue");
    b = manifestOf(BOOT_MANIFEST_MODULE); setName(b, OBJECTS + 40, "init");
    expect(decode(b)).toBe("boot manifest: object 1: 'init' declared twice");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(OBJECTS, 0);
    expect(decode(b)).toBe("boot manifest: object 0: name missing or malformed");
  });

  it("refuses bad services: names, modules, quota, limits", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 32, 0);
    expect(decode(b)).toBe("boot manifest: service 'fixture': module file name missing or malformed");
    b = manifestOf(BOOT_MANIFEST_MODULE); setName(b, FIXTURE + 32, "init.mod");
    expect(decode(b)).toBe("boot manifest: service 'fixture': module init.mod used twice");
    b = manifestOf(BOOT_MANIFEST_MODULE); setName(b, FIXTURE, "init");
    expect(decode(b)).toBe("boot manifest: service 'init': listed twice");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u32(FIXTURE + 64, 0);
    expect(decode(b)).toBe("boot manifest: service 'fixture': memory pages 0 out of 1..65536");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u32(FIXTURE + 68, 5000);
    expect(decode(b)).toBe("boot manifest: service 'fixture': restart limit 5000 above 1000");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 76, 17);
    expect(decode(b)).toBe("boot manifest: service 'fixture': 17 dependencies, at most 16");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 77, 65);
    expect(decode(b)).toBe("boot manifest: service 'fixture': 65 grants, at most 64");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 95, 1);
    expect(decode(b)).toBe("boot manifest: service 'fixture': reserved bytes are not zero");
  });

  it("refuses grants naming undeclared objects, and malformed grants", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); setName(b, FIXTURE + 96 + 32, "nowhere");
    expect(decode(b)).toBe("boot manifest: service 'fixture': grant 0: no endpoint 'nowhere' is declared");
    b = manifestOf(BOOT_MANIFEST_MODULE); setName(b, FIXTURE + 96 + 32, "events");
    expect(decode(b)).toBe("boot manifest: service 'fixture': grant 0: no endpoint 'events' is declared");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 96, 5);
    expect(decode(b)).toBe("boot manifest: service 'fixture': grant 0: slot 5 in a grant");
  });

  it("refuses bad dependencies: out of range, on itself, from init, in a cycle", () => {
    let b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 80, 9);
    expect(decode(b)).toBe("boot manifest: service 'fixture': depends on service 9 (of 3)");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 80, 1);
    expect(decode(b)).toBe("boot manifest: service 'fixture': depends on service 1 (of 3)");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(INIT + 76, 1).u8(INIT + 80, 2);
    expect(decode(b)).toBe("boot manifest: init depends on other services");
    b = manifestOf(BOOT_MANIFEST_MODULE); b.u8(FIXTURE + 80, 2); // fixture -> greedy -> fixture
    expect(decode(b)).toBe("boot manifest: the dependencies have a cycle");
  });

  it("refuses an oversize boot manifest module before reading it", () => {
    let b = fromHex(BOOT_MANIFEST_MODULE);
    let r = bootManifestParse("boot-manifest.mod", b.addr, MAX_MODULE_BYTES + 4096, ARCH_X86_64, keyA.base);
    expect(r.error).toBe(E_MODULE_SIZE);
  });
});

// ---------------------------------------------------------------------------
// Module bundles. The fixture holds the boot manifest at 4096 and the
// fixture service at 8192; `base` stands for the bundle's physical address.

const BUNDLE_BASE: u64 = 0x40000000;

function split(b: Buf): string {
  return bundleSplit(b.addr, BUNDLE_BASE, b.size).message;
}

describe("bundleSplit", () => {
  it("splits the bundle into boot modules that verify", () => {
    let b = fromHex(BUNDLE);
    expect(isBundle(b.addr, b.size)).toBe(true);
    let r = bundleSplit(b.addr, BUNDLE_BASE, b.size);
    expect(r.message).toBe("");
    expect(r.modules.length).toBe(2);
    expect(r.modules[0].cmdline).toBe("boot-manifest.mod");
    expect(r.modules[0].base).toBe(BUNDLE_BASE + 4096);
    expect(r.modules[1].cmdline).toBe("fixture.mod");
    expect(r.modules[1].base).toBe(BUNDLE_BASE + 8192);
    // Kernel-virtual = the bundle's address + the module's offset in it.
    let m0 = r.modules[0];
    let boot = bootManifestParse(m0.cmdline, b.addr + (m0.base - BUNDLE_BASE), m0.size, ARCH_X86_64, keyA.base);
    expect(boot.message).toBe("");
    let m1 = r.modules[1];
    let v = verifyModule(1, m1.cmdline, b.addr + (m1.base - BUNDLE_BASE), m1.size,
      changetype<BootManifest>(boot.manifest), ARCH_X86_64, keyA.base);
    expect(v.message).toBe("");
  });

  it("is not a signed module, and a signed module is not a bundle", () => {
    let m = fromHex(SERVICE_MODULE);
    expect(isBundle(m.addr, m.size)).toBe(false);
    expect(split(m)).toBe("module bundle: no CAMMODS1 header");
    let b = fromHex(BUNDLE);
    expect(isBundle(b.addr, 15)).toBe(false);
  });

  it("refuses absurd counts, a table past its end, reserved bytes", () => {
    let b = fromHex(BUNDLE); b.u32(8, 0);
    expect(split(b)).toBe("module bundle: 0 modules, not 1..64");
    b = fromHex(BUNDLE); b.u32(8, 65);
    expect(split(b)).toBe("module bundle: 65 modules, not 1..64");
    b = fromHex(BUNDLE); b.u32(12, 1);
    expect(split(b)).toBe("module bundle: reserved header bytes are not zero");
    b = fromHex(BUNDLE);
    expect(bundleSplit(b.addr, BUNDLE_BASE, 100).message).toBe("module bundle: its table runs past its end");
  });

  it("refuses entries misaligned, overlapping, past the end, unnamed or named twice", () => {
    let b = fromHex(BUNDLE); b.u64(16 + 32, 4097);
    expect(split(b)).toBe("module bundle: module 0 (boot-manifest.mod) is not page-aligned");
    b = fromHex(BUNDLE); b.u64(16 + 48 + 32, 4096);
    expect(split(b)).toBe("module bundle: module 1 (fixture.mod) overlaps what comes before it");
    b = fromHex(BUNDLE); b.u64(16 + 32, 0);
    expect(split(b)).toBe("module bundle: module 0 (boot-manifest.mod) overlaps what comes before it");
    b = fromHex(BUNDLE); b.u64(16 + 48 + 40, <u64>b.size);
    expect(split(b)).toBe("module bundle: module 1 (fixture.mod) runs past the end");
    b = fromHex(BUNDLE); b.u64(16 + 48 + 32, 0xfffffffffffff000);
    expect(split(b)).toBe("module bundle: module 1 (fixture.mod) runs past the end");
    b = fromHex(BUNDLE); b.u8(16, 0);
    expect(split(b)).toBe("module bundle: module 0: name missing or malformed");
    b = fromHex(BUNDLE); setName(b, 16 + 48, "boot-manifest.mod");
    expect(split(b)).toBe("module bundle: module 1: 'boot-manifest.mod' twice");
  });
});
