// System-call dispatch and the zero-trust interceptor.
//
// Every system call enters at syscallDispatch, and every one passes the
// interceptor on its way out: the rights check is the capability lookup
// each handler starts with (kernel/cap.ts capLookup), IPC operations that
// reach another party (call, send, signal, log) take a token from the
// caller's rate limit (kernel/audit.ts), and finish() writes the audit
// record. There is no other way from user space into proc, cap or ipc.
//
// Arguments are never trusted: slots are range-checked before use, user
// pointers are only touched through arch.space_read / space_write (E_FAULT
// when any byte is not mapped the right way), widths, lengths, indices and
// rights masks are checked against their ranges. A bad argument is an
// error value for the caller, never a kernel fault.
//
// What gets audited: every denial (kernel/audit.ts never lets allowed
// records push denials out), and every allowed call except the quiet ones
// (QUIET below: benchmarks, device I/O and the calls that read the audit
// and statistics themselves, so reading the audit does not rewrite it).

import * as arch from "./arch";
import {
  AUDIT_BACKWARD, AUDIT_DENIALS_ONLY, AUDIT_TARGET_ENDPOINT, AUDIT_TARGET_IRQ, AUDIT_TARGET_NONE,
  AUDIT_TARGET_NOTIFICATION, AUDIT_TARGET_PORT, AUDIT_TARGET_PROCESS, AUDIT_TARGET_SERVICE,
  AUDIT_TARGET_SLOT, AUDIT_TARGET_SYSCALL, BOOT_INFO_AVAILABLE, BOOT_INFO_IS_INIT, CAP_AUDIT, CAP_ENDPOINT,
  CAP_IO_PORTS, CAP_IRQ, CAP_LOG, CAP_NONE, CAP_NOTIFICATION, CAP_PROCESS, CAP_SLOTS, CAP_SPAWN, E_BAD_ARG,
  E_BAD_SLOT, E_BAD_SYSCALL, E_FAULT, E_NO_CAP, E_NO_RIGHTS, E_NOT_FOUND, E_OK, E_RATE_LIMITED, E_SLOT_FULL,
  LABEL_CAP_MASK, LABEL_CAP_SHIFT, LABEL_RECV_SHIFT, LOG_MAX_BYTES, PROC_DEAD, PROC_FREE, RIGHT_CALL, RIGHT_GRANT, RIGHT_READ,
  RIGHT_RECEIVE, RIGHT_SEND, RIGHT_WRITE, SLOT_SELF, SYS_AUDIT_READ, SYS_BOOT_INFO, SYS_CALL, SYS_CAP_DELETE,
  SYS_CAP_DERIVE, SYS_CAP_INFO, SYS_CAP_REVOKE, SYS_COUNT, SYS_EXIT, SYS_IPC_STATS, SYS_IRQ_ACK, SYS_KILL,
  SYS_LOG, SYS_MEM_GROW, SYS_NULL, SYS_PORT_IN, SYS_PORT_OUT, SYS_PROC_INFO, SYS_RECV, SYS_REPLY,
  SYS_REPLY_RECV, SYS_SEND, SYS_SIGNAL, SYS_SPAWN, SYS_WAIT, SYS_YIELD, USER_SPACE_END,
  SYS_SCHED_INFO, SYS_SCHED_SET, SYS_SCHED_TUNE, SYS_CPU_INFO, CAP_SCHED, CAP_SCHED_TUNE, SCHED_PIN, SCHED_SCORES,
  SCHED_TRUST, SCHED_ONE, E_DENIED, MAX_CPUS, BAND_LOW, BAND_MEDIUM, BAND_HIGH,
  SYS_SLEEP, SYS_KERNEL_INFO, SYS_POWER, KERNEL_INFO_VERSION, KERNEL_INFO_UPTIME, KERNEL_INFO_MEMORY, KERNEL_INFO_BOOT,
  CAP_POWER, POWER_RESET, POWER_OFF, SYS_MMIO_READ, SYS_MMIO_WRITE, AUDIT_TARGET_MMIO, SYS_MAP, CAP_MMIO, CAP_MEMORY, RIGHT_MAP, USER_MAP_BASE, USER_MAP_END,
} from "./abi";
import { bootReport } from "./bootreport";
import { frames_free_bytes, frames_total_bytes, frames_used_bytes } from "./frames";
import { KERNEL_VERSION, TIMER_HZ, timerTicks } from "./state";
import { auditAllowedIpc, auditFind, auditRecord, rateTake } from "./audit";
import { capAt, capDelete, capDerive, capFind, capGid, capInstall, capLookup, capRevoke } from "./cap";
import {
  endpointAt, endpointDenied, endpointName, endpointUsed, ipcCall, ipcCallFast, ipcCallFastReady,
  ipcLastReplyStatus, ipcRecv, ipcReply, ipcReplyRecv, ipcReplyRecvFast, ipcSend, irqNotification,
  MAX_ENDPOINTS, notificationSignal, notificationWait,
} from "./ipc";
import {
  initService, MAX_PROCESSES, MAX_THREADS, moduleFor, NAME_BYTES, processAt, processByPid, processExit, processKillBy,
  processLive, processMemGrow, processName, processReason, processStateOf,
  serviceCount, serviceDependMask, serviceFaultCount, serviceManifest, serviceStartCount, spawnModule,
  deviceMap, textCopy, textPut, threadAt, threadProcess, threadValid, THREAD_READY, THREAD_RUNNING, zombieReap,
} from "./proc";
import {
  AGE_TICKS, CUT_HIGH, CUT_MEDIUM, schedAfterInterrupt, schedBand, schedBaseBand, schedCpuCount, schedCpuCurrent,
  schedCpuHwid, schedCpuIdleTicks, schedCpuOnlineAt, schedCpuPulls, schedCpuSwitches, schedCpuTicks, schedCpuOf,
  schedDecisionCycles, schedDecisions, schedLastRanTick, schedNext, schedPin, schedPinOf, schedPriority,
  schedQueueLength, schedReadyNs, schedRunNs, schedRunSinceNs, schedScore, schedSetScore, schedStay, schedTune,
  schedWaitNs, schedWeight, SLICE_TICKS, threadReady, threadSleep,
} from "./sched";

