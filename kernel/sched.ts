// The scheduler: five scores per thread folded into a band, per-CPU run
// queues, time slices, aging, preemption, balancing and pinning.
// docs/scheduler.md explains the policy and its bounds; this file is it.
//
// Priority and band. Each thread has five scores in thousandths (kernel/abi.ts
// SCHED_URGENCY .. SCHED_TRUST). The weight vector (thousandths, summing to
// 1000) folds them into priority = sum(w_i * s_i) / 1000, and the priority
// into a base band: high from CUT_HIGH, medium from CUT_MEDIUM, else low.
//
// Run queues. Each CPU has one FIFO per band. A CPU always takes the head
// of its highest non-empty band; a running thread keeps the CPU for
// SLICE_TICKS of its timer, then goes to the back of its band if a thread
// of the same or a higher band is waiting (round-robin), else runs on.
//
// Aging. A thread that has waited AGE_TICKS in the low or medium queue moves
// up one band (and waits again from zero there); it drops back to its base
// band when it runs. So a ready thread reaches the high band within
// 2 * AGE_TICKS ticks, whatever arrives above it.
//
// Preemption. The timer (every CPU's own); and whenever a thread becomes
// ready in a higher band than the one running on its CPU (IPC, a
// notification, an interrupt, a sleep ending, aging, a score change): that
// CPU switches at the end of the current kernel entry, or is kicked
// (arch.cpu_kick) when it is another one.
//
// Placement and balancing. A thread woken goes to its pinned CPU, else to an
// idle CPU (its last one first), else one running a lower band, else the
// least loaded, its last CPU winning ties. Every BALANCE_TICKS a CPU
// compares loads (queued + running) and pulls one unpinned thread from the
// busiest CPU when that one has at least two more; an idle CPU pulls at once.
//
// Decisions that change where or when a thread runs (band placement, aging,
// preemption, migration) go into the audit ring (AUDIT_OP_SCHED_*) for
// `explain`. Plain round-robin switches are counted, not recorded.
//
// Concurrency: the big kernel lock makes every function here run on one
// CPU at a time; schedEnter, at the start of every kernel entry, notes which
// (schedHere), so the hot paths ask the trampoline once per entry.

import * as arch from "./arch";
import {
  AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED,
  BAND_HIGH, BAND_LOW, BAND_MEDIUM, E_BAD_ARG, E_OK, MAX_CPUS, MAX_THREADS, SCHED_ONE, SCHED_SCORES, SCHED_UNPINNED,
} from "./abi";
import { auditRecord } from "./audit";
import { processAt, threadAt, THREAD_READY, THREAD_RUNNING, THREAD_SLEEPING } from "./proc";
import { TIMER_HZ, timerTicks } from "./state";

export const SLICE_TICKS: u32 = 2;      // a time slice: 20 ms at TIMER_HZ 100
export const AGE_TICKS: u32 = 10;       // waiting this long in a lower band lifts a thread one band
export const BALANCE_TICKS: u32 = 4;    // how often each CPU compares loads
export const CUT_HIGH: u32 = 800;       // priority from which a thread is in the high band
export const CUT_MEDIUM: u32 = 500;     // ... the medium band
export const BANDS: u32 = 3;
export const DEFAULT_SCORE: u32 = 500;

// Weights (thousandths, SCHED_* order) and their default.
const weights = memory.data<u32>([400, 300, 200, 50, 50]);
const DEFAULT_WEIGHTS = memory.data<u32>([400, 300, 200, 50, 50]);

// ---------------------------------------------------------------------------
// Per-thread state, by tid (tid 0, the idle thread, is never queued).

@unmanaged class SchedThread {
  priority: u16;
  pin: u16;           // CPU, or SCHED_UNPINNED
  band: u8;           // the band it is queued in or runs in (aging may lift it)
  baseBand: u8;       // the band its priority gives
  cpu: u8;            // the CPU it is queued on or last ran on
  queued: u8;         // 1 while in a run queue
  slice: u32;         // ticks left of its slice while it runs
  next: u32;          // run-queue links (tid; 0 ends)
  prev: u32;
  readyTick: u64;     // when it entered its current queue (aging)
  lastRanTick: u64;
  readyNs: u64;       // when it became ready (wait time)
  runSinceNs: u64;    // when it got the CPU
  runNs: u64;
  waitNs: u64;
}

