// The scheduler: what it thinks of each thread and each CPU (CAP_SCHED
// [READ]), a thread's scores and pin (CAP_SCHED [WRITE]), and the weight
// vector that folds the scores into a priority (CAP_SCHED_TUNE [WRITE]).
// kernel/abi.ts has the contract; docs/abi.md the tables.
//
// Scores, weights, priorities and cut-offs are thousandths: 0 .. SCHED_ONE
// stands for 0 .. 1. Five of them travel packed in one word, 12 bits each:
//
//   63   60 59      48 47      36 35      24 23      12 11       0
//  ┌───────┬──────────┬──────────┬──────────┬──────────┬──────────┐
//  │   0   │  trust   │  energy  │efficiency│importance│ urgency  │
//  └───────┴──────────┴──────────┴──────────┴──────────┴──────────┘
//
// A thread's first result word (SYS_SCHED_INFO r0):
//
//   63      56 55  52 51  48 47      40 39      32 31                0
//  ┌──────────┬──────┬──────┬──────────┬──────────┬──────────────────┐
//  │ pin + 1  │ base │ band │   cpu    │  state   │       pid        │
//  │ 0: none  │ band │      │          │ SCHED_   │                  │
//  │          │      │      │          │ STATE_*  │                  │
//  └──────────┴──────┴──────┴──────────┴──────────┴──────────────────┘

import {
  AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT, BAND_HIGH, BAND_LOW,
  BAND_MEDIUM, SCHED_INFO_SELF, SCHED_ONE, SCHED_SCORES, SCHED_STATE_CALLING, SCHED_STATE_DYING, SCHED_STATE_NEW,
  SCHED_STATE_READY, SCHED_STATE_RECEIVING, SCHED_STATE_REPLY_WAIT, SCHED_STATE_RUNNING, SCHED_STATE_SLEEPING,
  SCHED_STATE_WAITING, SCHED_UNPINNED, SYS_CPU_INFO, SYS_SCHED_INFO, SYS_SCHED_SET, SYS_SCHED_TUNE,
} from "../../kernel/abi";
import { result, syscall, userPointer } from "./sys";
import { TEXT_BUFFER, TEXT_BYTES, textFromBuffer } from "./text";

export const SCORE_BITS: u64 = 12;
const SCORE_MASK: u64 = (<u64>1 << SCORE_BITS) - 1;

// The weights the kernel starts with: urgency 0.4, importance 0.3,
// efficiency 0.2, energy 0.05, trust 0.05.
export const DEFAULT_WEIGHTS: StaticArray<u32> = [400, 300, 200, 50, 50];

// ---- the packed words ----

// Field `index` (SCHED_URGENCY .. SCHED_TRUST) of a packed word.
@inline export function scoreField(word: u64, index: u32): u32 {
  return <u32>((word >> (<u64>index * SCORE_BITS)) & SCORE_MASK);
}

// Five thousandths packed as the kernel packs them (for specs and tools).
export function packScores(scores: StaticArray<u32>): u64 {
  let word: u64 = 0;
  for (let i: u32 = 0; i < SCHED_SCORES; i++) word |= (<u64>scores[i] & SCORE_MASK) << (<u64>i * SCORE_BITS);
  return word;
}

export function unpackScores(word: u64, into: StaticArray<u32>): void {
  for (let i: u32 = 0; i < SCHED_SCORES; i++) into[i] = scoreField(word, i);
}

// "urgency" .. "trust", by SCHED_* index.
export function scoreName(index: u32): string {
  switch (index) {
    case 0: return "urgency";
    case 1: return "importance";
    case 2: return "efficiency";
    case 3: return "energy";
    case 4: return "trust";
  }
  return "score " + index.toString();
}

export function bandName(band: u32): string {
  switch (band) {
    case BAND_LOW: return "low";
    case BAND_MEDIUM: return "medium";
    case BAND_HIGH: return "high";
  }
  return "band " + band.toString();
}

// A SCHED_STATE_* (SYS_SCHED_INFO r0 bits 32..39) in words.
export function threadStateName(state: u32): string {
  switch (state) {
    case SCHED_STATE_READY: return "ready";
    case SCHED_STATE_RUNNING: return "running";
    case SCHED_STATE_CALLING: return "calling";
    case SCHED_STATE_REPLY_WAIT: return "awaiting reply";
    case SCHED_STATE_RECEIVING: return "receiving";
    case SCHED_STATE_WAITING: return "waiting";
    case SCHED_STATE_NEW: return "new";
    case SCHED_STATE_SLEEPING: return "sleeping";
    case SCHED_STATE_DYING: return "dying";
  }
  return "state " + state.toString();
}

// ---- the scheduler's decisions in the audit ring ----
// op AUDIT_OP_SCHED_*, caller the pid it is about, target packed by op:
//   BAND     band | priority << 8
//   AGE      new band | ticks it had waited << 8
//   PREEMPT  the pid it took the CPU from
//   MIGRATE  from cpu | to cpu << 8

