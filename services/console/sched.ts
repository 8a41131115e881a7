// The scheduler's commands: sched (every thread), tune (the weight vector),
// explain (why one thread has its priority and band, and what the
// scheduler last did about it), cpus (each CPU's queues and counters).
//
// Through the console's CAP_SCHED [READ] (SLOT_SCHED), CAP_SCHED_TUNE
// [WRITE] (SLOT_SCHED_TUNE) and, for explain's history, CAP_AUDIT
// (SLOT_AUDIT). What the commands print is made by the pure functions
// below (parseWeights, explainLines, decisionLine, ...), which
// tests/unit/console.spec.ts calls directly as well as through the shell.
//
// Thousandths are printed exactly where they are a setting ("0.05") and
// with fixed decimals where they stand in a column ("0.84").

import {
  AUDIT_BACKWARD, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_PROCESS, AUDIT_TARGET_SCHED, E_BAD_ARG,
  E_NOT_FOUND, E_OK, MAX_CPUS, MAX_THREADS, SCHED_ONE, SCHED_SCORES, SYS_SCHED_SET, SYS_SCHED_TUNE,
} from "../../kernel/abi";
import {
  AuditRecord, CpuSched, DEFAULT_WEIGHTS, PARSE_ABOVE_ONE, PARSE_NEGATIVE, PARSE_NOT_A_NUMBER, PARSE_TOO_PRECISE,
  SchedState, ThreadSched, auditRead, bandName, cpuInfo, errorName, hex, isSchedDecision, padLeft, padRight,
  parseDecimal, parseThousandths, schedDecisionText, schedInfo, schedState, schedTune, scoreName, threadStateName,
  thousandthsFixed, thousandthsText,
} from "../lib";
import { Shell, printError } from "./shell";
import { SLOT_AUDIT, SLOT_SCHED, SLOT_SCHED_TUNE } from "./slots";

// explain looks at most this far back in the audit ring, and shows at
// most this many decisions.
export const EXPLAIN_MAX_RECORDS: i32 = 256;
export const EXPLAIN_MAX_DECISIONS: i32 = 8;

export function addSchedCommands(shell: Shell): void {
  shell.add("sched", "sched", "every thread: scores, priority, band, cpu, times", cmdSched);
  shell.add("tune", "tune [weights]", "show or set the weights (five, summing to 1; default)", cmdTune);
  shell.add("explain", "explain <tid>", "why a thread has its band; the last decisions", cmdExplain);
  shell.add("cpus", "cpus", "each CPU: running thread, queues, idle share, switches", cmdCpus);
}

// ---- sched ----

// "weights 0.4,0.3,0.2,0.05,0.05  high >= 0.8  medium >= 0.5  slice 5 ticks
// aging 25 ticks  100 Hz  2 cpus"
export function schedHeader(state: SchedState): string {
  return "weights " + weightsList(state.weights) + "  high >= " + thousandthsText(state.highCutoff) +
    "  medium >= " + thousandthsText(state.mediumCutoff) + "  slice " + state.sliceTicks.toString() + " ticks" +
    "  aging " + state.agingTicks.toString() + " ticks  " + state.timerHz.toString() + " Hz  " +
    state.cpus.toString() + (state.cpus == 1 ? " cpu" : " cpus");
}

export function threadTableHeader(): string {
  return padLeft("TID", 5) + "  " + padRight("NAME", 12) + " URG  IMP  EFF  ENE  TRU   PRIO  " +
    padRight("BAND", 15) + padLeft("CPU", 3) + padLeft("PIN", 5) + padLeft("RUN ms", 9) + padLeft("WAIT ms", 9);
}

export function threadRow(t: ThreadSched): string {
  let scores = "";
  for (let i = 0; i < <i32>SCHED_SCORES; i++) scores += " " + thousandthsFixed(t.scores[i], 2);
  let band = bandName(t.band) + (t.aged ? " (" + bandName(t.baseBand) + ")" : "");
  return padLeft(t.tid.toString(), 5) + "  " + padRight(t.name.length > 0 ? t.name : "-", 12) + scores +
    padLeft(thousandthsFixed(t.priority, 3), 7) + "  " + padRight(band, 15) + padLeft(t.cpu.toString(), 3) +
    padLeft(t.pinned ? t.pin.toString() : "-", 5) + padLeft((t.runUs / 1000).toString(), 9) +
    padLeft((t.waitUs / 1000).toString(), 9);
}