const ENTRY_BYTES: usize = offsetof<SchedThread>();
const entries = memory.data(<i32>(offsetof<SchedThread>() * MAX_THREADS), 16);
// Scores: MAX_THREADS × SCHED_SCORES u16 thousandths.
const scorePool = memory.data(<i32>(2 * SCHED_SCORES * MAX_THREADS), 16);

@inline function entryOf(tid: u32): SchedThread {
  return changetype<SchedThread>(entries + <usize>tid * ENTRY_BYTES);
}

@inline export function schedScore(tid: u32, which: u32): u32 {
  return <u32>load<u16>(scorePool + (<usize>tid * SCHED_SCORES + which) * 2);
}

@inline function scoreStore(tid: u32, which: u32, value: u32): void {
  store<u16>(scorePool + (<usize>tid * SCHED_SCORES + which) * 2, <u16>value);
}

export function schedWeight(which: u32): u32 {
  return load<u32>(weights + (<usize>which << 2));
}

// ---------------------------------------------------------------------------
// Per-CPU state.

@unmanaged class Cpu {
  online: u32;
  current: u32;       // the thread it runs (0: idle)
  needResched: u32;   // a higher band became ready for it: switch at the end of the entry
  balanceIn: u32;     // ticks to the next balancing look
  hwid: u64;
  ticks: u64;
  idleTicks: u64;
  switches: u64;
  pulls: u64;
}

const CPU_BYTES: usize = offsetof<Cpu>();
const cpuPool = memory.data(<i32>(offsetof<Cpu>() * MAX_CPUS), 16);
// Run queues: per CPU and band, head, tail and length (u32 each).
const heads = memory.data(<i32>(4 * BANDS * MAX_CPUS), 16);
const tails = memory.data(<i32>(4 * BANDS * MAX_CPUS), 16);
const lengths = memory.data(<i32>(4 * BANDS * MAX_CPUS), 16);

let decisions: u64 = 0;
let decisionCycles: u64 = 0;
let here: u32 = 0;        // the CPU running this kernel entry
let cpuLimit: u32 = 1;    // one more than the highest CPU online: what loops over CPUs walk

// Every kernel entry starts here: which CPU entered.
export function schedEnter(): void {
  here = arch.cpu_id();
}

export function schedHere(): u32 {
  return here;
}

@inline function cpuAt(cpu: u32): Cpu {
  return changetype<Cpu>(cpuPool + <usize>cpu * CPU_BYTES);
}

@inline function queueSlot(cpu: u32, band: u32): usize {
  return (<usize>cpu * BANDS + band) << 2;
}

@inline function qHead(cpu: u32, band: u32): u32 { return load<u32>(heads + queueSlot(cpu, band)); }
@inline function qTail(cpu: u32, band: u32): u32 { return load<u32>(tails + queueSlot(cpu, band)); }
@inline export function schedQueueLength(cpu: u32, band: u32): u32 { return load<u32>(lengths + queueSlot(cpu, band)); }

export function schedQueued(cpu: u32): u32 {
  return schedQueueLength(cpu, BAND_LOW) + schedQueueLength(cpu, BAND_MEDIUM) + schedQueueLength(cpu, BAND_HIGH);
}

// Queued plus running: what balancing compares.
export function schedLoad(cpu: u32): u32 {
  return schedQueued(cpu) + (cpuAt(cpu).current != 0 ? 1 : 0);
}

// The highest band with a thread waiting on `cpu`; -1 when none.
function topBand(cpu: u32): i32 {
  for (let band: i32 = <i32>BAND_HIGH; band >= 0; band--) if (schedQueueLength(cpu, <u32>band) != 0) return band;
  return -1;
}

function enqueue(cpu: u32, tid: u32, front: bool): void {
  let e = entryOf(tid);
  let band = <u32>e.band;
  let slot = queueSlot(cpu, band);
  let head = load<u32>(heads + slot);
  let tail = load<u32>(tails + slot);
  if (front) {
    e.prev = 0;
    e.next = head;
    if (head != 0) entryOf(head).prev = tid;
    else store<u32>(tails + slot, tid);
    store<u32>(heads + slot, tid);
  } else {
    e.next = 0;
    e.prev = tail;
    if (tail != 0) entryOf(tail).next = tid;
    else store<u32>(heads + slot, tid);
    store<u32>(tails + slot, tid);
  }
  store<u32>(lengths + slot, load<u32>(lengths + slot) + 1);
  e.queued = 1;
  e.cpu = <u8>cpu;
  e.readyTick = timerTicks();
  threadAt(tid).state = THREAD_READY;
}