// Allowed calls that leave no audit record (denials always do, except a
// quiet call's E_NOT_FOUND: asking whether a record exists is no denial).
const QUIET: u64 = (<u64>1 << SYS_NULL) | (<u64>1 << SYS_YIELD) | (<u64>1 << SYS_PORT_IN) | (<u64>1 << SYS_PORT_OUT) |
  (<u64>1 << SYS_MMIO_READ) | (<u64>1 << SYS_MMIO_WRITE) |
  (<u64>1 << SYS_AUDIT_READ) | (<u64>1 << SYS_PROC_INFO) | (<u64>1 << SYS_IPC_STATS) | (<u64>1 << SYS_BOOT_INFO) |
  (<u64>1 << SYS_KERNEL_INFO) | (<u64>1 << SYS_SCHED_INFO) | (<u64>1 << SYS_CPU_INFO);

const CAP_BITS: u64 = LABEL_CAP_MASK << LABEL_CAP_SHIFT;
const MAX_MEM_GROW_PAGES: u64 = 0x10000; // 4 GiB: all a 32-bit linear memory can be
const MAX_SLEEP_MS: u64 = 0xffff_ffff;   // about 50 days

// What the current call acted on, for its audit record.
let targetKind: u8 = AUDIT_TARGET_NONE;
let targetId: u32 = 0;

@inline function target(kind: u8, id: u32): void {
  targetKind = kind;
  targetId = id;
}

@inline function targetSlot(slot: u64): void {
  target(AUDIT_TARGET_SLOT, slot > 0xffffffff ? 0xffffffff : <u32>slot);
}

// The capability in `slot` of the right type and rights (its global id),
// or the error; a refused slot becomes the audit record's target.
function capUse(index: u32, slot: u64, type: u8, rights: u8): i32 {
  let gid = capLookup(index, slot, type, rights);
  if (gid < 0) targetSlot(slot);
  return gid;
}

@inline function result(tid: u32, i: u32, value: u64): void {
  arch.context_set(tid, arch.REG_RESULT0 + i, value);
}

@inline function pidOf(index: u32): u32 {
  return processAt(index).pid;
}

// ---------------------------------------------------------------------------
// The entry.

// The kernel entry for a system call from user thread `tid` (kernel_syscall).
// Returns the thread to run next (0: idle). The caller's status register
// holds the outcome when it runs again.
export function syscallDispatch(tid: u32, number: u32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): u32 {
  if (!threadValid(tid) || threadAt(tid).state != THREAD_RUNNING) {
    zombieReap(); // killed by another CPU while it ran here
    return schedAfterInterrupt();
  }
  let index = threadProcess(tid);
  if (number == SYS_CALL) {
    let next = callFast(tid, index, a0, a1, a2, a3, a4, a5);
    if (next != 0) return next;
  } else if (number == SYS_REPLY_RECV) {
    let next = replyRecvFast(tid, index, a0, a1, a2, a3, a4, a5);
    if (next != 0) return next;
  }
  target(AUDIT_TARGET_NONE, 0);
  let status = dispatch(tid, index, number, a0, a1, a2, a3, a4, a5);
  return finish(tid, index, number, status);
}

// The interceptor's last step, then the caller's status: it keeps the CPU
// unless the call blocked it or ended it.
function finish(tid: u32, index: u32, number: u32, status: i32): u32 {
  let quiet = number < 64 && ((QUIET >> <u64>number) & 1) != 0;
  if (!quiet || (status != E_OK && status != E_NOT_FOUND)) {
    auditRecord(pidOf(index), number < SYS_COUNT ? number : 0xff, targetKind, targetId, status);
    if (status != E_OK && targetKind == AUDIT_TARGET_ENDPOINT) endpointDenied(targetId);
  }
  let t = threadAt(tid);
  if (t.state == THREAD_RUNNING && <u32>t.process == index) {
    arch.context_set(tid, arch.REG_STATUS, <u64>status);
    return schedStay(tid);
  }
  return schedNext();
}

// SYS_CALL, fast: a CALL capability, a waiting receiver, words only.
// Returns the receiver to run, or 0 for the slow path (which repeats the
// checks and reports what failed).
@inline function callFast(tid: u32, index: u32, slot: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): u32 {
  if (slot >= <u64>CAP_SLOTS || (label >> LABEL_RECV_SHIFT) > <u64>CAP_SLOTS) return 0;
  let c = capAt(capGid(index, <u32>slot));
  if (c.type != CAP_ENDPOINT || (c.rights & RIGHT_CALL) == 0) return 0;
  let ep = c.object;
  if (!ipcCallFastReady(ep, label) || !rateTake(index)) return 0;
  let next = ipcCallFast(tid, ep, c.badge, label, w0, w1, w2, w3);
  auditAllowedIpc(pidOf(index), SYS_CALL, ep);
  return next;
}

// SYS_REPLY_RECV, fast: see ipcReplyRecvFast.
@inline function replyRecvFast(tid: u32, index: u32, slot: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): u32 {
  if (slot >= <u64>CAP_SLOTS || (label & CAP_BITS) != 0 || (label >> LABEL_RECV_SHIFT) > <u64>CAP_SLOTS) return 0;
  let gid = capGid(index, <u32>slot);
  let c = capAt(gid);
  if (c.type != CAP_ENDPOINT || (c.rights & RIGHT_RECEIVE) == 0) return 0;
  let t = threadAt(tid);
  let notificationRef: u32 = 0;
  if (t.bindSlot != 0) {
    let n = waitable(index, <u64>t.bindSlot - 1);
    if (n < 0) return 0;
    notificationRef = <u32>n + 1;
  }
  let next = ipcReplyRecvFast(tid, c.object, gid, label, w0, w1, w2, w3, notificationRef);
  if (next != 0) auditAllowedIpc(pidOf(index), SYS_REPLY_RECV, c.object);
  return next;
}

