// Measures the figures docs/benchmarks.md reports, and prints them as a
// Markdown table (also saved as build/figures-<arch>.json).
//
//   node build/tools/figures.mjs --arch x86_64|aarch64 [--boots 3] [--sched-only]
//
// - sizes: kernel.wasm before/after wasm-opt, the generated C, kernel.elf
//   (file and loaded bytes), the bootable image (x86_64: the GRUB ISO;
//   aarch64: the arm64 Image for -kernel);
// - build time: a clean build of the kernel and that image (npm and apt excluded);
// - guest instructions from the trampoline's entry (and from kernel_main) to
//   the first prompt, read from the kernel's boot line under
//   `-icount shift=0`, where one guest instruction is one nanosecond of
//   virtual time. The kernel counts in cycle-counter ticks:
//     x86_64   the TSC, which QEMU then runs at 1 GHz: one tick per
//              instruction (checked: the trampoline must calibrate it at
//              ~1000 MHz against the PIT, which runs on the same clock);
//     aarch64  CNTVCT_EL0, which ticks at CNTFRQ_EL0 (QEMU 7.2: 62.5 MHz), so
//              one tick is 1e9 / CNTFRQ instructions (16); the figure is
//              ticks x 16, good to +-16 instructions, and the raw ticks are
//              reported too. The frequency is read from the trampoline's line;
// - wall time from QEMU's start to the prompt (TCG: this measures the
//   emulator as much as the kernel, so the median of --boots): x86_64 on
//   BIOS and UEFI, aarch64 on each CPU model the tests boot;
// - the bounds-check choice: the same kernel built with wasm2c's explicit
//   checks (BOUNDS_CHECKS=explicit), its code size and boot instructions;
// - the scheduler (--sched-only: this alone, on the images already built):
//   the test image on one CPU under -icount and on four, where the test
//   services measure themselves: an IPC round trip with both ends on one
//   CPU and across two, the scheduler's decisions, and round trips per
//   second with 3, 1 and 0 spinners busy on the other CPUs (below).

import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { Arch, Firmware } from "./qemu";
import { shellCommand } from "./console";
import { QemuHarness } from "./harness";

interface Options {
  arch: Arch;
  boots: number;
  schedOnly: boolean;
}

function parseArguments(argv: string[]): Options {
  const value = (flag: string, fallback: string): string => {
    const index = argv.indexOf(flag);
    return index >= 0 && argv[index + 1] ? argv[index + 1] : fallback;
  };
  const arch = value("--arch", "x86_64");
  if (arch !== "x86_64" && arch !== "aarch64") throw new Error(`unknown arch ${arch}`);
  return { arch, boots: Number(value("--boots", "3")), schedOnly: argv.includes("--sched-only") };
}

