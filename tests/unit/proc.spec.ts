// kernel/proc.ts: processes and threads. Creating a process from a verified
// module (segments W^X with their bytes, zeroed bss, a stack under a guard
// page, its capabilities, a started thread), linear memory, death (every
// frame back, the supervisor told, the reason in words), the ready queue
// and sleeping.

import {
  bootObjectsCreate, faultHandle, initStart, nameText, processAt, processByPid, processCreate, processExit, processKill, processKillBy, processMemGrow, processStateOf, reasonText, serviceFaultCount, serviceStartCount, setModuleSource, spawnModule, threadAt, THREAD_READY, THREAD_SLEEPING, MAX_PROCESSES, MAX_SEGMENTS,
} from "../../kernel/proc";
import { schedNext, schedTimerTick, SLICE_TICKS } from "../../kernel/sched";
import { MAX_SEGMENTS as LOADER_MAX_SEGMENTS, USER_IMAGE_BASE as LOADER_IMAGE_BASE, USER_IMAGE_END } from "../../kernel/module";
import { capAt, capGid } from "../../kernel/cap";
import { VerifiedModule } from "../../kernel/image";
import { FAULT_PAGE, FAULT_PROTECTION, MAP_EXECUTE, MAP_WRITE, REG_RESULT0 } from "../../kernel/arch";
import {
  CAP_AUDIT, CAP_ENDPOINT, CAP_LOG, CAP_NOTIFICATION, CAP_SPAWN, E_BAD_MODULE, E_NO_MEMORY, E_NOT_FOUND,
  EXIT_FAULT, EXIT_KILLED, INIT_SLOT_AUDIT, INIT_SLOT_DEATHS, INIT_SLOT_LOG, INIT_SLOT_SPAWN, PROC_DEAD,
  PROC_FREE, PROC_RUNNING, RIGHT_SEND, SYS_SLEEP, SYS_WAIT, USER_IMAGE_BASE, USER_STACK_TOP, USER_WASM_BASE,
  WASM_PAGE_BYTES,
} from "../../kernel/abi";
import { frame_alloc, frame_free, frames_free_count } from "../../kernel/frames";
import { timerTick } from "../../kernel/state";
import {
  capturedText, console_capture, DATA_VIRT, drainReady, elfImage, ENTRY, fakeModule, grant, mainTid, reg,
  segment, space_count, space_destroyed, space_fail_creates, space_flags, space_maps_left, space_pages,
  spawnProcess, status, sys, systemReset, TEXT_VIRT, thread_start_arg, thread_started, userReadByte, userWrite,
  context_get,
} from "./process_fixtures";

function elfByte(offset: u32): i32 {
  return (offset * 7 + 3) & 0xff;
}