function cmdSched(shell: Shell, args: string[]): void {
  if (args.length > 0) {
    shell.println("usage: sched");
    return;
  }
  let state = new SchedState();
  let status = schedState(SLOT_SCHED, state);
  if (status < 0) return printError(shell, "sched", status);
  shell.println(schedHeader(state));
  let thread = new ThreadSched();
  let rows = 0;
  // Up to MAX_THREADS, or the kernel's E_BAD_ARG if it has fewer.
  for (let tid: u32 = 1; tid < MAX_THREADS; tid++) {
    status = schedInfo(SLOT_SCHED, tid, thread);
    if (status == E_NOT_FOUND) continue;
    if (status == E_BAD_ARG) break;
    if (status < 0) return printError(shell, "sched", status);
    if (rows++ == 0) shell.println(threadTableHeader());
    shell.println(threadRow(thread));
  }
  if (rows == 0) shell.println("(no threads)");
}

// ---- tune ----

// The weights a `tune` line asks for, or why they cannot be.
export class WeightsParse {
  weights: StaticArray<u32> = new StaticArray<u32>(SCHED_SCORES);
  error: string = "";

  get ok(): bool { return this.error.length == 0; }
}

// "0.4,0.3,0.2,0.05,0.05" (one word), "0.4 0.3 0.2 0.05 0.05" (five), or
// a mix ("0.4, 0.3, ..."); "default" for the kernel's starting weights.
// Each weight from 0 to 1 with at most three decimals, read exactly into
// thousandths; together they must make exactly 1.
export function parseWeights(args: string[]): WeightsParse {
  let parse = new WeightsParse();
  if (args.length == 1 && args[0] == "default") {
    for (let i = 0; i < <i32>SCHED_SCORES; i++) parse.weights[i] = DEFAULT_WEIGHTS[i];
    return parse;
  }
  let words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let pieces = args[i].split(",");
    for (let j = 0; j < pieces.length; j++) if (pieces[j].length > 0) words.push(pieces[j]);
  }
  if (words.length != <i32>SCHED_SCORES) {
    parse.error = SCHED_SCORES.toString() + " weights are needed (urgency, importance, efficiency, energy, trust), got " +
      words.length.toString();
    return parse;
  }
  let sum: u32 = 0;
  for (let i = 0; i < words.length; i++) {
    let value = parseThousandths(words[i]);
    if (value < 0) {
      parse.error = "weight " + (i + 1).toString() + " (" + scoreName(<u32>i) + ") '" + words[i] + "' " + whyNotWeight(value);
      return parse;
    }
    parse.weights[i] = <u32>value;
    sum += <u32>value;
  }
  if (sum != SCHED_ONE) parse.error = "the weights sum to " + thousandthsText(sum) + ", not 1";
  return parse;
}

function whyNotWeight(problem: i32): string {
  if (problem == PARSE_NEGATIVE) return "is negative";
  if (problem == PARSE_ABOVE_ONE) return "is above 1";
  if (problem == PARSE_TOO_PRECISE) return "has more than 3 decimals";
  return "is not a number"; // PARSE_NOT_A_NUMBER
}

// "0.4,0.3,0.2,0.05,0.05"
export function weightsList(weights: StaticArray<u32>): string {
  let text = "";
  for (let i = 0; i < <i32>SCHED_SCORES; i++) text += (i > 0 ? "," : "") + thousandthsText(weights[i]);
  return text;
}

// "urgency 0.4, importance 0.3, efficiency 0.2, energy 0.05, trust 0.05"
export function weightsText(weights: StaticArray<u32>): string {
  let text = "";
  for (let i = 0; i < <i32>SCHED_SCORES; i++) {
    text += (i > 0 ? ", " : "") + scoreName(<u32>i) + " " + thousandthsText(weights[i]);
  }
  return text;
}