function make(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync("make", ["--no-print-directory", ...args], { stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`make ${args.join(" ")} failed`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function bytes(path: string): number {
  return statSync(path).size;
}

function lines(path: string): number {
  return readFileSync(path, "utf8").split("\n").length;
}

// Sum of the sizes of the ELF's sections by kind, from `size` (binutils or llvm).
function elfSections(path: string): { text: number; data: number; bss: number } {
  for (const tool of ["llvm-size-14", "llvm-size", "size"]) {
    const result = spawnSync(tool, [path], { encoding: "utf8" });
    if (result.status !== 0) continue;
    const [text, data, bss] = result.stdout.trim().split("\n")[1].trim().split(/\s+/).map(Number);
    return { text, data, bss };
  }
  throw new Error("no size tool (llvm-size or binutils' size)");
}

interface BootFigures {
  instructionsFromEntry: number;
  instructionsFromMain: number;
  ticksFromEntry: number; // raw cycle-counter ticks, as the kernel printed them
  ticksFromMain: number;
  counterHz: number; // the cycle counter's rate under -icount shift=0
  instructionsPerTick: number;
  // With services (null on a machine that runs the kernel's own shell):
  instructionsToConsolePrompt: number | null;
  nullSyscallInstructions: number | null; // the console's `bench`
  ipcRoundTripInstructions: number | null;
}

// A QEMU machine of the figures: the arch's default, or an AArch64 CPU model.
interface Machine {
  label: string;
  cpu?: string;
  machine?: string;
}

const AARCH64_MACHINES: Machine[] = [
  { label: "cortex-a72, entered at EL1", cpu: "cortex-a72" },
  { label: "cortex-a57, entered at EL2", cpu: "cortex-a57", machine: "virt,gic-version=3,virtualization=on" },
  { label: "max, entered at EL2", cpu: "max", machine: "virt,gic-version=3,virtualization=on" },
];

// The counter's rate from the trampoline's first line, in Hz.
function counterHz(arch: Arch, output: string): number {
  const match = arch === "x86_64" ? /TSC (\d+) MHz/.exec(output) : /generic timer (\d+) Hz/.exec(output);
  if (!match) return NaN;
  return arch === "x86_64" ? Number(match[1]) * 1e6 : Number(match[1]);
}

// The boot and benchmark figures of one -icount shift=0 boot: the kernel's
// line (trampoline entry to the first thread, and kernel_main's share); the
// console's prompt cycle when services run; then `bench` (null syscall and
// IPC round trip, in cycles).
async function bootInstructions(arch: Arch, image: string, name: string): Promise<BootFigures> {
  const vm = await QemuHarness.boot({ arch, image, name, icount: true, timeoutMs: 120_000, noReboot: true });
  try {
    const boot = await vm.expect(/boot: (\d+) cycles from trampoline entry to the first thread, (\d+) in kernel_main; cycle counter (\d+)/, 120_000);
    await vm.expect("camos> ", 30_000);
    const hz = counterHz(arch, vm.output);
    // x86_64: the TSC is an instruction counter under icount (its ~1 GHz
    // rate is the check). aarch64: 1 ns of virtual time per instruction.
    const perTick = arch === "x86_64" ? 1 : 1e9 / hz;
    const ticksFromEntry = Number(boot.groups![1]);
    const ticksFromMain = Number(boot.groups![2]);
    const entryCycle = Number(boot.groups![3]) - ticksFromEntry;
    const console = /console: serial shell on \S+, prompt at cycle (\d+)/.exec(vm.output);
    let toConsole: number | null = null;
    let nullSyscall: number | null = null;
    let ipcRoundTrip: number | null = null;
    if (console) {
      toConsole = Math.round((Number(console[1]) - entryCycle) * perTick);
      const bench = await vm.command("bench 1000");
      const nullMatch = /null syscall: (\d+) cycles/.exec(bench);
      const ipcMatch = /ipc round trip: (\d+) cycles/.exec(bench);
      if (nullMatch) nullSyscall = Math.round(Number(nullMatch[1]) * perTick);
      if (ipcMatch) ipcRoundTrip = Math.round(Number(ipcMatch[1]) * perTick);
    }
    vm.close({ keepLog: false });
    return {
      instructionsFromEntry: Math.round(ticksFromEntry * perTick),
      instructionsFromMain: Math.round(ticksFromMain * perTick),
      ticksFromEntry,
      ticksFromMain,
      counterHz: hz,
      instructionsPerTick: perTick,
      instructionsToConsolePrompt: toConsole,
      nullSyscallInstructions: nullSyscall,
      ipcRoundTripInstructions: ipcRoundTrip,
    };
  } catch (error) {
    vm.close({ keepLog: true });
    throw error;
  }
}

async function wallTimeToPrompt(arch: Arch, image: string, firmware: Firmware, boots: number, machine: Machine = { label: "" }): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < boots; i++) {
    const name = `figures-${machine.cpu ?? firmware}-${i}`;
    const vm = await QemuHarness.boot({
      arch, image, firmware, name, cpu: machine.cpu, machine: machine.machine, timeoutMs: 120_000, noReboot: true,
    });
    try {
      await vm.expect("camos> ", 120_000);
      times.push(vm.promptAtMs!);
      vm.close({ keepLog: false });
    } catch (error) {
      vm.close({ keepLog: true });
      throw error;
    }
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// ---- the scheduler: the test image on one CPU and on four ----
//
// Two boots of the test image, where the test services measure themselves
// (services/ping/README.md):
//
// - one CPU under -icount shift=0: ping's round trip with both ends on the
//   one CPU, in guest instructions (two switches and two system calls);
// - four CPUs on multi-threaded TCG: round trips per second with 3, 1 and 0
//   spinners busy on the other CPUs (killed through the console between the
//   phases; init does not restart them), the scheduler's decisions in each
//   window, and, with no spinner left, round trips with both ends on one
//   CPU and across two.
//
// Not -icount on four CPUs: QEMU then runs the CPUs in turn, a slice of
// guest time each, so every IPI and every hand-over of the big kernel lock
// waits for the other CPUs' slices; with spinners busy the console took
// minutes per command. So the four-CPU figures are guest time (the counter
// as the guest reads it, converted to ns), which on multi-threaded TCG
// follows the host's clock: they depend on the host (2 shared cores) and
// are what one run saw, not instruction counts.

const SCHED_CPUS = 4;

interface ThroughputPhase {
  spinners: number; // spinners alive
  roundTripsPerSecond: number; // of guest time
  busyCpus: number; // as ping measured it (each CPU's share of non-idle ticks)
  decisions: number; // scheduler decisions in the window
  nsPerDecision: number; // of the cycles the kernel counts for them
  rateLimited: number; // calls the IPC rate limit refused (retried)
  sched: string; // what `sched` showed after the window: where each thread ran (JSON only)
}

interface SchedFigures {
  sameCpuRoundTripInstructions: number; // one CPU, -icount
  sameCpuRoundTripNs: number; // four CPUs, no spinner
  crossCpuRoundTripNs: number;
  serverCpu: number;
  clientCpu: number;
  phases: ThroughputPhase[];
}

const PING_ROUND_TRIPS = /\[ping\] cpu (\d+) -> cpu (\d+): (\d+) cycles per round trip(?:; cpu (\d+) -> cpu (\d+): (\d+))? \((\d+) runs each\)/;
const PING_THROUGHPUT = /\[ping\] (\d+) round trips in (\d+) ms on cpu (\d+) \((\d+) per s\), (\d+\.\d+) CPUs busy, (\d+) scheduler decisions in (\d+) cycles(?:, rate-limited (\d+) times)?\r?\n/;

// ps rows: "  PID  NAME  STATE  RESTARTS" -> pid by name, running ones only.
function runningPids(ps: string): Map<string, string> {
  const pids = new Map<string, string>();
  for (const line of ps.split("\n")) {
    const match = line.match(/^\s*(\d+)\s+(\S+)\s+running\s+\d+\s*$/);
    if (match) pids.set(match[2], match[1]);
  }
  return pids;
}

// The throughput line after the next one: the next may have started
// before the spinners changed.
async function throughputPhase(vm: QemuHarness, spinners: number, nsPerTick: number): Promise<ThroughputPhase> {
  await vm.expect(PING_THROUGHPUT, 120_000);
  const m = (await vm.expect(PING_THROUGHPUT, 120_000)).groups!;
  const sched = await shellCommand(vm, "sched", 120_000);
  const decisions = Number(m[6]);
  return {
    spinners,
    roundTripsPerSecond: Number(m[4]),
    busyCpus: Number(m[5]),
    decisions,
    nsPerDecision: decisions > 0 ? Math.round((Number(m[7]) * nsPerTick) / decisions) : NaN,
    rateLimited: Number(m[8] ?? 0),
    sched,
  };
}

async function killSpinners(vm: QemuHarness, names: string[]): Promise<void> {
  const pids = runningPids(await shellCommand(vm, "ps", 120_000));
  for (const name of names) {
    const pid = pids.get(name);
    if (!pid) throw new Error(`${name} is not running: cannot take its CPU away`);
    await shellCommand(vm, `kill ${pid}`, 120_000);
    // init may report the death before the prompt comes back, or after.
    await vm.seen(new RegExp(`${name} \\(pid ${pid}\\) died`), 60_000);
  }
}

function testImage(arch: Arch): { image: string; initrd?: string } {
  return arch === "x86_64" ? { image: "build/x86_64/cam-os-test.iso" } : { image: "build/aarch64/Image", initrd: "build/aarch64/modules-test.img" };
}

async function schedBoot(arch: Arch, smp: number, icount: boolean): Promise<QemuHarness> {
  const vm = await QemuHarness.boot({
    arch, ...testImage(arch), name: `figures-sched-smp${smp}`, smp, icount, timeoutMs: 120_000, noReboot: true,
  });
  await vm.firstPrompt(120_000);
  await vm.seen(/init: started ping \(pid \d+\)/, 120_000);
  return vm;
}

// One CPU, -icount: ping's second round (the first may meet the boot).
async function sameCpuInstructions(arch: Arch): Promise<number> {
  const vm = await schedBoot(arch, 1, true);
  try {
    const perTick = arch === "x86_64" ? 1 : 1e9 / counterHz(arch, vm.output);
    await vm.expect(PING_ROUND_TRIPS, 120_000);
    const m = (await vm.expect(PING_ROUND_TRIPS, 120_000)).groups!;
    await vm.close({ keepLog: false });
    return Math.round(Number(m[3]) * perTick);
  } catch (error) {
    await vm.close({ keepLog: true });
    throw error;
  }
}

async function schedFigures(arch: Arch): Promise<SchedFigures> {
  const sameCpuRoundTripInstructions = await sameCpuInstructions(arch);
  const vm = await schedBoot(arch, SCHED_CPUS, false);
  try {
    const nsPerTick = 1e9 / counterHz(arch, vm.output);
    for (const name of ["spin", "spin2", "spin3"]) await vm.expect(new RegExp(`\\[${name}\\] progress`), 120_000);
    const phases = [await throughputPhase(vm, 3, nsPerTick)];
    await killSpinners(vm, ["spin2", "spin3"]);
    phases.push(await throughputPhase(vm, 1, nsPerTick));
    await killSpinners(vm, ["spin"]);
    phases.push(await throughputPhase(vm, 0, nsPerTick));
    // Round trips timed with no spinner left: the next round's.
    const m = (await vm.expect(PING_ROUND_TRIPS, 120_000)).groups!;
    await vm.close({ keepLog: false });
    return {
      sameCpuRoundTripInstructions,
      serverCpu: Number(m[2]),
      clientCpu: Number(m[4]),
      sameCpuRoundTripNs: Math.round(Number(m[3]) * nsPerTick),
      crossCpuRoundTripNs: Math.round(Number(m[6]) * nsPerTick),
      phases,
    };
  } catch (error) {
    await vm.close({ keepLog: true });
    throw error;
  }
}

function schedRows(f: SchedFigures): [string, string][] {
  const spinners = (n: number) => `${n} spinner${n === 1 ? "" : "s"}`;
  const rows: [string, string][] = [
    ["IPC round trip on one CPU (two switches), -smp 1 -icount", `${count(f.sameCpuRoundTripInstructions)} instructions`],
    [`IPC round trip, both ends on cpu ${f.serverCpu}, -smp 4, no spinner`, `${count(f.sameCpuRoundTripNs)} ns of guest time`],
    [`IPC round trip, cpu ${f.clientCpu} -> cpu ${f.serverCpu} (a wake-up of the other CPU each way)`, `${count(f.crossCpuRoundTripNs)} ns of guest time`],
  ];
  for (const p of f.phases) {
    rows.push([
      `round trips per second, pair on one CPU, ${spinners(p.spinners)} busy (${p.busyCpus} CPUs busy)`,
      `${count(p.roundTripsPerSecond)}${p.rateLimited ? `; ${count(p.rateLimited)} calls rate-limited` : ""}`,
    ]);
  }
  for (const p of f.phases) {
    rows.push([`scheduler decisions in the window, ${spinners(p.spinners)} busy`, `${count(p.decisions)}, ${count(p.nsPerDecision)} ns each as the kernel counts them`]);
  }
  return rows;
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number): string => `${(n / 1048576).toFixed(2)} MiB`;
const count = (n: number): string => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const { arch, boots, schedOnly } = parseArguments(process.argv.slice(2));
  if (schedOnly) {
    const sched = await schedFigures(arch);
    writeFileSync(`build/figures-sched-${arch}.json`, JSON.stringify({ arch, date: new Date().toISOString().slice(0, 10), sched }, null, 2) + "\n");
    console.log(`\nScheduler figures for ${arch}:\n`);
    console.log("| figure | value |\n| --- | --- |");
    for (const [name, value] of schedRows(sched)) console.log(`| ${name} | ${value} |`);
    return;
  }
  const build = `build/${arch}`;
  // What the tests boot: the GRUB ISO on x86_64, the arm64 Image on aarch64.
  const imageName = arch === "x86_64" ? "cam-os.iso" : "Image";
  const image = `${build}/${imageName}`;
  const explicitImage = `${build}-explicit/${imageName}`;

  make(["deps"]);
  spawnSync("rm", ["-rf", "build/kernel", build, `${build}-explicit`]);
  const buildSeconds = make([image, `ARCH=${arch}`]);
  make([explicitImage, `ARCH=${arch}`, "BOUNDS_CHECKS=explicit"]);
  make(["test-image", `ARCH=${arch}`]);

  const elf = elfSections(`${build}/kernel.elf`);
  const guardCode = elfSections(`${build}/obj/kernel_wasm.o`).text;
  const explicitCode = elfSections(`${build}-explicit/obj/kernel_wasm.o`).text;
  const guardBoot = await bootInstructions(arch, image, "figures-icount");
  const explicitBoot = await bootInstructions(arch, explicitImage, "figures-icount-explicit");
  const wallMs: Record<string, number> = {};
  if (arch === "x86_64") {
    wallMs.bios = await wallTimeToPrompt(arch, image, "bios", boots);
    wallMs.uefi = await wallTimeToPrompt(arch, image, "uefi", boots);
  } else {
    for (const machine of AARCH64_MACHINES) wallMs[machine.label] = await wallTimeToPrompt(arch, image, "bios", boots, machine);
  }
  const sched = await schedFigures(arch);

  const figures = {
    arch,
    date: new Date().toISOString().slice(0, 10),
    sizes: {
      kernelWasm: bytes("build/kernel/kernel.wasm"),
      kernelOptWasm: bytes("build/kernel/kernel.opt.wasm"),
      generatedC: bytes("build/kernel/kernel_wasm.c"),
      generatedCLines: lines("build/kernel/kernel_wasm.c"),
      kernelElfFile: bytes(`${build}/kernel.elf`),
      kernelElfText: elf.text,
      kernelElfData: elf.data,
      kernelElfBss: elf.bss,
      image: bytes(image),
    },
    buildSeconds,
    boot: guardBoot,
    wallMsToPrompt: { ...wallMs, boots },
    boundsChecks: { guardCode, explicitCode, guardBoot: guardBoot.instructionsFromMain, explicitBoot: explicitBoot.instructionsFromMain },
    sched,
  };
  writeFileSync(`build/figures-${arch}.json`, JSON.stringify(figures, null, 2) + "\n");

  const s = figures.sizes;
  const counter = arch === "x86_64"
    ? [["TSC rate under -icount shift=0", `${guardBoot.counterHz / 1e6} MHz (1 cycle = 1 guest instruction)`]]
    : [["CNTVCT_EL0 rate (CNTFRQ_EL0) under -icount shift=0", `${guardBoot.counterHz} Hz (1 tick = ${guardBoot.instructionsPerTick} guest instructions, so +-${guardBoot.instructionsPerTick})`],
       ["counter ticks, trampoline entry / kernel_main to prompt", `${count(guardBoot.ticksFromEntry)} / ${count(guardBoot.ticksFromMain)}`]];
  const rows: [string, string][] = [
    ["kernel.wasm (asc -O3)", kib(s.kernelWasm)],
    ["kernel.wasm after wasm-opt -O3", kib(s.kernelOptWasm)],
    ["generated C (wasm2c)", `${kib(s.generatedC)}, ${count(s.generatedCLines)} lines`],
    ["kernel.elf file (with symbols)", kib(s.kernelElfFile)],
    ["kernel.elf loaded: text / data / bss", `${kib(elf.text)} / ${kib(elf.data)} / ${kib(elf.bss)}`],
    arch === "x86_64" ? ["ISO (GRUB, BIOS + UEFI)", mib(s.image)] : ["arm64 Image (-kernel, booti)", kib(s.image)],
    [`clean build of kernel + ${arch === "x86_64" ? "ISO" : "Image"}`, `${buildSeconds.toFixed(1)} s`],
    ...(counter as [string, string][]),
    ["guest instructions, trampoline entry to the first thread", count(guardBoot.instructionsFromEntry)],
    ["guest instructions in kernel_main (boot info, frames, module verification, init)", count(guardBoot.instructionsFromMain)],
    ...(guardBoot.instructionsToConsolePrompt === null ? [] : [
      ["guest instructions, trampoline entry to the console service's prompt", count(guardBoot.instructionsToConsolePrompt)] as [string, string],
      ["null syscall, user → kernel → user (bench 1000)", `${count(guardBoot.nullSyscallInstructions ?? NaN)} instructions`] as [string, string],
      ["IPC round trip console → init → console (bench 1000)", `${count(guardBoot.ipcRoundTripInstructions ?? NaN)} instructions`] as [string, string],
    ]),
    ...Object.entries(wallMs).map(([what, ms]): [string, string] => [`wall time QEMU start to prompt, ${arch === "x86_64" ? what.toUpperCase() : what} (median of ${boots})`, `${ms} ms`]),
    ["kernel code (kernel_wasm.o text), guard pages / explicit checks", `${kib(guardCode)} / ${kib(explicitCode)} (+${(((explicitCode - guardCode) / guardCode) * 100).toFixed(0)}%)`],
    ["kernel_main, guard pages / explicit checks", `${count(guardBoot.instructionsFromMain)} / ${count(explicitBoot.instructionsFromMain)}`],
    ...schedRows(sched),
  ];
  console.log(`\nFigures for ${arch}, ${figures.date}:\n`);
  console.log("| figure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

main().catch((error) => {
  console.error(`figures: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
