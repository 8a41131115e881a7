// kernel/syscall.ts: dispatch and argument validation. Every call names its
// failure (bad number, each slot error, pointers outside the caller's
// mappings, lengths, port widths and ranges), every denial reaches the
// audit, and the calls behind ps, kill, caps, audit, ipc and boot work.

import { syscallDispatch, syscallMachineSet } from "../../kernel/syscall";
import {
  initStart, processAt, processByPid, processKill, processStateOf, setModuleSource, threadAt, THREAD_READY, THREAD_BLOCKED_WAIT, MAX_PROCESSES,
} from "../../kernel/proc";
import { schedCurrent } from "../../kernel/sched";
import { auditDeniedEvents, auditFind } from "../../kernel/audit";
import { capAt, capGid } from "../../kernel/cap";
import { endpointAt, MAX_ENDPOINTS } from "../../kernel/ipc";
import { VerifiedModule } from "../../kernel/image";
import { bootReport, bootReportMake } from "../../kernel/bootreport";
import { BootInfo, MemoryKind, MemoryRegion } from "../../boot/bootinfo";
import { frames_free_count, frames_total_bytes } from "../../kernel/frames";
import { MAP_DEVICE, MAP_WRITE } from "../../kernel/arch";
import {
  AUDIT_BACKWARD, AUDIT_DENIALS_ONLY, E_BAD_MODULE, SYS_SLEEP, AUDIT_TARGET_SYSCALL, BOOT_INFO_AVAILABLE, BOOT_INFO_IS_INIT, CAP_AUDIT,
  CAP_ENDPOINT, CAP_IO_PORTS, CAP_LOG, CAP_NONE, CAP_NOTIFICATION, CAP_POWER, CAP_PROCESS, CAP_SPAWN, E_BAD_ARG,
  E_BAD_SLOT, E_BAD_SYSCALL, E_FAULT, E_NO_CAP, E_NO_MEMORY, E_NO_RIGHTS, E_NOT_FOUND, E_OK, E_SLOT_FULL,
  EXIT_KILLED, INIT_SLOT_AUDIT, INIT_SLOT_SPAWN, KERNEL_INFO_BOOT, KERNEL_INFO_MEMORY, KERNEL_INFO_UPTIME, KERNEL_INFO_VERSION,
  POWER_OFF, POWER_RESET, PROC_DEAD, PROC_RUNNING, RIGHT_CALL, RIGHT_READ, RIGHT_RECEIVE, RIGHT_SEND,
  RIGHT_WRITE, RIGHTS_ALL, SLOT_SELF, SYS_AUDIT_READ, SYS_BOOT_INFO, SYS_CALL, SYS_CAP_DERIVE, SYS_CAP_INFO,
  SYS_COUNT, SYS_EXIT, SYS_IPC_STATS, SYS_IRQ_ACK, SYS_KERNEL_INFO, SYS_KILL, SYS_LOG, SYS_MEM_GROW, SYS_NULL,
  SYS_PORT_IN, SYS_PORT_OUT, SYS_POWER, SYS_CAP_DELETE, SYS_CAP_REVOKE, SYS_PROC_INFO, SYS_RECV, SYS_SEND, SYS_SIGNAL, SYS_SPAWN, SYS_WAIT,
  SYS_YIELD, USER_WASM_BASE, SERVICE_NONE, SYS_MAP, SYS_MMIO_READ, SYS_MMIO_WRITE, CAP_MMIO, CAP_MEMORY, RIGHT_MAP, USER_MAP_BASE, USER_MAP_END,
  MAX_MAPS,
} from "../../kernel/abi";
import {
  allocation_count, capturedText, console_capture, EP_SERVER, RAM_BASE, space_count, space_flags, fakeModule, grant, irqGrant, mainTid, port_log_count,
  port_log_entry, port_set, power_count, mmio_set, mmio_log_count, mmio_log_entry, irq_acks, rangeGrant, reg, spawnProcess, status, sys, systemReset, TEXT_VIRT,
  userReadText, userWrite,
} from "./process_fixtures";

