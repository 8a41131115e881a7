// kernel/sched.ts: the priority fold and the bands, tune, the run queues,
// aging, preemption on wake-up, placement, balancing and pinning across
// CPUs, and the scheduler's system calls. The CPU a kernel entry runs on is
// the mock's (testhooks cpu_set).

import {
  AGE_TICKS, balanceSource, schedEnter, bandOf, schedBand, schedBaseBand, schedCpuAdd, schedCpuOf, schedCpuPulls,
  schedCurrent, schedLoad, schedNext, schedPin, schedPriority, schedQueued, schedSetScore, schedTimerTick,
  schedTune, schedWeight, SLICE_TICKS,
} from "../../kernel/sched";
import { processAt, processKill, processStateOf, threadAt, zombieReap } from "../../kernel/proc";
import { syscallDispatch } from "../../kernel/syscall";
import { auditDeniedEvents, auditFind, auditLastTrace } from "../../kernel/audit";
import { timerTick } from "../../kernel/state";
import {
  AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT, BAND_HIGH, BAND_LOW,
  BAND_MEDIUM, CAP_SCHED, CAP_SCHED_TUNE, E_BAD_ARG, E_DENIED, E_NO_CAP, E_NOT_FOUND, E_OK, PROC_DEAD,
  RIGHT_READ, RIGHT_WRITE, SCHED_IMPORTANCE, SCHED_STATE_DYING, SCHED_STATE_READY, SCHED_STATE_RUNNING,
  SCHED_TRUST, SCHED_UNPINNED, SCHED_URGENCY, SLOT_SELF, SYS_CPU_INFO, SYS_SCHED_INFO, SYS_SCHED_SET,
  SYS_SCHED_TUNE, SYS_SLEEP,
} from "../../kernel/abi";
import { grant, mainTid, reg, space_destroyed, spawnProcess, status, sys, systemReset } from "./process_fixtures";

@external("testhooks", "cpu_set")
declare function cpu_set(cpu: u32): void;

// The next kernel entry runs on `cpu`.
function onCpu(cpu: u32): void {
  cpu_set(cpu);
  schedEnter();
}
@external("testhooks", "kick_count")
declare function kick_count(): i32;
@external("testhooks", "kick_cpu")
declare function kick_cpu(i: i32): u32;

// A process whose thread has these scores (thousandths); returns its tid.
function threadWith(name: string, u: u32, i: u32, e: u32, n: u32, t: u32): u32 {
  let tid = mainTid(spawnProcess(name, []));
  schedSetScore(tid, 0, u);
  schedSetScore(tid, 1, i);
  schedSetScore(tid, 2, e);
  schedSetScore(tid, 3, n);
  schedSetScore(tid, 4, t);
  return tid;
}

function high(name: string): u32 { return threadWith(name, 1000, 900, 500, 500, 900); }   // 840
function low(name: string): u32 { return threadWith(name, 100, 200, 300, 300, 500); }     // 200

// One timer tick on CPU 0 (which keeps the time); returns what runs next.
function tick(): u32 {
  onCpu(0);
  timerTick();
  return schedTimerTick();
}

// The newest audit record with this op about pid `pid` (caller); null if none.
function lastDecision(op: u8, pid: u32): bool {
  for (let trace = auditLastTrace(); trace > 0; trace--) {
    let r = auditFind(trace, false, true);
    if (r === null) return false;
    if (r.op == op && r.caller == pid) return true;
    trace = r.trace;
  }
  return false;
}

