// The machine as a whole: time (sleep), what the kernel tells anyone
// (SYS_KERNEL_INFO: version, uptime, memory) and, with CAP_POWER, reset
// and power-off.

import { E_OK, KERNEL_INFO_BOOT, SYS_KERNEL_INFO, SYS_POWER, SYS_SLEEP } from "../../kernel/abi";
import { result, syscall, userPointer } from "./sys";
import { TEXT_BUFFER, TEXT_BYTES, textFromBuffer } from "./text";

// Blocks `ms` milliseconds (rounded up to timer ticks).
export function sleep(ms: u32): i32 {
  return syscall(SYS_SLEEP, ms);
}

// KERNEL_INFO_* `key`; the answer is in result(0..5) (kernel/abi.ts).
export function kernelInfo(key: u32): i32 {
  return syscall(SYS_KERNEL_INFO, key);
}

// Line `line` of the kernel's boot report (what `bootinfo` shows), or null
// past the last line or on an error.
export function kernelBootLine(line: u32): string | null {
  let status = syscall(SYS_KERNEL_INFO, KERNEL_INFO_BOOT, line, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status != E_OK) return null;
  return textFromBuffer(0, min(<i32>result(0), TEXT_BYTES));
}

// POWER_RESET or POWER_OFF through the CAP_POWER in `slot`; returns only
// when refused.
export function power(slot: u32, operation: u32): i32 {
  return syscall(SYS_POWER, slot, operation);
}