// A process holding one capability of each kind, each without rights
// (slots 0..8), and the same with all rights (slots 10..18).
function holder(): u32 {
  let caps = [
    grant(0, CAP_ENDPOINT, 0, "server"), grant(1, CAP_NOTIFICATION, 0, "note"), irqGrant(2, 0, 1),
    rangeGrant(3, CAP_IO_PORTS, 0, 0x3f8, 8), grant(4, CAP_LOG, 0), grant(5, CAP_AUDIT, 0),
    grant(6, CAP_SPAWN, 0), grant(7, CAP_POWER, 0),
    grant(10, CAP_ENDPOINT, RIGHTS_ALL, "server"), grant(11, CAP_NOTIFICATION, RIGHTS_ALL, "note"),
    irqGrant(12, RIGHTS_ALL, 1), rangeGrant(13, CAP_IO_PORTS, RIGHTS_ALL, 0x3f8, 8), grant(14, CAP_LOG, RIGHTS_ALL),
    grant(15, CAP_AUDIT, RIGHTS_ALL), grant(16, CAP_SPAWN, RIGHTS_ALL), grant(17, CAP_POWER, RIGHTS_ALL),
  ];
  return spawnProcess("holder", caps, 4);
}

// Makes a call and returns its status.
function call(tid: u32, number: u32, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0, a4: u64 = 0, a5: u64 = 0): i32 {
  sys(tid, number, a0, a1, a2, a3, a4, a5);
  return status(tid);
}

// A linear-memory page for buffers; returns its user address.
function buffer(tid: u32): u64 {
  expect(call(tid, SYS_MEM_GROW, 1)).toBe(E_OK);
  return USER_WASM_BASE;
}

function moduleSource(service: u32): VerifiedModule | null {
  if (service == 1) return fakeModule("server", [], 4, 1);
  return null;
}

describe("dispatch", () => {
  it("answers an unknown call E_BAD_SYSCALL, and audits it", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_COUNT)).toBe(E_BAD_SYSCALL);
    expect(call(tid, 0xffffffff)).toBe(E_BAD_SYSCALL);
    let r = auditFind(U64.MAX_VALUE, true, true)!;
    expect(r.kind).toBe(AUDIT_TARGET_SYSCALL);
    expect(r.target).toBe(0xffffffff);
    expect(r.op).toBe(0xff);
  });

  it("ignores an entry from a thread that is not running", () => {
    systemReset();
    let a = mainTid(holder());
    let b = mainTid(holder());
    sys(a, SYS_NULL);
    expect(syscallDispatch(b, SYS_EXIT, 0, 0, 0, 0, 0, 0)).toBe(a);   // b is only ready
    expect(threadAt(b).state).toBe(THREAD_READY);
    expect(syscallDispatch(0, SYS_NULL, 0, 0, 0, 0, 0, 0)).toBe(a);   // the idle thread
    expect(syscallDispatch(500, SYS_NULL, 0, 0, 0, 0, 0, 0)).toBe(a);
  });

  it("sends every denied call to the audit, whatever its number", () => {
    systemReset();
    let tid = mainTid(spawnProcess("empty", [], 4));
    let denied = 0;
    for (let number: u32 = 0; number < SYS_COUNT + 2; number++) {
      if (number == SYS_EXIT || number == SYS_POWER || number == SYS_SLEEP) continue;
      let before = auditDeniedEvents();
      let s = call(tid, number, 63, 63, 63, 63, 63, 63);
      if (s != E_OK) {
        denied++;
        expect(auditDeniedEvents()).toBe(before + 1);
        let r = auditFind(U64.MAX_VALUE, true, true)!;
        expect(r.verdict).toBe(<i16>s);
      }
    }
    expect(denied).toBeGreaterThan(20);
  });

  it("yields to the next ready thread, and keeps the CPU when there is none", () => {
    systemReset();
    let a = mainTid(holder());
    let b = mainTid(holder());
    expect(sys(a, SYS_YIELD)).toBe(b);
    expect(status(a)).toBe(E_OK);
    expect(sys(b, SYS_YIELD)).toBe(a);
  });

  it("ends the caller on exit and runs the next thread", () => {
    systemReset();
    let index = holder();
    let a = mainTid(index);
    let b = mainTid(holder());
    expect(sys(a, SYS_EXIT, 4)).toBe(b);
    expect(processStateOf(index)).toBe(PROC_DEAD);
    expect(schedCurrent()).toBe(b);
  });
});

