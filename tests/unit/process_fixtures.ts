// A small fake system for the process, capability, IPC, audit and syscall
// specs: a frame allocator over fake RAM, a boot manifest with a few
// objects, verified modules whose "ELF" is a buffer in linear memory, and
// helpers to make system calls as a thread and read its registers back.
//
// The arch mocks (as-pect.config.js) keep page tables, physical memory and
// thread registers in JavaScript; testhooks reach them. Not a spec file.

import { MemoryKind, MemoryRegion } from "../../boot/bootinfo";
import { context_set as setContext, REG_RESULT0, REG_STATUS, space_read, space_write } from "../../kernel/arch";
import { BootManifest, BootObject, BootService, CapGrant, Segment, VerifiedModule } from "../../kernel/image";
import { frames_init } from "../../kernel/frames";
import { CAP_ENDPOINT, CAP_NOTIFICATION } from "../../kernel/abi";
import {
  bootObjectsCreate, processAt, processCreate, THREAD_BLOCKED_WAIT, setModuleSource, threadAt, THREAD_RUNNING,
} from "../../kernel/proc";
import { schedNext, schedRun } from "../../kernel/sched";
import { syscallDispatch } from "../../kernel/syscall";
import { Buf } from "./fixtures";

@external("testhooks", "allocation_count")
export declare function allocation_count(): i32;
@external("testhooks", "mock_reset")
export declare function mock_reset(): void;
@external("testhooks", "context_get")
export declare function context_get(tid: u32, reg: u32): u64;
@external("testhooks", "context_clear")
export declare function context_clear(tid: u32): void;
@external("testhooks", "thread_started")
export declare function thread_started(tid: u32): i32;
@external("testhooks", "thread_start_arg")
export declare function thread_start_arg(tid: u32, field: u32): u64;
@external("testhooks", "space_count")
export declare function space_count(): i32;
@external("testhooks", "space_destroyed")
export declare function space_destroyed(): i32;
@external("testhooks", "space_flags")
export declare function space_flags(root: u64, virt: u64): i32;
@external("testhooks", "space_pages")
export declare function space_pages(root: u64): i32;
@external("testhooks", "space_fail_creates")
export declare function space_fail_creates(n: i32): void;
@external("testhooks", "space_maps_left")
export declare function space_maps_left(n: i32): void;
@external("testhooks", "port_set")
export declare function port_set(port: u32, value: u32): void;
@external("testhooks", "mmio_set")
export declare function mmio_set(phys: u64, value: u32): void;
@external("testhooks", "mmio_log_count")
export declare function mmio_log_count(): i32;
@external("testhooks", "mmio_log_entry")
export declare function mmio_log_entry(i: i32, field: i32): u32;
@external("testhooks", "irq_acks")
export declare function irq_acks(): i32;
@external("testhooks", "port_log_count")
export declare function port_log_count(): i32;
@external("testhooks", "port_log_entry")
export declare function port_log_entry(i: i32, field: i32): u32;
@external("testhooks", "console_capture")
export declare function console_capture(on: bool): void;
@external("testhooks", "console_captured")
declare function console_captured(dst: usize, capacity: u32): u32;
@external("testhooks", "power_count")
export declare function power_count(): i32;

// Fake RAM: 64 MiB of usable frames from 16 MiB up.
export const RAM_BASE: u64 = 16 << 20;
export const RAM_BYTES: u64 = 64 << 20;

// The boot manifest's objects, in order: endpoint indices 0..2, then the
// notification (notification index 0).
export const EP_SERVER = 0;      // depth 4
export const EP_SMALL = 1;       // depth 2
export const EP_OTHER = 2;       // depth 0: the default
export const NOTE = 0;

// Fresh mocks, frames and kernel objects; the manifest's objects exist.
// Processes hold no capability until a spec grants it. Console output is
// captured (capturedText), not printed.
export function systemReset(): BootManifest {
  mock_reset();
  console_capture(true); // the kernel's console lines stay out of the test report
  frames_init([new MemoryRegion(RAM_BASE, RAM_BYTES, MemoryKind.Usable)], []);
  let m = new BootManifest();
  m.objects.push(bootObject("server", CAP_ENDPOINT, 4));
  m.objects.push(bootObject("small", CAP_ENDPOINT, 2));
  m.objects.push(bootObject("other", CAP_ENDPOINT, 0));
  m.objects.push(bootObject("note", CAP_NOTIFICATION, 0));
  m.services.push(bootService("init", [], 0, 0));
  m.services.push(bootService("server", [], 3, 100));
  m.services.push(bootService("client", ["server"], 5, 50));
  m.init = 0;
  bootObjectsCreate(m);
  setModuleSource(null);
  return m;
}

function bootObject(name: string, type: u8, depth: u32): BootObject {
  let o = new BootObject();
  o.name = name;
  o.type = type;
  o.queueDepth = depth;
  return o;
}

function bootService(name: string, depends: string[], limit: u32, backoff: u32): BootService {
  let s = new BootService();
  s.name = name;
  s.module = name + ".mod";
  s.depends = depends;
  s.restartLimit = limit;
  s.restartBackoffMs = backoff;
  return s;
}

