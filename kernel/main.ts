// The kernel's entries. The trampoline calls nothing else; each entry runs
// to completion with interrupts off and returns the thread to run next
// (0: none yet, the CPU idles until the next interrupt).

import * as arch from "./arch";
import { bootInfoFrom } from "../boot/index";
import { BootInfo } from "../boot/bootinfo";
import { println } from "./console";
import { sizeText } from "./format";
import { frame_alloc, frame_free, frames_init, frames_total_bytes, E_OK } from "./frames";
import { faultHandle, zombieReap } from "./proc";
import {
  schedAfterInterrupt, schedCpuAdd, schedCpuHwidSet, schedCpuOnline, schedEnter, schedHere, schedTimerTick,
} from "./sched";
import { MAX_CPUS } from "./abi";
import { irqDeliver } from "./ipc";
import { bootReportMake } from "./bootreport";
import { servicesStart } from "./services";
import { shellInput, shellStart } from "./shell";
import { syscallDispatch, syscallMachineSet } from "./syscall";
import { KERNEL_VERSION, TIMER_HZ, timerTick } from "./state";
// The abort handler (asconfig.json: use abort=kernel/panic/kernel_abort).
import "./panic";

// True once init runs: the console service owns the UART from then on.
let servicesRunning = false;

function bootFailed(message: string): void {
  println("boot failed: " + message);
  unreachable();
}

export function kernel_main(protocol: u32, info: u64, handoff: u64): u32 {
  let mainCycles = arch.cycles();
  let result = bootInfoFrom(protocol, info, handoff);
  if (!result.ok) bootFailed(result.message);
  let boot = changetype<BootInfo>(result.info);
  for (let i = 0; i < boot.warnings.length; i++) println("boot: " + boot.warnings[i]);

  if (frames_init(boot.memory, boot.reservedRanges()) != E_OK) bootFailed("no usable memory in the memory map");

  let cpus = boot.cpuCount > 0 ? boot.cpuCount : 1;
  println("");
  println("CAM-OS " + KERNEL_VERSION + " on " + boot.arch + ": " + sizeText(frames_total_bytes()) + " memory, " +
    cpus.toString() + (cpus == 1 ? " CPU" : " CPUs") + ", booted by " + boot.protocol);
  arch.timer_start(TIMER_HZ);
  syscallMachineSet(boot.arch, boot.powerMethod, boot.powerArg0, boot.powerArg1);
  bootReportMake(boot);
  let first = servicesStart(boot);
  servicesRunning = first != 0;
  if (servicesRunning) cpusStart(boot);
  // Boot cost, read by tools/figures.ts (under QEMU -icount shift=0 an
  // x86_64 cycle is one guest instruction): to the first thread (init) or
  // the kernel's own prompt; the console reports its prompt's cycle itself.
  let now = arch.cycles();
  println("boot: " + (now - boot.entryCycles).toString() + " cycles from trampoline entry to the first thread, " +
    (now - mainCycles).toString() + " in kernel_main; cycle counter " + now.toString());
  // Without services the kernel's own shell is all there is to talk to.
  if (!servicesRunning) {
    println("Type 'help' for the commands.");
    shellStart(boot);
  }
  return first;
}

// An application processor joins (arch.cpu_start brought it up).
export function kernel_cpu_online(cpu: u32): u32 {
  schedEnter();
  return schedCpuOnline(cpu);
}

// Starts every other CPU the boot information lists (cpu 1, 2, ... in the
// order they come up). They join through kernel_cpu_online once this entry
// ends. Without services there is nothing for them to run: they stay off.
function cpusStart(boot: BootInfo): void {
  if (boot.cpus.length <= 1) {
    // One CPU listed (or none): the one running. A one-CPU device tree
    // need not say how to start it.
    if (boot.cpus.length == 1) schedCpuHwidSet(0, boot.cpus[0].hwid);
    println("smp: 1 CPU online");
    return;
  }
  let next: u32 = 1;
  let hwids: string[] = [];
  if (boot.bootCpuHwid != U64.MAX_VALUE) hwids.push("0x" + boot.bootCpuHwid.toString(16));
  let failed = "";
  for (let i = 0; i < boot.cpus.length; i++) {
    let entry = boot.cpus[i];
    if (entry.hwid == boot.bootCpuHwid) {
      schedCpuHwidSet(0, entry.hwid);
      continue;
    }
    if (next >= MAX_CPUS || next >= arch.ARCH_MAX_CPUS) {
      println("smp: only " + next.toString() + " CPUs are used; " + (boot.cpus.length - i).toString() + " more left off");
      break;
    }
    let status = entry.method == 0 ? -2 : arch.cpu_start(next, entry.method, entry.hwid, entry.handle);
    if (status == 1) {
      schedCpuHwidSet(0, entry.hwid);
      hwids.unshift("0x" + entry.hwid.toString(16));
    } else if (status == 0) {
      schedCpuAdd(next, entry.hwid);
      hwids.push("0x" + entry.hwid.toString(16));
      next++;
    } else {
      failed += " 0x" + entry.hwid.toString(16) + (status == -2 ? " (no start method)" : " (did not come up)");
    }
  }
  println("smp: " + next.toString() + (next == 1 ? " CPU" : " CPUs") + " online" +
    (hwids.length > 0 ? " (hardware ids " + hwids.join(", ") + ")" : ""));
  if (failed.length > 0) println("smp: not started:" + failed);
}

export function kernel_irq(source: u32): u32 {
  schedEnter();
  zombieReap();
  if (source == arch.IRQ_TIMER) {
    if (schedHere() == 0) timerTick();
    return servicesRunning ? schedTimerTick() : 0;
  }
  if (source == arch.IRQ_RESCHEDULE) return servicesRunning ? schedAfterInterrupt() : 0;
  if (!servicesRunning) {
    if (source == arch.IRQ_CONSOLE) shellInput();
    return 0;
  }
  return irqDeliver(source);
}

// Called by the runtime while it grows linear memory, possibly in the middle
// of an allocation: frame_alloc allocates nothing (kernel/frames.ts).
export function kernel_frame_alloc(): u64 {
  return frame_alloc();
}

// Gives back a page-table frame of a destroyed address space.
export function kernel_frame_free(phys: u64): void {
  frame_free(phys);
}

export function kernel_syscall(tid: u32, number: u32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): u32 {
  schedEnter();
  return syscallDispatch(tid, number, a0, a1, a2, a3, a4, a5);
}

export function kernel_fault(tid: u32, kind: u32, address: u64, ip: u64, code: u64): u32 {
  schedEnter();
  zombieReap();
  return faultHandle(tid, kind, address, ip, code);
}