describe("slot checks", () => {
  it("names out-of-range, empty, wrong-type and rights failures for each call", () => {
    systemReset();
    let tid = mainTid(holder());
    // [number, slot with the wrong type, slot of the right type without rights]
    let cases: u32[][] = [
      [SYS_CALL, 1, 0], [SYS_SEND, 1, 0], [SYS_RECV, 1, 0], [SYS_SIGNAL, 0, 1], [SYS_WAIT, 0, 1],
      [SYS_PORT_IN, 0, 3], [SYS_PORT_OUT, 0, 3], [SYS_IRQ_ACK, 0, 2], [SYS_SPAWN, 0, 6], [SYS_KILL, 0, 6],
      [SYS_PROC_INFO, 0, 5], [SYS_AUDIT_READ, 0, 5], [SYS_IPC_STATS, 0, 5], [SYS_LOG, 0, 4],
      [SYS_BOOT_INFO, 0, 6], [SYS_POWER, 0, 7], [SYS_CAP_INFO, 0, 0xffff],
    ];
    for (let i = 0; i < cases.length; i++) {
      let number = cases[i][0];
      expect(call(tid, number, 64, 1, 1, 1)).toBe(E_BAD_SLOT);
      expect(call(tid, number, 0xffffffffffffffff, 1, 1, 1)).toBe(E_BAD_SLOT);
      expect(call(tid, number, 30, 1, 1, 1)).toBe(E_BAD_SLOT);            // empty
      expect(call(tid, number, cases[i][1], 1, 1, 1)).toBe(E_NO_CAP);
      if (cases[i][2] != 0xffff) {
        let s = call(tid, number, cases[i][2], 1, 1, 1);
        expect(s == E_NO_RIGHTS || (number == SYS_KILL && s == E_NO_CAP)).toBe(true);
      }
    }
  });

  it("checks the slots a label names", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_SEND, 10, (<u64>65) << 32)).toBe(E_BAD_SLOT);   // cap slot 64
    expect(call(tid, SYS_SEND, 10, (<u64>66) << 48)).toBe(E_BAD_SLOT);   // receive slot 65
    expect(call(tid, SYS_SEND, 10, (<u64>1) << 32)).toBe(E_NO_RIGHTS);   // slot 0: no GRANT
    expect(call(tid, SYS_RECV, 10, 65)).toBe(E_BAD_SLOT);
  });
});

describe("user pointers and lengths", () => {
  it("logs a line \"[name] text\", control bytes made harmless", () => {
    systemReset();
    let tid = mainTid(holder());
    let at = buffer(tid);
    userWrite(processAt(threadAt(tid).process).root, at, "hi\x1b[2J there\n");
    console_capture(true);
    expect(call(tid, SYS_LOG, 14, at, 13)).toBe(E_OK);
    expect(capturedText()).toBe("[holder] hi?[2J there\r\n");
  });

  it("answers E_FAULT for a pointer outside the caller's mappings", () => {
    systemReset();
    let tid = mainTid(holder());
    let at = buffer(tid);
    expect(call(tid, SYS_LOG, 14, 0x1000, 4)).toBe(E_FAULT);                      // unmapped
    expect(call(tid, SYS_LOG, 14, at + 0x10000 - 2, 4)).toBe(E_FAULT);            // runs off the end
    expect(call(tid, SYS_LOG, 14, 0xffff800000000000, 4)).toBe(E_FAULT);          // kernel half
    expect(call(tid, SYS_LOG, 14, 0xfffffffffffffffe, 4)).toBe(E_FAULT);          // wraps
    expect(call(tid, SYS_PROC_INFO, 15, 0, TEXT_VIRT, 64)).toBe(E_FAULT);          // read-only: text
    expect(call(tid, SYS_PROC_INFO, 15, 0, 0x1000, 64)).toBe(E_FAULT);
    expect(call(tid, SYS_PROC_INFO, 15, 0, at, 64)).toBe(E_OK);
  });

  it("answers E_BAD_ARG for a log longer than LOG_MAX_BYTES", () => {
    systemReset();
    let tid = mainTid(holder());
    let at = buffer(tid);
    expect(call(tid, SYS_LOG, 14, at, 257)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_LOG, 14, at, 256)).toBe(E_OK);
    expect(call(tid, SYS_LOG, 14, 0, 0)).toBe(E_OK);
  });

  it("grows memory only by a sane count", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_MEM_GROW, 0x10001)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MEM_GROW, 5)).toBe(E_NO_MEMORY);   // quota 4
    expect(call(tid, SYS_MEM_GROW, 2)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(0);
    expect(call(tid, SYS_MEM_GROW, 0)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(2);
  });
});

