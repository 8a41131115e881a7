// Processes and threads: the pools, the ready queue, creating a process from
// a verified boot module, killing one, and turning faults into reasons.
//
// Everything lives in fixed pools in static memory (no managed allocation
// after boot, so the syscall path never collects garbage):
//
//   threads    MAX_THREADS × Thread     tid 0 is the idle thread: never a user thread
//   processes  MAX_PROCESSES × Process  plus a name, a reason text and segment table each
//
// A process is LIVE from processCreate until processKill, then DEAD: its
// record (pid, name, reason) stays for `ps` and for its supervisor until
// the pool needs the entry again (free entries first, then the oldest dead).
// Pids count up from 1 and are never reused; a process capability holds the
// pid and is checked against the record, so a reused entry is never confused
// with the process that died there.
//
// Memory of a process, by user address (kernel/abi.ts has the map):
//   image      its ELF segments, W^X, frames copied from the module
//   wasm       linear memory at USER_WASM_BASE, memPages × 64 KiB mapped
//   stack      USER_STACK_BYTES below USER_STACK_TOP, guard page below it
// The page tables are the record of the frames it owns: teardown unmaps
// each of those ranges and frees what each page held.

import * as arch from "./arch";
import {
  CAP_AUDIT, CAP_ENDPOINT, CAP_IO_PORTS, CAP_IRQ, CAP_LOG, CAP_MEMORY, CAP_MMIO, CAP_NOTIFICATION,
  CAP_POWER, CAP_PROCESS, CAP_SCHED, CAP_SCHED_TUNE, CAP_SLOTS, CAP_SPAWN, E_BAD_ARG, E_BAD_MODULE, E_NO_MEMORY, E_NOT_FOUND, E_OK,
  EXIT_FAULT, EXIT_KILLED, EXIT_TRAP_BASE, INIT_SLOT_AUDIT, INIT_SLOT_DEATHS, INIT_SLOT_LOG, INIT_SLOT_SPAWN,
  MAX_IRQ_SOURCES, MAX_MAPS, MAX_PROCESSES, MAX_THREADS,
  PROC_BLOCKED, PROC_DEAD, PROC_FREE, PROC_RUNNING, RIGHT_GRANT, RIGHT_READ, RIGHT_RECEIVE,
  RIGHT_WRITE, RIGHTS_ALL, SERVICE_NONE, TRAP_CALL_INDIRECT, TRAP_DIV_BY_ZERO, TRAP_EXHAUSTION,
  TRAP_INT_OVERFLOW, TRAP_INVALID_CONVERSION, TRAP_OOB, TRAP_UNCAUGHT_EXCEPTION, TRAP_UNREACHABLE,
  SCHED_STATE_CALLING, SCHED_STATE_DYING, SCHED_STATE_NEW, SCHED_STATE_READY, SCHED_STATE_RECEIVING,
  SCHED_STATE_REPLY_WAIT, SCHED_STATE_RUNNING, SCHED_STATE_SLEEPING, SCHED_STATE_WAITING, SCHED_UNPINNED, USER_IMAGE_BASE, USER_STACK_BYTES, USER_STACK_TOP, USER_WASM_BASE, USER_WASM_RESERVE_BYTES,
  WASM_PAGE_BYTES,
} from "./abi";
import { capInstall, capReset, capTableClear } from "./cap";
import { FRAME_BYTES, frame_alloc, frame_free } from "./frames";
import { BootManifest, CapGrant, VerifiedModule } from "./image";
import {
  endpointByName, endpointCreate, ipcReset, ipcThreadCancel, irqBind, irqNotification,
  notificationByName, notificationCreate, notificationSignal,
} from "./ipc";
import { auditReset, rateReset } from "./audit";
import { println } from "./console";
import {
  DEFAULT_SCORE, schedAfterInterrupt, schedHere, schedCurrent, schedDrop, schedRemove, schedReset, schedRunningOn, schedThreadInit,
  sleepRemove, threadReady,
} from "./sched";

export { MAX_PROCESSES, MAX_THREADS } from "./abi";
export const MAX_SEGMENTS: u32 = 16;       // as kernel/module.ts MAX_SEGMENTS (proc.spec checks)
export const MAX_SERVICES: u32 = 64;
export const NAME_BYTES: u32 = 32;
export const REASON_BYTES: u32 = 96;

const PAGE: u64 = FRAME_BYTES;
const STACK_BASE: u64 = USER_STACK_TOP - USER_STACK_BYTES;

// ---------------------------------------------------------------------------
// Threads. Their states are the ABI's SCHED_STATE_* (SYS_SCHED_INFO shows them).

export const THREAD_FREE: u8 = 0;
export const THREAD_READY: u8 = <u8>SCHED_STATE_READY;          // in the ready queue
export const THREAD_RUNNING: u8 = <u8>SCHED_STATE_RUNNING;        // on the CPU (or just returned to it)
export const THREAD_BLOCKED_CALL: u8 = <u8>SCHED_STATE_CALLING;   // queued on an endpoint with its message
export const THREAD_BLOCKED_REPLY: u8 = <u8>SCHED_STATE_REPLY_WAIT;  // its call was taken; waits for the reply
export const THREAD_BLOCKED_RECV: u8 = <u8>SCHED_STATE_RECEIVING;   // waits on an endpoint for a message
export const THREAD_BLOCKED_WAIT: u8 = <u8>SCHED_STATE_WAITING;   // waits on a notification
export const THREAD_NEW: u8 = <u8>SCHED_STATE_NEW;            // allocated, not started yet
export const THREAD_SLEEPING: u8 = <u8>SCHED_STATE_SLEEPING;       // SYS_SLEEP: in the sleep queue until wakeTick
export const THREAD_ZOMBIE: u8 = <u8>SCHED_STATE_DYING;         // killed while running on another CPU, which frees it on its next entry

