// ping: a test-only IPC client (services/boot.json test_only) that measures
// round trips to pingd, which pins itself to the last CPU online. Rounds
// repeat every PAUSE_MS, each logging two lines:
//
//   [ping] cpu 3 -> cpu 3: 2511 cycles per round trip; cpu 2 -> cpu 3: 4130 (500 runs each)
//   [ping] 7284 round trips in 100 ms on cpu 3 (72844 per s), 1.97 CPUs busy, 2210 scheduler decisions in 910520 cycles
//
// The first: ping pins itself to pingd's CPU (each round trip is two
// context switches on one CPU), then to the CPU before it (a wake-up of
// the other CPU each way); without a second CPU only the first figure.
// Cycles are the kernel's cycle counter (KERNEL_INFO_UPTIME r3): the TSC,
// or CNTVCT_EL0 on AArch64 (docs/benchmarks.md converts).
// The second (with more than one CPU): calls from pingd's CPU for
// WINDOW_NS of guest time, and how
// many CPUs were busy meanwhile, from each CPU's ticks and idle ticks
// (SYS_CPU_INFO): the pair itself is one, spinners the rest; and the
// scheduler's decisions in that time and the cycles spent in them
// (SYS_SCHED_INFO tid 0, r4 and r5: a decision can take less than one
// tick of AArch64's 62.5 MHz counter, so the sum, not a mean).
//
// Slots (services/ping/manifest.json): 0 "ping" [call], 1 the scheduler
// [read, write] (CPUs, their ticks, its own pin), 2 the log.

import {
  E_OK, E_RATE_LIMITED, KERNEL_INFO_UPTIME, SCHED_INFO_SELF, SCHED_PIN, SLOT_SELF, SYS_CPU_INFO,
  SYS_SCHED_INFO, SYS_SCHED_SET,
} from "../../kernel/abi";
import { Message, call, errorName, kernelInfo, log, result, setLogSlot, sleep, sysYield, syscall } from "../lib";
import { PING_ECHO, PING_WHERE } from "../pingd/protocol";

const SLOT_PING: u32 = 0;
const SLOT_SCHED: u32 = 1;
const SLOT_LOG: u32 = 2;

// Light enough that the machine is mostly quiet between rounds: every call
// takes the big kernel lock, which the console and the spinners' ticks need too.
const ROUND_TRIPS: u32 = 500;
const WARM_UP: u32 = 10;
const WINDOW_NS: u64 = 100_000_000;
const CLOCK_EVERY: u32 = 64;    // round trips between clock reads in the window
const PAUSE_MS: u32 = 1000;

const answer = new Message();
let rateLimited: u64 = 0;
let failed = false;

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  let status = syscall(SYS_SCHED_INFO, SLOT_SCHED, SCHED_INFO_SELF);
  let cpus = status == E_OK ? <u32>result(3) : 1;
  status = call(SLOT_PING, PING_WHERE, 0, 0, 0, 0, answer);
  if (status < 0 || answer.status != E_OK) {
    log("pingd does not answer: " + errorName(status < 0 ? status : answer.status));
    return 1;
  }
  let server = <u32>answer.w0;
  let other = (server + cpus - 1) % cpus;
  for (;;) {
    if (!pin(server)) return 1;
    let same = roundTripCycles();
    let line = "cpu " + server.toString() + " -> cpu " + server.toString() + ": " + same.toString() + " cycles per round trip";
    if (other != server) {
      if (!pin(other)) return 1;
      let cross = roundTripCycles();
      line += "; cpu " + other.toString() + " -> cpu " + server.toString() + ": " + cross.toString();
    }
    if (failed) return 1;
    log(line + " (" + ROUND_TRIPS.toString() + " runs each)");
    // On one CPU a window of calls in the medium band would hold the
    // spinners off long enough for aging to lift them: the figure is for
    // machines with several CPUs only.
    if (cpus > 1) {
      if (!pin(server)) return 1;
      throughput(server, cpus);
      if (failed) return 1;
    }
    sleep(PAUSE_MS);
  }
  return 0; // never reached
}

