// hostile: a test-only service that tries every escape it can think of and
// logs each outcome. Built into test images only (services/boot.json
// test_only). Each attempt logs one line:
//
//   hostile: <attempt>: denied (<E_NAME or what happened>)
//   hostile: <attempt>: ALLOWED          <- a test failure
//
// then "hostile: done, N attempts, N denied", and last a store outside its
// linear memory, which must kill it (wasm trap: out-of-bounds); init
// restarts it up to its restart limit.
//
// It holds only a send-only capability to the "bait" endpoint and the log
// (services/hostile/manifest.json); every other slot is empty.

import {
  CAP_SLOTS, INIT_SLOT_SPAWN, LOG_MAX_BYTES, RIGHT_SEND, RIGHTS_ALL, SLOT_SELF, SYS_COUNT, SYS_LOG,
  SYS_MEM_GROW, SYS_SEND, USER_SPACE_END, USER_STACK_BYTES, USER_STACK_TOP, USER_WASM_BASE, E_OK,
  POWER_OFF, POWER_RESET,
} from "../../kernel/abi";
import {
  AuditRecord, BootServiceInfo, CapInfo, IpcStats, Message, ProcInfo, TEXT_BUFFER, auditRead, bootInfo,
  call, capDelete, capDerive, capInfo, capRevoke, errorName, ipcStats, irqAck, kill, log, portIn, portOut, power,
  procInfo, recv, reply, replyRecv, rightsText, send, setLogSlot, signal, spawn, syscall, textToBuffer,
  userPointer, wait,
} from "../lib";

const SLOT_BAIT: u32 = 0;         // "bait" [send], badge 3
const SLOT_LOG: u32 = 1;          // [write]
const FIRST_EMPTY_SLOT: u32 = 2;
const SCRATCH_SLOT: u32 = 10;     // an empty slot to derive into
const BAIT_BADGE: u64 = 3;
const FLOOD_LIMIT: i32 = 100_000; // sends before calling the queue unbounded
const KERNEL_ADDRESS: u64 = 0xffff_8000_0000_0000;

let attempts = 0;
let denied = 0;
const message = new Message();
const cap = new CapInfo();

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  log("hostile: starting");
  forgeSlots();
  useWithoutRights();
  passBadPointers();
  touchDevices();
  controlProcesses();
  readKernelRecords();
  abuseCapabilities();
  badSystemCalls();
  growPastQuota();
  floodBait();
  log("hostile: done, " + attempts.toString() + " attempts, " + denied.toString() + " denied");
  storeOutOfBounds();
  return 1; // only if the store did not kill it
}

// ---- outcomes ----

function outcome(attempt: string, allowed: bool, why: string): void {
  attempts++;
  if (allowed) {
    log("hostile: " + attempt + ": ALLOWED");
  } else {
    denied++;
    log("hostile: " + attempt + ": denied (" + why + ")");
  }
}

// A system call's status: any error is a denial.
function expectDenied(attempt: string, status: i32): void {
  outcome(attempt, status >= 0, errorName(status));
}

// ---- the attempts ----