// One thread. `next` links it into at most one queue at a time: an
// endpoint's receivers or callers, a notification's waiters, the sleepers.
// Run queues are the scheduler's (kernel/sched.ts).
@unmanaged export class Thread {
  state: u8;
  recvSlot: u8;       // slot + 1 where a capability arriving for it goes; 0: none
  bindSlot: u8;       // notification slot + 1 its last SYS_RECV bound; SYS_REPLY_RECV binds it again; 0: none
  process: u16;       // process index
  generation: u32;    // bumped when the thread is freed: stale references see it
  next: u32;          // queue link (tid; 0 ends the queue)
  blockedOn: u32;     // endpoint or notification index while blocked
  replyTo: u32;       // the caller it serves (tid; 0: none) - the one-shot reply right
  replyGen: u32;      // that caller's generation when its call was taken
  recvCapGid: u32;    // global slot id + 1 of the RECEIVE capability it waits through
  arrival: u32;       // endpoint arrival stamp of its queued call
  capGid: u32;        // queued call: global slot id + 1 of a capability it transfers
  capGen: u32;        // ... and that slot's generation when sent
  boundNotification: u32; // blocked receive: notification index + 1 that may wake it; 0: none
  badge: u64;         // queued call: the message, badge stamped by the kernel
  label: u64;
  w0: u64;
  w1: u64;
  w2: u64;
  w3: u64;
  wakeTick: u64;      // sleeping: the tick it wakes at
}

const THREAD_BYTES: usize = offsetof<Thread>();
const threadPool = memory.data(<i32>(offsetof<Thread>() * MAX_THREADS), 16);

@inline export function threadAt(tid: u32): Thread {
  return changetype<Thread>(threadPool + <usize>tid * THREAD_BYTES);
}

// A user thread id that names a live thread.
@inline export function threadValid(tid: u32): bool {
  return tid != 0 && tid < MAX_THREADS && threadAt(tid).state != THREAD_FREE;
}

function threadAlloc(process: u32): u32 {
  for (let tid: u32 = 1; tid < MAX_THREADS; tid++) {
    let t = threadAt(tid);
    if (t.state != THREAD_FREE) continue;
    let generation = t.generation;
    memory.fill(changetype<usize>(t), 0, THREAD_BYTES);
    t.generation = generation + 1;
    t.process = <u16>process;
    t.state = THREAD_NEW;
    return tid;
  }
  return 0;
}

function threadFree(tid: u32): void {
  schedRemove(tid);
  let t = threadAt(tid);
  t.state = THREAD_FREE;
  t.generation++;
  t.next = 0;
  t.replyTo = 0;
}

// ---------------------------------------------------------------------------
// Processes.

const P_FREE: u8 = 0;
const P_LIVE: u8 = 1;
const P_DEAD: u8 = 2;

@unmanaged export class Process {
  state: u8;
  nameLength: u8;
  reasonLength: u8;
  segmentCount: u8;
  pid: u32;
  supervisor: u32;     // process index + 1 of its supervisor; 0: none
  supervisorPid: u32;  // ... checked against that record
  service: u32;        // boot service index, SERVICE_NONE for init
  mainTid: u32;
  faults: u32;
  memPages: u32;       // wasm pages of linear memory mapped
  memMaxPages: u32;    // the manifest's quota
  deaths: u32;         // notification index + 1 signalled when a child dies; 0: none
  zombies: u32;        // its threads still running on other CPUs: teardown waits for them
  root: u64;           // address-space root (physical)
  exitCode: u64;
  deathOrder: u64;     // order of death, for reusing the oldest dead record
}

const PROCESS_BYTES: usize = offsetof<Process>();
const processPool = memory.data(<i32>(offsetof<Process>() * MAX_PROCESSES), 16);
const namePool = memory.data(<i32>(NAME_BYTES * MAX_PROCESSES), 16);
const reasonPool = memory.data(<i32>(REASON_BYTES * MAX_PROCESSES), 16);
// Per process, MAX_SEGMENTS × (virt u64, pages u64).
const SEGMENT_ENTRY: usize = 16;
const segmentPool = memory.data(<i32>(16 * MAX_SEGMENTS * MAX_PROCESSES), 16);
// Per process, MAX_MAPS × (virt u64, pages u32, capability gid + 1 u32): its
// SYS_MAP regions, which it does not own (never freed, only unmapped).
const MAP_ENTRY: usize = 16;
const mapPool = memory.data(<i32>(16 * MAX_MAPS * MAX_PROCESSES), 16);

let nextPid: u32 = 1;
let deathCounter: u64 = 0;
let initServiceIndex: u32 = SERVICE_NONE;

// The boot service init was started as (SERVICE_NONE when it has no entry).
export function initService(): u32 {
  return initServiceIndex;
}

@inline export function processAt(index: u32): Process {
  return changetype<Process>(processPool + <usize>index * PROCESS_BYTES);
}

@inline export function processName(index: u32): usize {
  return namePool + <usize>index * NAME_BYTES;
}

@inline export function processReason(index: u32): usize {
  return reasonPool + <usize>index * REASON_BYTES;
}

@inline function segmentEntry(index: u32, n: u32): usize {
  return segmentPool + (<usize>index * MAX_SEGMENTS + n) * SEGMENT_ENTRY;
}