describe("the priority fold", () => {
  it("weighs the five scores with the default weights 0.4 0.3 0.2 0.05 0.05", () => {
    systemReset();
    expect(schedWeight(0)).toBe(400);
    expect(schedWeight(4)).toBe(50);
    let tid = threadWith("a", 1000, 900, 500, 500, 900);
    expect(schedPriority(tid)).toBe(400 + 270 + 100 + 25 + 45);
    expect(schedBand(tid)).toBe(BAND_HIGH);
  });

  it("puts a new thread with no scores in the medium band (0.5 each)", () => {
    systemReset();
    let tid = mainTid(spawnProcess("plain", []));
    expect(schedPriority(tid)).toBe(500);
    expect(schedBaseBand(tid)).toBe(BAND_MEDIUM);
  });

  it("cuts the bands at 0.8 and 0.5, inclusive", () => {
    expect(bandOf(1000)).toBe(BAND_HIGH);
    expect(bandOf(800)).toBe(BAND_HIGH);
    expect(bandOf(799)).toBe(BAND_MEDIUM);
    expect(bandOf(500)).toBe(BAND_MEDIUM);
    expect(bandOf(499)).toBe(BAND_LOW);
    expect(bandOf(0)).toBe(BAND_LOW);
  });

  it("refuses a score over 1", () => {
    systemReset();
    let tid = mainTid(spawnProcess("a", []));
    expect(schedSetScore(tid, SCHED_URGENCY, 1001)).toBe(E_BAD_ARG);
    expect(schedSetScore(tid, 5, 10)).toBe(E_BAD_ARG);
    expect(schedPriority(tid)).toBe(500);
  });

  it("records a band change in the audit ring", () => {
    systemReset();
    let index = spawnProcess("a", []);
    let tid = mainTid(index);
    schedSetScore(tid, SCHED_URGENCY, 1000);
    schedSetScore(tid, SCHED_IMPORTANCE, 1000);
    expect(schedBand(tid)).toBe(BAND_HIGH);
    expect(lastDecision(AUDIT_OP_SCHED_BAND, processAt(index).pid)).toBe(true);
  });
});

describe("tune", () => {
  it("takes weights that sum to 1 and places every thread again", () => {
    systemReset();
    let tid = threadWith("t", 0, 0, 0, 0, 900);
    expect(schedBand(tid)).toBe(BAND_LOW);
    expect(schedTune(0, 0, 0, 0, 1000)).toBe(E_OK);
    expect(schedPriority(tid)).toBe(900);
    expect(schedBand(tid)).toBe(BAND_HIGH);
  });

  it("refuses weights that do not sum to 1, or a weight over 1, and changes nothing", () => {
    systemReset();
    expect(schedTune(400, 300, 200, 50, 49)).toBe(E_BAD_ARG);
    expect(schedTune(400, 300, 200, 50, 51)).toBe(E_BAD_ARG);
    expect(schedTune(0, 0, 0, 0, 0)).toBe(E_BAD_ARG);
    expect(schedTune(1001, 0, 0, 0, 0)).toBe(E_BAD_ARG);
    expect(schedTune(0xffffffffffffffff, 1001, 0, 0, 0)).toBe(E_BAD_ARG);
    expect(schedWeight(0)).toBe(400);
    expect(schedWeight(4)).toBe(50);
    expect(schedTune(1000, 0, 0, 0, 0)).toBe(E_OK);
    expect(schedWeight(0)).toBe(1000);
  });
});

describe("the run queues", () => {
  it("runs a higher band first, whatever the order they became ready", () => {
    systemReset();
    let l = low("l");
    let m = mainTid(spawnProcess("m", []));
    let h = high("h");
    expect(schedNext()).toBe(h);
    threadAt(h).state = 6; // h blocks
    expect(schedNext()).toBe(m);
    threadAt(m).state = 6;
    expect(schedNext()).toBe(l);
  });

  it("keeps a higher band running when its slice ends and only lower bands wait", () => {
    systemReset();
    let h = high("h");
    low("l");
    expect(schedNext()).toBe(h);
    for (let i: u32 = 0; i < 3 * SLICE_TICKS; i++) expect(tick()).toBe(h);
  });

  it("round-robins inside a band on slice ends", () => {
    systemReset();
    let a = high("a");
    let b = high("b");
    expect(schedNext()).toBe(a);
    let next: u32 = 0;
    for (let i: u32 = 0; i < SLICE_TICKS; i++) next = tick();
    expect(next).toBe(b);
    for (let i: u32 = 0; i < SLICE_TICKS; i++) next = tick();
    expect(next).toBe(a);
  });
});

