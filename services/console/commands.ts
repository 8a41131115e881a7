// The console's commands: the kernel shell's (help, version, mem, uptime,
// echo, bootinfo, panic, reboot, halt), and the user-space ones (ps, kill,
// caps, audit, ipc; the scheduler's sched, tune, explain, cpus in sched.ts).
// Output formats are the kernel shell's where a command existed there.
// Kernel facts come through SYS_KERNEL_INFO, power through CAP_POWER; a
// refused call prints "error: <command>: <E_NAME>".

import {
  AUDIT_BACKWARD, AUDIT_DENIALS_ONLY, CAP_NONE, CAP_ENDPOINT, CAP_NOTIFICATION, CAP_IRQ, CAP_IO_PORTS, CAP_MMIO, CAP_MEMORY,
  CAP_PROCESS, CAP_SLOTS, E_BAD_SLOT, E_NOT_FOUND, E_BAD_ARG, KERNEL_INFO_MEMORY, KERNEL_INFO_UPTIME,
  KERNEL_INFO_VERSION, MAX_ENDPOINTS, POWER_OFF, POWER_RESET, SLOT_SELF, SYS_NULL, E_OK,
} from "../../kernel/abi";
import {
  AuditRecord, CapInfo, IpcStats, Message, auditRead, auditTargetText, call, capInfo, capTypeName,
  errorName, hex, ipcStats, kernelBootLine, kernelInfo, nameFromWords, padLeft, padRight, parseDecimal, power, result,
  rightsText, secondsText, serviceStateName, sizeText, syscallName,
  INIT_PS, INIT_KILL, INIT_CAPS, INIT_PING, syscall,
} from "../lib";
import { addSchedCommands } from "./sched";
import { Shell, printError } from "./shell";
import { SLOT_AUDIT, SLOT_INIT, SLOT_POWER } from "./slots";

export const AUDIT_DEFAULT_RECORDS: i32 = 10;
export const AUDIT_MAX_RECORDS: i32 = 64;
const MAX_PS_ENTRIES: u64 = 64;

const answer = new Message();
const capability = new CapInfo();

export function addCommands(shell: Shell): void {
  shell.add("help", "help", "list the commands", cmdHelp);
  shell.add("version", "version", "kernel version and architecture", cmdVersion);
  shell.add("mem", "mem", "physical memory and kernel heap totals", cmdMem);
  shell.add("uptime", "uptime", "time since boot", cmdUptime);
  shell.add("echo", "echo [text...]", "print the arguments", cmdEcho);
  shell.add("bootinfo", "bootinfo", "what the boot loader handed over", cmdBootinfo);
  shell.add("ps", "ps", "the services init supervises", cmdPs);
  shell.add("kill", "kill <pid>", "stop a service (init restarts it)", cmdKill);
  shell.add("caps", "caps [pid]", "the capabilities of a process (default: the console)", cmdCaps);
  shell.add("audit", "audit [denied] [n]", "the last n audit records, or denials only (default 10)", cmdAudit);
  shell.add("ipc", "ipc", "IPC counters per endpoint", cmdIpc);
  shell.add("bench", "bench [n]", "cycles per null syscall and per IPC round trip (n times)", cmdBench);
  addSchedCommands(shell);
  shell.add("panic", "panic [kind]", "trap on purpose: unreachable, oob or divide", cmdPanic);
  shell.add("reboot", "reboot", "reset the machine", cmdReboot);
  shell.add("halt", "halt", "stop the machine (powers off where it can)", cmdHalt);
}

function cmdHelp(shell: Shell, args: string[]): void {
  for (let i = 0; i < shell.commands.length; i++) {
    let command = shell.commands[i];
    shell.println("  " + padRight(command.usage, 16) + command.help);
  }
}

// The kernel formats the report (the boot loader's data is its own); the
// console only prints it, line by line.
function cmdBootinfo(shell: Shell, args: string[]): void {
  for (let line: u32 = 0; ; line++) {
    let text = kernelBootLine(line);
    if (text === null) break;
    shell.println(text);
  }
}

function cmdVersion(shell: Shell, args: string[]): void {
  let status = kernelInfo(KERNEL_INFO_VERSION);
  if (status < 0) return printError(shell, "version", status);
  let version = nameFromWords(result(0), result(1));
  let arch = nameFromWords(result(2), result(3));
  shell.println("CAM-OS " + version + " (" + arch + ", AssemblyScript kernel via wasm2c)");
}