describe("processCreate", () => {
  it("maps the segments W^X with their file bytes and zeros after them", () => {
    systemReset();
    let root = processAt(spawnProcess("alpha", [])).root;
    expect(space_flags(root, TEXT_VIRT)).toBe(MAP_EXECUTE);
    expect(space_flags(root, TEXT_VIRT + 0x1000)).toBe(MAP_EXECUTE);
    expect(space_flags(root, TEXT_VIRT + 0x2000)).toBe(-1);
    expect(space_flags(root, DATA_VIRT)).toBe(MAP_WRITE);
    expect(space_flags(root, DATA_VIRT + 0x2000)).toBe(MAP_WRITE);
    expect(space_flags(root, DATA_VIRT + 0x3000)).toBe(-1);
    expect(userReadByte(root, TEXT_VIRT)).toBe(elfByte(0));
    expect(userReadByte(root, TEXT_VIRT + 0x10ff)).toBe(elfByte(0x10ff));
    expect(userReadByte(root, TEXT_VIRT + 0x1100)).toBe(0);      // past the file bytes
    expect(userReadByte(root, DATA_VIRT)).toBe(elfByte(0x2000));
    expect(userReadByte(root, DATA_VIRT + 0x7f)).toBe(elfByte(0x207f));
    expect(userReadByte(root, DATA_VIRT + 0x80)).toBe(0);        // bss
    expect(userReadByte(root, DATA_VIRT + 0x27ff)).toBe(0);
  });

  it("maps a writable stack below USER_STACK_TOP over an unmapped guard page", () => {
    systemReset();
    let root = processAt(spawnProcess("alpha", [])).root;
    expect(space_flags(root, USER_STACK_TOP - 0x1000)).toBe(MAP_WRITE);
    expect(space_flags(root, USER_STACK_TOP - 0x10000)).toBe(MAP_WRITE);
    expect(space_flags(root, USER_STACK_TOP - 0x11000)).toBe(-1);  // guard
    expect(space_flags(root, USER_STACK_TOP)).toBe(-1);
    expect(space_pages(root)).toBe(2 + 3 + 16);
  });

  it("starts its thread at the entry, on the stack, with its pid as argument", () => {
    systemReset();
    let index = spawnProcess("alpha", []);
    let p = processAt(index);
    let tid = p.mainTid;
    expect(thread_started(tid)).toBe(1);
    expect(thread_start_arg(tid, 0)).toBe(p.root);
    expect(thread_start_arg(tid, 1)).toBe(ENTRY);
    expect(thread_start_arg(tid, 2)).toBe(USER_STACK_TOP);
    expect(thread_start_arg(tid, 3)).toBe(<u64>p.pid);
    expect(threadAt(tid).state).toBe(THREAD_READY);
    expect(processStateOf(index)).toBe(PROC_RUNNING);
    expect(nameText(index)).toBe("alpha");
  });

  it("gives pids in order and never reuses one", () => {
    systemReset();
    let a = spawnProcess("a", []);
    let b = spawnProcess("b", []);
    expect(processAt(a).pid).toBe(1);
    expect(processAt(b).pid).toBe(2);
    processKill(a, 0);
    let c = spawnProcess("c", []);
    expect(processAt(c).pid).toBe(3);
    expect(c).not.toBe(a);                     // a free entry before a dead one
    expect(processStateOf(a)).toBe(PROC_DEAD);
    expect(processByPid(1)).toBe(-1);
  });

  it("reuses the entry that died first when the table is full", () => {
    systemReset();
    for (let i: u32 = 0; i < MAX_PROCESSES; i++) spawnProcess("p", []);
    expect(processCreate(fakeModule("late", []), -1, 1)).toBe(E_NO_MEMORY);
    processKill(5, 0);
    processKill(2, 0);
    let index = spawnProcess("late", []);
    expect(index).toBe(5);
    expect(processAt(index).pid).toBe(<u32>MAX_PROCESSES + 1);
  });

  it("takes every module the loader takes: as many segments, the same image range", () => {
    expect(MAX_SEGMENTS).toBe(LOADER_MAX_SEGMENTS);
    expect(USER_IMAGE_BASE).toBe(LOADER_IMAGE_BASE);
    expect(USER_IMAGE_END).toBe(USER_WASM_BASE);
  });

  it("refuses a module whose segments do not check out, leaving nothing behind", () => {
    systemReset();
    let free = frames_free_count();
    let wx = fakeModule("wx", []);
    wx.segments[0].writable = true;
    expect(processCreate(wx, -1, 1)).toBe(E_BAD_MODULE);
    let overlap = fakeModule("overlap", []);
    overlap.segments.push(segment(TEXT_VIRT + 0x1000, 0x1000, 0, 0x1000, false, false));
    expect(processCreate(overlap, -1, 1)).toBe(E_BAD_MODULE);
    let low = fakeModule("low", []);
    low.segments[0].virt = 0x1000;
    expect(processCreate(low, -1, 1)).toBe(E_BAD_MODULE);
    let wasm = fakeModule("wasm", []);
    wasm.segments[1].virt = USER_WASM_BASE;
    expect(processCreate(wasm, -1, 1)).toBe(E_BAD_MODULE);
    let past = fakeModule("past", []);
    past.segments[1].fileBytes = 0x2000; // beyond the 3-page file
    expect(processCreate(past, -1, 1)).toBe(E_BAD_MODULE);
    let unaligned = fakeModule("unaligned", []);
    unaligned.segments[0].virt = TEXT_VIRT + 8;
    expect(processCreate(unaligned, -1, 1)).toBe(E_BAD_MODULE);
    expect(frames_free_count()).toBe(free);
    expect(space_count()).toBe(0);
  });

  it("gives up cleanly when page tables or frames run out half-way", () => {
    systemReset();
    let free = frames_free_count();
    space_fail_creates(1);
    expect(processCreate(fakeModule("a", []), -1, 1)).toBe(E_NO_MEMORY);
    space_maps_left(7); // the segments fit, the stack does not
    expect(processCreate(fakeModule("b", []), -1, 1)).toBe(E_NO_MEMORY);
    expect(frames_free_count()).toBe(free);
    expect(space_count()).toBe(0);
    expect(drainReady().length).toBe(0);
    space_maps_left(-1);
    let index = spawnProcess("c", []);
    expect(processStateOf(index)).toBe(PROC_RUNNING);
  });

  it("refuses a grant naming an unknown object, leaving nothing behind", () => {
    systemReset();
    let free = frames_free_count();
    console_capture(true);
    expect(processCreate(fakeModule("a", [grant(0, CAP_ENDPOINT, RIGHT_SEND, "nowhere")]), -1, 1)).toBe(E_BAD_MODULE);
    expect(processCreate(fakeModule("b", [grant(0, CAP_LOG, RIGHT_SEND), grant(0, CAP_LOG, RIGHT_SEND)]), -1, 1)).toBe(E_BAD_MODULE);
    expect(capturedText().includes("nowhere")).toBe(true);
    console_capture(false);
    expect(frames_free_count()).toBe(free);
    expect(space_count()).toBe(0);
  });
});