@inline function mapEntry(index: u32, n: u32): usize {
  return mapPool + (<usize>index * MAX_MAPS + n) * MAP_ENTRY;
}

@inline export function threadProcess(tid: u32): u32 {
  return <u32>threadAt(tid).process;
}

export function processLive(index: u32): bool {
  return index < MAX_PROCESSES && processAt(index).state == P_LIVE;
}

// The index of the live process `pid`; -1 when there is none.
export function processByPid(pid: u32): i32 {
  if (pid == 0) return -1;
  for (let i: u32 = 0; i < MAX_PROCESSES; i++) {
    let p = processAt(i);
    if (p.state == P_LIVE && p.pid == pid) return <i32>i;
  }
  return -1;
}

// PROC_* as `ps` shows it.
export function processStateOf(index: u32): u32 {
  let p = processAt(index);
  if (p.state == P_FREE) return PROC_FREE;
  if (p.state == P_DEAD) return PROC_DEAD;
  let s = threadAt(p.mainTid).state;
  return s == THREAD_READY || s == THREAD_RUNNING ? PROC_RUNNING : PROC_BLOCKED;
}

// A free entry, else the dead one that died first; -1 when all live.
function processAlloc(): i32 {
  let oldest: i32 = -1;
  for (let i: u32 = 0; i < MAX_PROCESSES; i++) {
    let p = processAt(i);
    if (p.state == P_FREE) return <i32>i;
    if (p.state == P_DEAD && p.zombies == 0 && (oldest < 0 || p.deathOrder < processAt(<u32>oldest).deathOrder)) oldest = <i32>i;
  }
  return oldest;
}

// ---------------------------------------------------------------------------
// Services of the boot manifest: what SYS_BOOT_INFO and SYS_SPAWN name.

let bootManifest: BootManifest | null = null;
const serviceDepends = memory.data(<i32>(8 * MAX_SERVICES), 8);   // u64 masks
const serviceStarts = memory.data(<i32>(4 * MAX_SERVICES), 4);    // u32
const serviceFaults = memory.data(<i32>(4 * MAX_SERVICES), 4);    // u32

export function serviceCount(): u32 {
  let m = bootManifest;
  if (m === null) return 0;
  return min<u32>(<u32>m.services.length, MAX_SERVICES);
}

export function serviceManifest(): BootManifest | null {
  return bootManifest;
}

@inline export function serviceDependMask(service: u32): u64 {
  return load<u64>(serviceDepends + (<usize>service << 3));
}

@inline export function serviceStartCount(service: u32): u32 {
  return service < MAX_SERVICES ? load<u32>(serviceStarts + (<usize>service << 2)) : 0;
}

@inline export function serviceFaultCount(service: u32): u32 {
  return service < MAX_SERVICES ? load<u32>(serviceFaults + (<usize>service << 2)) : 0;
}

// The index of the service named `name`; -1 when none.
export function serviceByName(name: string): i32 {
  let m = bootManifest;
  if (m === null) return -1;
  let n = serviceCount();
  for (let i: u32 = 0; i < n; i++) if (m.services[i].name == name) return <i32>i;
  return -1;
}

// Where SYS_SPAWN gets modules: the integrator wires this to kernel/module.ts.
// `index` is a boot-manifest service index; null when that module failed
// verification (the boot log said why) or does not exist.
export type ModuleSource = (index: u32) => VerifiedModule | null;
let moduleSource: ModuleSource | null = null;

export function setModuleSource(source: ModuleSource | null): void {
  moduleSource = source;
}

export function moduleFor(service: u32): VerifiedModule | null {
  let source = moduleSource;
  if (source === null) return null;
  return source(service);
}

// ---------------------------------------------------------------------------
// Boot: kernel objects of the manifest, then init.

// Resets every kernel object pool: threads, processes, capabilities,
// endpoints, notifications, the audit ring. Boot calls it once (through
// bootObjectsCreate); the unit tests call it before each case.
export function kernelObjectsReset(): void {
  memory.fill(threadPool, 0, THREAD_BYTES * MAX_THREADS);
  memory.fill(processPool, 0, PROCESS_BYTES * MAX_PROCESSES);
  memory.fill(mapPool, 0, MAP_ENTRY * MAX_MAPS * MAX_PROCESSES);
  memory.fill(serviceDepends, 0, 8 * MAX_SERVICES);
  memory.fill(serviceStarts, 0, 4 * MAX_SERVICES);
  memory.fill(serviceFaults, 0, 4 * MAX_SERVICES);
  schedReset();
  nextPid = 1;
  deathCounter = 0;
  initServiceIndex = SERVICE_NONE;
  bootManifest = null;
  capReset();
  ipcReset();
  auditReset();
}