function dequeue(tid: u32): void {
  let e = entryOf(tid);
  if (e.queued == 0) return;
  let slot = queueSlot(<u32>e.cpu, <u32>e.band);
  if (e.prev != 0) entryOf(e.prev).next = e.next;
  else store<u32>(heads + slot, e.next);
  if (e.next != 0) entryOf(e.next).prev = e.prev;
  else store<u32>(tails + slot, e.prev);
  store<u32>(lengths + slot, load<u32>(lengths + slot) - 1);
  e.next = 0;
  e.prev = 0;
  e.queued = 0;
}

// ---------------------------------------------------------------------------
// Priority and bands.

// sum(w_i * s_i) / 1000 for the given weights (memory at `w`).
function foldWith(w: usize, tid: u32): u32 {
  let sum: u32 = 0;
  for (let i: u32 = 0; i < SCHED_SCORES; i++) sum += load<u32>(w + (<usize>i << 2)) * schedScore(tid, i);
  return sum / SCHED_ONE;
}

export function schedPriority(tid: u32): u32 {
  return <u32>entryOf(tid).priority;
}

export function bandOf(priority: u32): u32 {
  if (priority >= CUT_HIGH) return BAND_HIGH;
  if (priority >= CUT_MEDIUM) return BAND_MEDIUM;
  return BAND_LOW;
}

export function schedBand(tid: u32): u32 { return <u32>entryOf(tid).band; }
export function schedBaseBand(tid: u32): u32 { return <u32>entryOf(tid).baseBand; }
export function schedCpuOf(tid: u32): u32 { return <u32>entryOf(tid).cpu; }
export function schedPinOf(tid: u32): u32 { return <u32>entryOf(tid).pin; }
export function schedRunNs(tid: u32): u64 { return entryOf(tid).runNs; }
export function schedWaitNs(tid: u32): u64 { return entryOf(tid).waitNs; }
export function schedRunSinceNs(tid: u32): u64 { return entryOf(tid).runSinceNs; }
export function schedReadyNs(tid: u32): u64 { return entryOf(tid).readyNs; }
export function schedLastRanTick(tid: u32): u64 { return entryOf(tid).lastRanTick; }

@inline function pidOfThread(tid: u32): u32 {
  return processAt(<u32>threadAt(tid).process).pid;
}

// Recomputes the priority and base band; a band change is a decision on
// record, and moves the thread if it waits in a queue.
function rebandThread(tid: u32): void {
  let e = entryOf(tid);
  let priority = foldWith(weights, tid);
  let base = bandOf(priority);
  let old = <u32>e.baseBand;
  e.priority = <u16>priority;
  e.baseBand = <u8>base;
  if (base == old) return;
  auditRecord(pidOfThread(tid), AUDIT_OP_SCHED_BAND, AUDIT_TARGET_SCHED, base | (priority << 8), E_OK);
  if (e.queued != 0) {
    let cpu = <u32>e.cpu;
    dequeue(tid);
    e.band = <u8>base;
    enqueue(cpu, tid, false);
    wakeCheck(cpu, tid);
  } else {
    e.band = <u8>base;
    let me = here;
    let cpu = <u32>e.cpu;
    if (cpuAt(cpu).current == tid) {
      cpuAt(cpu).needResched = 1;
      if (cpu != me) arch.cpu_kick(cpu);
    }
  }
}

