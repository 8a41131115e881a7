// Processes: exit, yield, spawn and kill (with CAP_SPAWN / CAP_PROCESS),
// what the kernel knows of each process (SYS_PROC_INFO, with CAP_AUDIT)
// and of each boot-manifest service (SYS_BOOT_INFO, with CAP_SPAWN).

import {
  SYS_EXIT, SYS_YIELD, SYS_SPAWN, SYS_KILL, SYS_PROC_INFO, SYS_BOOT_INFO,
  BOOT_INFO_AVAILABLE, BOOT_INFO_IS_INIT, EXIT_TRAP_BASE, EXIT_KILLED, EXIT_FAULT,
  PROC_FREE, PROC_RUNNING, PROC_BLOCKED, PROC_DEAD,
  TRAP_OOB, TRAP_INT_OVERFLOW, TRAP_DIV_BY_ZERO, TRAP_INVALID_CONVERSION, TRAP_UNREACHABLE,
  TRAP_CALL_INDIRECT, TRAP_UNCAUGHT_EXCEPTION, TRAP_EXHAUSTION,
} from "../../kernel/abi";
import { result, syscall, userPointer } from "./sys";
import { TEXT_BUFFER, TEXT_BYTES, nextTextOffset, textFromBuffer } from "./text";

// Exit code of a service whose runtime (libsys) could not run it: no
// memory for its initial pages, a runtime limit (services/libsys/libsys.h).
export const EXIT_LIBSYS_FAILED: u64 = 0xff;

export function exit(code: u32): void {
  syscall(SYS_EXIT, code);
  unreachable(); // SYS_EXIT does not return
}

export function sysYield(): i32 {
  return syscall(SYS_YIELD);
}

// Starts boot service `service`; its CAP_PROCESS lands in `targetSlot`
// (empty, else E_SLOT_FULL). spawnedPid() is the new pid.
export function spawn(spawnSlot: u32, service: u32, targetSlot: u32): i32 {
  return syscall(SYS_SPAWN, spawnSlot, service, targetSlot);
}

@inline export function spawnedPid(): u64 {
  return result(0);
}

export function kill(processSlot: u32): i32 {
  return syscall(SYS_KILL, processSlot);
}

// One process-table entry, as SYS_PROC_INFO reports it.
@final export class ProcInfo {
  pid: u64 = 0;
  state: u32 = PROC_FREE;
  exitCode: u64 = 0;       // dead processes: SYS_EXIT's code, EXIT_KILLED or EXIT_FAULT
  faults: u32 = 0;
  serviceFaults: u32 = 0;  // of its service since boot
  service: u32 = 0;        // boot service index, SERVICE_NONE for init
  starts: u32 = 0;         // times its service was started
  supervisor: u64 = 0;     // pid, 0: none
  pages: u32 = 0;          // linear memory, 64 KiB pages
  name: string = "";
  reason: string = "";     // why it died, in the kernel's words
}

// Process table entry `index`: E_NOT_FOUND for an unused one, E_BAD_ARG
// past the table's end.
export function procInfo(auditSlot: u32, index: u32, into: ProcInfo): i32 {
  let status = syscall(SYS_PROC_INFO, auditSlot, index, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status < 0) return status;
  into.pid = result(0);
  into.state = <u32>result(1);
  into.exitCode = result(1) >> 32;
  into.faults = <u32>result(2);
  into.serviceFaults = <u32>(result(2) >> 32);
  into.service = <u32>result(3);
  into.starts = <u32>(result(3) >> 32);
  into.supervisor = <u64><u32>result(4);
  into.pages = <u32>(result(4) >> 32);
  into.name = textFromBuffer(0, TEXT_BYTES);
  into.reason = textFromBuffer(nextTextOffset(0), TEXT_BYTES);
  return status;
}

export function procStateName(state: u32): string {
  switch (state) {
    case PROC_FREE: return "free";
    case PROC_RUNNING: return "running";
    case PROC_BLOCKED: return "blocked";
    case PROC_DEAD: return "dead";
  }
  return "state " + state.toString();
}

// An exit code in words: "exit 3", "wasm trap: out-of-bounds", "killed".
export function exitText(code: u64): string {
  if (code == EXIT_KILLED) return "killed";
  if (code == EXIT_FAULT) return "CPU fault";
  if (code == EXIT_LIBSYS_FAILED) return "runtime failure (libsys)";
  if (code >= EXIT_TRAP_BASE && code < EXIT_TRAP_BASE + 0x100) return "wasm trap: " + trapName(<u32>(code - EXIT_TRAP_BASE));
  return "exit " + code.toString();
}

export function trapName(kind: u32): string {
  switch (kind) {
    case TRAP_OOB: return "out-of-bounds";
    case TRAP_INT_OVERFLOW: return "integer overflow";
    case TRAP_DIV_BY_ZERO: return "divide by zero";
    case TRAP_INVALID_CONVERSION: return "invalid conversion";
    case TRAP_UNREACHABLE: return "unreachable";
    case TRAP_CALL_INDIRECT: return "bad indirect call";
    case TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case TRAP_EXHAUSTION: return "call stack exhausted";
  }
  return "kind " + kind.toString();
}

// One service of the boot manifest, as SYS_BOOT_INFO reports it.
@final export class BootServiceInfo {
  depends: u64 = 0;        // bit j: depends on service j
  restartLimit: u32 = 0;
  backoffMs: u32 = 0;      // first restart back-off; doubles each time
  flags: u64 = 0;          // BOOT_INFO_*
  count: u32 = 0;          // services in the boot manifest
  name: string = "";

  get isInit(): bool { return (this.flags & BOOT_INFO_IS_INIT) != 0; }
  get available(): bool { return (this.flags & BOOT_INFO_AVAILABLE) != 0; }
}

// Boot service `index`: E_NOT_FOUND past the last.
export function bootInfo(spawnSlot: u32, index: u32, into: BootServiceInfo): i32 {
  let status = syscall(SYS_BOOT_INFO, spawnSlot, index, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status < 0) return status;
  into.depends = result(0);
  into.restartLimit = <u32>result(1);
  into.backoffMs = <u32>result(2);
  into.flags = result(3);
  into.count = <u32>result(4);
  into.name = textFromBuffer(0, min(<i32>result(5), TEXT_BYTES));
  return status;
}