// Creates the endpoints and notifications the boot manifest names and
// remembers its services (dependency masks by service index). Objects it
// cannot create (duplicate name, unknown type, pool full) are reported on the
// console and skipped. Returns how many objects exist.
export function bootObjectsCreate(manifest: BootManifest): i32 {
  kernelObjectsReset();
  bootManifest = manifest;
  let created = 0;
  for (let i = 0; i < manifest.objects.length; i++) {
    let o = manifest.objects[i];
    let result: i32;
    if (endpointByName(o.name) >= 0 || notificationByName(o.name) >= 0) {
      println("boot: object " + o.name + " is named twice; the second is ignored");
      continue;
    }
    if (o.type == CAP_ENDPOINT) result = endpointCreate(o.name, o.queueDepth);
    else if (o.type == CAP_NOTIFICATION) result = notificationCreate(o.name);
    else {
      println("boot: object " + o.name + " has type " + o.type.toString() + ", neither endpoint nor notification; ignored");
      continue;
    }
    if (result < 0) println("boot: no room for object " + o.name + "; ignored");
    else created++;
  }
  let services = serviceCount();
  if (<u32>manifest.services.length > MAX_SERVICES) println("boot: only the first " + MAX_SERVICES.toString() + " services are used");
  for (let i: u32 = 0; i < services; i++) {
    let s = manifest.services[i];
    let mask: u64 = 0;
    for (let d = 0; d < s.depends.length; d++) {
      let j = serviceByName(s.depends[d]);
      if (j < 0) println("boot: service " + s.name + " depends on unknown service " + s.depends[d]);
      else mask |= (<u64>1) << (<u64>j);
    }
    store<u64>(serviceDepends + (<usize>i << 3), mask);
  }
  return created;
}

// Starts init: its manifest's capabilities, plus (kernel/abi.ts INIT_SLOT_*)
// a notification that tells it which children died, the log, the audit
// ring and the authority to spawn every service. Returns the thread to run
// (init's), or 0 when init could not be created (the console says why).
export function initStart(module: VerifiedModule): u32 {
  let service = module.service < serviceCount() ? module.service : SERVICE_NONE;
  let index = processCreate(module, -1, service);
  if (index < 0) {
    println("boot: init could not start (error " + index.toString() + ")");
    return schedCurrent();
  }
  let i = <u32>index;
  initServiceIndex = processAt(i).service;
  let deaths = notificationCreate("");
  let failed = deaths < 0;
  if (!failed) {
    processAt(i).deaths = <u32>deaths + 1;
    failed = capInstall(i, INIT_SLOT_DEATHS, CAP_NOTIFICATION, RIGHT_RECEIVE, 0, <u32>deaths, 0, 0) != E_OK;
  }
  failed = failed || capInstall(i, INIT_SLOT_LOG, CAP_LOG, RIGHT_WRITE | RIGHT_GRANT, 0, 0, 0, 0) != E_OK;
  failed = failed || capInstall(i, INIT_SLOT_AUDIT, CAP_AUDIT, RIGHT_READ | RIGHT_GRANT, 0, 0, 0, 0) != E_OK;
  failed = failed || capInstall(i, INIT_SLOT_SPAWN, CAP_SPAWN, RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT, 0, 0, 0, 0) != E_OK;
  if (failed) {
    println("boot: init's manifest uses the slots the kernel reserves for it (" +
      INIT_SLOT_DEATHS.toString() + ".." + INIT_SLOT_SPAWN.toString() + ")");
    reasonSet(i, "init's manifest uses reserved slots");
    processKill(i, EXIT_FAULT);
    return schedCurrent();
  }
  return schedAfterInterrupt();
}

// SYS_SPAWN's worker: starts boot service `service` supervised by the live
// process `spawnerPid`. Returns the child's pid, or E_NOT_FOUND (no such
// service), E_BAD_MODULE (its module did not verify), E_NO_MEMORY.
export function spawnModule(service: u32, spawnerPid: u32): i32 {
  if (service >= serviceCount()) return E_NOT_FOUND;
  let module = moduleFor(service);
  if (module === null) return E_BAD_MODULE;
  let index = processCreate(module, processByPid(spawnerPid), service);
  if (index < 0) return index;
  return <i32>processAt(<u32>index).pid;
}

// ---------------------------------------------------------------------------
// Creating a process.

// Builds a process from a verified module: address space, segments, stack,
// the manifest's capabilities, a thread ready to enter at the module's entry
// with its pid as the first argument. `supervisor` is a process index (-1:
// none). Returns the process index, or E_BAD_MODULE / E_NO_MEMORY with
// nothing left behind.
export function processCreate(module: VerifiedModule, supervisor: i32, service: u32): i32 {
  let check = segmentsCheck(module);
  if (check != E_OK) return check;
  let slot = processAlloc();
  if (slot < 0) return E_NO_MEMORY;
  let index = <u32>slot;
  let tid = threadAlloc(index);
  if (tid == 0) return E_NO_MEMORY;
  let root = arch.space_create();
  if (root == 0) {
    threadFree(tid);
    return E_NO_MEMORY;
  }
  processInit(index, module, supervisor, service, tid, root);
  let status = imageMap(index, module);
  if (status == E_OK) status = processInstallCaps(index, module.manifest.caps);
  if (status != E_OK) {
    reasonSet(index, "could not be created");
    capTableClear(index);
    processTeardown(index);
    processAt(index).state = P_FREE;
    return status;
  }
  if (service < MAX_SERVICES) store<u32>(serviceStarts + (<usize>service << 2), serviceStartCount(service) + 1);
  rateReset(index);
  arch.thread_start(tid, root, module.entry, USER_STACK_TOP, <u64>processAt(index).pid);
  if (schedThreadInit(tid, module.manifest.scores, module.manifest.pin) != E_OK) {
    schedThreadInit(tid, [DEFAULT_SCORE, DEFAULT_SCORE, DEFAULT_SCORE, DEFAULT_SCORE, DEFAULT_SCORE], SCHED_UNPINNED);
  }
  threadReady(tid);
  return <i32>index;
}