describe("I/O ports", () => {
  it("reads and writes device registers through CAP_MMIO, and refuses what the capability does not cover", () => {
    systemReset();
    // A PL011-like page at 0x9000000: read-only in slot 1, read/write in slot 2.
    let tid = mainTid(spawnProcess("uart", [
      rangeGrant(1, CAP_MMIO, RIGHT_READ, 0x9000000, 0x1000), rangeGrant(2, CAP_MMIO, RIGHT_READ | RIGHT_WRITE, 0x9000000, 0x1000),
    ]));
    mmio_set(0x9000018, 0x90);
    mmio_set(0x9000000, 0);
    expect(call(tid, SYS_MMIO_READ, 1, 0x18, 4)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(0x90);
    expect(call(tid, SYS_MMIO_WRITE, 2, 0x00, 4, 0x41)).toBe(E_OK);
    expect(mmio_log_count()).toBe(1);
    expect(mmio_log_entry(0, 0)).toBe(0x9000000);
    expect(mmio_log_entry(0, 2)).toBe(0x41);
    expect(call(tid, SYS_MMIO_WRITE, 1, 0x00, 4, 0x41)).toBe(E_NO_RIGHTS);    // read-only capability
    expect(call(tid, SYS_MMIO_READ, 1, 0x1000, 4)).toBe(E_NO_RIGHTS);         // past the range
    expect(call(tid, SYS_MMIO_READ, 1, 0xffe, 4)).toBe(E_BAD_ARG);           // misaligned
    expect(call(tid, SYS_MMIO_READ, 1, 0x18, 3)).toBe(E_BAD_ARG);            // no such width
    expect(call(tid, SYS_MMIO_WRITE, 2, 0x00, 1, 0x141)).toBe(E_BAD_ARG);    // value wider than the access
    expect(call(tid, SYS_MMIO_READ, 2, 0x20, 4)).toBe(E_BAD_ARG);            // the trampoline refuses: no device there
    expect(call(tid, SYS_MMIO_READ, 9, 0x18, 4)).toBe(E_BAD_SLOT);
    expect(mmio_log_count()).toBe(1);
  });

  it("passes an interrupt acknowledgement on to the trampoline only with the capability", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_IRQ_ACK, 2)).toBe(E_NO_RIGHTS);
    expect(irq_acks()).toBe(0);
    expect(call(tid, SYS_IRQ_ACK, 12)).toBe(E_OK);
    expect(irq_acks()).toBe(1);
  });

  it("reads and writes inside the capability's range, at widths 1, 2 and 4", () => {
    systemReset();
    let tid = mainTid(holder());
    port_set(0x3fd, 0x60);
    expect(call(tid, SYS_PORT_IN, 13, 0x3fd, 1)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(0x60);
    expect(call(tid, SYS_PORT_OUT, 13, 0x3f8, 1, 0x41)).toBe(E_OK);
    expect(call(tid, SYS_PORT_OUT, 13, 0x3fc, 4, 0x12345678)).toBe(E_OK);
    expect(port_log_count()).toBe(2);
    expect(port_log_entry(0, 0)).toBe(0x3f8);
    expect(port_log_entry(0, 1)).toBe(1);
    expect(port_log_entry(0, 2)).toBe(0x41);
    expect(port_log_entry(1, 2)).toBe(0x12345678);
  });

  it("refuses bad widths, ports outside the range, and values too wide", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_PORT_IN, 13, 0x3f8, 3)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_PORT_IN, 13, 0x3f8, 8)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_PORT_IN, 13, 0x3f8, 0)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_PORT_IN, 13, 0x3f7, 1)).toBe(E_NO_RIGHTS);     // below
    expect(call(tid, SYS_PORT_IN, 13, 0x400, 1)).toBe(E_NO_RIGHTS);     // above
    expect(call(tid, SYS_PORT_IN, 13, 0x3fe, 4)).toBe(E_NO_RIGHTS);     // straddles the end
    expect(call(tid, SYS_PORT_IN, 13, 0x10000, 1)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_PORT_OUT, 13, 0x3f8, 1, 0x100)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_PORT_OUT, 13, 0x3f8, 2, 0x10000)).toBe(E_BAD_ARG);
    expect(port_log_count()).toBe(0);
  });

  it("needs READ to read and WRITE to write", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_CAP_DERIVE, 13, 20, RIGHT_WRITE, 0)).toBe(E_OK);
    expect(call(tid, SYS_PORT_IN, 20, 0x3f8, 1)).toBe(E_NO_RIGHTS);
    expect(call(tid, SYS_PORT_OUT, 20, 0x3f8, 1, 1)).toBe(E_OK);
    expect(call(tid, SYS_CAP_DERIVE, 13, 21, RIGHT_READ, 0)).toBe(E_OK);
    expect(call(tid, SYS_PORT_OUT, 21, 0x3f8, 1, 1)).toBe(E_NO_RIGHTS);
  });
});