// Pins the caller to `cpu` and gives the CPU up, so it runs there next.
function pin(cpu: u32): bool {
  let status = syscall(SYS_SCHED_SET, SLOT_SCHED, SLOT_SELF, SCHED_PIN, cpu);
  if (status != E_OK) {
    log("cannot pin itself to cpu " + cpu.toString() + ": " + errorName(status));
    return false;
  }
  sysYield();
  return true;
}

// One round trip to pingd; a rate-limited call is retried after a yield.
function roundTrip(): void {
  for (;;) {
    let status = call(SLOT_PING, PING_ECHO, 0, 0, 0, 0, answer);
    if (status == E_OK && answer.status == E_OK) return;
    if (status == E_RATE_LIMITED) {
      rateLimited++;
      sysYield();
      continue;
    }
    if (!failed) log("round trip failed: " + errorName(status < 0 ? status : answer.status));
    failed = true;
    return;
  }
}

function cycles(): u64 {
  kernelInfo(KERNEL_INFO_UPTIME);
  return result(3);
}

function uptimeNs(): u64 {
  kernelInfo(KERNEL_INFO_UPTIME);
  return result(0);
}

// Cycles per round trip over ROUND_TRIPS, less the cost of reading the counter.
function roundTripCycles(): u64 {
  for (let i: u32 = 0; i < WARM_UP; i++) roundTrip();
  let t0 = cycles();
  let overhead = cycles() - t0;
  let start = cycles();
  for (let i: u32 = 0; i < ROUND_TRIPS; i++) roundTrip();
  let total = cycles() - start;
  return (total > overhead ? total - overhead : 0) / <u64>ROUND_TRIPS;
}

// Ticks and idle ticks summed per CPU, before and after the window.
const ticksBefore = new StaticArray<u64>(16);
const idleBefore = new StaticArray<u64>(16);

// Hundredths of a CPU busy since readBusyStart(): each CPU's share of ticks not idle.
function readBusyStart(cpus: u32): void {
  for (let cpu: u32 = 0; cpu < cpus && cpu < 16; cpu++) {
    syscall(SYS_CPU_INFO, SLOT_SCHED, cpu);
    ticksBefore[cpu] = result(2);
    idleBefore[cpu] = result(3);
  }
}

function busyHundredths(cpus: u32): u64 {
  let busy: u64 = 0;
  for (let cpu: u32 = 0; cpu < cpus && cpu < 16; cpu++) {
    if (syscall(SYS_CPU_INFO, SLOT_SCHED, cpu) != E_OK) continue;
    let ticks = result(2) - ticksBefore[cpu];
    let idle = result(3) - idleBefore[cpu];
    if (ticks > 0 && idle <= ticks) busy += (ticks - idle) * 100 / ticks;
  }
  return busy;
}

// Round trips from pingd's CPU for WINDOW_NS of guest time.
function throughput(server: u32, cpus: u32): void {
  rateLimited = 0;
  readBusyStart(cpus);
  syscall(SYS_SCHED_INFO, SLOT_SCHED, SCHED_INFO_SELF);
  let decisions = result(4);
  let decisionCycles = result(5);
  let start = uptimeNs();
  let now = start;
  let count: u64 = 0;
  while (now - start < WINDOW_NS && !failed) {
    for (let i: u32 = 0; i < CLOCK_EVERY; i++) roundTrip();
    count += CLOCK_EVERY;
    now = uptimeNs();
  }
  let busy = busyHundredths(cpus);
  syscall(SYS_SCHED_INFO, SLOT_SCHED, SCHED_INFO_SELF);
  decisions = result(4) - decisions;
  decisionCycles = result(5) - decisionCycles;
  let elapsed = now - start;
  let perSecond = count * 1_000_000_000 / (elapsed > 0 ? elapsed : 1);
  let line = count.toString() + " round trips in " + (elapsed / 1_000_000).toString() + " ms on cpu " + server.toString() +
    " (" + perSecond.toString() + " per s), " + (busy / 100).toString() + "." + (busy % 100 < 10 ? "0" : "") +
    (busy % 100).toString() + " CPUs busy, " + decisions.toString() + " scheduler decisions in " +
    decisionCycles.toString() + " cycles";
  if (rateLimited > 0) line += ", rate-limited " + rateLimited.toString() + " times";
  log(line);
}