function cmdMem(shell: Shell, args: string[]): void {
  let status = kernelInfo(KERNEL_INFO_MEMORY);
  if (status < 0) return printError(shell, "mem", status);
  let total = result(0), used = result(1), free = result(2), heap = result(3);
  shell.println("physical memory");
  shell.println("  total " + padLeft(sizeText(total), 10) + padLeft((total >> 10).toString(), 12) + " KiB");
  shell.println("  used  " + padLeft(sizeText(used), 10) + padLeft((used >> 10).toString(), 12) + " KiB");
  shell.println("  free  " + padLeft(sizeText(free), 10) + padLeft((free >> 10).toString(), 12) + " KiB");
  shell.println("kernel heap (wasm linear memory) " + sizeText(heap));
  shell.println("console heap (wasm linear memory) " + sizeText(<u64>memory.size() << 16));
}

function cmdUptime(shell: Shell, args: string[]): void {
  let status = kernelInfo(KERNEL_INFO_UPTIME);
  if (status < 0) return printError(shell, "uptime", status);
  shell.println("up " + secondsText(result(0)) + " s, " + result(1).toString() + " timer ticks");
}

function cmdEcho(shell: Shell, args: string[]): void {
  shell.println(args.join(" "));
}

// ---- through init (services/lib/protocol.ts) ----

// Calls init; false (and says why) when the call or init's answer failed.
function askInit(shell: Shell, what: string, opcode: u32, w0: u64, w1: u64 = 0): bool {
  let status = call(SLOT_INIT, opcode, w0, w1, 0, 0, answer);
  if (status < 0) {
    printError(shell, what + ": init did not answer", status);
    return false;
  }
  return true;
}

function cmdPs(shell: Shell, args: string[]): void {
  for (let index: u64 = 0; index < MAX_PS_ENTRIES; index++) {
    if (!askInit(shell, "ps", INIT_PS, index)) return;
    if (answer.status == E_NOT_FOUND) return;
    if (answer.status < 0) return printError(shell, "ps", answer.status);
    if (index == 0) shell.println(padLeft("PID", 5) + "  " + padRight("NAME", 18) + padRight("STATE", 13) + "RESTARTS");
    let pid = answer.w0 != 0 ? answer.w0.toString() : "-";
    let state = serviceStateName(<u32>answer.w3);
    let restarts = <u32>(answer.w3 >> 32);
    shell.println(padLeft(pid, 5) + "  " + padRight(nameFromWords(answer.w1, answer.w2), 18) + padRight(state, 13)
      + padLeft(restarts.toString(), 8));
  }
}

function cmdKill(shell: Shell, args: string[]): void {
  let pid = args.length == 1 ? parseDecimal(args[0]) : -1;
  if (pid <= 0) {
    shell.println("usage: kill <pid>");
    return;
  }
  if (!askInit(shell, "kill", INIT_KILL, <u64>pid)) return;
  if (answer.status < 0) return printError(shell, "kill " + pid.toString(), answer.status);
  shell.println("killed pid " + pid.toString());
}

function cmdCaps(shell: Shell, args: string[]): void {
  let pid: i64 = 0; // 0: the console itself
  if (args.length > 0) {
    pid = parseDecimal(args[0]);
    if (args.length > 1 || pid <= 0) {
      shell.println("usage: caps [pid]");
      return;
    }
  }
  let rows = 0;
  for (let slot: u32 = 0; slot < CAP_SLOTS; slot++) {
    let status = pid == 0 ? capInfo(SLOT_SELF, slot, capability) : capsThroughInit(shell, <u64>pid, slot);
    if (status == CALL_FAILED) return;
    if (status == E_BAD_SLOT) continue; // empty
    if (status < 0) return printError(shell, "caps", status);
    if (capability.type == CAP_NONE) continue;
    if (rows++ == 0) shell.println(padLeft("SLOT", 6) + "  " + padRight("TYPE", 14) + padRight("RIGHTS", 22) + "DETAIL");
    shell.println(padLeft(slot.toString(), 6) + "  " + padRight(capTypeName(capability.type), 14)
      + padRight(rightsText(capability.rights), 22) + capDetail(capability));
  }
  if (rows == 0) shell.println("(no capabilities)");
}