export function isSchedDecision(op: u32): bool {
  return op >= <u32>AUDIT_OP_SCHED_BAND && op <= <u32>AUDIT_OP_SCHED_MIGRATE;
}

// A decision in words, said of the thread it is about: "placed in band
// high, priority 0.87", "aged low -> medium after 25 ticks waiting",
// "preempted pid 7", "moved cpu 2 -> cpu 0".
export function schedDecisionText(op: u32, target: u32): string {
  let low = target & 0xff;
  let high = target >> 8;
  switch (op) {
    case AUDIT_OP_SCHED_BAND: return "placed in band " + bandName(low) + ", priority " + thousandthsText(high);
    case AUDIT_OP_SCHED_AGE: {
      let from = low > 0 ? bandName(low - 1) + " -> " : "";
      return "aged " + from + bandName(low) + " after " + high.toString() + " ticks waiting";
    }
    case AUDIT_OP_SCHED_PREEMPT: return "preempted pid " + target.toString();
    case AUDIT_OP_SCHED_MIGRATE: return "moved cpu " + low.toString() + " -> cpu " + (high & 0xff).toString();
  }
  return "decision " + op.toString() + " 0x" + target.toString(16);
}

// ---- thousandths as text ----

// Exact and short: 400 -> "0.4", 50 -> "0.05", 125 -> "0.125", 1000 -> "1".
export function thousandthsText(value: u32): string {
  let text = (value / SCHED_ONE).toString();
  let rest = value % SCHED_ONE;
  if (rest == 0) return text;
  let digits = rest.toString();
  while (digits.length < 3) digits = "0" + digits;
  while (digits.endsWith("0")) digits = digits.substring(0, digits.length - 1);
  return text + "." + digits;
}

// Fixed `decimals` (1..3), rounded half up: 875 -> "0.88" with 2.
export function thousandthsFixed(value: u32, decimals: i32): string {
  let scale: u32 = decimals >= 3 ? 1 : decimals == 2 ? 10 : 100;
  let scaled = (value + scale / 2) / scale;
  let unit: u32 = SCHED_ONE / scale;
  let digits = (scaled % unit).toString();
  while (digits.length < decimals) digits = "0" + digits;
  return (scaled / unit).toString() + "." + digits;
}

// A decimal from 0 to 1 with at most three decimals ("0.4", ".05", "1",
// "1.000") as thousandths; a negative value (PARSE_*) says what is wrong.
export const PARSE_NOT_A_NUMBER: i32 = -1;
export const PARSE_NEGATIVE: i32 = -2;
export const PARSE_ABOVE_ONE: i32 = -3;
export const PARSE_TOO_PRECISE: i32 = -4;

export function parseThousandths(text: string): i32 {
  let start = 0;
  if (text.length > 0 && text.charCodeAt(0) == 0x2d) start = 1; // '-'
  let whole: i64 = 0;
  let fraction: i64 = 0;
  let wholeDigits = 0;
  let fractionDigits = 0;
  let seenPoint = false;
  for (let i = start; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c == 0x2e && !seenPoint) { seenPoint = true; continue; }
    if (c < 0x30 || c > 0x39) return PARSE_NOT_A_NUMBER;
    let digit = <i64>(c - 0x30);
    if (!seenPoint) {
      if (whole < 1_000_000) whole = whole * 10 + digit; // big enough to be > 1, small enough not to wrap
      wholeDigits++;
    } else {
      fractionDigits++;
      if (fractionDigits <= 3) fraction = fraction * 10 + digit;
      else if (digit != 0) return PARSE_TOO_PRECISE; // 0.4000 is fine, 0.4001 is not
    }
  }
  if (wholeDigits + fractionDigits == 0) return PARSE_NOT_A_NUMBER;
  for (let i = fractionDigits; i < 3; i++) fraction *= 10;
  let value = whole * <i64>SCHED_ONE + fraction;
  if (start == 1 && value != 0) return PARSE_NEGATIVE;
  if (value > <i64>SCHED_ONE) return PARSE_ABOVE_ONE;
  return <i32>value;
}

// ---- the system calls ----

// One thread, as SYS_SCHED_INFO reports it.
@final export class ThreadSched {
  tid: u32 = 0;
  pid: u32 = 0;
  state: u32 = 0;              // SCHED_STATE_*
  cpu: u32 = 0;                // the CPU it runs on or is queued for
  band: u32 = 0;               // BAND_*: where it is queued now
  baseBand: u32 = 0;           // the band its priority gives; below `band` when aging lifted it
  pin: u32 = SCHED_UNPINNED;   // a CPU, or SCHED_UNPINNED
  scores: StaticArray<u32> = new StaticArray<u32>(SCHED_SCORES);
  priority: u32 = 0;           // thousandths
  ticksSinceRun: u32 = 0;
  runUs: u64 = 0;              // time on a CPU
  waitUs: u64 = 0;             // time ready, waiting for a CPU
  name: string = "";           // its process's

