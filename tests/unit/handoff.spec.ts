import {
  readHandoff, archName, HANDOFF_MAGIC, HANDOFF_SIZE, ARCH_X86_64, ARCH_AARCH64,
} from "../../boot/handoff";
import { BOOT_OK, E_BOOT_BAD_HANDOFF } from "../../boot/bootinfo";
import { buildHandoff, HANDOFF_MAGIC_VALUE } from "./fixtures";

describe("handoff", () => {
  it("has the documented magic and size", () => {
    expect(HANDOFF_MAGIC).toBe(HANDOFF_MAGIC_VALUE);
    expect(HANDOFF_SIZE).toBe(48);
    // "CAMH" in memory order
    let b = buildHandoff(ARCH_X86_64, 0, 0, 0, 0);
    expect(b.getU8(0)).toBe(0x43);
    expect(b.getU8(3)).toBe(0x48);
  });

  it("reads every field", () => {
    let b = buildHandoff(ARCH_AARCH64, 0xffff000000000000, 0x40080000, 0x40400000, 0x36d76289, 123456789);
    let h = readHandoff(b.addr);
    expect(h.error).toBe(BOOT_OK, h.message);
    expect(h.arch).toBe(ARCH_AARCH64);
    expect(h.hhdmOffset).toBe(0xffff000000000000);
    expect(h.kernelPhysStart).toBe(0x40080000);
    expect(h.kernelPhysEnd).toBe(0x40400000);
    expect(h.bootMagic).toBe(0x36d76289);
    expect(h.entryCycles).toBe(123456789);
  });

  it("rejects a bad magic with a clear message", () => {
    let b = buildHandoff(ARCH_X86_64, 0, 0, 0, 0).u32(0, 0xdeadbeef);
    let h = readHandoff(b.addr);
    expect(h.ok).toBe(false);
    expect(h.error).toBe(E_BOOT_BAD_HANDOFF);
    expect(h.message.includes("bad magic 0xdeadbeef")).toBe(true, h.message);
  });

  it("rejects a null pointer, an unknown arch and a backwards kernel range", () => {
    expect(readHandoff(0).error).toBe(E_BOOT_BAD_HANDOFF);
    expect(readHandoff(buildHandoff(3, 0, 0, 0, 0).addr).error).toBe(E_BOOT_BAD_HANDOFF);
    expect(readHandoff(buildHandoff(ARCH_X86_64, 0, 0x200000, 0x100000, 0).addr).error)
      .toBe(E_BOOT_BAD_HANDOFF);
  });

  it("names the architectures", () => {
    expect(archName(ARCH_X86_64)).toBe("x86_64");
    expect(archName(ARCH_AARCH64)).toBe("aarch64");
    expect(archName(0)).toBe("");
  });
});