function cmdTune(shell: Shell, args: string[]): void {
  let state = new SchedState();
  if (args.length == 0) {
    let status = schedState(SLOT_SCHED, state);
    if (status < 0) return printError(shell, "tune", status);
    shell.println("weights " + weightsText(state.weights));
    return;
  }
  let parse = parseWeights(args);
  if (!parse.ok) {
    shell.println("error: tune: " + parse.error);
    return;
  }
  let status = schedTune(SLOT_SCHED_TUNE, parse.weights);
  if (status < 0) return printError(shell, "tune", status);
  // What the kernel holds now, if the console may read it; else what it took.
  let now = schedState(SLOT_SCHED, state) == E_OK ? state.weights : parse.weights;
  shell.println("weights now " + weightsText(now));
}

// ---- explain ----

// Why `t` has its priority and band, given the scheduler's state: the
// breakdown, the cut-off that placed it, aging, pinning, where it is.
export function explainLines(t: ThreadSched, state: SchedState): string[] {
  let lines: string[] = [];
  lines.push("thread " + t.tid.toString() + ": " + (t.name.length > 0 ? t.name : "?") + " (pid " + t.pid.toString() + "), " +
    threadStateName(t.state) + " on cpu " + t.cpu.toString());
  lines.push("  " + padRight("score", 12) + "weight    score     contribution");
  let millionths: u64 = 0;
  for (let i = 0; i < <i32>SCHED_SCORES; i++) {
    let part = <u64>state.weights[i] * <u64>t.scores[i];
    millionths += part;
    lines.push("  " + padRight(scoreName(<u32>i), 12) + thousandthsFixed(state.weights[i], 3) + "  x  " +
      thousandthsFixed(t.scores[i], 3) + "  =  " + thousandthsFixed(<u32>((part + 500) / 1000), 3));
  }
  lines.push("  " + padRight("priority", 12) + padLeft("", 20) + thousandthsFixed(t.priority, 3));
  let computed = <u32>(millionths / 1000);
  if (computed != t.priority) {
    lines.push("  (these weights and scores make " + thousandthsFixed(computed, 3) +
      " now; the kernel's priority is from its last decision about it)");
  }
  lines.push("base band " + bandName(t.baseBand) + ": " + cutoffText(t.priority, state));
  if (t.aged) {
    lines.push("aged: queued in band " + bandName(t.band) + ", lifted from " + bandName(t.baseBand) +
      " by waiting (a band per " + state.agingTicks.toString() + " ticks ready; last ran " +
      t.ticksSinceRun.toString() + " ticks ago)");
  } else {
    lines.push("not aged: queued in its own band (last ran " + t.ticksSinceRun.toString() + " ticks ago)");
  }
  lines.push(t.pinned ? "pinned to cpu " + t.pin.toString() : "not pinned: any cpu");
  lines.push("ran " + (t.runUs / 1000).toString() + " ms, waited " + (t.waitUs / 1000).toString() + " ms ready");
  return lines;
}

// Which cut-off puts `priority` in its band.
export function cutoffText(priority: u32, state: SchedState): string {
  let p = "priority " + thousandthsFixed(priority, 3);
  let high = thousandthsText(state.highCutoff) + " (high cut-off)";
  let medium = thousandthsText(state.mediumCutoff) + " (medium cut-off)";
  if (priority >= state.highCutoff) return p + " >= " + high;
  if (priority >= state.mediumCutoff) return medium + " <= " + p + " < " + high;
  return p + " < " + medium;
}

// One audit record as a line of explain's history of thread `t`, or null
// when it is not about `t`: the scheduler's decisions about its pid (a
// preemption also when it was the one preempted), scores or pins set on
// it, and every change of the weights (they move everyone).
export function decisionLine(r: AuditRecord, t: ThreadSched): string | null {
  let pid = <u64>t.pid;
  let op = r.syscall;
  let text = "";
  if (isSchedDecision(op) && r.targetKind == AUDIT_TARGET_SCHED) {
    if (r.caller == pid) {
      text = schedDecisionText(op, r.target);
      if (op == <u32>AUDIT_OP_SCHED_MIGRATE) text += t.pinned && t.pin == ((r.target >> 8) & 0xff) ? " (pinned there)" : " (balancing)";
    } else if (op == <u32>AUDIT_OP_SCHED_PREEMPT && <u64>r.target == pid) {
      text = "preempted by pid " + r.caller.toString();
    }
  } else if (op == SYS_SCHED_SET) {
    let about = r.targetKind == AUDIT_TARGET_PROCESS ? <u64>r.target : r.caller;
    if (about == pid) text = r.caller == pid ? "set its own score or pin" : "pid " + r.caller.toString() + " set its score or pin";
  } else if (op == SYS_SCHED_TUNE) {
    text = "pid " + r.caller.toString() + " tuned the weights";
  }
  if (text.length == 0) return null;
  let line = "#" + r.traceId.toString() + " tick " + r.tick.toString() + ": " + text;
  if (r.verdict != E_OK) line += " (refused: " + errorName(r.verdict) + ")";
  if (r.times > 1) line += " (x" + r.times.toString() + ")";
  return line;
}