describe("capability info", () => {
  it("describes the caller's own slots; an empty one is CAP_NONE", () => {
    systemReset();
    let tid = mainTid(spawnProcess("x", [grant(3, CAP_ENDPOINT, RIGHT_CALL, "server", 42)], 4));
    expect(call(tid, SYS_CAP_INFO, SLOT_SELF, 3)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(CAP_ENDPOINT);
    expect(reg(tid, 1)).toBe(RIGHT_CALL);
    expect(reg(tid, 2)).toBe(42);
    expect(reg(tid, 3)).toBe(EP_SERVER);
    expect(call(tid, SYS_CAP_INFO, SLOT_SELF, 4)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(CAP_NONE);
    expect(call(tid, SYS_CAP_INFO, SLOT_SELF, 64)).toBe(E_BAD_SLOT);
  });
});

describe("spawn, kill, ps", () => {
  it("spawns a boot service, hands over its process capability, and kills it", () => {
    systemReset();
    setModuleSource(moduleSource);
    let init = initStart(fakeModule("init", [], 4, 0));
    let initIndex = <u32>threadAt(init).process;
    expect(call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 10)).toBe(E_OK);
    let pid = <u32>reg(init, 0);
    let child = <u32>processByPid(pid);
    let cap = capAt(capGid(initIndex, 10));
    expect(cap.type).toBe(CAP_PROCESS);
    expect(cap.extra).toBe(pid);
    expect(call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 10)).toBe(E_SLOT_FULL);
    expect(call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 64)).toBe(E_BAD_SLOT);
    expect(call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 3, 11)).toBe(E_NOT_FOUND);
    expect(call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 2, 11)).toBe(E_BAD_MODULE);
    expect(call(init, SYS_CAP_INFO, 10, 0)).toBe(E_OK);                      // its caps, through the process cap
    expect(call(init, SYS_KILL, 10)).toBe(E_OK);
    expect(processStateOf(child)).toBe(PROC_DEAD);
    expect(call(init, SYS_KILL, 10)).toBe(E_NOT_FOUND);
    expect(call(init, SYS_CAP_INFO, 10, 0)).toBe(E_NOT_FOUND);
  });

  it("tells ps what it needs, with the text in the caller's buffer", () => {
    systemReset();
    setModuleSource(moduleSource);
    let init = initStart(fakeModule("init", [], 4, 0));
    let at = buffer(init);
    let root = processAt(threadAt(init).process).root;
    call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 10);
    let child = <u32>processByPid(<u32>reg(init, 0));
    expect(call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, child, at, 64)).toBe(E_OK);
    expect(reg(init, 0)).toBe(2);                                     // pid
    expect(reg(init, 1)).toBe(PROC_RUNNING);
    expect(reg(init, 3)).toBe(1 | ((<u64>1) << 32));                  // service 1, started once
    expect(reg(init, 4) & 0xffffffff).toBe(1);                        // supervised by init (pid 1)
    expect(reg(init, 5)).toBe(8);                                     // "server\0" "\0"
    expect(userReadText(root, at, 8)).toBe("server\0\0");
    call(init, SYS_KILL, 10);
    expect(call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, child, at, 64)).toBe(E_OK);
    expect(reg(init, 1)).toBe(PROC_DEAD | (EXIT_KILLED << 32));
    expect(reg(init, 5)).toBe(8 + 15);
    expect(userReadText(root, at, 23)).toBe("server\0killed by pid 1\0");
    expect(call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, child, at + 0x100, 4)).toBe(E_OK);  // short buffer
    expect(reg(init, 5)).toBe(23);
    expect(userReadText(root, at + 0x100, 5)).toBe("serv\0");
    expect(call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, 40, at, 64)).toBe(E_NOT_FOUND);
    expect(call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, MAX_PROCESSES, at, 64)).toBe(E_BAD_ARG);
    expect(reg(init, 5)).toBe(23);   // results untouched by a failed call
  });

  it("describes the boot manifest's services, one per call", () => {
    systemReset();
    setModuleSource(moduleSource);
    let init = initStart(fakeModule("init", [], 4, 0));
    let at = buffer(init);
    let root = processAt(threadAt(init).process).root;
    expect(call(init, SYS_BOOT_INFO, INIT_SLOT_SPAWN, 2, at, 64)).toBe(E_OK);
    expect(reg(init, 0)).toBe(0b10);            // depends on service 1
    expect(reg(init, 1)).toBe(5);
    expect(reg(init, 2)).toBe(50);
    expect(reg(init, 3)).toBe(0);               // its module is not available
    expect(reg(init, 4)).toBe(3);
    expect(reg(init, 5)).toBe(6);
    expect(userReadText(root, at, 6)).toBe("client");
    expect(call(init, SYS_BOOT_INFO, INIT_SLOT_SPAWN, 1, at, 64)).toBe(E_OK);
    expect(reg(init, 3)).toBe(BOOT_INFO_AVAILABLE);
    expect(call(init, SYS_BOOT_INFO, INIT_SLOT_SPAWN, 0, at, 64)).toBe(E_OK);
    expect(reg(init, 3) & BOOT_INFO_IS_INIT).toBe(BOOT_INFO_IS_INIT);
    expect(call(init, SYS_BOOT_INFO, INIT_SLOT_SPAWN, 3, at, 64)).toBe(E_NOT_FOUND);
    expect(call(init, SYS_CAP_DERIVE, INIT_SLOT_SPAWN, 20, RIGHT_WRITE, 0)).toBe(E_OK);
    expect(call(init, SYS_BOOT_INFO, 20, 0, at, 64)).toBe(E_NO_RIGHTS);
  });

  it("counts IPC per endpoint for `ipc`", () => {
    systemReset();
    let tid = mainTid(holder());
    let at = buffer(tid);
    call(tid, SYS_SEND, 10, 1, 0, 0, 0, 0);
    call(tid, SYS_SEND, 0, 1, 0, 0, 0, 0);          // no SEND right: a denial
    expect(call(tid, SYS_IPC_STATS, 15, EP_SERVER, at, 64)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(0);
    expect(reg(tid, 1)).toBe(1);
    expect(reg(tid, 3)).toBe(1);
    expect(reg(tid, 4)).toBe(1 | ((<u64>4) << 32));   // 1 queued of 4
    expect(reg(tid, 5)).toBe(6);
    expect(userReadText(processAt(threadAt(tid).process).root, at, 6)).toBe("server");
    expect(call(tid, SYS_IPC_STATS, 15, 10, at, 64)).toBe(E_NOT_FOUND);
    expect(call(tid, SYS_IPC_STATS, 15, MAX_ENDPOINTS, at, 64)).toBe(E_BAD_ARG);
  });

  it("reads the audit backwards from the newest, denials only if asked", () => {
    systemReset();
    let tid = mainTid(holder());
    call(tid, SYS_SEND, 10, 1, 0, 0, 0, 0);
    call(tid, SYS_CALL, 40, 0, 0, 0, 0, 0);
    call(tid, SYS_SEND, 10, 1, 0, 0, 0, 0);
    expect(call(tid, SYS_AUDIT_READ, 15, U64.MAX_VALUE, AUDIT_BACKWARD | AUDIT_DENIALS_ONLY)).toBe(E_OK);
    let trace = reg(tid, 0);
    expect(reg(tid, 1)).toBe(processAt(threadAt(tid).process).pid);
    expect(reg(tid, 2)).toBe(40 | ((<u64>1) << 32));                        // slot 40
    expect(reg(tid, 3)).toBe(<u64>SYS_CALL | ((<u64><u32>E_BAD_SLOT) << 32));
    expect(reg(tid, 4)).toBe(1);
    expect(call(tid, SYS_AUDIT_READ, 15, trace - 1, AUDIT_BACKWARD)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(trace - 1);                                     // the allowed send before it
    expect(call(tid, SYS_AUDIT_READ, 15, 0, 4)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_AUDIT_READ, 15, U64.MAX_VALUE, 0)).toBe(E_NOT_FOUND);
  });
});

