// The one import every service has: sys.syscall, implemented by libsys
// (services/libsys/imports.c). Everything else in services/lib wraps it.
//
//   sys.syscall(number, a0..a5, results) -> status
//
// status is E_OK or a negative E_* (kernel/abi.ts); the six result
// registers r0..r5 land in RESULTS, where result(i) reads them until the
// next call. libsys traps (out of bounds) if `results` is outside linear
// memory, and answers SYS_MEM_GROW with E_BAD_SYSCALL: memory.grow is the
// way to grow.

import { USER_WASM_BASE } from "../../kernel/abi";

@external("sys", "syscall")
declare function sys_syscall(number: u32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, results: usize): i64;

export const RESULT_WORDS: i32 = 6;
const RESULTS: usize = memory.data(RESULT_WORDS * 8, 8);

// Makes system call `number`; returns its status (E_OK or a negative E_*).
export function syscall(number: u32, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0): i32 {
  return <i32>sys_syscall(number, a0, a1, a2, a3, a4, a5, RESULTS);
}

// Result register r<index> (0..5) of the last system call.
@inline export function result(index: i32): u64 {
  return load<u64>(RESULTS + (<usize>index << 3));
}

// The user virtual address of a linear-memory offset: what a system call
// that takes a pointer (log, proc info, boot info, IPC stats) wants. The
// kernel checks it lies in the caller's mappings (E_FAULT otherwise).
@inline export function userPointer(offset: usize): u64 {
  return USER_WASM_BASE + <u64>offset;
}