// A new thread: its scores and pin from the manifest (thousandths), then
// its band. Returns E_BAD_ARG (nothing set) for a score over SCHED_ONE.
export function schedThreadInit(tid: u32, scores: u32[], pin: u32): i32 {
  if (<u32>scores.length != SCHED_SCORES) return E_BAD_ARG;
  for (let i: u32 = 0; i < SCHED_SCORES; i++) if (scores[i] > SCHED_ONE) return E_BAD_ARG;
  let e = entryOf(tid);
  memory.fill(changetype<usize>(e), 0, ENTRY_BYTES);
  for (let i: u32 = 0; i < SCHED_SCORES; i++) scoreStore(tid, i, scores[i]);
  e.pin = <u16>(pin < MAX_CPUS ? pin : SCHED_UNPINNED);
  e.cpu = <u8>(pin < MAX_CPUS && cpuAt(pin).online != 0 ? pin : here);
  let priority = foldWith(weights, tid);
  e.priority = <u16>priority;
  e.baseBand = <u8>bandOf(priority);
  e.band = e.baseBand;
  auditRecord(pidOfThread(tid), AUDIT_OP_SCHED_BAND, AUDIT_TARGET_SCHED, <u32>e.baseBand | (priority << 8), E_OK);
  return E_OK;
}

// Sets one score (SYS_SCHED_SET checked the caller's authority).
export function schedSetScore(tid: u32, which: u32, value: u32): i32 {
  if (which >= SCHED_SCORES || value > SCHED_ONE) return E_BAD_ARG;
  scoreStore(tid, which, value);
  rebandThread(tid);
  return E_OK;
}

// Pins `tid` to `cpu` (SCHED_UNPINNED: any CPU). E_BAD_ARG for a CPU that
// is not online. A queued thread moves at once; a running one at its next
// switch.
export function schedPin(tid: u32, cpu: u32): i32 {
  if (cpu != SCHED_UNPINNED && (cpu >= MAX_CPUS || cpuAt(cpu).online == 0)) return E_BAD_ARG;
  let e = entryOf(tid);
  e.pin = <u16>cpu;
  if (cpu == SCHED_UNPINNED) return E_OK;
  if (e.queued != 0 && <u32>e.cpu != cpu) {
    migrate(tid, cpu);
  } else if (e.queued == 0 && cpuAt(<u32>e.cpu).current == tid && <u32>e.cpu != cpu) {
    let at = <u32>e.cpu;
    cpuAt(at).needResched = 1;
    if (at != here) arch.cpu_kick(at);
  }
  return E_OK;
}

// Checks a weight vector (thousandths at `w`): each <= 1000, summing to 1000.
export function weightsValid(w0: u64, w1: u64, w2: u64, w3: u64, w4: u64): bool {
  let one = <u64>SCHED_ONE;
  if (w0 > one || w1 > one || w2 > one || w3 > one || w4 > one) return false;
  return w0 + w1 + w2 + w3 + w4 == one;
}

// New weights (SYS_SCHED_TUNE): every live thread is placed again.
// E_BAD_ARG and nothing changes when they are not valid.
export function schedTune(w0: u64, w1: u64, w2: u64, w3: u64, w4: u64): i32 {
  if (!weightsValid(w0, w1, w2, w3, w4)) return E_BAD_ARG;
  store<u32>(weights, <u32>w0);
  store<u32>(weights + 4, <u32>w1);
  store<u32>(weights + 8, <u32>w2);
  store<u32>(weights + 12, <u32>w3);
  store<u32>(weights + 16, <u32>w4);
  for (let tid: u32 = 1; tid < MAX_THREADS; tid++) {
    let s = threadAt(tid).state;
    if (s != 0) rebandThread(tid);
  }
  return E_OK;
}

// ---------------------------------------------------------------------------
// CPUs.

// Boot and the unit tests: no threads queued, CPU 0 online, default weights.
export function schedReset(): void {
  memory.fill(entries, 0, ENTRY_BYTES * MAX_THREADS);
  memory.fill(scorePool, 0, 2 * SCHED_SCORES * MAX_THREADS);
  memory.fill(cpuPool, 0, CPU_BYTES * MAX_CPUS);
  memory.fill(heads, 0, 4 * BANDS * MAX_CPUS);
  memory.fill(tails, 0, 4 * BANDS * MAX_CPUS);
  memory.fill(lengths, 0, 4 * BANDS * MAX_CPUS);
  memory.copy(weights, DEFAULT_WEIGHTS, 4 * SCHED_SCORES);
  cpuAt(0).online = 1;
  cpuAt(0).balanceIn = BALANCE_TICKS;
  cpuLimit = 1;
  here = 0;
  decisions = 0;
  decisionCycles = 0;
  sleepHead = 0;
}