// MMIO [MAP, WRITE] 2 pages (slot 0), MMIO [READ] (slot 1), memory [MAP,
// READ] 4 pages inside the fake RAM (slot 2), an endpoint (slot 3).
function driver(): u32 {
  return spawnProcess("driver", [
    rangeGrant(0, CAP_MMIO, RIGHT_MAP | RIGHT_WRITE, 0x9000000, 0x2000),
    rangeGrant(1, CAP_MMIO, RIGHT_READ, 0x9000000, 0x1000),
    rangeGrant(2, CAP_MEMORY, RIGHT_MAP | RIGHT_READ, RAM_BASE, 0x4000),
    grant(3, CAP_ENDPOINT, RIGHT_SEND, "server"),
  ], 4);
}

describe("SYS_MAP", () => {
  it("maps device pages uncached and writable, a shared region read-only", () => {
    systemReset();
    let index = driver();
    let tid = mainTid(index);
    let root = processAt(index).root;
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0, 0x2000)).toBe(E_OK);
    expect(space_flags(root, USER_MAP_BASE)).toBe(MAP_DEVICE | MAP_WRITE);
    expect(space_flags(root, USER_MAP_BASE + 0x1000)).toBe(MAP_DEVICE | MAP_WRITE);
    expect(space_flags(root, USER_MAP_BASE + 0x2000)).toBe(-1);
    expect(call(tid, SYS_MAP, 2, USER_MAP_BASE + 0x10000, 0x1000, 0x2000)).toBe(E_OK);
    expect(space_flags(root, USER_MAP_BASE + 0x10000)).toBe(0);
    expect(space_flags(root, USER_MAP_BASE + 0x12000)).toBe(-1);
  });

  it("checks the capability, alignment, the window, the range and overlaps", () => {
    systemReset();
    let tid = mainTid(driver());
    expect(call(tid, SYS_MAP, 1, USER_MAP_BASE, 0, 0x1000)).toBe(E_NO_RIGHTS);
    expect(call(tid, SYS_MAP, 3, USER_MAP_BASE, 0, 0x1000)).toBe(E_NO_CAP);
    expect(call(tid, SYS_MAP, 9, USER_MAP_BASE, 0, 0x1000)).toBe(E_BAD_SLOT);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE + 8, 0, 0x1000)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 8, 0x1000)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0, 0x800)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0, 0)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0x1000, 0x2000)).toBe(E_BAD_ARG);      // past the range
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0x3000, 0x1000)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_WASM_BASE, 0, 0x1000)).toBe(E_BAD_ARG);         // below the window
    expect(call(tid, SYS_MAP, 0, USER_MAP_END - 0x1000, 0, 0x2000)).toBe(E_BAD_ARG);  // past its end
    expect(call(tid, SYS_MAP, 0, 0xfffffffffffff000, 0, 0x1000)).toBe(E_BAD_ARG);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0, 0x2000)).toBe(E_OK);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE + 0x1000, 0, 0x1000)).toBe(E_BAD_ARG); // overlaps
  });

  it("holds at most MAX_MAPS regions", () => {
    systemReset();
    let tid = mainTid(driver());
    for (let i: u64 = 0; i < <u64>MAX_MAPS; i++) expect(call(tid, SYS_MAP, 0, USER_MAP_BASE + i * 0x10000, 0, 0x1000)).toBe(E_OK);
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE + 0x100000, 0, 0x1000)).toBe(E_NO_MEMORY);
  });

  it("unmaps when the capability goes, and never frees the pages", () => {
    systemReset();
    let free = frames_free_count();
    let index = driver();
    let tid = mainTid(index);
    let root = processAt(index).root;
    expect(call(tid, SYS_MAP, 0, USER_MAP_BASE, 0, 0x1000)).toBe(E_OK);
    expect(call(tid, SYS_MAP, 2, USER_MAP_BASE + 0x10000, 0, 0x4000)).toBe(E_OK);
    expect(call(tid, SYS_CAP_DELETE, 0)).toBe(E_OK);
    expect(space_flags(root, USER_MAP_BASE)).toBe(-1);
    expect(space_flags(root, USER_MAP_BASE + 0x10000)).toBe(0);
    expect(call(tid, SYS_MAP, 2, USER_MAP_BASE, 0, 0x1000)).toBe(E_OK);              // the region is free again
    processKill(index, 0);
    expect(frames_free_count()).toBe(free);   // RAM behind the shared region was not "given back"
    expect(space_count()).toBe(0);
  });
});