// Not a kernel status: the call to init failed, and askInit said so.
const CALL_FAILED: i32 = 1;

// INIT_CAPS, unpacked into `capability`; init's status, or CALL_FAILED.
function capsThroughInit(shell: Shell, pid: u64, slot: u32): i32 {
  if (!askInit(shell, "caps", INIT_CAPS, pid, slot)) return CALL_FAILED;
  if (answer.status < 0) return answer.status;
  capability.type = <u8>answer.w0;
  capability.rights = <u8>(answer.w0 >> 8);
  capability.object = answer.w0 >> 32;
  capability.badge = answer.w1;
  capability.base = answer.w2;
  capability.count = answer.w3;
  return answer.status;
}

// "0x3f8..0x3ff", inclusive, as the manifests write ranges.
function rangeText(base: u64, count: u64): string {
  return count == 0 ? "(empty)" : hex(base) + ".." + hex(base + count - 1);
}

function capDetail(cap: CapInfo): string {
  let badge = cap.badge != 0 ? ", badge " + cap.badge.toString() : "";
  switch (cap.type) {
    case CAP_ENDPOINT: return "endpoint " + cap.object.toString() + badge;
    case CAP_NOTIFICATION: return "notification " + cap.object.toString() + badge;
    case CAP_IRQ: return "irq " + cap.object.toString();
    case CAP_IO_PORTS: return "ports " + rangeText(cap.base, cap.count);
    case CAP_MMIO:
    case CAP_MEMORY: return rangeText(cap.base, cap.count);
    case CAP_PROCESS: return "pid " + cap.object.toString();
  }
  return badge.length > 0 ? badge.substring(2) : "";
}

// ---- the kernel's records (CAP_AUDIT) ----

function cmdAudit(shell: Shell, args: string[]): void {
  let wanted = AUDIT_DEFAULT_RECORDS;
  let flags = AUDIT_BACKWARD;
  let rest = args;
  if (rest.length > 0 && rest[0] == "denied") {
    flags |= AUDIT_DENIALS_ONLY;
    rest = rest.slice(1);
  }
  if (rest.length > 0) {
    let n = parseDecimal(rest[0]);
    if (rest.length > 1 || n <= 0) {
      shell.println("usage: audit [denied] [n]");
      return;
    }
    wanted = <i32>min(n, <i64>AUDIT_MAX_RECORDS);
  }
  // Newest first from the kernel, printed oldest first.
  let records: AuditRecord[] = [];
  let sequence: u64 = u64.MAX_VALUE;
  while (records.length < wanted) {
    let record = new AuditRecord();
    let status = auditRead(SLOT_AUDIT, sequence, flags, record);
    if (status == E_NOT_FOUND) break;
    if (status < 0) return printError(shell, "audit", status);
    records.push(record);
    if (record.traceId == 0) break;
    sequence = record.traceId - 1;
  }
  if (records.length == 0) {
    shell.println("(no audit records)");
    return;
  }
  shell.println(padLeft("TRACE", 7) + padLeft("PID", 5) + "  " + padRight("CALL", 15) + padRight("TARGET", 16)
    + padRight("VERDICT", 16) + "TIMES");
  for (let i = records.length - 1; i >= 0; i--) {
    let r = records[i];
    shell.println(padLeft(r.traceId.toString(), 7) + padLeft(r.caller.toString(), 5) + "  "
      + padRight(syscallName(r.syscall), 15) + padRight(auditTargetText(r.targetKind, r.target), 16)
      + padRight(errorName(r.verdict), 16) + r.times.toString());
  }
}

function cmdIpc(shell: Shell, args: string[]): void {
  let stats = new IpcStats();
  let rows = 0;
  for (let index: u32 = 0; index < MAX_ENDPOINTS; index++) {
    let status = ipcStats(SLOT_AUDIT, index, stats);
    if (status == E_NOT_FOUND || status == E_BAD_ARG) break;
    if (status < 0) return printError(shell, "ipc", status);
    if (rows++ == 0) {
      shell.println(padRight("ENDPOINT", 16) + padLeft("CALLS", 9) + padLeft("SENDS", 9) + padLeft("REPLIES", 9)
        + padLeft("DENIALS", 9) + padLeft("QUEUED", 9));
    }
    let name = stats.name.length > 0 ? stats.name : "#" + index.toString();
    shell.println(padRight(name, 16) + padLeft(stats.calls.toString(), 9) + padLeft(stats.sends.toString(), 9)
      + padLeft(stats.replies.toString(), 9) + padLeft(stats.denials.toString(), 9)
      + padLeft(stats.queued.toString() + "/" + stats.depth.toString(), 9));
  }
  if (rows == 0) shell.println("(no endpoints)");
}