export function schedCpuCount(): u32 {
  let n: u32 = 0;
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) if (cpuAt(cpu).online != 0) n++;
  return n;
}

export function schedCpuOnlineAt(cpu: u32): bool {
  return cpu < MAX_CPUS && cpuAt(cpu).online != 0;
}

export function schedCpuHwid(cpu: u32): u64 { return cpuAt(cpu).hwid; }
export function schedCpuCurrent(cpu: u32): u32 { return cpuAt(cpu).current; }
export function schedCpuTicks(cpu: u32): u64 { return cpuAt(cpu).ticks; }
export function schedCpuIdleTicks(cpu: u32): u64 { return cpuAt(cpu).idleTicks; }
export function schedCpuSwitches(cpu: u32): u64 { return cpuAt(cpu).switches; }
export function schedCpuPulls(cpu: u32): u64 { return cpuAt(cpu).pulls; }
export function schedDecisions(): u64 { return decisions; }
export function schedDecisionCycles(): u64 { return decisionCycles; }

// Boot: CPU `cpu` (hardware id `hwid`) was started and will join.
export function schedCpuAdd(cpu: u32, hwid: u64): void {
  let c = cpuAt(cpu);
  c.online = 1;
  c.hwid = hwid;
  c.balanceIn = BALANCE_TICKS;
  if (cpu >= cpuLimit) cpuLimit = cpu + 1;
}

export function schedCpuHwidSet(cpu: u32, hwid: u64): void {
  cpuAt(cpu).hwid = hwid;
}

// CPU `cpu` entered the kernel for the first time: its timer starts, and
// it takes work if there is any.
export function schedCpuOnline(cpu: u32): u32 {
  if (cpu >= MAX_CPUS) return 0;
  if (cpuAt(cpu).online == 0) schedCpuAdd(cpu, 0);
  arch.timer_start(TIMER_HZ);
  return schedNext();
}

// ---------------------------------------------------------------------------
// Running threads.

// `tid` gets CPU `cpu`: run and wait time accounting, a fresh slice.
function runOn(cpu: u32, tid: u32): u32 {
  let c = cpuAt(cpu);
  let old = c.current;
  let now = arch.time_ns();
  if (old != tid) {
    if (tid != 0) c.switches++;
    if (old != 0) {
      let o = entryOf(old);
      o.runNs += now - o.runSinceNs;
      o.lastRanTick = timerTicks();
    }
  }
  c.current = tid;
  if (tid == 0) return 0;
  let e = entryOf(tid);
  if (old != tid) {
    e.runSinceNs = now;
    if (e.readyNs != 0) e.waitNs += now - e.readyNs;
  }
  e.readyNs = 0;
  e.cpu = <u8>cpu;
  e.slice = SLICE_TICKS;
  threadAt(tid).state = THREAD_RUNNING;
  return tid;
}

// A thread leaves the CPU it ran on for good (blocked, dead): its run time.
function leave(cpu: u32): void {
  let c = cpuAt(cpu);
  let old = c.current;
  if (old == 0) return;
  let o = entryOf(old);
  o.runNs += arch.time_ns() - o.runSinceNs;
  o.lastRanTick = timerTicks();
  c.current = 0;
}

// Where a woken thread should wait: its pin; an idle CPU (its last first);
// a CPU running a lower band; the least loaded (its last CPU on ties).
function placeCpu(tid: u32, me: u32): u32 {
  let e = entryOf(tid);
  let pin = <u32>e.pin;
  if (pin < MAX_CPUS && cpuAt(pin).online != 0) return pin;
  let last = <u32>e.cpu;
  if (cpuAt(last).online == 0) last = me;
  if (cpuAt(last).current == 0 && schedQueued(last) == 0) return last;
  let band = <u32>e.band;
  let best: i32 = -1;
  let bestBand: u32 = band;
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) {
    let c = cpuAt(cpu);
    if (c.online == 0) continue;
    if (c.current == 0 && schedQueued(cpu) == 0) return cpu;
    if (c.current != 0 && schedQueued(cpu) == 0) {
      let running = <u32>entryOf(c.current).band;
      if (running < bestBand) {
        best = <i32>cpu;
        bestBand = running;
      }
    }
  }
  if (best >= 0) return <u32>best;
  let chosen = last;
  let least = schedLoad(last);
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) {
    if (cpuAt(cpu).online == 0) continue;
    let load = schedLoad(cpu);
    if (load < least) {
      least = load;
      chosen = cpu;
    }
  }
  return chosen;
}