// A module made before the allocation count starts (the source must not allocate).
let prebuilt: VerifiedModule | null = null;
function prebuiltSource(service: u32): VerifiedModule | null {
  return service == 1 ? prebuilt : null;
}

describe("allocation", () => {
  it("no system call allocates managed memory, spawn and kill included", () => {
    systemReset();
    prebuilt = fakeModule("server", [grant(0, CAP_ENDPOINT, RIGHT_RECEIVE, "server")], 4, 1);
    setModuleSource(prebuiltSource);
    let init = initStart(fakeModule("init", [], 4, 0));
    let tid = mainTid(holder());
    let at = buffer(tid);
    userWrite(processAt(threadAt(tid).process).root, at, "a line for the log");
    let initAt = buffer(init);
    call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 10);  // warm up
    call(init, SYS_KILL, 10);
    call(init, SYS_CAP_DELETE, 10);
    let before = allocation_count();
    let failed = 0; // no expect() inside: it allocates
    for (let i = 0; i < 20; i++) {
      if (call(init, SYS_SPAWN, INIT_SLOT_SPAWN, 1, 10) != E_OK) failed++;
      let child = <u32>processByPid(<u32>reg(init, 0));
      if (call(init, SYS_PROC_INFO, INIT_SLOT_AUDIT, child, initAt, 64) != E_OK) failed++;
      if (call(init, SYS_CAP_INFO, 10, 0) != E_OK) failed++;
      if (call(init, SYS_BOOT_INFO, INIT_SLOT_SPAWN, 1, initAt, 64) != E_OK) failed++;
      if (call(init, SYS_KILL, 10) != E_OK) failed++;
      if (call(init, SYS_CAP_DELETE, 10) != E_OK) failed++;
      if (call(tid, SYS_LOG, 14, at, 18) != E_OK) failed++;
      if (call(tid, SYS_IPC_STATS, 15, EP_SERVER, at + 64, 64) != E_OK) failed++;
      if (call(tid, SYS_AUDIT_READ, 15, U64.MAX_VALUE, AUDIT_BACKWARD) != E_OK) failed++;
      if (call(tid, SYS_PORT_IN, 13, 0x3f8, 1) != E_OK) failed++;
      if (call(tid, SYS_PORT_OUT, 13, 0x3f8, 1, 0x41) != E_OK) failed++;
      if (call(tid, SYS_KERNEL_INFO, KERNEL_INFO_VERSION) != E_OK) failed++;
      if (call(tid, SYS_CAP_DERIVE, 10, 20, RIGHT_SEND, 0) != E_OK) failed++;
      if (call(tid, SYS_CAP_REVOKE, 10) != E_OK) failed++;
      if (call(tid, SYS_SEND, 10, 1, 0, 0, 0, 0) != E_OK) failed++;
      if (call(tid, SYS_RECV, 10, 0) != E_OK) failed++;
      if (call(tid, SYS_SIGNAL, 11, 1) != E_OK) failed++;
      if (call(tid, SYS_WAIT, 11) != E_OK) failed++;
      if (call(tid, SYS_MEM_GROW, 0) != E_OK) failed++;
      call(tid, SYS_CALL, 40, 0, 0, 0, 0, 0);           // denials too
      call(tid, SYS_LOG, 14, 0x1000, 4);
      call(tid, 999);
    }
    let after = allocation_count();
    expect(failed).toBe(0);
    expect(after).toBe(before);
  });
});

