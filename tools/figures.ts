// Measures the figures docs/benchmarks.md reports, and prints them as a
// Markdown table (also saved as build/figures-<arch>.json).
//
//   node build/tools/figures.mjs --arch x86_64 [--boots 3]
//
// - sizes: kernel.wasm before/after wasm-opt, the generated C, kernel.elf
//   (file and loaded bytes), the ISO;
// - build time: a clean build of the kernel and the ISO (npm and apt excluded);
// - guest instructions from the trampoline's entry (and from kernel_main) to
//   the first prompt, read from the kernel's boot line under
//   `-icount shift=0`, where QEMU advances the cycle counter by one per guest
//   instruction (checked here: the trampoline must calibrate the TSC at
//   ~1000 MHz against the PIT, which runs on the same virtual clock);
// - wall time from QEMU's start to the prompt, BIOS and UEFI (TCG: this
//   measures the emulator as much as the kernel, so the median of --boots);
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
  tscMHz: number;
}

async function bootInstructions(arch: Arch, image: string, name: string): Promise<BootFigures> {
  const vm = await QemuHarness.boot({ arch, image, name, icount: true, timeoutMs: 120_000, noReboot: true });
  try {
    const boot = await vm.expect(/boot: (\d+) cycles from trampoline entry to prompt, (\d+) from kernel_main/, 120_000);
    const tsc = /TSC (\d+) MHz/.exec(vm.output);
    await vm.expect("camos> ", 10_000);
    vm.close({ keepLog: false });
    return {
      instructionsFromEntry: Number(boot.groups![1]),
      instructionsFromMain: Number(boot.groups![2]),
      tscMHz: tsc ? Number(tsc[1]) : NaN,
    };
  } catch (error) {
    vm.close({ keepLog: true });
    throw error;
  }
}

async function wallTimeToPrompt(arch: Arch, image: string, firmware: Firmware, boots: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < boots; i++) {
    const vm = await QemuHarness.boot({ arch, image, firmware, name: `figures-${firmware}-${i}`, timeoutMs: 120_000, noReboot: true });
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
  const iso = `${build}/cam-os.iso`;

  make(["deps"]);
  spawnSync("rm", ["-rf", "build/kernel", build, `${build}-explicit`]);
  const buildSeconds = make([iso, `ARCH=${arch}`]);
  make([`${build}-explicit/kernel.elf`, `ARCH=${arch}`, "BOUNDS_CHECKS=explicit"]);
  make([`${build}-explicit/cam-os.iso`, `ARCH=${arch}`, "BOUNDS_CHECKS=explicit"]);

  const elf = elfSections(`${build}/kernel.elf`);
  const guardCode = elfSections(`${build}/obj/kernel_wasm.o`).text;
  const explicitCode = elfSections(`${build}-explicit/obj/kernel_wasm.o`).text;
  const guardBoot = await bootInstructions(arch, iso, "figures-icount");
  const explicitBoot = await bootInstructions(arch, `${build}-explicit/cam-os.iso`, "figures-icount-explicit");
  const biosMs = await wallTimeToPrompt(arch, iso, "bios", boots);
  const uefiMs = await wallTimeToPrompt(arch, iso, "uefi", boots);

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
      iso: bytes(iso),
    },
    buildSeconds,
    boot: guardBoot,
    wallMsToPrompt: { bios: biosMs, uefi: uefiMs, boots },
    boundsChecks: { guardCode, explicitCode, guardBoot: guardBoot.instructionsFromMain, explicitBoot: explicitBoot.instructionsFromMain },
  };
  writeFileSync(`build/figures-${arch}.json`, JSON.stringify(figures, null, 2) + "\n");

  const s = figures.sizes;
  const rows: [string, string][] = [
    ["kernel.wasm (asc -O3)", kib(s.kernelWasm)],
    ["kernel.wasm after wasm-opt -O3", kib(s.kernelOptWasm)],
    ["generated C (wasm2c)", `${kib(s.generatedC)}, ${count(s.generatedCLines)} lines`],
    ["kernel.elf file (with symbols)", kib(s.kernelElfFile)],
    ["kernel.elf loaded: text / data / bss", `${kib(elf.text)} / ${kib(elf.data)} / ${kib(elf.bss)}`],
    ["ISO (GRUB, BIOS + UEFI)", mib(s.iso)],
    ["clean build of kernel + ISO", `${buildSeconds.toFixed(1)} s`],
    ["TSC rate under -icount shift=0", `${guardBoot.tscMHz} MHz (1 cycle = 1 guest instruction)`],
    ["guest instructions, trampoline entry to prompt", count(guardBoot.instructionsFromEntry)],
    ["guest instructions, kernel_main to prompt", count(guardBoot.instructionsFromMain)],
    [`wall time QEMU start to prompt, BIOS (median of ${boots})`, `${biosMs} ms`],
    [`wall time QEMU start to prompt, UEFI (median of ${boots})`, `${uefiMs} ms`],
    ["kernel code (kernel_wasm.o text), guard pages / explicit checks", `${kib(guardCode)} / ${kib(explicitCode)} (+${(((explicitCode - guardCode) / guardCode) * 100).toFixed(0)}%)`],
    ["kernel_main to prompt, guard pages / explicit checks", `${count(guardBoot.instructionsFromMain)} / ${count(explicitBoot.instructionsFromMain)}`],
  ];
  console.log(`\nFigures for ${arch}, ${figures.date}:\n`);
  console.log("| figure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

main().catch((error) => {
  console.error(`figures: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