// The segments must be page-aligned, W^X, inside the image range (below the
// wasm reservation), within the ELF file, and disjoint. The loader checked
// all of it already; a process is too important to trust that blindly.
function segmentsCheck(module: VerifiedModule): i32 {
  let n = module.segments.length;
  if (<u32>n > MAX_SEGMENTS) return E_BAD_MODULE;
  for (let i = 0; i < n; i++) {
    let s = module.segments[i];
    if ((s.virt & (PAGE - 1)) != 0 || (s.writable && s.executable)) return E_BAD_MODULE;
    if (s.virt < USER_IMAGE_BASE || s.memoryBytes > USER_WASM_BASE || s.virt > USER_WASM_BASE - s.memoryBytes) return E_BAD_MODULE;
    if (s.fileBytes > s.memoryBytes || s.fileOffset > module.elfBytes || s.fileBytes > module.elfBytes - s.fileOffset) return E_BAD_MODULE;
    let end = s.virt + s.memoryBytes;
    for (let j = 0; j < i; j++) {
      let o = module.segments[j];
      let oEnd = o.virt + ((o.memoryBytes + PAGE - 1) & ~(PAGE - 1));
      if (s.virt < oEnd && o.virt < ((end + PAGE - 1) & ~(PAGE - 1))) return E_BAD_MODULE;
    }
  }
  return E_OK;
}

function processInit(index: u32, module: VerifiedModule, supervisor: i32, service: u32, tid: u32, root: u64): void {
  let p = processAt(index);
  memory.fill(changetype<usize>(p), 0, PROCESS_BYTES);
  p.state = P_LIVE;
  p.pid = nextPid++;
  if (supervisor >= 0) {
    p.supervisor = <u32>supervisor + 1;
    p.supervisorPid = processAt(<u32>supervisor).pid;
  }
  p.service = service;
  p.mainTid = tid;
  p.root = root;
  p.memMaxPages = module.manifest.memoryPages;
  let name = module.manifest.name;
  let length = min<i32>(name.length, <i32>NAME_BYTES);
  for (let i = 0; i < length; i++) store<u8>(processName(index) + i, asciiByte(name.charCodeAt(i)));
  p.nameLength = <u8>length;
  p.reasonLength = 0;
}

// Maps the segments and the stack. Segment ranges are recorded before they
// are mapped, so a failure half-way is undone by processTeardown.
function imageMap(index: u32, module: VerifiedModule): i32 {
  let p = processAt(index);
  for (let i = 0; i < module.segments.length; i++) {
    let s = module.segments[i];
    let pages = (s.memoryBytes + PAGE - 1) >> 12;
    store<u64>(segmentEntry(index, <u32>i), s.virt);
    store<u64>(segmentEntry(index, <u32>i) + 8, pages);
    p.segmentCount = <u8>(i + 1);
    let flags: u32 = s.writable ? arch.MAP_WRITE : s.executable ? arch.MAP_EXECUTE : 0;
    for (let page: u64 = 0; page < pages; page++) {
      let status = segmentPageMap(p.root, module, s.fileOffset, s.fileBytes, s.virt, page, flags);
      if (status != E_OK) return status;
    }
  }
  for (let va = STACK_BASE; va < USER_STACK_TOP; va += PAGE) {
    if (pageMapZeroed(p.root, va, arch.MAP_WRITE) != E_OK) return E_NO_MEMORY;
  }
  return E_OK;
}

// A static page of zeros, and a page to stage segment bytes in.
const zeroPage = memory.data(4096, 16);
const stagingPage = memory.data(4096, 16);

// Maps page `page` of a segment: its file bytes, zeros after them.
function segmentPageMap(root: u64, module: VerifiedModule, fileOffset: u64, fileBytes: u64, virt: u64, page: u64, flags: u32): i32 {
  let frame = frame_alloc();
  if (frame == 0) return E_NO_MEMORY;
  let from = page << 12;
  memory.fill(stagingPage, 0, 4096);
  if (from < fileBytes) {
    let n = <u32>min<u64>(PAGE, fileBytes - from);
    arch.peek(module.elfVirt + fileOffset + from, stagingPage, n);
  }
  arch.poke(arch.phys_to_virt(frame), stagingPage, 4096);
  if (arch.space_map(root, virt + from, frame, flags) != 0) {
    frame_free(frame);
    return E_NO_MEMORY;
  }
  return E_OK;
}

// Maps a fresh zeroed frame at `va`.
function pageMapZeroed(root: u64, va: u64, flags: u32): i32 {
  let frame = frame_alloc();
  if (frame == 0) return E_NO_MEMORY;
  arch.poke(arch.phys_to_virt(frame), zeroPage, 4096);
  if (arch.space_map(root, va, frame, flags) != 0) {
    frame_free(frame);
    return E_NO_MEMORY;
  }
  return E_OK;
}

// Installs the manifest's capabilities (the loader checked them against the
// boot manifest's grants). A grant naming an unknown object, an occupied or
// out-of-range slot, or a range the kernel cannot hold fails the process.
function processInstallCaps(index: u32, caps: CapGrant[]): i32 {
  for (let i = 0; i < caps.length; i++) {
    let status = grantInstall(index, caps[i]);
    if (status != E_OK) {
      println("boot: capability " + i.toString() + " (slot " + caps[i].slot.toString() + ", type " +
        caps[i].type.toString() + " " + caps[i].name + ") cannot be granted: error " + status.toString());
      return E_BAD_MODULE;
    }
  }
  return E_OK;
}