  get pinned(): bool { return this.pin != SCHED_UNPINNED; }
  get aged(): bool { return this.band > this.baseBand; }
}

// Thread `tid` (1 .. MAX_THREADS - 1): E_NOT_FOUND for a free one,
// E_BAD_ARG past the last.
export function schedInfo(schedSlot: u32, tid: u32, into: ThreadSched): i32 {
  let status = syscall(SYS_SCHED_INFO, schedSlot, tid, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status < 0) return status;
  let word = result(0);
  into.tid = tid;
  into.pid = <u32>word;
  into.state = <u32>((word >> 32) & 0xff);
  into.cpu = <u32>((word >> 40) & 0xff);
  into.band = <u32>((word >> 48) & 0xf);
  into.baseBand = <u32>((word >> 52) & 0xf);
  let pinPlusOne = <u32>(word >> 56);
  into.pin = pinPlusOne == 0 ? SCHED_UNPINNED : pinPlusOne - 1;
  unpackScores(result(1), into.scores);
  into.priority = <u32>result(2);
  into.ticksSinceRun = <u32>(result(2) >> 32);
  into.runUs = result(3);
  into.waitUs = result(4);
  into.name = textFromBuffer(0, min(<i32>result(5), TEXT_BYTES));
  return status;
}

// The scheduler itself: SYS_SCHED_INFO of SCHED_INFO_SELF (tid 0).
@final export class SchedState {
  weights: StaticArray<u32> = new StaticArray<u32>(SCHED_SCORES);
  highCutoff: u32 = 0;         // priority >= this: high band
  mediumCutoff: u32 = 0;       // ... >= this: medium; below: low
  sliceTicks: u32 = 0;
  agingTicks: u32 = 0;         // ticks waiting before a thread is lifted one band
  timerHz: u32 = 0;
  cpus: u32 = 0;               // online
  decisions: u64 = 0;
  decisionCycles: u64 = 0;     // spent taking them
}

export function schedState(schedSlot: u32, into: SchedState): i32 {
  let status = syscall(SYS_SCHED_INFO, schedSlot, SCHED_INFO_SELF, userPointer(TEXT_BUFFER), <u64>TEXT_BYTES);
  if (status < 0) return status;
  unpackScores(result(0), into.weights);
  into.highCutoff = <u32>(result(1) & 0xffff);
  into.mediumCutoff = <u32>((result(1) >> 16) & 0xffff);
  into.sliceTicks = <u32>(result(2) & 0xffff);
  into.agingTicks = <u32>((result(2) >> 16) & 0xffff);
  into.timerHz = <u32>(result(2) >> 32);
  into.cpus = <u32>result(3);
  into.decisions = result(4);
  into.decisionCycles = result(5);
  return status;
}

// Sets score `what` (SCHED_URGENCY .. SCHED_TRUST, thousandths) or the pin
// (SCHED_PIN: a CPU or SCHED_UNPINNED) of the process behind
// `processSlot` (or SLOT_SELF). Raising one's own trust is E_DENIED.
export function schedSet(schedSlot: u32, processSlot: u32, what: u32, value: u32): i32 {
  return syscall(SYS_SCHED_SET, schedSlot, processSlot, what, value);
}

// The weight vector, thousandths summing to SCHED_ONE (else E_BAD_ARG and
// nothing changes).
export function schedTune(tuneSlot: u32, weights: StaticArray<u32>): i32 {
  return syscall(SYS_SCHED_TUNE, tuneSlot, weights[0], weights[1], weights[2], weights[3], weights[4]);
}

// One CPU, as SYS_CPU_INFO reports it.
@final export class CpuSched {
  cpu: u32 = 0;
  runningTid: u32 = 0;         // 0: idle
  hardwareId: u32 = 0;         // LAPIC id, MPIDR affinity
  queuedHigh: u32 = 0;         // ready threads queued, per band
  queuedMedium: u32 = 0;
  queuedLow: u32 = 0;
  ticks: u64 = 0;
  idleTicks: u64 = 0;
  switches: u64 = 0;           // context switches
  pulls: u64 = 0;              // threads it took from other CPUs

  get queued(): u32 { return this.queuedHigh + this.queuedMedium + this.queuedLow; }
}

// CPU `cpu`: E_NOT_FOUND past the last one online, E_BAD_ARG past MAX_CPUS.
export function cpuInfo(schedSlot: u32, cpu: u32, into: CpuSched): i32 {
  let status = syscall(SYS_CPU_INFO, schedSlot, cpu);
  if (status < 0) return status;
  into.cpu = cpu;
  into.runningTid = <u32>result(0);
  into.hardwareId = <u32>(result(0) >> 32);
  into.queuedHigh = <u32>(result(1) & 0xffff);
  into.queuedMedium = <u32>((result(1) >> 16) & 0xffff);
  into.queuedLow = <u32>(result(1) >> 32);
  into.ticks = result(2);
  into.idleTicks = result(3);
  into.switches = result(4);
  into.pulls = result(5);
  return status;
}