// `tid` was queued on `cpu`: that CPU should switch when it idles or runs a
// lower band; another CPU is kicked.
function wakeCheck(cpu: u32, tid: u32): void {
  let c = cpuAt(cpu);
  let running = c.current;
  if (running != 0 && <u32>entryOf(tid).band <= <u32>entryOf(running).band) return;
  c.needResched = 1;
  if (cpu != here) arch.cpu_kick(cpu);
}

// Makes a blocked, new or sleeping thread runnable at the back of its band,
// on the CPU placement picks. The running thread of this CPU (a yield, a
// slice that ended) goes back to its own CPU's queue unless pinned away.
export function threadReady(tid: u32): void {
  let me = here;
  let e = entryOf(tid);
  if (e.queued != 0) dequeue(tid);
  e.band = e.baseBand;
  e.readyNs = arch.time_ns();
  let cpu: u32;
  if (cpuAt(me).current == tid) {
    leave(me);
    let pin = <u32>e.pin;
    cpu = pin < MAX_CPUS && cpuAt(pin).online != 0 ? pin : me;
  } else {
    cpu = placeCpu(tid, me);
  }
  enqueue(cpu, tid, false);
  wakeCheck(cpu, tid);
}

// ... at the front of its band on this CPU (unless pinned away): it runs
// next here, a hand-over in IPC.
export function threadReadyFirst(tid: u32): void {
  let me = here;
  let e = entryOf(tid);
  if (e.queued != 0) dequeue(tid);
  e.band = e.baseBand;
  e.readyNs = arch.time_ns();
  let pin = <u32>e.pin;
  let cpu = pin < MAX_CPUS && cpuAt(pin).online != 0 ? pin : me;
  enqueue(cpu, tid, true);
  wakeCheck(cpu, tid);
}

// Takes `tid` out of whatever run queue holds it (it dies, or blocks).
export function schedRemove(tid: u32): void {
  dequeue(tid);
  entryOf(tid).readyNs = 0;
}

// The thread this CPU runs; 0 when idle.
export function schedCurrent(): u32 {
  return cpuAt(here).current;
}

// The CPU `tid` runs on, or -1 when it is not running.
export function schedRunningOn(tid: u32): i32 {
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) if (cpuAt(cpu).online != 0 && cpuAt(cpu).current == tid) return <i32>cpu;
  return -1;
}

// This CPU stops running `tid` without it being ready (it died here).
export function schedDrop(tid: u32): void {
  let me = here;
  if (cpuAt(me).current == tid) leave(me);
}

// Picks the next thread for this CPU: the head of its highest band, else
// one pulled from the busiest CPU, else idle (0). A thread still running
// here competes: it stays when nothing is queued, else goes to the back of
// its band.
export function schedNext(): u32 {
  let start = arch.cycles();
  let me = here;
  let c = cpuAt(me);
  c.needResched = 0;
  let running = c.current;
  let stays = running != 0 && threadAt(running).state == THREAD_RUNNING;
  if (running != 0 && !stays) leave(me);
  let band = topBand(me);
  if (band < 0 && !stays && balance(me, true)) band = topBand(me);
  if (stays && band < <i32>entryOf(running).band) band = -1;
  let tid = running;
  if (band >= 0) {
    tid = qHead(me, <u32>band);
    dequeue(tid);
    if (stays) {
      leave(me);
      entryOf(running).band = entryOf(running).baseBand;
      enqueue(me, running, false);
    }
  } else if (!stays) {
    tid = 0;
  }
  if (tid != running || !stays) runOn(me, tid);
  decisions++;
  decisionCycles += arch.cycles() - start;
  return tid;
}