describe("processMemGrow", () => {
  it("grows in zeroed 64 KiB pages up to the manifest's quota", () => {
    systemReset();
    let dirty = spawnProcess("dirty", [], 4);
    expect(processMemGrow(dirty, 4)).toBe(0);
    expect(userWrite(processAt(dirty).root, USER_WASM_BASE + 0x100, "garbage")).toBe(0);
    processKill(dirty, 0); // its frames go back dirty
    let index = spawnProcess("clean", [], 4);
    let root = processAt(index).root;
    expect(processMemGrow(index, 1)).toBe(0);
    expect(processMemGrow(index, 2)).toBe(1);
    expect(processMemGrow(index, 2)).toBe(E_NO_MEMORY);  // 3 + 2 > 4
    expect(processMemGrow(index, 0)).toBe(3);
    expect(processMemGrow(index, 1)).toBe(3);
    expect(processMemGrow(index, 1)).toBe(E_NO_MEMORY);
    expect(space_flags(root, USER_WASM_BASE)).toBe(MAP_WRITE);
    expect(space_flags(root, USER_WASM_BASE + 4 * WASM_PAGE_BYTES - 0x1000)).toBe(MAP_WRITE);
    expect(space_flags(root, USER_WASM_BASE + 4 * WASM_PAGE_BYTES)).toBe(-1);
    let nonzero = 0;
    for (let at: u64 = 0; at < 4 * WASM_PAGE_BYTES; at += 0x40) if (userReadByte(root, USER_WASM_BASE + at) != 0) nonzero++;
    expect(userReadByte(root, USER_WASM_BASE + 0x100)).toBe(0);
    expect(nonzero).toBe(0);
  });

  it("takes nothing when frames run out half-way", () => {
    systemReset();
    let index = spawnProcess("a", [], 8);
    let held: u64[] = [];
    while (frames_free_count() > 10) held.push(frame_alloc());
    expect(processMemGrow(index, 1)).toBe(E_NO_MEMORY);   // 16 frames needed
    expect(frames_free_count()).toBe(10);
    expect(processAt(index).memPages).toBe(0);
    expect(space_flags(processAt(index).root, USER_WASM_BASE)).toBe(-1);
    for (let i = 0; i < held.length; i++) frame_free(held[i]);
  });
});

