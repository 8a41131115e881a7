// urgent: a test-only service in the high band (services/boot.json
// test_only) that measures how late the scheduler runs it after a sleep.
// SYS_SLEEP wakes a thread on the timer tick that ends its sleep (ticks
// rounded up), so a sleep begun in tick T is due at the start of tick
// T + ceil(SLEEP_MS / tick), and
//
//   late = the clock when it runs again - the start of that tick.
//
// Tick starts are found once by watching the tick counter move
// (nextTickStart); after that each wake, within its tick, is where the next
// sleep begins, so the next one is due exactly sleepTicks later. Waking a
// whole tick late, and every RESYNC_WINDOWS report windows, find a tick
// start afresh, so a clock that drifts against the timer cannot add up.
//
// Every REPORT_EVERY wakes it logs the worst and the mean of that window:
//
//   [urgent] wake latency max 412 us, mean 96 us over 20 wakes (tick 10000 us)
//
// A high-band thread that becomes ready must take the CPU from a low-band
// one at once (preemption on wake-up), so with spinners busy the worst
// stays well under one time slice; without preemption it would wait out
// the spinner's slice.
//
// Slots (services/urgent/manifest.json): 0 the log.

import { KERNEL_INFO_UPTIME } from "../../kernel/abi";
import { kernelInfo, log, result, setLogSlot, sleep } from "../lib";

const SLOT_LOG: u32 = 0;
const SLEEP_MS: u32 = 30;
const REPORT_EVERY: u32 = 20;   // wakes per line: about a second
// Report windows between fresh tick starts: finding one reads the clock in
// a loop for up to a tick, kernel entries that other CPUs wait for.
const RESYNC_WINDOWS: u32 = 10;

let nowNs: u64 = 0;
let nowTicks: u64 = 0;
let ticksPerSecond: u64 = 0;

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  readClock();
  if (ticksPerSecond == 0) {
    log("no timer: nothing to measure");
    return 1;
  }
  let tickNs = 1_000_000_000 / ticksPerSecond;
  let sleepTicks = (<u64>SLEEP_MS * ticksPerSecond + 999) / 1000;
  let worst: u64 = 0;
  let total: u64 = 0;
  let wakes: u32 = 0;
  let windows: u32 = 0;
  let due = nextTickStart();
  let dueTick = nowTicks;
  for (;;) {
    sleep(SLEEP_MS);
    readClock();
    due += sleepTicks * tickNs;
    dueTick += sleepTicks;
    let late = nowNs > due ? nowNs - due : 0;
    if (late > worst) worst = late;
    total += late;
    wakes++;
    if (wakes == REPORT_EVERY) {
      log("wake latency max " + (worst / 1000).toString() + " us, mean " + (total / <u64>wakes / 1000).toString() +
        " us over " + wakes.toString() + " wakes (tick " + (tickNs / 1000).toString() + " us)");
      worst = 0;
      total = 0;
      wakes = 0;
    }
    if (nowTicks != dueTick || (wakes == 0 && ++windows % RESYNC_WINDOWS == 0)) {
      due = nextTickStart();
      dueTick = nowTicks;
    }
  }
  return 0; // never reached
}

function readClock(): void {
  kernelInfo(KERNEL_INFO_UPTIME);
  nowNs = result(0);
  nowTicks = result(1);
  ticksPerSecond = result(2);
}

// Waits (reading the clock) for the tick counter to move; returns the time
// the new tick was first seen, which is within a few system calls of its start.
function nextTickStart(): u64 {
  readClock();
  let tick = nowTicks;
  while (nowTicks == tick) readClock();
  return nowNs;
}
