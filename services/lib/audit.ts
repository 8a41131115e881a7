// The kernel's records, read with CAP_AUDIT: the audit ring (every denial,
// with trace id, caller, target, verdict; and the scheduler's decisions,
// AUDIT_OP_SCHED_*) and the per-endpoint IPC counters.

import {
  SYS_NULL, SYS_EXIT, SYS_YIELD, SYS_CALL, SYS_SEND, SYS_RECV, SYS_REPLY, SYS_REPLY_RECV, SYS_SIGNAL,
  SYS_WAIT, SYS_CAP_DERIVE, SYS_CAP_DELETE, SYS_CAP_REVOKE, SYS_CAP_INFO, SYS_MEM_GROW, SYS_PORT_IN,
  SYS_PORT_OUT, SYS_IRQ_ACK, SYS_SPAWN, SYS_KILL, SYS_PROC_INFO, SYS_AUDIT_READ, SYS_IPC_STATS, SYS_LOG,
  SYS_BOOT_INFO, SYS_SLEEP, SYS_KERNEL_INFO, SYS_POWER, SYS_MAP, SYS_MMIO_READ, SYS_MMIO_WRITE,
  SYS_SCHED_INFO, SYS_SCHED_SET, SYS_SCHED_TUNE, SYS_CPU_INFO,
  AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_PREEMPT, AUDIT_OP_SCHED_MIGRATE,
  AUDIT_TARGET_NONE, AUDIT_TARGET_SLOT, AUDIT_TARGET_ENDPOINT, AUDIT_TARGET_NOTIFICATION,
  AUDIT_TARGET_PROCESS, AUDIT_TARGET_PORT, AUDIT_TARGET_IRQ, AUDIT_TARGET_SERVICE, AUDIT_TARGET_SYSCALL,
  AUDIT_TARGET_MMIO, AUDIT_TARGET_SCHED,
} from "../../kernel/abi";
import { result, syscall, userPointer } from "./sys";
import { TEXT_BUFFER, TEXT_BYTES, textFromBuffer } from "./text";

@final export class AuditRecord {
  traceId: u64 = 0;
  caller: u64 = 0;        // pid
  target: u32 = 0;
  targetKind: u8 = 0;     // AUDIT_TARGET_*
  syscall: u32 = 0;       // the system call's number, or AUDIT_OP_SCHED_* (a scheduler decision)
  verdict: i32 = 0;       // E_OK or the error it got
  times: u64 = 0;         // identical denials in a row are one record
  tick: u64 = 0;          // timer tick of the first
}

// The record with the smallest trace id >= sequence (AUDIT_BACKWARD in
// flags: the largest <= sequence); E_NOT_FOUND when there is none.
export function auditRead(auditSlot: u32, sequence: u64, flags: u64, into: AuditRecord): i32 {
  let status = syscall(SYS_AUDIT_READ, auditSlot, sequence, flags);
  if (status < 0) return status;
  into.traceId = result(0);
  into.caller = result(1);
  into.target = <u32>result(2);
  into.targetKind = <u8>(result(2) >> 32);
  into.syscall = <u32>result(3);
  into.verdict = <i32>(result(3) >> 32);
  into.times = result(4);
  into.tick = result(5);
  return status;
}

@final export class IpcStats {
  calls: u64 = 0;
  sends: u64 = 0;
  replies: u64 = 0;
  denials: u64 = 0;
  queued: u32 = 0;
  depth: u32 = 0;
  name: string = "";
}

// Counters of endpoint `index` (E_NOT_FOUND / E_BAD_ARG past the last).
export function ipcStats(auditSlot: u32, index: u32, into: IpcStats): i32 {
  let status = syscall(SYS_IPC_STATS, auditSlot, index, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status < 0) return status;
  into.calls = result(0);
  into.sends = result(1);
  into.replies = result(2);
  into.denials = result(3);
  into.queued = <u32>result(4);
  into.depth = <u32>(result(4) >> 32);
  into.name = textFromBuffer(0, min(<i32>result(5), TEXT_BYTES));
  return status;
}

// A system call's name, as audit records show it: "call", "port_in";
// a scheduler decision's: "sched:band".
export function syscallName(number: u32): string {
  switch (number) {
    case SYS_NULL: return "null";
    case SYS_EXIT: return "exit";
    case SYS_YIELD: return "yield";
    case SYS_CALL: return "call";
    case SYS_SEND: return "send";
    case SYS_RECV: return "recv";
    case SYS_REPLY: return "reply";
    case SYS_REPLY_RECV: return "reply_recv";
    case SYS_SIGNAL: return "signal";
    case SYS_WAIT: return "wait";
    case SYS_CAP_DERIVE: return "cap_derive";
    case SYS_CAP_DELETE: return "cap_delete";
    case SYS_CAP_REVOKE: return "cap_revoke";
    case SYS_CAP_INFO: return "cap_info";
    case SYS_MEM_GROW: return "mem_grow";
    case SYS_PORT_IN: return "port_in";
    case SYS_PORT_OUT: return "port_out";
    case SYS_IRQ_ACK: return "irq_ack";
    case SYS_SPAWN: return "spawn";
    case SYS_KILL: return "kill";
    case SYS_PROC_INFO: return "proc_info";
    case SYS_AUDIT_READ: return "audit_read";
    case SYS_IPC_STATS: return "ipc_stats";
    case SYS_LOG: return "log";
    case SYS_BOOT_INFO: return "boot_info";
    case SYS_SLEEP: return "sleep";
    case SYS_KERNEL_INFO: return "kernel_info";
    case SYS_POWER: return "power";
    case SYS_MAP: return "map";
    case SYS_MMIO_READ: return "mmio_read";
    case SYS_MMIO_WRITE: return "mmio_write";
    case SYS_SCHED_INFO: return "sched_info";
    case SYS_SCHED_SET: return "sched_set";
    case SYS_SCHED_TUNE: return "sched_tune";
    case SYS_CPU_INFO: return "cpu_info";
    case AUDIT_OP_SCHED_BAND: return "sched:band";
    case AUDIT_OP_SCHED_AGE: return "sched:age";
    case AUDIT_OP_SCHED_PREEMPT: return "sched:preempt";
    case AUDIT_OP_SCHED_MIGRATE: return "sched:migrate";
  }
  return "syscall " + number.toString();
}

// What an audit record's target names: "slot 9", "pid 3", "port 0x3f8".
// A scheduler decision's target is packed by its op (services/lib/sched.ts
// schedDecisionText reads it); here it is only the raw word.
export function auditTargetText(kind: u8, target: u32): string {
  switch (kind) {
    case AUDIT_TARGET_NONE: return "-";
    case AUDIT_TARGET_SLOT: return "slot " + target.toString();
    case AUDIT_TARGET_ENDPOINT: return "endpoint " + target.toString();
    case AUDIT_TARGET_NOTIFICATION: return "notification " + target.toString();
    case AUDIT_TARGET_PROCESS: return "pid " + target.toString();
    case AUDIT_TARGET_PORT: return "port 0x" + target.toString(16);
    case AUDIT_TARGET_IRQ: return "irq " + target.toString();
    case AUDIT_TARGET_SERVICE: return "service " + target.toString();
    case AUDIT_TARGET_SYSCALL: return "syscall " + target.toString();
    case AUDIT_TARGET_MMIO: return "mmio 0x" + target.toString(16);
    case AUDIT_TARGET_SCHED: return "sched 0x" + target.toString(16);
  }
  return "kind " + kind.toString() + " " + target.toString();
}