export function grant(slot: u32, type: u8, rights: u8, name: string = "", badge: u64 = 0): CapGrant {
  let g = new CapGrant();
  g.slot = slot;
  g.type = type;
  g.rights = rights;
  g.name = name;
  g.badge = badge;
  return g;
}

export function rangeGrant(slot: u32, type: u8, rights: u8, base: u64, count: u64): CapGrant {
  let g = grant(slot, type, rights);
  g.base = base;
  g.count = count;
  return g;
}

export function irqGrant(slot: u32, rights: u8, irq: u32): CapGrant {
  let g = grant(slot, 3, rights); // CAP_IRQ
  g.irq = irq;
  return g;
}

// The fake ELF: 3 pages of recognisable bytes. Text is page 0 plus 0x100
// bytes of page 1 (executable, 2 pages); data is page 2's first 0x80 bytes
// followed by zeros (writable, 3 pages: the rest is bss).
export const TEXT_VIRT: u64 = 0x400000;
export const DATA_VIRT: u64 = 0x600000;
export const ENTRY: u64 = 0x400040;
let elf: Buf | null = null;

export function elfImage(): Buf {
  if (elf === null) {
    let b = new Buf(3 * 4096);
    for (let i: u32 = 0; i < 3 * 4096; i++) b.u8(i, (i * 7 + 3) & 0xff);
    elf = b;
  }
  return changetype<Buf>(elf);
}

export function segment(virt: u64, memoryBytes: u64, fileOffset: u64, fileBytes: u64, writable: bool, executable: bool): Segment {
  let s = new Segment();
  s.virt = virt;
  s.memoryBytes = memoryBytes;
  s.fileOffset = fileOffset;
  s.fileBytes = fileBytes;
  s.writable = writable;
  s.executable = executable;
  return s;
}

export function fakeModule(name: string, caps: CapGrant[], memoryPages: u32 = 4, service: u32 = 1): VerifiedModule {
  let m = new VerifiedModule();
  let image = elfImage();
  m.service = service;
  m.elfVirt = image.addr;
  m.elfBytes = 3 * 4096;
  m.entry = ENTRY;
  m.segments.push(segment(TEXT_VIRT, 0x1100, 0, 0x1100, false, true));
  m.segments.push(segment(DATA_VIRT, 0x2800, 0x2000, 0x80, true, false));
  m.manifest.name = name;
  m.manifest.version = "1.0";
  m.manifest.memoryPages = memoryPages;
  m.manifest.caps = caps;
  return m;
}

// Creates a process (no supervisor) and returns its index; fails the spec
// if it cannot be made.
export function spawnProcess(name: string, caps: CapGrant[], memoryPages: u32 = 4): u32 {
  let index = processCreate(fakeModule(name, caps, memoryPages), -1, 1);
  assert(index >= 0, "spawnProcess: " + name + " could not be created: " + index.toString());
  return <u32>index;
}

export function mainTid(index: u32): u32 {
  return processAt(index).mainTid;
}

// Makes `tid` the running thread (it must be ready or running).
export function runAs(tid: u32): void {
  if (threadAt(tid).state == THREAD_RUNNING) return;
  if (!schedRun(tid)) assert(false, "runAs: thread " + tid.toString() + " is not ready");
}

// A system call made by thread `tid` (made running first); returns the
// thread the kernel runs next.
export function sys(tid: u32, number: u32, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0): u32 {
  runAs(tid);
  return syscallDispatch(tid, number, a0, a1, a2, a3, a4, a5);
}

export function status(tid: u32): i32 {
  return <i32>context_get(tid, REG_STATUS);
}

export function reg(tid: u32, i: u32): u64 {
  return context_get(tid, REG_RESULT0 + i);
}

// Marks a thread's status register so a spec can tell "not written".
export const UNTOUCHED: u64 = 0x5a5a5a5a;
export function markStatus(tid: u32): void {
  context_clear(tid);
  // REG_STATUS is what the kernel writes; a value it never writes tells.
  setContext(tid, REG_STATUS, UNTOUCHED);
}

// Drains the ready queue: the threads it held, in order (each taken off
// the CPU again as if it blocked, so the next one can run).
export function drainReady(): u32[] {
  let got: u32[] = [];
  for (let tid = schedNext(); tid != 0; tid = schedNext()) {
    got.push(tid);
    threadAt(tid).state = THREAD_BLOCKED_WAIT;
  }
  return got;
}

// The console text since capture began.
export function capturedText(): string {
  let buffer = new Buf(4096);
  let n = console_captured(buffer.base, 4096);
  return String.UTF8.decodeUnsafe(buffer.base, min<u32>(n, 4096));
}

// Writes `text` into a user space at `virt` through the mocked page tables.
export function userWrite(root: u64, virt: u64, text: string): i32 {
  let bytes = String.UTF8.encode(text);
  return space_write(root, virt, changetype<usize>(bytes), <u32>bytes.byteLength);
}

export function userReadText(root: u64, virt: u64, length: u32): string {
  let buffer = new Buf(length + 1);
  if (space_read(root, virt, buffer.base, length) != 0) return "<unmapped>";
  return String.UTF8.decodeUnsafe(buffer.base, length);
}

export function userReadByte(root: u64, virt: u64): i32 {
  let buffer = new Buf(8);
  if (space_read(root, virt, buffer.base, 1) != 0) return -1;
  return buffer.getU8(0);
}