describe("death", () => {
  it("gives back every frame and the page tables", () => {
    systemReset();
    let free = frames_free_count();
    let index = spawnProcess("alpha", [], 8);
    expect(processMemGrow(index, 3)).toBe(0);
    expect(frames_free_count()).toBeLessThan(free);
    processKill(index, 0);
    expect(frames_free_count()).toBe(free);
    expect(space_count()).toBe(0);
    expect(space_destroyed()).toBe(1);
    expect(processStateOf(index)).toBe(PROC_DEAD);
    expect(drainReady().length).toBe(0);   // its thread left the ready queue
  });

  it("says why: exit codes, wasm traps, kills", () => {
    systemReset();
    let a = spawnProcess("a", []);
    processExit(a, 3);
    expect(reasonText(a)).toBe("exit(3)");
    expect(processAt(a).exitCode).toBe(3);
    expect(processAt(a).faults).toBe(0);
    let b = spawnProcess("b", []);
    processExit(b, 0x105);
    expect(reasonText(b)).toBe("wasm trap: unreachable executed");
    expect(processAt(b).faults).toBe(1);
    let c = spawnProcess("c", []);
    processExit(c, 0x101);
    expect(reasonText(c)).toBe("wasm trap: out-of-bounds memory access");
    let d = spawnProcess("d", []);
    processKillBy(d, 7);
    expect(reasonText(d)).toBe("killed by pid 7");
    expect(processAt(d).exitCode).toBe(EXIT_KILLED);
    expect(serviceFaultCount(1)).toBe(2);
  });

  it("turns a fault into a reason and kills that process only", () => {
    systemReset();
    console_capture(true);
    let victim = spawnProcess("victim", [], 4);
    let bystander = spawnProcess("bystander", []);
    expect(processMemGrow(victim, 1)).toBe(0);
    let tid = mainTid(victim);
    let next = faultHandle(tid, FAULT_PAGE, 0xdead000, 0x401234, 6);
    expect(reasonText(victim)).toBe("page fault at 0xdead000 (ip 0x401234)");
    expect(processStateOf(victim)).toBe(PROC_DEAD);
    expect(processAt(victim).exitCode).toBe(EXIT_FAULT);
    expect(processAt(victim).faults).toBe(1);
    expect(next).toBe(mainTid(bystander));
    expect(processStateOf(bystander)).toBe(PROC_RUNNING);
  });

  it("reports a fault beyond the linear memory as a wasm out-of-bounds trap", () => {
    systemReset();
    console_capture(true);
    let a = spawnProcess("a", [], 4);
    processMemGrow(a, 1);
    faultHandle(mainTid(a), FAULT_PAGE, USER_WASM_BASE + 0x10008, 0x400100, 4);
    expect(reasonText(a)).toBe("wasm trap: out-of-bounds memory access at 0x100010008 (ip 0x400100)");
    let b = spawnProcess("b", [], 4);
    processMemGrow(b, 1);
    faultHandle(mainTid(b), FAULT_PAGE, USER_WASM_BASE + 0x8000, 0x400100, 7);  // inside: a real page fault
    expect(reasonText(b)).toBe("page fault at 0x100008000 (ip 0x400100)");
    let c = spawnProcess("c", []);
    faultHandle(mainTid(c), FAULT_PROTECTION, 0, 0xabc, 0);
    expect(reasonText(c)).toBe("protection fault (ip 0xabc)");
  });

  it("prints one line on the console", () => {
    systemReset();
    let a = spawnProcess("alpha", []);
    console_capture(true);
    processExit(a, 3);
    expect(capturedText()).toBe("[kernel] alpha (pid 1) died: exit(3)\r\n");
    console_capture(false);
  });
});

// Modules for the supervisor cases: service 1 is "server".
function sourceOfModules(service: u32): VerifiedModule | null {
  if (service == 1) return fakeModule("server", [], 4, 1);
  return null;
}