function grantInstall(index: u32, g: CapGrant): i32 {
  let rights = g.rights & RIGHTS_ALL;
  if (g.slot >= CAP_SLOTS) return E_BAD_ARG;
  switch (g.type) {
    case CAP_ENDPOINT: {
      let ep = endpointByName(g.name);
      if (ep < 0) return E_NOT_FOUND;
      return capInstall(index, g.slot, CAP_ENDPOINT, rights, g.badge, <u32>ep, 0, 0);
    }
    case CAP_NOTIFICATION: {
      let n = notificationByName(g.name);
      if (n < 0) return E_NOT_FOUND;
      return capInstall(index, g.slot, CAP_NOTIFICATION, rights, 0, <u32>n, 0, 0);
    }
    case CAP_IRQ: {
      if (g.irq >= MAX_IRQ_SOURCES) return E_BAD_ARG;
      let n: i32 = g.name.length > 0 ? notificationByName(g.name) : irqNotification(g.irq);
      if (n < 0 && g.name.length == 0) n = notificationCreate("");
      if (n < 0) return E_NOT_FOUND;
      irqBind(g.irq, <u32>n);
      return capInstall(index, g.slot, CAP_IRQ, rights, 0, g.irq, 0, 0);
    }
    case CAP_IO_PORTS: {
      if (g.count == 0 || g.base > 0xffff || g.count > 0x10000 - g.base) return E_BAD_ARG;
      return capInstall(index, g.slot, CAP_IO_PORTS, rights, 0, 0, <u32>g.count, g.base);
    }
    case CAP_MMIO:
    case CAP_MEMORY: {
      if (g.count == 0 || g.count > 0xffffffff || (g.base & (PAGE - 1)) != 0) return E_BAD_ARG;
      return capInstall(index, g.slot, g.type, rights, 0, 0, <u32>g.count, g.base);
    }
    case CAP_SPAWN:
    case CAP_AUDIT:
    case CAP_LOG:
    case CAP_POWER:
    case CAP_SCHED:
    case CAP_SCHED_TUNE:
      return capInstall(index, g.slot, g.type, rights, 0, 0, 0, 0);
  }
  return E_BAD_ARG; // CAP_PROCESS cannot be named in a manifest; unknown types
}

// ---------------------------------------------------------------------------
// Linear memory: SYS_MEM_GROW.

// Grows the process's linear memory by `pages` wasm pages of zeroed frames.
// Returns the previous size in pages, or E_NO_MEMORY (over the manifest's
// quota, or out of frames: then nothing of this call stays mapped).
export function processMemGrow(index: u32, pages: u64): i64 {
  let p = processAt(index);
  let previous = p.memPages;
  if (pages == 0) return previous;
  if (pages > <u64>(p.memMaxPages - previous)) return E_NO_MEMORY;
  let from = USER_WASM_BASE + <u64>previous * WASM_PAGE_BYTES;
  let to = from + pages * WASM_PAGE_BYTES;
  for (let va = from; va < to; va += PAGE) {
    if (pageMapZeroed(p.root, va, arch.MAP_WRITE) != E_OK) {
      unmapRange(p.root, from, (va - from) >> 12);
      return E_NO_MEMORY;
    }
  }
  p.memPages = previous + <u32>pages;
  return previous;
}

// ---------------------------------------------------------------------------
// Device pages and shared regions: SYS_MAP.

// Maps `pages` pages of physical `phys` at `virt` with `flags`, through the
// capability `gid`; the caller checked alignment, the window and the
// capability's range. E_BAD_ARG when it overlaps an earlier region,
// E_NO_MEMORY when the table is full or page tables run out (then nothing
// of it stays mapped).
export function deviceMap(index: u32, gid: u32, virt: u64, phys: u64, pages: u64, flags: u32): i32 {
  let free: i32 = -1;
  for (let n: u32 = 0; n < MAX_MAPS; n++) {
    let at = mapEntry(index, n);
    let count = <u64>load<u32>(at + 8);
    if (count == 0) {
      if (free < 0) free = <i32>n;
      continue;
    }
    let start = load<u64>(at);
    if (virt < start + (count << 12) && start < virt + (pages << 12)) return E_BAD_ARG;
  }
  if (free < 0) return E_NO_MEMORY;
  let root = processAt(index).root;
  for (let i: u64 = 0; i < pages; i++) {
    if (arch.space_map(root, virt + (i << 12), phys + (i << 12), flags) != 0) {
      for (let j: u64 = 0; j < i; j++) arch.space_unmap(root, virt + (j << 12));
      return E_NO_MEMORY;
    }
  }
  let at = mapEntry(index, <u32>free);
  store<u64>(at, virt);
  store<u32>(at + 8, <u32>pages);
  store<u32>(at + 12, gid + 1);
  return E_OK;
}

// Unmaps region `n` of process `index` (nothing is freed: the pages are a
// device's or a shared region's).
function mapRemove(index: u32, n: u32): void {
  let at = mapEntry(index, n);
  let pages = load<u32>(at + 8);
  if (pages == 0) return;
  let root = processAt(index).root;
  let virt = load<u64>(at);
  for (let i: u32 = 0; i < pages; i++) arch.space_unmap(root, virt + (<u64>i << 12));
  store<u64>(at, 0);
  store<u32>(at + 8, 0);
  store<u32>(at + 12, 0);
}

// The capability `gid` is gone: what its holder mapped through it goes too.
export function deviceUnmapCap(gid: u32): void {
  let index = gid / CAP_SLOTS;
  for (let n: u32 = 0; n < MAX_MAPS; n++) {
    if (load<u32>(mapEntry(index, n) + 12) == gid + 1) mapRemove(index, n);
  }
}

// ---------------------------------------------------------------------------
// Death: kill, exit, faults.

