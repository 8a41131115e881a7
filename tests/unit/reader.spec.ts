import {
  readU8, readU16, readU32, readU64, readBytes, readCString, readFixedString,
  cStringLength, bytesEqual,
} from "../../boot/reader";
import { Buf } from "./fixtures";

describe("reader: integers", () => {
  it("reads little-endian values of every width, unaligned too", () => {
    let b = new Buf(32).bytes(1, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect(readU8(b.addr + 1)).toBe(0x11);
    expect(readU16(b.addr + 1)).toBe(0x2211);
    expect(readU32(b.addr + 1)).toBe(0x44332211);
    expect(readU64(b.addr + 1)).toBe(0x8877665544332211);
  });

  it("copies raw bytes into linear memory", () => {
    let src = new Buf(16).text(0, "wasm2c", false);
    let dst = new Buf(16);
    readBytes(src.addr, dst.base, 6);
    expect(dst.getU8(0)).toBe(0x77);
    expect(dst.getU8(5)).toBe(0x63);
    expect(dst.getU8(6)).toBe(0);
  });
});

describe("reader: strings", () => {
  it("reads a NUL-terminated string", () => {
    let b = new Buf(32).text(0, "GRUB 2.12");
    expect(readCString(b.addr, 32)).toBe("GRUB 2.12");
    expect(cStringLength(b.addr, 32)).toBe(9);
  });

  it("stops at maxLen when no NUL comes first", () => {
    let b = new Buf(300);
    for (let i: u32 = 0; i < 300; i++) b.u8(i, 0x61);
    expect(cStringLength(b.addr, 200)).toBe(200);
    expect(readCString(b.addr, 200).length).toBe(200);
    expect(readCString(b.addr, 3)).toBe("aaa");
    expect(readCString(b.addr, 0)).toBe("");
  });

  it("reads a null address as the empty string", () => {
    expect(readCString(0, 100)).toBe("");
  });

  it("reads a string that crosses a 4 KiB page boundary", () => {
    let b = new Buf(3 * 4096);
    let offset = <u32>(4096 - (b.addr & 4095)) + 4096 - 7; // 7 bytes before a boundary
    b.text(offset, "crosses-the-page-boundary");
    expect(readCString(b.addr + offset, 100)).toBe("crosses-the-page-boundary");
  });

  it("decodes UTF-8", () => {
    let b = new Buf(8).bytes(0, [0x63, 0x61, 0x66, 0xc3, 0xa9, 0]);
    expect(readCString(b.addr, 8)).toBe("café");
  });

  it("cuts fixed-width fields at the first NUL", () => {
    let b = new Buf(8).text(0, "BOCHS", false);
    expect(readFixedString(b.addr, 6)).toBe("BOCHS");
    expect(readFixedString(b.addr, 3)).toBe("BOC");
    expect(readFixedString(b.addr, 0)).toBe("");
  });

  it("compares short signatures", () => {
    let b = new Buf(8).text(0, "RSD PTR ", false);
    expect(bytesEqual(b.addr, "RSD PTR ")).toBe(true);
    expect(bytesEqual(b.addr, "RSD PTX ")).toBe(false);
    expect(bytesEqual(b.addr, "")).toBe(false);
  });
});