// xorshift32, seeded: the same "random" slots in every run.
let seed: u32 = 0x2545f491;
function nextRandom(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

function forgeSlots(): void {
  for (let i = 0; i < 4; i++) {
    let slot = FIRST_EMPTY_SLOT + nextRandom() % (CAP_SLOTS - FIRST_EMPTY_SLOT);
    expectDenied("send on forged slot " + slot.toString(), send(slot, 1, 0, 0, 0, 0));
  }
  let outside: u64[] = [<u64>CAP_SLOTS, 0xfffe, <u64>SLOT_SELF, 0xffff_ffff, 1 << 40];
  for (let i = 0; i < outside.length; i++) {
    expectDenied("send on out-of-range slot " + outside[i].toString(),
      syscall(SYS_SEND, outside[i], 1, 0, 0, 0, 0));
  }
  expectDenied("call on random slot " + (nextRandom() % 1000 + CAP_SLOTS).toString(),
    call(nextRandom() % 1000 + CAP_SLOTS, 1, 0, 0, 0, 0, message));
}

function useWithoutRights(): void {
  expectDenied("call bait, holding only send", call(SLOT_BAIT, 1, 0, 0, 0, 0, message));
  expectDenied("receive on bait, holding only send", recv(SLOT_BAIT, message));
  expectDenied("reply_recv on bait", replyRecv(SLOT_BAIT, 1, 0, 0, 0, 0, message));
  expectDenied("reply with nobody to reply to", reply(1));
  expectDenied("send on the log capability", send(SLOT_LOG, 1, 0, 0, 0, 0));
  expectDenied("signal bait (an endpoint, not a notification)", signal(SLOT_BAIT, 1));
  expectDenied("wait on the log capability", wait(SLOT_LOG));
  let length = textToBuffer("not a log capability");
  expectDenied("log through bait", syscall(SYS_LOG, SLOT_BAIT, userPointer(TEXT_BUFFER), <u64>length));
}

function logFrom(attempt: string, pointer: u64, length: u64): void {
  expectDenied(attempt, syscall(SYS_LOG, SLOT_LOG, pointer, length));
}

function passBadPointers(): void {
  let memoryEnd = USER_WASM_BASE + (<u64>memory.size() << 16);
  logFrom("log from a kernel address", KERNEL_ADDRESS, 16);
  logFrom("log from the null page", 0, 16);
  logFrom("log from a non-canonical address", USER_SPACE_END, 16);
  logFrom("log from past its linear memory", memoryEnd, 16);
  logFrom("log straddling the end of its linear memory", memoryEnd - 8, 16);
  logFrom("log from the stack's guard page", USER_STACK_TOP - USER_STACK_BYTES - 4096, 16);
  logFrom("log with an address that wraps", 0xffff_ffff_ffff_fff0, 32);
  logFrom("log " + (LOG_MAX_BYTES + 1).toString() + " bytes", USER_WASM_BASE, <u64>LOG_MAX_BYTES + 1);
  logFrom("log 1 TiB", USER_WASM_BASE, 1 << 40);
}

function touchDevices(): void {
  expectDenied("read COM1 through the log capability", portIn(SLOT_LOG, 0x3f8, 1));
  expectDenied("reset through the keyboard controller (empty slot)", portOut(FIRST_EMPTY_SLOT, 0x64, 1, 0xfe));
  expectDenied("PCI configuration through bait", portOut(SLOT_BAIT, 0xcf8, 4, 0x8000_0000));
  expectDenied("ack an interrupt through bait", irqAck(SLOT_BAIT));
  expectDenied("reset the machine through bait", power(SLOT_BAIT, POWER_RESET));
  expectDenied("power off through an empty slot", power(FIRST_EMPTY_SLOT, POWER_OFF));
}

function controlProcesses(): void {
  expectDenied("spawn through bait", spawn(SLOT_BAIT, 0, SCRATCH_SLOT));
  expectDenied("spawn through init's spawn slot number", spawn(INIT_SLOT_SPAWN, 0, SCRATCH_SLOT));
  expectDenied("kill through bait", kill(SLOT_BAIT));
  expectDenied("kill through an empty slot", kill(FIRST_EMPTY_SLOT));
  expectDenied("read the capabilities of bait as a process", capInfo(SLOT_BAIT, 0, cap));
  expectDenied("read the capabilities of an empty process slot", capInfo(FIRST_EMPTY_SLOT, 0, cap));
}

function readKernelRecords(): void {
  expectDenied("read the audit ring through the log capability", auditRead(SLOT_LOG, 0, 0, new AuditRecord()));
  expectDenied("read the process table through bait", procInfo(SLOT_BAIT, 0, new ProcInfo()));
  expectDenied("read IPC counters through an empty slot", ipcStats(FIRST_EMPTY_SLOT, 0, new IpcStats()));
  expectDenied("read the boot manifest through the log capability", bootInfo(SLOT_LOG, 0, new BootServiceInfo()));
}

function abuseCapabilities(): void {
  expectDenied("revoke an empty slot", capRevoke(FIRST_EMPTY_SLOT));
  expectDenied("revoke an out-of-range slot", capRevoke(1000));
  expectDenied("delete an out-of-range slot", capDelete(CAP_SLOTS));
  expectDenied("derive into an out-of-range slot", capDerive(SLOT_BAIT, CAP_SLOTS, RIGHT_SEND));
  expectDenied("derive over its own log capability", capDerive(SLOT_BAIT, SLOT_LOG, RIGHT_SEND));

  // Deriving may cut the rights instead of refusing: what counts is what
  // the copy holds.
  let status = capDerive(SLOT_BAIT, SCRATCH_SLOT, RIGHTS_ALL);
  if (status < 0) {
    expectDenied("derive bait with every right", status);
  } else {
    let held = capInfo(SLOT_SELF, SCRATCH_SLOT, cap) == E_OK ? cap.rights : RIGHTS_ALL;
    outcome("derive bait with every right", (held & ~RIGHT_SEND) != 0, "the copy holds " + rightsText(held));
    capDelete(SCRATCH_SLOT);
  }

  // A new badge would let it speak as someone else.
  status = capDerive(SLOT_BAIT, SCRATCH_SLOT, RIGHT_SEND, 99);
  if (status < 0) {
    expectDenied("derive bait with another badge", status);
  } else {
    let badge = capInfo(SLOT_SELF, SCRATCH_SLOT, cap) == E_OK ? cap.badge : 99;
    outcome("derive bait with another badge", badge != BAIT_BADGE, "the copy keeps badge " + badge.toString());
    capDelete(SCRATCH_SLOT);
  }
}

function badSystemCalls(): void {
  expectDenied("system call " + SYS_COUNT.toString(), syscall(SYS_COUNT));
  expectDenied("system call 0xffffffff", syscall(0xffff_ffff));
  // libsys keeps this one: the runtime alone grows linear memory.
  expectDenied("grow memory behind the runtime's back (libsys)", syscall(SYS_MEM_GROW, 1));
}

function growPastQuota(): void {
  let pages = 4096;
  let previous = memory.grow(pages);
  outcome("grow linear memory by " + pages.toString() + " pages", previous >= 0, "memory.grow returned -1");
}

function floodBait(): void {
  let status = E_OK;
  let sent = 0;
  while (sent < FLOOD_LIMIT) {
    status = send(SLOT_BAIT, 1, <u64>sent, 0, 0, 0);
    if (status < 0) break;
    sent++;
  }
  outcome("flood bait (" + sent.toString() + " queued first)", status >= 0, errorName(status));
}

// The last attempt: wasm cannot write outside its linear memory natively;
// this store lands in the unmapped guard of the reservation and the kernel
// kills the process ("wasm trap: out-of-bounds").
function storeOutOfBounds(): void {
  log("hostile: last: a store outside its linear memory (this kills it)");
  store<u32>(<usize>0xffff_fff0, 0xdead);
  attempts++;
  log("hostile: store outside its linear memory: ALLOWED");
}