describe("init and its children", () => {
  it("starts init with its reserved capabilities", () => {
    systemReset();
    let tid = initStart(fakeModule("init", [], 4, 0));
    expect(tid).not.toBe(0);
    let index = threadAt(tid).process;
    expect(capAt(capGid(index, INIT_SLOT_SPAWN)).type).toBe(CAP_SPAWN);
    expect(capAt(capGid(index, INIT_SLOT_AUDIT)).type).toBe(CAP_AUDIT);
    expect(capAt(capGid(index, INIT_SLOT_LOG)).type).toBe(CAP_LOG);
    expect(capAt(capGid(index, INIT_SLOT_DEATHS)).type).toBe(CAP_NOTIFICATION);
    expect(processAt(index).supervisor).toBe(0);
  });

  it("refuses an init whose manifest takes a reserved slot", () => {
    systemReset();
    console_capture(true);
    let tid = initStart(fakeModule("init", [grant(INIT_SLOT_SPAWN, CAP_LOG, RIGHT_SEND)], 4, 0));
    console_capture(false);
    expect(tid).toBe(0);
    expect(processStateOf(0)).toBe(PROC_DEAD);
  });

  it("spawns from the module source and tells the supervisor of a death", () => {
    systemReset();
    setModuleSource(sourceOfModules);
    let initTid = initStart(fakeModule("init", [], 4, 0));
    let initPid = processAt(threadAt(initTid).process).pid;
    let pid = spawnModule(1, initPid);
    expect(pid).toBe(2);
    let child = <u32>processByPid(<u32>pid);
    expect(processAt(child).supervisorPid).toBe(initPid);
    expect(serviceStartCount(1)).toBe(1);
    processKillBy(child, initPid);
    sys(initTid, SYS_WAIT, INIT_SLOT_DEATHS);
    expect(status(initTid)).toBe(0);
    expect(reg(initTid, 0)).toBe((<u64>1) << (<u64>child));
  });

  it("names what cannot be spawned", () => {
    systemReset();
    expect(spawnModule(1, 0)).toBe(E_BAD_MODULE);     // no module source
    setModuleSource(sourceOfModules);
    expect(spawnModule(2, 0)).toBe(E_BAD_MODULE);     // its module did not verify
    expect(spawnModule(3, 0)).toBe(E_NOT_FOUND);      // no such service
    expect(spawnModule(1, 0)).toBeGreaterThan(0);     // no supervisor: allowed
  });
});

// The ticks of one time slice; returns what the last one runs.
function sliceEnd(): u32 {
  let next: u32 = 0;
  for (let i: u32 = 0; i < SLICE_TICKS; i++) next = schedTimerTick();
  return next;
}

describe("the ready queue", () => {
  it("runs threads in the order they became ready, and rotates when a slice ends", () => {
    systemReset();
    let a = mainTid(spawnProcess("a", []));
    let b = mainTid(spawnProcess("b", []));
    let c = mainTid(spawnProcess("c", []));
    expect(schedNext()).toBe(a);
    expect(sliceEnd()).toBe(b);
    expect(sliceEnd()).toBe(c);
    expect(sliceEnd()).toBe(a);
  });

  it("keeps a thread running when nothing else is ready", () => {
    systemReset();
    let a = mainTid(spawnProcess("a", []));
    expect(schedNext()).toBe(a);
    expect(sliceEnd()).toBe(a);
  });

  it("wakes a sleeper after its ticks, not before", () => {
    systemReset();
    let a = mainTid(spawnProcess("a", []));
    expect(sys(a, SYS_SLEEP, 25)).toBe(0);   // 25 ms = 3 ticks at 100 Hz; nothing else to run
    expect(threadAt(a).state).toBe(THREAD_SLEEPING);
    timerTick();
    timerTick();
    expect(schedTimerTick()).toBe(0);
    timerTick();
    expect(schedTimerTick()).toBe(a);
    expect(status(a)).toBe(0);
  });

  it("forgets a sleeper that is killed", () => {
    systemReset();
    let index = spawnProcess("a", []);
    let a = mainTid(index);
    sys(a, SYS_SLEEP, 10);
    processKill(index, 0);
    timerTick();
    timerTick();
    expect(schedTimerTick()).toBe(0);
  });
});