// Runs `tid` (blocked until now, on no queue) on this CPU at once: a
// hand-over in IPC. When it is pinned elsewhere, or this CPU has a higher
// band waiting, it is queued like any woken thread instead.
export function schedSwitchTo(tid: u32): u32 {
  let me = here;
  let e = entryOf(tid);
  let pin = <u32>e.pin;
  e.band = e.baseBand;
  if ((pin < MAX_CPUS && pin != me && cpuAt(pin).online != 0) || topBand(me) > <i32>e.band) {
    e.readyNs = arch.time_ns();
    let cpu = pin < MAX_CPUS && cpuAt(pin).online != 0 ? pin : me;
    enqueue(cpu, tid, cpu == me);
    wakeCheck(cpu, tid);
    return schedNext();
  }
  let c = cpuAt(me);
  if (c.current != tid) leave(me);
  decisions++;
  return runOn(me, tid);
}

// Ready thread `tid` runs now; a running thread goes back to its queue.
// False (nothing changes) when `tid` is not ready. For the unit tests and
// any rule that picks by hand.
export function schedRun(tid: u32): bool {
  if (tid == 0 || tid >= MAX_THREADS || threadAt(tid).state != THREAD_READY) return false;
  let me = here;
  dequeue(tid);
  let c = cpuAt(me);
  if (c.current != 0 && threadAt(c.current).state == THREAD_RUNNING) {
    let old = c.current;
    leave(me);
    entryOf(old).band = entryOf(old).baseBand;
    enqueue(me, old, false);
  }
  runOn(me, tid);
  return true;
}

// The end of an entry that leaves `tid` running on this CPU: it keeps the
// CPU unless a higher band became ready here meanwhile (then it is
// preempted: back to the front of its band, its slice kept for later).
export function schedStay(tid: u32): u32 {
  let me = here;
  let c = cpuAt(me);
  if (c.current != tid) {
    leave(me);
    runOn(me, tid);
  }
  if (c.needResched == 0) return tid;
  c.needResched = 0;
  let e = entryOf(tid);
  let pin = <u32>e.pin;
  let pinnedAway = pin < MAX_CPUS && pin != me && cpuAt(pin).online != 0;
  if (!pinnedAway && topBand(me) <= <i32>e.band) return tid;
  let next = topBand(me) >= 0 ? qHead(me, <u32>topBand(me)) : 0;
  leave(me);
  e.readyNs = arch.time_ns();
  if (pinnedAway) {
    e.band = e.baseBand;
    enqueue(pin, tid, false);
    wakeCheck(pin, tid);
  } else {
    enqueue(me, tid, true);
    if (next != 0) auditRecord(pidOfThread(next), AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED, pidOfThread(tid), E_OK);
  }
  return schedNext();
}

// An entry that was not the running thread's (an interrupt, a kick): the
// running thread keeps the CPU unless preempted; an idle CPU takes work.
export function schedAfterInterrupt(): u32 {
  let c = cpuAt(here);
  if (c.current != 0 && threadAt(c.current).state == THREAD_RUNNING) return schedStay(c.current);
  return schedNext();
}

// The running thread gives up the CPU to its band (SYS_YIELD); returns the
// thread to run.
export function schedYield(tid: u32): u32 {
  threadReady(tid);
  return schedNext();
}

// ---------------------------------------------------------------------------
// The timer tick, on each CPU: accounting, sleepers and aging (CPU 0, which
// keeps the time), balancing, the slice.

export function schedTimerTick(): u32 {
  let me = here;
  let c = cpuAt(me);
  c.ticks++;
  if (c.current == 0) c.idleTicks++;
  if (me == 0) {
    let now = timerTicks();
    if (sleepHead != 0) sleepersWake(now);
    age(now);
  }
  if (--c.balanceIn == 0) {
    c.balanceIn = BALANCE_TICKS;
    if (balance(me, false) && c.current == 0) return schedNext();
  }
  let tid = c.current;
  if (tid == 0 || threadAt(tid).state != THREAD_RUNNING) return schedNext();
  let e = entryOf(tid);
  if (e.slice > 1) {
    e.slice--;
    return schedStay(tid);
  }
  // The slice is over: round-robin if its band (or a higher one) waits.
  if (topBand(me) >= <i32>e.band) {
    threadReady(tid);
    return schedNext();
  }
  e.slice = SLICE_TICKS;
  return schedStay(tid);
}