describe("aging", () => {
  it("lets a low-band thread run under a stream of high-band work, within the bound", () => {
    systemReset();
    let h1 = high("h1");
    let h2 = high("h2");
    let lIndex = spawnProcess("l", []);
    let l = mainTid(lIndex);
    schedSetScore(l, SCHED_URGENCY, 0);
    schedSetScore(l, SCHED_IMPORTANCE, 0);
    expect(schedBand(l)).toBe(BAND_LOW);
    expect(schedNext()).toBe(h1);
    let bound = <i32>(2 * AGE_TICKS + 3 * SLICE_TICKS);
    let ran = -1;
    for (let i: u32 = 0; i < <u32>bound && ran < 0; i++) {
      if (tick() == l) ran = <i32>i;
    }
    expect(ran).toBeGreaterThanOrEqual(<i32>AGE_TICKS);    // it did wait behind the high band
    expect(ran).toBeLessThan(bound);
    expect(lastDecision(AUDIT_OP_SCHED_AGE, processAt(lIndex).pid)).toBe(true);
    expect(h2).toBeGreaterThan(0);
  });

  it("drops an aged thread back to its base band once it has run", () => {
    systemReset();
    let h = high("h");
    let l = low("l");
    expect(schedNext()).toBe(h);
    let guard = 0;
    while (tick() != l && guard++ < 100) {}
    expect(schedCurrent()).toBe(l);
    // Its slice ends: it goes back to the low queue.
    for (let i: u32 = 0; i < SLICE_TICKS; i++) tick();
    expect(schedBand(l)).toBe(BAND_LOW);
  });
});

describe("preemption on wake-up", () => {
  it("gives the CPU to a high-band sleeper at the tick it wakes, not at the slice end", () => {
    systemReset();
    let hIndex = spawnProcess("h", []);
    let h = mainTid(hIndex);
    schedSetScore(h, SCHED_URGENCY, 1000);
    schedSetScore(h, SCHED_IMPORTANCE, 1000);
    let l = low("l");
    expect(schedNext()).toBe(h);
    expect(sys(h, SYS_SLEEP, 10)).toBe(l);             // one tick
    expect(threadAt(l).state).toBe(<u8>SCHED_STATE_RUNNING);
    expect(tick()).toBe(h);                              // woken and preempting at once
    expect(threadAt(l).state).toBe(<u8>SCHED_STATE_READY);
    expect(lastDecision(AUDIT_OP_SCHED_PREEMPT, processAt(hIndex).pid)).toBe(true);
  });
});