function dispatch(tid: u32, index: u32, number: u32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i32 {
  switch (number) {
    case SYS_NULL: return E_OK;
    case SYS_EXIT: return sysExit(index, a0);
    case SYS_YIELD: return sysYield(tid);
    case SYS_CALL: return sysCall(tid, index, a0, a1, a2, a3, a4, a5);
    case SYS_SEND: return sysSend(index, a0, a1, a2, a3, a4, a5);
    case SYS_RECV: return sysRecv(tid, index, a0, a1, a2);
    case SYS_REPLY: return sysReply(tid, index, a0, a1, a2, a3, a4);
    case SYS_REPLY_RECV: return sysReplyRecv(tid, index, a0, a1, a2, a3, a4, a5);
    case SYS_SIGNAL: return sysSignal(index, a0, a1);
    case SYS_WAIT: return sysWait(tid, index, a0);
    case SYS_CAP_DERIVE: targetSlot(a0); return capDerive(index, a0, a1, a2, a3);
    case SYS_CAP_DELETE: targetSlot(a0); return capDelete(index, a0);
    case SYS_CAP_REVOKE: return sysCapRevoke(tid, index, a0);
    case SYS_CAP_INFO: return sysCapInfo(tid, index, a0, a1);
    case SYS_MEM_GROW: return sysMemGrow(tid, index, a0);
    case SYS_PORT_IN: return sysPortIn(tid, index, a0, a1, a2);
    case SYS_PORT_OUT: return sysPortOut(index, a0, a1, a2, a3);
    case SYS_IRQ_ACK: return sysIrqAck(index, a0);
    case SYS_SPAWN: return sysSpawn(tid, index, a0, a1, a2);
    case SYS_KILL: return sysKill(index, a0);
    case SYS_PROC_INFO: return sysProcInfo(tid, index, a0, a1, a2, a3);
    case SYS_AUDIT_READ: return sysAuditRead(tid, index, a0, a1, a2);
    case SYS_IPC_STATS: return sysIpcStats(tid, index, a0, a1, a2, a3);
    case SYS_LOG: return sysLog(index, a0, a1, a2);
    case SYS_BOOT_INFO: return sysBootInfo(tid, index, a0, a1, a2, a3);
    case SYS_SLEEP: return sysSleep(tid, a0);
    case SYS_KERNEL_INFO: return sysKernelInfo(tid, a0, a1, a2, a3);
    case SYS_POWER: return sysPower(index, a0, a1);
    case SYS_MAP: return sysMap(index, a0, a1, a2, a3);
    case SYS_MMIO_READ: return sysMmioRead(tid, index, a0, a1, a2);
    case SYS_MMIO_WRITE: return sysMmioWrite(index, a0, a1, a2, a3);
    case SYS_SCHED_INFO: return sysSchedInfo(tid, index, a0, a1, a2, a3);
    case SYS_SCHED_SET: return sysSchedSet(index, a0, a1, a2, a3);
    case SYS_SCHED_TUNE: return sysSchedTune(index, a0, a1, a2, a3, a4, a5);
    case SYS_CPU_INFO: return sysCpuInfo(tid, index, a0, a1);
  }
  target(AUDIT_TARGET_SYSCALL, number);
  return E_BAD_SYSCALL;
}

// ---------------------------------------------------------------------------
// Threads and processes.

function sysExit(index: u32, code: u64): i32 {
  target(AUDIT_TARGET_PROCESS, pidOf(index));
  processExit(index, code);
  return E_OK;
}

function sysYield(tid: u32): i32 {
  arch.context_set(tid, arch.REG_STATUS, E_OK);
  threadReady(tid);
  return E_OK;
}

// SYS_SLEEP: at least one tick for any ms > 0 (ticks are TIMER_HZ a second).
function sysSleep(tid: u32, ms: u64): i32 {
  if (ms == 0) return E_OK;
  if (ms > MAX_SLEEP_MS) return E_BAD_ARG;
  let ticks = (ms * <u64>TIMER_HZ + 999) / 1000;
  threadSleep(tid, timerTicks() + ticks);
  return E_OK;
}

function sysMemGrow(tid: u32, index: u32, pages: u64): i32 {
  if (pages > MAX_MEM_GROW_PAGES) return E_BAD_ARG;
  let previous = processMemGrow(index, pages);
  if (previous < 0) return <i32>previous;
  result(tid, 0, <u64>previous);
  return E_OK;
}

// A live process named by a CAP_PROCESS with `rights`: its index, or an
// error (E_NOT_FOUND once it died).
function processCap(index: u32, slot: u64, rights: u8): i32 {
  let gid = capUse(index, slot, CAP_PROCESS, rights);
  if (gid < 0) return gid;
  let c = capAt(<u32>gid);
  target(AUDIT_TARGET_PROCESS, c.extra);
  if (!processLive(c.object) || processAt(c.object).pid != c.extra) return E_NOT_FOUND;
  return <i32>c.object;
}

function sysSpawn(tid: u32, index: u32, slot: u64, service: u64, into: u64): i32 {
  let gid = capUse(index, slot, CAP_SPAWN, RIGHT_WRITE);
  if (gid < 0) return gid;
  target(AUDIT_TARGET_SERVICE, service > 0xffffffff ? 0xffffffff : <u32>service);
  if (into >= <u64>CAP_SLOTS) return E_BAD_SLOT;
  if (capAt(capGid(index, <u32>into)).type != CAP_NONE) return E_SLOT_FULL;
  if (service >= <u64>serviceCount()) return E_NOT_FOUND;
  let pid = spawnModule(<u32>service, pidOf(index));
  if (pid < 0) return pid;
  let child = <u32>processByPid(<u32>pid);
  capInstall(index, <u32>into, CAP_PROCESS, RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT, 0, child, <u32>pid, 0);
  result(tid, 0, <u64>pid);
  return E_OK;
}

function sysKill(index: u32, slot: u64): i32 {
  let victim = processCap(index, slot, RIGHT_WRITE);
  if (victim < 0) return victim;
  processKillBy(<u32>victim, pidOf(index));
  return E_OK;
}

// ---------------------------------------------------------------------------
// IPC.

// Checks a sent label: its receive slot in range, and a travelling
// capability (if any) present with RIGHT_GRANT. Sets `transferRef` /
// `transferGen` (gid + 1 and generation; 0 when none).
let transferRef: u32 = 0;
let transferGen: u32 = 0;

function labelCheck(index: u32, label: u64): i32 {
  transferRef = 0;
  transferGen = 0;
  if ((label >> LABEL_RECV_SHIFT) > <u64>CAP_SLOTS) return E_BAD_SLOT;
  let slot = (label & CAP_BITS) >> LABEL_CAP_SHIFT;
  if (slot == 0) return E_OK;
  let gid = capFind(index, slot - 1);
  if (gid < 0) return gid;
  let c = capAt(<u32>gid);
  if ((c.rights & RIGHT_GRANT) == 0) return E_NO_RIGHTS;
  transferRef = <u32>gid + 1;
  transferGen = c.generation;
  return E_OK;
}

// An endpoint capability with `rights`: its gid, or an error. A capability
// that lacks the rights still names its endpoint, whose denials count.
function endpointCap(index: u32, slot: u64, rights: u8): i32 {
  let gid = capLookup(index, slot, CAP_ENDPOINT, rights);
  if (gid == E_NO_RIGHTS) target(AUDIT_TARGET_ENDPOINT, capAt(capGid(index, <u32>slot)).object);
  if (gid < 0) {
    if (gid != E_NO_RIGHTS) targetSlot(slot);
    return gid;
  }
  target(AUDIT_TARGET_ENDPOINT, capAt(<u32>gid).object);
  return gid;
}

function sysCall(tid: u32, index: u32, slot: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): i32 {
  let gid = endpointCap(index, slot, RIGHT_CALL);
  if (gid < 0) return gid;
  let status = labelCheck(index, label);
  if (status != E_OK) return status;
  if (!rateTake(index)) return E_RATE_LIMITED;
  let c = capAt(<u32>gid);
  return ipcCall(tid, c.object, c.badge, label, w0, w1, w2, w3, transferRef, transferGen);
}

function sysSend(index: u32, slot: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): i32 {
  let gid = endpointCap(index, slot, RIGHT_SEND);
  if (gid < 0) return gid;
  let status = labelCheck(index, label);
  if (status != E_OK) return status;
  if (!rateTake(index)) return E_RATE_LIMITED;
  let c = capAt(<u32>gid);
  return ipcSend(pidOf(index), c.object, c.badge, label, w0, w1, w2, w3, transferRef, transferGen);
}

// A notification to wait on: a CAP_NOTIFICATION, or a CAP_IRQ (its bound
// notification), with RIGHT_RECEIVE. The notification index, or an error.
function waitable(index: u32, slot: u64): i32 {
  let gid = capFind(index, slot);
  if (gid < 0) return gid;
  let c = capAt(<u32>gid);
  if (c.type != CAP_NOTIFICATION && c.type != CAP_IRQ) return E_NO_CAP;
  if ((c.rights & RIGHT_RECEIVE) == 0) return E_NO_RIGHTS;
  if (c.type == CAP_NOTIFICATION) return <i32>c.object;
  let n = irqNotification(c.object);
  return n >= 0 ? n : E_NOT_FOUND;
}

function sysRecv(tid: u32, index: u32, slot: u64, recvSlotRef: u64, notificationSlotRef: u64): i32 {
  let gid = endpointCap(index, slot, RIGHT_RECEIVE);
  if (gid < 0) return gid;
  if (recvSlotRef > <u64>CAP_SLOTS || notificationSlotRef > <u64>CAP_SLOTS) return E_BAD_SLOT;
  let notificationRef: u32 = 0;
  if (notificationSlotRef != 0) {
    let n = waitable(index, notificationSlotRef - 1);
    if (n < 0) return n;
    notificationRef = <u32>n + 1;
  }
  threadAt(tid).bindSlot = <u8>notificationSlotRef;
  return ipcRecv(tid, capAt(<u32>gid).object, <u32>recvSlotRef, <u32>gid, notificationRef);
}

function sysReply(tid: u32, index: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): i32 {
  let caller = threadAt(tid).replyTo;
  if (caller != 0) target(AUDIT_TARGET_ENDPOINT, threadAt(caller).blockedOn);
  let status = labelCheck(index, label);
  if (status != E_OK) return status;
  return ipcReply(tid, label, w0, w1, w2, w3, transferRef, transferGen);
}

function sysReplyRecv(tid: u32, index: u32, slot: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): i32 {
  let gid = endpointCap(index, slot, RIGHT_RECEIVE);
  if (gid < 0) return gid;
  let status = labelCheck(index, label);
  if (status != E_OK) return status;
  let ep = capAt(<u32>gid).object;
  // The notification the last SYS_RECV bound, looked up again: a slot that
  // no longer holds one leaves this receive (and the next ones) unbound.
  let t = threadAt(tid);
  let notificationRef: u32 = 0;
  if (t.bindSlot != 0) {
    let n = waitable(index, <u64>t.bindSlot - 1);
    if (n >= 0) notificationRef = <u32>n + 1;
    else t.bindSlot = 0;
  }
  status = ipcReplyRecv(tid, ep, <u32>gid, label, w0, w1, w2, w3, transferRef, transferGen, notificationRef);
  let replied = ipcLastReplyStatus();
  if (replied != E_OK) auditRecord(pidOf(index), SYS_REPLY, AUDIT_TARGET_ENDPOINT, ep, replied);
  return status;
}

function sysSignal(index: u32, slot: u64, bits: u64): i32 {
  let gid = capUse(index, slot, CAP_NOTIFICATION, RIGHT_SEND);
  if (gid < 0) return gid;
  let n = capAt(<u32>gid).object;
  target(AUDIT_TARGET_NOTIFICATION, n);
  if (bits == 0) return E_BAD_ARG;
  if (!rateTake(index)) return E_RATE_LIMITED;
  notificationSignal(n, bits);
  return E_OK;
}

// SYS_WAIT takes a notification, or an IRQ capability (its bound notification).
function sysWait(tid: u32, index: u32, slot: u64): i32 {
  targetSlot(slot);
  let n = waitable(index, slot);
  if (n < 0) return n;
  target(AUDIT_TARGET_NOTIFICATION, <u32>n);
  return notificationWait(tid, <u32>n);
}

function sysIrqAck(index: u32, slot: u64): i32 {
  let gid = capUse(index, slot, CAP_IRQ, RIGHT_RECEIVE);
  if (gid < 0) return gid;
  let source = capAt(<u32>gid).object;
  target(AUDIT_TARGET_IRQ, source);
  arch.irq_ack(source);
  return E_OK;
}

// ---------------------------------------------------------------------------
// Capabilities.

function sysCapRevoke(tid: u32, index: u32, slot: u64): i32 {
  targetSlot(slot);
  let removed = capRevoke(index, slot);
  if (removed < 0) return removed;
  result(tid, 0, <u64>removed);
  return E_OK;
}

// SYS_CAP_INFO on the caller's table (SLOT_SELF) or, with a process
// capability [READ], on that process's. An empty slot answers CAP_NONE.
function sysCapInfo(tid: u32, index: u32, processSlot: u64, slot: u64): i32 {
  let owner = index;
  if (processSlot != <u64>SLOT_SELF) {
    let other = processCap(index, processSlot, RIGHT_READ);
    if (other < 0) return other;
    owner = <u32>other;
  } else {
    targetSlot(slot);
  }
  if (slot >= <u64>CAP_SLOTS) return E_BAD_SLOT;
  let c = capAt(capGid(owner, <u32>slot));
  result(tid, 0, c.type);
  result(tid, 1, c.rights);
  result(tid, 2, c.badge);
  result(tid, 3, c.type == CAP_PROCESS ? c.extra : c.object);
  result(tid, 4, c.base);
  result(tid, 5, c.extra);
  return E_OK;
}

// ---------------------------------------------------------------------------
// Devices and the log.

// An I/O-port capability [rights] covering `width` bytes at `port`.
function portCheck(index: u32, slot: u64, port: u64, width: u64, rights: u8): i32 {
  let gid = capUse(index, slot, CAP_IO_PORTS, rights);
  if (gid < 0) return gid;
  target(AUDIT_TARGET_PORT, port > 0xffffffff ? 0xffffffff : <u32>port);
  if (width != 1 && width != 2 && width != 4) return E_BAD_ARG;
  if (port > 0xffff) return E_BAD_ARG;
  let c = capAt(<u32>gid);
  if (port < c.base || port + width > c.base + <u64>c.extra) return E_NO_RIGHTS;
  return E_OK;
}

function sysPortIn(tid: u32, index: u32, slot: u64, port: u64, width: u64): i32 {
  let status = portCheck(index, slot, port, width, RIGHT_READ);
  if (status != E_OK) return status;
  result(tid, 0, arch.port_in(<u32>port, <u32>width));
  return E_OK;
}

function sysPortOut(index: u32, slot: u64, port: u64, width: u64, value: u64): i32 {
  let status = portCheck(index, slot, port, width, RIGHT_WRITE);
  if (status != E_OK) return status;
  if (value >> (width << 3) != 0) return E_BAD_ARG;
  arch.port_out(<u32>port, <u32>width, <u32>value);
  return E_OK;
}

// An MMIO capability [rights] covering `width` bytes at `offset`: the
// register's physical address, or a negative error.
function mmioCheck(index: u32, slot: u64, offset: u64, width: u64, rights: u8): i64 {
  let gid = capUse(index, slot, CAP_MMIO, rights);
  if (gid < 0) return gid;
  let c = capAt(<u32>gid);
  target(AUDIT_TARGET_MMIO, <u32>(c.base + (offset < <u64>c.extra ? offset : 0)));
  if (width != 1 && width != 2 && width != 4) return E_BAD_ARG;
  if ((offset & (width - 1)) != 0) return E_BAD_ARG;
  if (offset >= <u64>c.extra || width > <u64>c.extra - offset) return E_NO_RIGHTS;
  return <i64>(c.base + offset);
}

function sysMmioRead(tid: u32, index: u32, slot: u64, offset: u64, width: u64): i32 {
  let phys = mmioCheck(index, slot, offset, width, RIGHT_READ);
  if (phys < 0) return <i32>phys;
  let value = arch.mmio_read(<u64>phys, <u32>width);
  if (value < 0) return E_BAD_ARG; // the trampoline refused (RAM, its own GIC)
  result(tid, 0, <u64>value);
  return E_OK;
}

function sysMmioWrite(index: u32, slot: u64, offset: u64, width: u64, value: u64): i32 {
  let phys = mmioCheck(index, slot, offset, width, RIGHT_WRITE);
  if (phys < 0) return <i32>phys;
  if (value >> (width << 3) != 0) return E_BAD_ARG;
  if (arch.mmio_write(<u64>phys, <u32>width, <u32>value) != 0) return E_BAD_ARG;
  return E_OK;
}

// A staging buffer for text going to or from user memory.
const STAGING_BYTES: u32 = 512;
const staging = memory.data(<i32>STAGING_BYTES, 16);

// A user range [pointer, pointer + length) that lies in the user half.
@inline function userRange(pointer: u64, length: u64): bool {
  return pointer < USER_SPACE_END && length <= USER_SPACE_END - pointer;
}

// SYS_LOG: "[name] text" on the console; control bytes and non-ASCII
// become '?', so a service cannot drive the terminal; one trailing newline
// is dropped.
function sysLog(index: u32, slot: u64, pointer: u64, length: u64): i32 {
  let gid = capUse(index, slot, CAP_LOG, RIGHT_WRITE);
  if (gid < 0) return gid;
  target(AUDIT_TARGET_PROCESS, pidOf(index));
  if (length > <u64>LOG_MAX_BYTES) return E_BAD_ARG;
  if (!userRange(pointer, length)) return E_FAULT;
  if (!rateTake(index)) return E_RATE_LIMITED;
  let text = staging + 256;
  if (length != 0 && arch.space_read(processAt(index).root, pointer, text, <u32>length) != 0) return E_FAULT;
  let n = <u32>length;
  if (n > 0 && load<u8>(text + n - 1) == 10) n--;
  let at = textPut(staging, 256, 0, "[");
  at = textCopy(staging, 256, at, processName(index), processAt(index).nameLength);
  at = textPut(staging, 256, at, "] ");
  for (let i: u32 = 0; i < n; i++) {
    let byte = load<u8>(text + i);
    store<u8>(text + i, byte >= 0x20 && byte < 0x7f ? byte : 0x3f);
  }
  arch.console_write(staging, at);
  arch.console_write(text, n);
  store<u16>(staging, 0x0a0d);
  arch.console_write(staging, 2);
  return E_OK;
}

// Copies the first `length` bytes (at most) of the `size` staged bytes to
// the user buffer; E_FAULT when that part of the buffer is not writable.
function copyOut(index: u32, pointer: u64, length: u64, size: u32): i32 {
  let n = <u32>min<u64>(length, <u64>size);
  if (n == 0) return E_OK;
  if (!userRange(pointer, <u64>n)) return E_FAULT;
  return arch.space_write(processAt(index).root, pointer, staging, n) == 0 ? E_OK : E_FAULT;
}

// SYS_MAP: a device's pages (uncached) or a shared region into the caller's
// map window; see kernel/abi.ts MAP.
function sysMap(index: u32, slot: u64, virt: u64, offset: u64, bytes: u64): i32 {
  targetSlot(slot);
  let gid = capFind(index, slot);
  if (gid < 0) return gid;
  let c = capAt(<u32>gid);
  if (c.type != CAP_MMIO && c.type != CAP_MEMORY) return E_NO_CAP;
  if ((c.rights & RIGHT_MAP) == 0) return E_NO_RIGHTS;
  if (((virt | offset | bytes) & 0xfff) != 0 || bytes == 0) return E_BAD_ARG;
  let size = <u64>c.extra;
  if (offset > size || bytes > size - offset) return E_BAD_ARG;
  if (virt < USER_MAP_BASE || virt > USER_MAP_END || bytes > USER_MAP_END - virt) return E_BAD_ARG;
  let flags: u32 = (c.type == CAP_MMIO ? arch.MAP_DEVICE : 0) | ((c.rights & RIGHT_WRITE) != 0 ? arch.MAP_WRITE : 0);
  return deviceMap(index, <u32>gid, virt, c.base + offset, bytes >> 12, flags);
}

// ---------------------------------------------------------------------------
// Observation: processes, audit, IPC counters, the boot manifest.

function sysProcInfo(tid: u32, index: u32, slot: u64, which: u64, pointer: u64, length: u64): i32 {
  let gid = capUse(index, slot, CAP_AUDIT, RIGHT_READ);
  if (gid < 0) return gid;
  if (which >= <u64>MAX_PROCESSES) return E_BAD_ARG;
  let i = <u32>which;
  let state = processStateOf(i);
  if (state == PROC_FREE) return E_NOT_FOUND;
  let p = processAt(i);
  target(AUDIT_TARGET_PROCESS, p.pid);
  let size = textCopy(staging, STAGING_BYTES, 0, processName(i), p.nameLength);
  store<u8>(staging + size++, 0);
  size = textCopy(staging, STAGING_BYTES, size, processReason(i), state == PROC_DEAD ? p.reasonLength : 0);
  store<u8>(staging + size++, 0);
  let status = copyOut(index, pointer, length, size);
  if (status != E_OK) return status;
  let supervisorPid: u64 = p.supervisor != 0 ? p.supervisorPid : 0;
  result(tid, 0, p.pid);
  result(tid, 1, <u64>state | (state == PROC_DEAD ? p.exitCode << 32 : 0));
  result(tid, 2, <u64>p.faults | (<u64>serviceFaultCount(p.service) << 32));
  result(tid, 3, <u64>p.service | (<u64>serviceStartCount(p.service) << 32));
  result(tid, 4, supervisorPid | (<u64>p.memPages << 32));
  result(tid, 5, size);
  return E_OK;
}

function sysAuditRead(tid: u32, index: u32, slot: u64, trace: u64, flags: u64): i32 {
  let gid = capUse(index, slot, CAP_AUDIT, RIGHT_READ);
  if (gid < 0) return gid;
  if ((flags & ~(AUDIT_DENIALS_ONLY | AUDIT_BACKWARD)) != 0) return E_BAD_ARG;
  let r = auditFind(trace, (flags & AUDIT_DENIALS_ONLY) != 0, (flags & AUDIT_BACKWARD) != 0);
  if (r === null) return E_NOT_FOUND;
  result(tid, 0, r.trace);
  result(tid, 1, r.caller);
  result(tid, 2, <u64>r.target | (<u64>r.kind << 32));
  result(tid, 3, <u64>r.op | (<u64><u32><i32>r.verdict << 32));
  result(tid, 4, r.count);
  result(tid, 5, r.tick);
  return E_OK;
}

function sysIpcStats(tid: u32, index: u32, slot: u64, which: u64, pointer: u64, length: u64): i32 {
  let gid = capUse(index, slot, CAP_AUDIT, RIGHT_READ);
  if (gid < 0) return gid;
  if (which >= <u64>MAX_ENDPOINTS) return E_BAD_ARG;
  let ep = <u32>which;
  if (!endpointUsed(ep)) return E_NOT_FOUND;
  target(AUDIT_TARGET_ENDPOINT, ep);
  let size = textPut(staging, STAGING_BYTES, 0, endpointName(ep));
  let status = copyOut(index, pointer, length, size);
  if (status != E_OK) return status;
  let e = endpointAt(ep);
  result(tid, 0, e.calls);
  result(tid, 1, e.sends);
  result(tid, 2, e.replies);
  result(tid, 3, e.denials);
  result(tid, 4, <u64>e.count | (<u64>e.depth << 32));
  result(tid, 5, size);
  return E_OK;
}

function sysBootInfo(tid: u32, index: u32, slot: u64, service: u64, pointer: u64, length: u64): i32 {
  let gid = capUse(index, slot, CAP_SPAWN, RIGHT_READ);
  if (gid < 0) return gid;
  target(AUDIT_TARGET_SERVICE, service > 0xffffffff ? 0xffffffff : <u32>service);
  let count = serviceCount();
  let manifest = serviceManifest();
  if (manifest === null || service >= <u64>count) return E_NOT_FOUND;
  let s = manifest.services[<i32>service];
  let size = textPut(staging, STAGING_BYTES, 0, s.name);
  let status = copyOut(index, pointer, length, size);
  if (status != E_OK) return status;
  let flags: u64 = 0;
  if (<u32>service == manifest.init) flags |= BOOT_INFO_IS_INIT;
  if (moduleFor(<u32>service) !== null) flags |= BOOT_INFO_AVAILABLE;
  result(tid, 0, serviceDependMask(<u32>service));
  result(tid, 1, s.restartLimit);
  result(tid, 2, s.restartBackoffMs);
  result(tid, 3, flags);
  result(tid, 4, count);
  result(tid, 5, size);
  return E_OK;
}

// ---------------------------------------------------------------------------
// The machine: facts for the shell, and power.

// Set once at boot by the integrator (kernel/main.ts): the architecture's
// name and how boot/ found the machine is powered off or reset.
let archName: string = "";
let powerMethod: u32 = 0;
let powerArg0: u64 = 0;
let powerArg1: u64 = 0;

export function syscallMachineSet(arch: string, method: u32, arg0: u64, arg1: u64): void {
  archName = arch;
  powerMethod = method;
  powerArg0 = arg0;
  powerArg1 = arg1;
}

// Word `word` (0 or 1) of `text` as a 16-byte name (kernel/abi.ts KERNEL_INFO).
function nameWord(text: string, word: i32): u64 {
  let value: u64 = 0;
  for (let i = 0; i < 8; i++) {
    let at = word * 8 + i;
    if (at >= text.length) break;
    let code = text.charCodeAt(at);
    value |= (<u64>(code < 128 ? code : 0x3f)) << (<u64>(i * 8));
  }
  return value;
}

function sysKernelInfo(tid: u32, key: u64, line: u64, pointer: u64, length: u64): i32 {
  if (key == <u64>KERNEL_INFO_VERSION) {
    result(tid, 0, nameWord(KERNEL_VERSION, 0));
    result(tid, 1, nameWord(KERNEL_VERSION, 1));
    result(tid, 2, nameWord(archName, 0));
    result(tid, 3, nameWord(archName, 1));
  } else if (key == <u64>KERNEL_INFO_UPTIME) {
    result(tid, 0, arch.time_ns());
    result(tid, 1, timerTicks());
    result(tid, 2, TIMER_HZ);
    result(tid, 3, arch.cycles());
  } else if (key == <u64>KERNEL_INFO_MEMORY) {
    result(tid, 0, frames_total_bytes());
    result(tid, 1, frames_used_bytes());
    result(tid, 2, frames_free_bytes());
    result(tid, 3, <u64>memory.size() << 16);
  } else if (key == <u64>KERNEL_INFO_BOOT) {
    let report = bootReport();
    if (line >= <u64>report.length) return E_NOT_FOUND;
    let size = textPut(staging, STAGING_BYTES, 0, report[<i32>line]);
    let copied = copyOut(threadProcess(tid), pointer, length, size);
    if (copied != E_OK) return copied;
    result(tid, 0, size);
  } else {
    return E_BAD_ARG;
  }
  return E_OK;
}

// SYS_POWER: does not come back when it works (the audit record is written
// first, by hand, since finish() never runs).
function sysPower(index: u32, slot: u64, operation: u64): i32 {
  let gid = capUse(index, slot, CAP_POWER, RIGHT_WRITE);
  if (gid < 0) return gid;
  target(AUDIT_TARGET_NONE, <u32>min<u64>(operation, 0xffffffff));
  if (operation != <u64>POWER_RESET && operation != <u64>POWER_OFF) return E_BAD_ARG;
  auditRecord(pidOf(index), SYS_POWER, targetKind, targetId, E_OK);
  if (operation == <u64>POWER_RESET) arch.reset(powerMethod, powerArg0, powerArg1);
  else arch.power_off(powerMethod, powerArg0, powerArg1);
  return E_OK; // only where the trampoline's reset or power-off came back (the unit tests)
}

// ---------------------------------------------------------------------------
// The scheduler: SYS_SCHED_INFO, SYS_SCHED_SET, SYS_SCHED_TUNE, SYS_CPU_INFO.

function scoresPacked(tid: u32): u64 {
  let packed: u64 = 0;
  for (let i: u32 = 0; i < SCHED_SCORES; i++) packed |= <u64>schedScore(tid, i) << (<u64>i * 12);
  return packed;
}

function sysSchedInfo(tid: u32, index: u32, slot: u64, which: u64, pointer: u64, length: u64): i32 {
  let gid = capUse(index, slot, CAP_SCHED, RIGHT_READ);
  if (gid < 0) return gid;
  if (which == 0) {
    let weights: u64 = 0;
    for (let i: u32 = 0; i < SCHED_SCORES; i++) weights |= <u64>schedWeight(i) << (<u64>i * 12);
    result(tid, 0, weights);
    result(tid, 1, <u64>CUT_HIGH | (<u64>CUT_MEDIUM << 16));
    result(tid, 2, <u64>SLICE_TICKS | (<u64>AGE_TICKS << 16) | (<u64>TIMER_HZ << 32));
    result(tid, 3, schedCpuCount());
    result(tid, 4, schedDecisions());
    result(tid, 5, schedDecisionCycles());
    return E_OK;
  }
  if (which >= <u64>MAX_THREADS) return E_BAD_ARG;
  let subject = <u32>which;
  let t = threadAt(subject);
  if (t.state == 0) return E_NOT_FOUND;
  let p = processAt(<u32>t.process);
  target(AUDIT_TARGET_PROCESS, p.pid);
  let size = textCopy(staging, STAGING_BYTES, 0, processName(<u32>t.process), p.nameLength);
  let status = copyOut(index, pointer, length, size);
  if (status != E_OK) return status;
  let now = arch.time_ns();
  let running = t.state == THREAD_RUNNING;
  let runNs = schedRunNs(subject) + (running ? now - schedRunSinceNs(subject) : 0);
  let waitNs = schedWaitNs(subject) + (t.state == THREAD_READY && schedReadyNs(subject) != 0 ? now - schedReadyNs(subject) : 0);
  let pin = schedPinOf(subject);
  let sinceRan: u64 = running ? 0 : timerTicks() - schedLastRanTick(subject);
  result(tid, 0, <u64>p.pid | (<u64>t.state << 32) | (<u64>schedCpuOf(subject) << 40) | (<u64>schedBand(subject) << 48) |
    (<u64>schedBaseBand(subject) << 52) | (pin < MAX_CPUS ? <u64>(pin + 1) << 56 : 0));
  result(tid, 1, scoresPacked(subject));
  result(tid, 2, <u64>schedPriority(subject) | (min<u64>(sinceRan, 0xffffffff) << 32));
  result(tid, 3, runNs / 1000);
  result(tid, 4, waitNs / 1000);
  result(tid, 5, size);
  return E_OK;
}

// Scores and pins of the caller (SLOT_SELF) or of a process it holds a
// CAP_PROCESS [WRITE] for. Nobody raises its own trust, whatever it holds.
function sysSchedSet(index: u32, slot: u64, process: u64, which: u64, value: u64): i32 {
  let gid = capUse(index, slot, CAP_SCHED, RIGHT_WRITE);
  if (gid < 0) return gid;
  let subject: i32 = <i32>index;
  if (process == <u64>SLOT_SELF) target(AUDIT_TARGET_PROCESS, pidOf(index));
  else subject = processCap(index, process, RIGHT_WRITE);
  if (subject < 0) return subject;
  let main = processAt(<u32>subject).mainTid;
  if (which == <u64>SCHED_PIN) return value > 0xffff ? E_BAD_ARG : schedPin(main, <u32>value);
  if (which >= <u64>SCHED_SCORES || value > <u64>SCHED_ONE) return E_BAD_ARG;
  if (which == <u64>SCHED_TRUST && <u32>subject == index && value > <u64>schedScore(main, SCHED_TRUST)) return E_DENIED;
  return schedSetScore(main, <u32>which, <u32>value);
}

function sysSchedTune(index: u32, slot: u64, w0: u64, w1: u64, w2: u64, w3: u64, w4: u64): i32 {
  let gid = capUse(index, slot, CAP_SCHED_TUNE, RIGHT_WRITE);
  if (gid < 0) return gid;
  return schedTune(w0, w1, w2, w3, w4);
}

function sysCpuInfo(tid: u32, index: u32, slot: u64, cpu: u64): i32 {
  let gid = capUse(index, slot, CAP_SCHED, RIGHT_READ);
  if (gid < 0) return gid;
  if (cpu >= <u64>MAX_CPUS) return E_BAD_ARG;
  let c = <u32>cpu;
  if (!schedCpuOnlineAt(c)) return E_NOT_FOUND;
  result(tid, 0, <u64>schedCpuCurrent(c) | (schedCpuHwid(c) << 32));
  result(tid, 1, <u64>schedQueueLength(c, BAND_HIGH) | (<u64>schedQueueLength(c, BAND_MEDIUM) << 16) |
    (<u64>schedQueueLength(c, BAND_LOW) << 32));
  result(tid, 2, schedCpuTicks(c));
  result(tid, 3, schedCpuIdleTicks(c));
  result(tid, 4, schedCpuSwitches(c));
  result(tid, 5, schedCpuPulls(c));
  return E_OK;
}
