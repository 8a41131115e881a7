// Measures the figures docs/benchmarks.md reports, and prints them as a
// Markdown table (also saved as build/figures-<arch>.json).
//
//   node build/tools/figures.mjs --arch x86_64|aarch64 [--boots 3]
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
//   checks (BOUNDS_CHECKS=explicit), its code size and boot instructions.

import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { Arch, Firmware } from "./qemu";
import { QemuHarness } from "./harness";

interface Options {
  arch: Arch;
  boots: number;
}

function parseArguments(argv: string[]): Options {
  const value = (flag: string, fallback: string): string => {
    const index = argv.indexOf(flag);
    return index >= 0 && argv[index + 1] ? argv[index + 1] : fallback;
  };
  const arch = value("--arch", "x86_64");
  if (arch !== "x86_64" && arch !== "aarch64") throw new Error(`unknown arch ${arch}`);
  return { arch, boots: Number(value("--boots", "3")) };
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

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number): string => `${(n / 1048576).toFixed(2)} MiB`;
const count = (n: number): string => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const { arch, boots } = parseArguments(process.argv.slice(2));
  const build = `build/${arch}`;
  // What the tests boot: the GRUB ISO on x86_64, the arm64 Image on aarch64.
  const imageName = arch === "x86_64" ? "cam-os.iso" : "Image";
  const image = `${build}/${imageName}`;
  const explicitImage = `${build}-explicit/${imageName}`;

  make(["deps"]);
  spawnSync("rm", ["-rf", "build/kernel", build, `${build}-explicit`]);
  const buildSeconds = make([image, `ARCH=${arch}`]);
  make([explicitImage, `ARCH=${arch}`, "BOUNDS_CHECKS=explicit"]);

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
  ];
  console.log(`\nFigures for ${arch}, ${figures.date}:\n`);
  console.log("| figure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

main().catch((error) => {
  console.error(`figures: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
