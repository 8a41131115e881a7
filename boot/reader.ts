// Reading foreign memory: loader structures, ACPI tables, the DTB.
//
// They live outside the kernel's linear memory, so the only way in is
// arch.peek, which copies bytes into linear memory. Every read in boot/ goes
// through the helpers below; nothing else in boot/ calls peek.
//
// All multi-byte values are little-endian (both our architectures are, and
// so are Multiboot2, Limine and ACPI). Reads need no alignment.
//
// A read never crosses into a page the caller did not ask for: the string
// readers fetch in chunks that stop at 4 KiB page boundaries, so a string that
// ends just before an unmapped page does not fault the kernel.

import { peek } from "../kernel/arch";

const PAGE_BYTES: u64 = 4096;
const CHUNK_BYTES: u32 = 64;

// One static scratch area, reused by every read (boot code is single-threaded
// and the values are consumed before the next read).
const scratch: usize = memory.data(CHUNK_BYTES);

export function readU8(addr: u64): u8 {
  peek(addr, scratch, 1);
  return load<u8>(scratch);
}

export function readU16(addr: u64): u16 {
  peek(addr, scratch, 2);
  return load<u16>(scratch);
}

export function readU32(addr: u64): u32 {
  peek(addr, scratch, 4);
  return load<u32>(scratch);
}

export function readU64(addr: u64): u64 {
  peek(addr, scratch, 8);
  return load<u64>(scratch);
}

// Copies `len` bytes from foreign `addr` to linear memory at `dst`.
export function readBytes(addr: u64, dst: usize, len: u32): void {
  if (len > 0) peek(addr, dst, len);
}

// Bytes from `addr` up to the end of its 4 KiB page, at most `limit`.
function chunkAt(addr: u64, limit: u32): u32 {
  let toPageEnd = PAGE_BYTES - (addr & (PAGE_BYTES - 1));
  let n = min<u64>(toPageEnd, <u64>limit);
  return <u32>min<u64>(n, <u64>CHUNK_BYTES);
}

// Length of the NUL-terminated string at `addr`, at most `maxLen` (when no
// NUL comes within `maxLen` bytes the string is cut there).
export function cStringLength(addr: u64, maxLen: u32): u32 {
  let len: u32 = 0;
  while (len < maxLen) {
    let n = chunkAt(addr + len, maxLen - len);
    peek(addr + len, scratch, n);
    for (let i: u32 = 0; i < n; i++) {
      if (load<u8>(scratch + i) == 0) return len + i;
    }
    len += n;
  }
  return maxLen;
}

// The NUL-terminated UTF-8 string at `addr`, never longer than `maxLen`
// bytes. A null address reads as "".
export function readCString(addr: u64, maxLen: u32): string {
  if (addr == 0) return "";
  return readFixedString(addr, cStringLength(addr, maxLen));
}

// Exactly `len` bytes at `addr` as a string, cut at the first NUL (ACPI
// signatures and OEM ids are fixed-width and may be NUL-padded).
export function readFixedString(addr: u64, len: u32): string {
  if (len == 0) return "";
  let buf = new ArrayBuffer(<i32>len);
  let ptr = changetype<usize>(buf);
  peek(addr, ptr, len);
  let used: u32 = 0;
  while (used < len && load<u8>(ptr + used) != 0) used++;
  return String.UTF8.decodeUnsafe(ptr, used);
}

// True when the bytes at `addr` equal the short ASCII string `expected`
// (signatures: "RSD PTR ", "APIC", "_S5_"; at most CHUNK_BYTES long).
export function bytesEqual(addr: u64, expected: string): bool {
  let n = expected.length;
  if (n == 0 || <u32>n > CHUNK_BYTES) return false;
  peek(addr, scratch, <u32>n);
  for (let i = 0; i < n; i++) {
    if (<i32>load<u8>(scratch + <usize>i) != expected.charCodeAt(i)) return false;
  }
  return true;
}
