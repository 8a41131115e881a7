// spin: a test-only CPU-bound service (services/boot.json test_only). It
// never blocks: it does units of arithmetic and, about once a second of
// guest time, logs how many units it has done:
//
//   [spin] progress 17
//
// The count grows only while the scheduler gives it a CPU, so two
// spinners' counts show how the CPU time was shared. spin2 and spin3 are
// this program under other names (services/services.mk SERVICE_ALIASES),
// each with its own manifest, so several CPU-bound threads run at once.
// Their manifests put them in the low band: every other thread goes first,
// and they run on what is left (or when aging lifts them).
//
// Slots (services/spin/manifest.json): 0 the log.

import { KERNEL_INFO_UPTIME } from "../../kernel/abi";
import { kernelInfo, log, result, setLogSlot } from "../lib";

const SLOT_LOG: u32 = 0;
// One unit: 2^20 rounds of xorshift32, about 6 M instructions, some tens of
// milliseconds under TCG; the clock is read once per unit.
const UNIT_ROUNDS: i32 = 1 << 20;
const REPORT_EVERY_NS: u64 = 1_000_000_000;

// The xorshift state lives in a global, so the compilers cannot drop the loop.
let state: u32 = 0x2545f491;

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  let units: u64 = 0;
  let lastReport = uptimeNs();
  for (;;) {
    work(UNIT_ROUNDS);
    units++;
    let now = uptimeNs();
    if (now - lastReport >= REPORT_EVERY_NS) {
      log("progress " + units.toString());
      lastReport = now;
    }
  }
  return 0; // never reached
}

function work(rounds: i32): void {
  let x = state;
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
  }
  state = x;
}

function uptimeNs(): u64 {
  kernelInfo(KERNEL_INFO_UPTIME);
  return result(0);
}