describe("the machine", () => {
  it("tells the version, architecture, uptime and memory", () => {
    systemReset();
    syscallMachineSet("x86_64", 1, 0x604, 0x2000);
    let tid = mainTid(spawnProcess("x", [], 4));
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_VERSION)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(0x302e312e30);          // "0.1.0"
    expect(reg(tid, 1)).toBe(0);
    expect(reg(tid, 2)).toBe(0x34365f363878);        // "x86_64"
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_UPTIME)).toBe(E_OK);
    expect(reg(tid, 2)).toBe(100);
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_MEMORY)).toBe(E_OK);
    expect(reg(tid, 0)).toBe(frames_total_bytes());
    expect(call(tid, SYS_KERNEL_INFO, 99)).toBe(E_BAD_ARG);
  });

  it("hands out the boot report line by line, and refuses a buffer it cannot write", () => {
    systemReset();
    let info = new BootInfo();
    info.protocol = "multiboot2";
    info.memory.push(new MemoryRegion(0x100000, 0x1000000, MemoryKind.Usable));
    bootReportMake(info);
    let tid = mainTid(spawnProcess("x", [], 4));
    let root = processAt(threadAt(tid).process).root;
    let at = buffer(tid);
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_BOOT, 0, at, 64)).toBe(E_OK);
    let length = <u32>reg(tid, 0);
    expect(userReadText(root, at, length)).toBe("protocol  multiboot2");
    let lines = bootReport().length;
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_BOOT, lines - 1, at, 64)).toBe(E_OK);
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_BOOT, lines, at, 64)).toBe(E_NOT_FOUND);
    expect(call(tid, SYS_KERNEL_INFO, KERNEL_INFO_BOOT, 0, 0x1000, 64)).toBe(E_FAULT);
  });

  it("resets or powers off only with CAP_POWER [WRITE]", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_POWER, 7, POWER_RESET)).toBe(E_NO_RIGHTS);
    expect(call(tid, SYS_POWER, 17, 2)).toBe(E_BAD_ARG);
    expect(power_count()).toBe(0);
    call(tid, SYS_POWER, 17, POWER_OFF);
    expect(power_count()).toBe(1);
  });

  it("lets a driver wait on its interrupt and acknowledge it", () => {
    systemReset();
    let tid = mainTid(holder());
    expect(call(tid, SYS_IRQ_ACK, 12)).toBe(E_OK);
    sys(tid, SYS_WAIT, 12);
    expect(threadAt(tid).state).toBe(THREAD_BLOCKED_WAIT);
  });
});