// Unmaps `pages` pages from `va` and frees the frames they held.
function unmapRange(root: u64, va: u64, pages: u64): void {
  for (let i: u64 = 0; i < pages; i++) {
    let frame = arch.space_unmap(root, va + (i << 12));
    if (frame != 0) frame_free(frame);
  }
}

// Frees every frame the process maps and its page tables.
function processTeardown(index: u32): void {
  let p = processAt(index);
  for (let i: u32 = 0; i < <u32>p.segmentCount; i++) {
    unmapRange(p.root, load<u64>(segmentEntry(index, i)), load<u64>(segmentEntry(index, i) + 8));
  }
  p.segmentCount = 0;
  unmapRange(p.root, STACK_BASE, USER_STACK_BYTES >> 12);
  unmapRange(p.root, USER_WASM_BASE, (<u64>p.memPages * WASM_PAGE_BYTES) >> 12);
  p.memPages = 0;
  for (let n: u32 = 0; n < MAX_MAPS; n++) mapRemove(index, n);
  arch.space_destroy(p.root);
  p.root = 0;
  let tid = p.mainTid;
  if (tid != 0 && threadAt(tid).process == <u16>index && threadAt(tid).state != THREAD_FREE) threadFree(tid);
}

// Kills a live process; its reason text is set already. In order: its
// threads leave every queue (a caller it was serving gets E_PEER_DEAD), its
// capabilities are deleted (capabilities derived from them stay, attached
// to their grandparents; an endpoint left with no RECEIVE capability fails
// its queued callers with E_PEER_DEAD), its memory and page tables are
// freed, and its supervisor's death notification gets bit `index`.
export function processKill(index: u32, code: u64): void {
  let p = processAt(index);
  if (p.state != P_LIVE) return;
  p.state = P_DEAD;
  p.exitCode = code;
  p.deathOrder = ++deathCounter;
  let me = schedHere();
  let zombies: u32 = 0;
  for (let tid: u32 = 1; tid < MAX_THREADS; tid++) {
    let t = threadAt(tid);
    if (t.state == THREAD_FREE || t.process != <u16>index) continue;
    if (t.state == THREAD_SLEEPING) sleepRemove(tid);
    ipcThreadCancel(tid);
    let on = schedRunningOn(tid);
    if (on >= 0 && <u32>on != me) {
      // Its CPU is in user mode on it right now: that CPU frees it (and
      // this process's memory) when the kick brings it into the kernel.
      t.state = THREAD_ZOMBIE;
      arch.cpu_kick(<u32>on);
      zombies++;
      continue;
    }
    schedDrop(tid);
    threadFree(tid);
  }
  capTableClear(index);
  p.zombies = zombies;
  if (zombies != 0) return;
  processTeardown(index);
  deathReport(index);
}

// Every kernel entry starts here (after schedEnter): the thread this CPU
// ran may have been killed by another CPU meanwhile (THREAD_ZOMBIE); it is
// freed now, and its process torn down once none of its threads runs anywhere.
export function zombieReap(): void {
  let tid = schedCurrent();
  if (tid == 0 || threadAt(tid).state != THREAD_ZOMBIE) return;
  let index = threadProcess(tid);
  schedDrop(tid);
  threadFree(tid);
  let p = processAt(index);
  if (p.zombies > 0 && --p.zombies == 0) {
    processTeardown(index);
    deathReport(index);
  }
}

// Tells the supervisor (bit `index` of its death notification) and the
// console. The notification is a bit set, so deaths are never lost; the
// supervisor reads who and why with SYS_PROC_INFO(index).
function deathReport(index: u32): void {
  let p = processAt(index);
  if (p.supervisor != 0) {
    let s = processAt(p.supervisor - 1);
    if (s.state == P_LIVE && s.pid == p.supervisorPid && s.deaths != 0) {
      notificationSignal(s.deaths - 1, (<u64>1) << (<u64>index));
    }
  }
  deathPrint(index);
}

// "[kernel] name (pid N) died: reason", built in static memory.
const deathLine = memory.data(192, 16);
function deathPrint(index: u32): void {
  let p = processAt(index);
  let at = textPut(deathLine, 192, 0, "[kernel] ");
  at = textCopy(deathLine, 192, at, processName(index), p.nameLength);
  at = textPut(deathLine, 192, at, " (pid ");
  at = textDec(deathLine, 192, at, p.pid);
  at = textPut(deathLine, 192, at, ") died: ");
  at = textCopy(deathLine, 192, at, processReason(index), p.reasonLength);
  at = textPut(deathLine, 192, at, "\r\n");
  arch.console_write(deathLine, at);
}

// SYS_EXIT: code < EXIT_TRAP_BASE is "exit(code)"; above, a wasm trap that
// libsys reports, counted as a fault.
export function processExit(index: u32, code: u64): void {
  let p = processAt(index);
  let buffer = processReason(index);
  let at: u32;
  if (code >= EXIT_TRAP_BASE && code < EXIT_TRAP_BASE + 0x100) {
    at = textPut(buffer, REASON_BYTES, 0, "wasm trap: ");
    at = textPut(buffer, REASON_BYTES, at, trapName(<u32>(code - EXIT_TRAP_BASE)));
    faultCount(index);
  } else {
    at = textPut(buffer, REASON_BYTES, 0, "exit(");
    at = textDec(buffer, REASON_BYTES, at, code);
    at = textPut(buffer, REASON_BYTES, at, ")");
  }
  p.reasonLength = <u8>at;
  processKill(index, code);
}