// Lifts every thread that waited AGE_TICKS in a lower band by one band
// (medium first, so nobody jumps two bands in one tick).
function age(now: u64): void {
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) {
    if (cpuAt(cpu).online == 0) continue;
    for (let band: i32 = <i32>BAND_MEDIUM; band >= <i32>BAND_LOW; band--) {
      let tid = qHead(cpu, <u32>band);
      while (tid != 0) {
        let e = entryOf(tid);
        let next = e.next;
        let waited = now - e.readyTick;
        if (waited >= <u64>AGE_TICKS) {
          dequeue(tid);
          e.band = <u8>(band + 1);
          enqueue(cpu, tid, false);
          auditRecord(pidOfThread(tid), AUDIT_OP_SCHED_AGE, AUDIT_TARGET_SCHED,
            <u32>e.band | (<u32>min<u64>(waited, 0xffffff) << 8), E_OK);
          wakeCheck(cpu, tid);
        }
        tid = next;
      }
    }
  }
}

// Moves queued thread `tid` to CPU `to`'s queue (same band).
function migrate(tid: u32, to: u32): void {
  let e = entryOf(tid);
  let from = <u32>e.cpu;
  let readyTick = e.readyTick;
  dequeue(tid);
  enqueue(to, tid, false);
  e.readyTick = readyTick;
  auditRecord(pidOfThread(tid), AUDIT_OP_SCHED_MIGRATE, AUDIT_TARGET_SCHED, from | (to << 8), E_OK);
  wakeCheck(to, tid);
}

// The CPU `me` should pull from: the busiest online CPU with an unpinned
// thread queued and a load at least two more than `me`'s (any load when
// `me` has nothing at all); -1 when none.
export function balanceSource(me: u32): i32 {
  let mine = schedLoad(me);
  let best: i32 = -1;
  let bestLoad: u32 = 0;
  for (let cpu: u32 = 0; cpu < cpuLimit; cpu++) {
    if (cpu == me || cpuAt(cpu).online == 0 || schedQueued(cpu) == 0) continue;
    let load = schedLoad(cpu);
    if ((mine != 0 && load < mine + 2) || load <= bestLoad || stealable(cpu) == 0) continue;
    best = <i32>cpu;
    bestLoad = load;
  }
  return best;
}

// The thread to take from `cpu`: the last unpinned one of its highest band.
function stealable(cpu: u32): u32 {
  for (let band: i32 = <i32>BAND_HIGH; band >= 0; band--) {
    for (let tid = qTail(cpu, <u32>band); tid != 0; tid = entryOf(tid).prev) {
      if (<u32>entryOf(tid).pin == SCHED_UNPINNED) return tid;
    }
  }
  return 0;
}

// Pulls one thread to `me` when balanceSource finds a CPU; true when it did.
function balance(me: u32, idle: bool): bool {
  if (!idle && schedCpuCount() < 2) return false;
  let from = balanceSource(me);
  if (from < 0) return false;
  let tid = stealable(<u32>from);
  if (tid == 0) return false;
  migrate(tid, me);
  cpuAt(me).pulls++;
  return true;
}

// ---------------------------------------------------------------------------
// Sleeping (SYS_SLEEP): an unordered queue, walked on CPU 0's tick.

let sleepHead: u32 = 0;

// Puts the running thread `tid` to sleep until tick `wakeTick`.
export function threadSleep(tid: u32, wakeTick: u64): void {
  schedDrop(tid);
  let t = threadAt(tid);
  t.state = THREAD_SLEEPING;
  t.wakeTick = wakeTick;
  t.next = sleepHead;
  sleepHead = tid;
}

export function sleepRemove(tid: u32): void {
  let previous: u32 = 0;
  for (let at = sleepHead; at != 0; at = threadAt(at).next) {
    if (at == tid) {
      if (previous == 0) sleepHead = threadAt(at).next;
      else threadAt(previous).next = threadAt(at).next;
      threadAt(tid).next = 0;
      return;
    }
    previous = at;
  }
}

// Wakes every sleeper whose tick has come (status E_OK).
function sleepersWake(now: u64): void {
  let previous: u32 = 0;
  let at = sleepHead;
  while (at != 0) {
    let t = threadAt(at);
    let next = t.next;
    if (t.wakeTick <= now) {
      if (previous == 0) sleepHead = next;
      else threadAt(previous).next = next;
      t.next = 0;
      arch.context_set(at, arch.REG_STATUS, E_OK);
      threadReady(at);
    } else {
      previous = at;
    }
    at = next;
  }
}
