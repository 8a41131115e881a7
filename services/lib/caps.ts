// Capabilities: derive (fewer rights, a badge), delete, revoke (every copy
// derived from it), and what a slot holds. Slots are 0 .. CAP_SLOTS - 1;
// SLOT_SELF names the caller where a process slot is asked for.

import {
  SYS_CAP_DERIVE, SYS_CAP_DELETE, SYS_CAP_REVOKE, SYS_CAP_INFO,
  CAP_NONE, CAP_ENDPOINT, CAP_NOTIFICATION, CAP_IRQ, CAP_IO_PORTS, CAP_MMIO, CAP_MEMORY,
  CAP_PROCESS, CAP_SPAWN, CAP_AUDIT, CAP_LOG, CAP_POWER, CAP_SCHED, CAP_SCHED_TUNE,
  RIGHT_SEND, RIGHT_RECEIVE, RIGHT_CALL, RIGHT_GRANT, RIGHT_READ, RIGHT_WRITE, RIGHT_MAP,
} from "../../kernel/abi";
import { result, syscall } from "./sys";

// What SYS_CAP_INFO says about one slot.
@final export class CapInfo {
  type: u8 = CAP_NONE;
  rights: u8 = 0;
  badge: u64 = 0;
  object: u64 = 0;   // endpoint / notification index, irq source, pid
  base: u64 = 0;     // io-ports: first port; mmio: physical address
  count: u64 = 0;    // io-ports: ports; mmio: bytes
}

// Copies `source` into the empty slot `target` with `rights` (a subset of
// the source's) and `badge`.
export function capDerive(source: u32, target: u32, rights: u8, badge: u64 = 0): i32 {
  return syscall(SYS_CAP_DERIVE, source, target, rights, badge);
}

export function capDelete(slot: u32): i32 {
  return syscall(SYS_CAP_DELETE, slot);
}

export function capRevoke(slot: u32): i32 {
  return syscall(SYS_CAP_REVOKE, slot);
}

// What `slot` of the process behind `processSlot` (or SLOT_SELF) holds.
export function capInfo(processSlot: u32, slot: u32, into: CapInfo): i32 {
  let status = syscall(SYS_CAP_INFO, processSlot, slot);
  if (status < 0) return status;
  into.type = <u8>result(0);
  into.rights = <u8>result(1);
  into.badge = result(2);
  into.object = result(3);
  into.base = result(4);
  into.count = result(5);
  return status;
}

// The names the manifests use (tools/manifest.ts CAP_TYPES).
export function capTypeName(type: u8): string {
  switch (type) {
    case CAP_NONE: return "none";
    case CAP_ENDPOINT: return "endpoint";
    case CAP_NOTIFICATION: return "notification";
    case CAP_IRQ: return "irq";
    case CAP_IO_PORTS: return "io-ports";
    case CAP_MMIO: return "mmio";
    case CAP_MEMORY: return "memory";
    case CAP_PROCESS: return "process";
    case CAP_SPAWN: return "spawn";
    case CAP_AUDIT: return "audit";
    case CAP_LOG: return "log";
    case CAP_POWER: return "power";
    case CAP_SCHED: return "sched";
    case CAP_SCHED_TUNE: return "sched-tune";
  }
  return "type " + type.toString();
}

// "send,call" ("none" for an empty mask), in the manifests' words.
export function rightsText(rights: u8): string {
  let text = "";
  if (rights & RIGHT_SEND) text += ",send";
  if (rights & RIGHT_RECEIVE) text += ",receive";
  if (rights & RIGHT_CALL) text += ",call";
  if (rights & RIGHT_GRANT) text += ",grant";
  if (rights & RIGHT_READ) text += ",read";
  if (rights & RIGHT_WRITE) text += ",write";
  if (rights & RIGHT_MAP) text += ",map";
  return text.length > 0 ? text.substring(1) : "none";
}
