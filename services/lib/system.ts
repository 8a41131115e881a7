// The machine as a whole: time (sleep), what the kernel tells anyone
// (SYS_KERNEL_INFO: version, uptime, memory) and, with CAP_POWER, reset
// and power-off.

import { SYS_KERNEL_INFO, SYS_POWER, SYS_SLEEP } from "../../kernel/abi";
import { syscall } from "./sys";

// Blocks `ms` milliseconds (rounded up to timer ticks).
export function sleep(ms: u32): i32 {
  return syscall(SYS_SLEEP, ms);
}

// KERNEL_INFO_* `key`; the answer is in result(0..5) (kernel/abi.ts).
export function kernelInfo(key: u32): i32 {
  return syscall(SYS_KERNEL_INFO, key);
}

// POWER_RESET or POWER_OFF through the CAP_POWER in `slot`; returns only
// when refused.
export function power(slot: u32, operation: u32): i32 {
  return syscall(SYS_POWER, slot, operation);
}