describe("several CPUs", () => {
  it("places a woken thread on an idle CPU and kicks it", () => {
    systemReset();
    schedCpuAdd(1, 1);
    let a = mainTid(spawnProcess("a", []));
    expect(schedNext()).toBe(a);                 // CPU 0 runs a
    let kicks = kick_count();
    let b = mainTid(spawnProcess("b", []));       // CPU 1 is idle
    expect(schedCpuOf(b)).toBe(1);
    expect(kick_count()).toBe(kicks + 1);
    expect(kick_cpu(kicks)).toBe(1);
    onCpu(1);
    expect(schedTimerTick()).toBe(b);
    onCpu(0);
  });

  it("pulls work to a CPU with two fewer threads, and records the move", () => {
    systemReset();
    let a = mainTid(spawnProcess("a", []));
    let b = mainTid(spawnProcess("b", []));
    let cIndex = spawnProcess("c", []);
    expect(schedNext()).toBe(a);
    expect(schedQueued(0)).toBe(2);
    schedCpuAdd(1, 1);                           // comes online with nothing
    expect(balanceSource(1)).toBe(0);
    onCpu(1);
    let got = schedNext();
    expect(got == b || got == mainTid(cIndex)).toBe(true);
    expect(schedCpuPulls(1)).toBe(1);
    expect(schedLoad(0)).toBe(2);
    expect(schedLoad(1)).toBe(1);
    expect(balanceSource(1)).toBe(-1);           // 2 against 1: balanced enough
    onCpu(0);
    expect(lastDecision(AUDIT_OP_SCHED_MIGRATE, processAt(threadAt(got).process).pid)).toBe(true);
  });

  it("never moves a pinned thread, and refuses a pin to a CPU that is not online", () => {
    systemReset();
    let a = mainTid(spawnProcess("a", []));
    let b = mainTid(spawnProcess("b", []));
    expect(schedPin(b, 3)).toBe(E_BAD_ARG);
    expect(schedPin(b, 0)).toBe(E_OK);
    expect(schedNext()).toBe(a);
    schedCpuAdd(1, 1);
    expect(balanceSource(1)).toBe(-1);
    onCpu(1);
    expect(schedNext()).toBe(0);
    onCpu(0);
    expect(schedCpuOf(b)).toBe(0);
    expect(schedPin(b, SCHED_UNPINNED)).toBe(E_OK);
    onCpu(1);
    expect(schedNext()).toBe(b);
    onCpu(0);
  });

  it("moves a queued thread when it is pinned elsewhere", () => {
    systemReset();
    schedCpuAdd(1, 1);
    let a = mainTid(spawnProcess("a", []));
    expect(schedNext()).toBe(a);
    onCpu(1);
    let b = mainTid(spawnProcess("b", []));
    expect(schedNext()).toBe(b);
    let c = mainTid(spawnProcess("c", []));
    expect(schedPin(c, 1)).toBe(E_OK);
    expect(schedCpuOf(c)).toBe(1);
    onCpu(0);
  });

  it("lets a thread killed while running on another CPU die there, on its next entry", () => {
    systemReset();
    schedCpuAdd(1, 1);
    let a = mainTid(spawnProcess("a", []));
    expect(schedNext()).toBe(a);
    onCpu(1);
    let bIndex = spawnProcess("b", []);
    let b = mainTid(bIndex);
    expect(schedNext()).toBe(b);                 // CPU 1 runs b
    onCpu(0);
    let destroyed = space_destroyed();
    let kicks = kick_count();
    processKill(bIndex, 0);
    expect(threadAt(b).state).toBe(<u8>SCHED_STATE_DYING);
    expect(kick_count()).toBe(kicks + 1);
    expect(space_destroyed()).toBe(destroyed);   // still loaded on CPU 1
    expect(processStateOf(bIndex)).toBe(PROC_DEAD);
    onCpu(1);
    zombieReap();                                 // CPU 1's next kernel entry
    expect(space_destroyed()).toBe(destroyed + 1);
    expect(threadAt(b).state).toBe(0);
    expect(schedCurrent()).toBe(0);
    onCpu(0);
  });
});