// SYS_KILL: "killed by pid N".
export function processKillBy(index: u32, killerPid: u32): void {
  let buffer = processReason(index);
  let at = textPut(buffer, REASON_BYTES, 0, "killed by pid ");
  at = textDec(buffer, REASON_BYTES, at, killerPid);
  processAt(index).reasonLength = <u8>at;
  processKill(index, EXIT_KILLED);
}

export function trapName(kind: u32): string {
  switch (kind) {
    case TRAP_OOB: return "out-of-bounds memory access";
    case TRAP_INT_OVERFLOW: return "integer overflow";
    case TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case TRAP_UNREACHABLE: return "unreachable executed";
    case TRAP_CALL_INDIRECT: return "indirect call signature mismatch";
    case TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case TRAP_EXHAUSTION: return "call stack exhausted";
  }
  return "unknown kind";
}

function faultCount(index: u32): void {
  let p = processAt(index);
  p.faults++;
  if (p.service < MAX_SERVICES) store<u32>(serviceFaults + (<usize>p.service << 2), serviceFaultCount(p.service) + 1);
}

// The kernel entry for a CPU fault in user mode (kernel_fault): the
// faulting process dies with the reason, nothing else does. A page fault in
// the wasm reservation beyond the mapped linear memory is what a wasm
// out-of-bounds access looks like with guard pages. Returns the next thread.
export function faultHandle(tid: u32, kind: u32, address: u64, ip: u64, code: u64): u32 {
  if (!threadValid(tid)) return schedAfterInterrupt();
  let index = threadProcess(tid);
  let p = processAt(index);
  let buffer = processReason(index);
  let at: u32 = 0;
  if (kind == arch.FAULT_PAGE && address >= USER_WASM_BASE && address - USER_WASM_BASE < USER_WASM_RESERVE_BYTES &&
      address - USER_WASM_BASE >= <u64>p.memPages * WASM_PAGE_BYTES) {
    at = textPut(buffer, REASON_BYTES, at, "wasm trap: out-of-bounds memory access at ");
    at = textHex(buffer, REASON_BYTES, at, address);
  } else if (kind == arch.FAULT_PAGE) {
    at = textPut(buffer, REASON_BYTES, at, "page fault at ");
    at = textHex(buffer, REASON_BYTES, at, address);
  } else {
    at = textPut(buffer, REASON_BYTES, at, faultName(kind));
  }
  at = textPut(buffer, REASON_BYTES, at, " (ip ");
  at = textHex(buffer, REASON_BYTES, at, ip);
  at = textPut(buffer, REASON_BYTES, at, ")");
  p.reasonLength = <u8>at;
  faultCount(index);
  processKill(index, EXIT_FAULT);
  return schedAfterInterrupt();
}

function faultName(kind: u32): string {
  switch (kind) {
    case arch.FAULT_PROTECTION: return "protection fault";
    case arch.FAULT_ILLEGAL: return "illegal instruction";
    case arch.FAULT_ARITHMETIC: return "arithmetic fault";
    case arch.FAULT_ALIGNMENT: return "alignment fault";
    case arch.FAULT_BREAKPOINT: return "breakpoint";
  }
  return "CPU fault";
}

export function reasonSet(index: u32, text: string): void {
  processAt(index).reasonLength = <u8>textPut(processReason(index), REASON_BYTES, 0, text);
}

// The reason as a string: for tests and the kernel shell, not the syscall path.
export function reasonText(index: u32): string {
  return String.UTF8.decodeUnsafe(processReason(index), processAt(index).reasonLength);
}

export function nameText(index: u32): string {
  return String.UTF8.decodeUnsafe(processName(index), processAt(index).nameLength);
}

// ---------------------------------------------------------------------------
// Text into raw buffers, without allocating: reasons, log lines.

@inline function asciiByte(code: i32): u8 {
  return code >= 0x20 && code < 0x7f ? <u8>code : 0x3f; // '?'
}

// Appends `text` (ASCII) at `at` in the `capacity`-byte buffer at `buffer`;
// returns the new length. Text past the capacity is cut.
export function textPut(buffer: usize, capacity: u32, at: u32, text: string): u32 {
  for (let i = 0; i < text.length && at < capacity; i++) {
    let code = text.charCodeAt(i);
    store<u8>(buffer + at++, code == 13 || code == 10 ? <u8>code : asciiByte(code));
  }
  return at;
}

export function textCopy(buffer: usize, capacity: u32, at: u32, from: usize, length: u32): u32 {
  for (let i: u32 = 0; i < length && at < capacity; i++) store<u8>(buffer + at++, load<u8>(from + i));
  return at;
}

export function textDec(buffer: usize, capacity: u32, at: u32, value: u64): u32 {
  let digits: u32 = 1;
  for (let v = value / 10; v != 0; v /= 10) digits++;
  if (at + digits > capacity) return at;
  for (let i = digits; i > 0; i--) {
    store<u8>(buffer + at + i - 1, <u8>(0x30 + value % 10));
    value /= 10;
  }
  return at + digits;
}

export function textHex(buffer: usize, capacity: u32, at: u32, value: u64): u32 {
  let digits: u32 = value == 0 ? 1 : (67 - <u32>clz<u64>(value)) >> 2;
  if (at + 2 + digits > capacity) return at;
  store<u8>(buffer + at, 0x30);
  store<u8>(buffer + at + 1, 0x78);
  for (let i = digits; i > 0; i--) {
    let nibble = <u8>(value & 15);
    store<u8>(buffer + at + 1 + i, nibble < 10 ? 0x30 + nibble : 0x57 + nibble);
    value >>= 4;
  }
  return at + 2 + digits;
}