function cmdExplain(shell: Shell, args: string[]): void {
  let tid = args.length == 1 ? parseDecimal(args[0]) : -1;
  if (tid <= 0 || tid > <i64>u32.MAX_VALUE) {
    shell.println("usage: explain <tid> (a thread number from `sched`)");
    return;
  }
  let thread = new ThreadSched();
  let status = schedInfo(SLOT_SCHED, <u32>tid, thread);
  if (status == E_NOT_FOUND) return printError(shell, "explain: no thread " + tid.toString(), status);
  if (status == E_BAD_ARG) return printError(shell, "explain: tid " + tid.toString() + " is out of range", status);
  if (status < 0) return printError(shell, "explain", status);
  let state = new SchedState();
  status = schedState(SLOT_SCHED, state);
  if (status < 0) return printError(shell, "explain", status);
  let lines = explainLines(thread, state);
  for (let i = 0; i < lines.length; i++) shell.println(lines[i]);
  printDecisions(shell, thread);
}

// The newest decisions about `t`, newest first: a bounded walk backward
// through the audit ring.
function printDecisions(shell: Shell, t: ThreadSched): void {
  let found: string[] = [];
  let record = new AuditRecord();
  let sequence: u64 = u64.MAX_VALUE;
  let read = 0;
  for (; read < EXPLAIN_MAX_RECORDS && found.length < EXPLAIN_MAX_DECISIONS; read++) {
    let status = auditRead(SLOT_AUDIT, sequence, AUDIT_BACKWARD, record);
    if (status == E_NOT_FOUND) break;
    if (status < 0) return printError(shell, "explain: audit ring", status);
    let line = decisionLine(record, t);
    if (line !== null) found.push(line);
    if (record.traceId == 0) break;
    sequence = record.traceId - 1;
  }
  if (found.length == 0) {
    shell.println("no scheduler decisions about it in the last " + read.toString() + " audit records");
    return;
  }
  shell.println("last decisions, newest first:");
  for (let i = 0; i < found.length; i++) shell.println("  " + found[i]);
}

// ---- cpus ----

export function cpuTableHeader(): string {
  return padLeft("CPU", 4) + padLeft("HWID", 8) + padLeft("RUNNING", 9) + padLeft("QUEUED", 8) + "  " +
    padRight("H/M/L", 10) + padLeft("TICKS", 9) + padLeft("IDLE", 6) + padLeft("SWITCHES", 10) + padLeft("PULLS", 7);
}

export function cpuRow(c: CpuSched): string {
  let idle = c.ticks > 0 ? (c.idleTicks * 100 / c.ticks).toString() + "%" : "-";
  let perBand = c.queuedHigh.toString() + "/" + c.queuedMedium.toString() + "/" + c.queuedLow.toString();
  return padLeft(c.cpu.toString(), 4) + padLeft(hex(c.hardwareId), 8) +
    padLeft(c.runningTid != 0 ? c.runningTid.toString() : "idle", 9) + padLeft(c.queued.toString(), 8) + "  " +
    padRight(perBand, 10) + padLeft(c.ticks.toString(), 9) + padLeft(idle, 6) + padLeft(c.switches.toString(), 10) +
    padLeft(c.pulls.toString(), 7);
}

function cmdCpus(shell: Shell, args: string[]): void {
  if (args.length > 0) {
    shell.println("usage: cpus");
    return;
  }
  let info = new CpuSched();
  let rows = 0;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    let status = cpuInfo(SLOT_SCHED, cpu, info);
    if (status == E_NOT_FOUND || status == E_BAD_ARG) break;
    if (status < 0) return printError(shell, "cpus", status);
    if (rows++ == 0) shell.println(cpuTableHeader());
    shell.println(cpuRow(info));
  }
  if (rows == 0) shell.println("(no cpus)");
}