describe("the scheduler's system calls", () => {
  const SCHED_SLOT: u32 = 7;
  const TUNE_SLOT: u32 = 8;

  it("lets nobody raise its own trust, and lets it lower it", () => {
    systemReset();
    let tid = mainTid(spawnProcess("s", [grant(SCHED_SLOT, CAP_SCHED, RIGHT_READ | RIGHT_WRITE)]));
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_TRUST, 900);
    expect(status(tid)).toBe(E_DENIED);
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_TRUST, 100);
    expect(status(tid)).toBe(E_OK);
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_URGENCY, 1001);
    expect(status(tid)).toBe(E_BAD_ARG);
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_URGENCY, 900);
    expect(status(tid)).toBe(E_OK);
  });

  it("records score changes, and no denial for asking about a free tid", () => {
    systemReset();
    let tid = mainTid(spawnProcess("s", [grant(SCHED_SLOT, CAP_SCHED, RIGHT_READ | RIGHT_WRITE)]));
    let denied = auditDeniedEvents();
    sys(tid, SYS_SCHED_INFO, SCHED_SLOT, 100, 0, 0);
    expect(status(tid)).toBe(E_NOT_FOUND);
    expect(auditDeniedEvents()).toBe(denied);
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_URGENCY, 900);
    expect(status(tid)).toBe(E_OK);
    let r = auditFind(U64.MAX_VALUE, false, true)!;
    expect(r.op).toBe(<u8>SYS_SCHED_SET);
    expect(r.verdict).toBe(<i16>E_OK);
  });

  it("needs the capabilities", () => {
    systemReset();
    let tid = mainTid(spawnProcess("s", [grant(SCHED_SLOT, CAP_SCHED, RIGHT_READ)]));
    sys(tid, SYS_SCHED_SET, SCHED_SLOT, SLOT_SELF, SCHED_URGENCY, 100);
    expect(status(tid)).toBeLessThan(0);           // no WRITE right
    sys(tid, SYS_SCHED_TUNE, SCHED_SLOT, 1000, 0, 0, 0, 0);
    expect(status(tid)).toBe(E_NO_CAP);            // a CAP_SCHED is not a CAP_SCHED_TUNE
    expect(schedWeight(0)).toBe(400);
  });

  it("tunes through SYS_SCHED_TUNE and refuses bad weights", () => {
    systemReset();
    let tid = mainTid(spawnProcess("s", [grant(TUNE_SLOT, CAP_SCHED_TUNE, RIGHT_WRITE)]));
    sys(tid, SYS_SCHED_TUNE, TUNE_SLOT, 500, 500, 0, 0, 1);
    expect(status(tid)).toBe(E_BAD_ARG);
    sys(tid, SYS_SCHED_TUNE, TUNE_SLOT, 500, 500, 0, 0, 0);
    expect(status(tid)).toBe(E_OK);
    expect(schedWeight(1)).toBe(500);
  });

  it("describes a thread and the CPUs", () => {
    systemReset();
    let tid = mainTid(spawnProcess("s", [grant(SCHED_SLOT, CAP_SCHED, RIGHT_READ)]));
    sys(tid, SYS_SCHED_INFO, SCHED_SLOT, tid, 0, 0);
    expect(status(tid)).toBe(E_OK);
    let r0 = reg(tid, 0);
    expect(<u32>(r0 >> 32) & 0xff).toBe(SCHED_STATE_RUNNING);
    expect(<u32>(r0 >> 48) & 0xf).toBe(BAND_MEDIUM);
    expect(reg(tid, 1) & 0xfff).toBe(500);
    expect(reg(tid, 2) & 0xffffffff).toBe(500);
    sys(tid, SYS_SCHED_INFO, SCHED_SLOT, 0, 0, 0);
    expect(reg(tid, 0) & 0xfff).toBe(400);
    expect(reg(tid, 3)).toBe(1);                  // CPUs online
    sys(tid, SYS_SCHED_INFO, SCHED_SLOT, 100, 0, 0);
    expect(status(tid)).toBe(E_NOT_FOUND);
    sys(tid, SYS_SCHED_INFO, SCHED_SLOT, 1000, 0, 0);
    expect(status(tid)).toBe(E_BAD_ARG);
    sys(tid, SYS_CPU_INFO, SCHED_SLOT, 0);
    expect(status(tid)).toBe(E_OK);
    expect(<u32>(reg(tid, 0) & 0xffffffff)).toBe(tid);
    sys(tid, SYS_CPU_INFO, SCHED_SLOT, 1);
    expect(status(tid)).toBe(E_NOT_FOUND);
    sys(tid, SYS_CPU_INFO, SCHED_SLOT, 16);
    expect(status(tid)).toBe(E_BAD_ARG);
    expect(syscallDispatch(tid, SYS_CPU_INFO, SCHED_SLOT, 0, 0, 0, 0, 0)).toBe(tid);
  });
});