// ---- benchmarks ----

const BENCH_DEFAULT: u32 = 1000;
// Below the rate limit's 4096 IPC operations per tick even when a round
// trip's call, receive and reply all land in one tick.
const BENCH_MAX: u32 = 1000;

// The cycle counter, read through SYS_KERNEL_INFO (wasm has no rdtsc).
function cycles(): u64 {
  kernelInfo(KERNEL_INFO_UPTIME);
  return result(3);
}

// What one repetition costs beyond reading the counter: `n` repetitions are
// timed between two reads, and two back-to-back reads are subtracted once.
function perRun(start: u64, end: u64, overhead: u64, n: u32): u64 {
  let total = end - start;
  return (total > overhead ? total - overhead : 0) / <u64>n;
}

// Prints cycles per null syscall (the whole user → kernel → user path) and
// per IPC round trip to init (call; init's receive and reply; back), the
// figures docs/benchmarks.md reports. Under QEMU -icount shift=0, x86_64
// cycles are guest instructions (tools/figures.ts converts for AArch64).
function cmdBench(shell: Shell, args: string[]): void {
  let n = args.length > 0 ? parseDecimal(args[0]) : <i64>BENCH_DEFAULT;
  if (n <= 0 || n > <i64>BENCH_MAX) {
    shell.println("usage: bench [n], n from 1 to " + BENCH_MAX.toString());
    return;
  }
  let runs = <u32>n;
  let t0 = cycles();
  let overhead = cycles() - t0;

  let start = cycles();
  for (let i: u32 = 0; i < runs; i++) syscall(SYS_NULL);
  let nullCycles = perRun(start, cycles(), overhead, runs);

  start = cycles();
  for (let i: u32 = 0; i < runs; i++) {
    if (call(SLOT_INIT, INIT_PING, 0, 0, 0, 0, answer) < 0 || answer.status != E_OK) {
      return printError(shell, "bench: init did not answer", answer.status);
    }
  }
  let ipcCycles = perRun(start, cycles(), overhead, runs);
  shell.println("null syscall: " + nullCycles.toString() + " cycles (" + runs.toString() + " runs)");
  shell.println("ipc round trip: " + ipcCycles.toString() + " cycles (" + runs.toString() + " runs)");
}

// ---- trapping and power ----

// Each kind takes a different road to a trap that kills the console (and
// only the console): `unreachable` is wasm2c's trap call (libsys exits
// with EXIT_TRAP_BASE + TRAP_UNREACHABLE), `oob` a load far past linear
// memory that faults in the guard region (the kernel reports the wasm
// out-of-bounds trap), `divide` wasm2c's divide-by-zero check. The kernel
// reports it and init restarts the console.
function cmdPanic(shell: Shell, args: string[]): void {
  let kind = args.length > 0 ? args[0] : "unreachable";
  if (kind == "unreachable") {
    shell.println("panic: executing unreachable");
    unreachable();
  } else if (kind == "oob") {
    shell.println("panic: loading from the end of the 4 GiB address space");
    shell.println(load<u8>(<usize>0xFFFFFFF0).toString());
  } else if (kind == "divide") {
    shell.println("panic: dividing by zero");
    shell.println((<u32>memory.size() / (<u32>args.length - 1)).toString());
  } else {
    shell.println("panic: unknown kind '" + kind + "' (unreachable, oob, divide)");
  }
}

function cmdReboot(shell: Shell, args: string[]): void {
  shell.println("Rebooting.");
  printError(shell, "reboot", power(SLOT_POWER, POWER_RESET)); // returns only when refused
}

function cmdHalt(shell: Shell, args: string[]): void {
  shell.println("System halted.");
  printError(shell, "halt", power(SLOT_POWER, POWER_OFF));
}
