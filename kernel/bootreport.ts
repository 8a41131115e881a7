// The boot report: what the loader handed over, as text lines, made once at
// boot. The kernel's own shell prints it (`bootinfo`), and the console
// service reads it line by line through SYS_KERNEL_INFO(KERNEL_INFO_BOOT).

import { BootInfo, MemoryKind, MemoryRegion, POWER_ACPI_PORT, POWER_PSCI, hex } from "../boot/bootinfo";
import { CPU_START_SIPI, CPU_START_LIMINE, CPU_START_PSCI_HVC, CPU_START_PSCI_SMC } from "./arch";
import { hex64, padRight, sizeText } from "./format";

let lines: string[] = [];

// The cpus line names at most this many hwids, then "+N more".
const REPORT_MAX_HWIDS: i32 = 8;

// Formats the report; kernel_main calls it once the BootInfo is complete.
export function bootReportMake(info: BootInfo): void {
  lines = reportLines(info);
}

export function bootReport(): string[] {
  return lines;
}

function memoryKindName(kind: u32): string {
  switch (kind) {
    case MemoryKind.Usable: return "usable";
    case MemoryKind.Reserved: return "reserved";
    case MemoryKind.AcpiReclaimable: return "acpi-reclaimable";
    case MemoryKind.AcpiNvs: return "acpi-nvs";
    case MemoryKind.BadMemory: return "bad";
    case MemoryKind.BootloaderReclaimable: return "loader-reclaimable";
    case MemoryKind.KernelAndModules: return "kernel+modules";
    case MemoryKind.Framebuffer: return "framebuffer";
  }
  return "unknown";
}

function reportLines(info: BootInfo): string[] {
  let out: string[] = [];
  out.push("protocol  " + info.protocol + (info.loader.length > 0 ? " (" + info.loader + ")" : ""));
  out.push("cmdline   " + (info.cmdline.length > 0 ? info.cmdline : "(none)"));
  out.push("cpus      " + cpusText(info));
  out.push("kernel    " + hex64(info.kernelPhysStart) + " - " + hex64(info.kernelPhysEnd));
  out.push("rsdp      " + (info.rsdp != 0 ? hex64(info.rsdp) : "(none)"));
  out.push("dtb       " + (info.dtb != 0 ? hex64(info.dtb) : "(none)"));
  out.push("power-off " + powerOffText(info));
  let fb = info.framebuffer;
  if (fb !== null) {
    out.push("framebuffer " + fb.width.toString() + "x" + fb.height.toString() + "x" + fb.bpp.toString() + " at " + hex64(fb.address));
  }
  out.push("memory map (" + info.memory.length.toString() + " regions)");
  for (let i = 0; i < info.memory.length; i++) {
    let r: MemoryRegion = info.memory[i];
    out.push("  " + hex64(r.base) + " - " + hex64(r.base + r.length) + "  " + padRight(memoryKindName(r.kind), 19) + sizeText(r.length));
  }
  out.push("modules (" + info.modules.length.toString() + ")");
  for (let i = 0; i < info.modules.length; i++) {
    let m = info.modules[i];
    out.push("  " + hex64(m.base) + "  " + sizeText(m.size) + "  " + m.cmdline);
  }
  return out;
}

function startMethodName(method: u32): string {
  switch (method) {
    case CPU_START_SIPI: return "sipi";
    case CPU_START_LIMINE: return "limine";
    case CPU_START_PSCI_HVC: return "psci-hvc";
    case CPU_START_PSCI_SMC: return "psci-smc";
  }
  return method == 0 ? "none" : "unknown " + method.toString();
}

// "4 (hwid 0x0, 0x1, 0x2, 0x3; boot 0x0; start psci-hvc)": the count, the
// first REPORT_MAX_HWIDS hwids, the boot CPU's when known, and each start
// method once in order of first use, so the line stays short on big machines.
export function cpusText(info: BootInfo): string {
  let text = info.cpuCount.toString();
  let n = info.cpus.length;
  if (n == 0) return text;
  let hwids = "";
  for (let i = 0; i < min(n, REPORT_MAX_HWIDS); i++) {
    hwids += (i > 0 ? ", " : "") + hex(info.cpus[i].hwid);
  }
  if (n > REPORT_MAX_HWIDS) hwids += ", +" + (n - REPORT_MAX_HWIDS).toString() + " more";
  let methods: u32[] = [];
  for (let i = 0; i < n; i++) {
    let m = info.cpus[i].method;
    if (!methods.includes(m)) methods.push(m);
  }
  let start = "";
  for (let i = 0; i < methods.length; i++) start += (i > 0 ? ", " : "") + startMethodName(methods[i]);
  let boot = info.bootCpuHwid != U64.MAX_VALUE ? "; boot " + hex(info.bootCpuHwid) : "";
  return text + " (hwid " + hwids + boot + "; start " + start + ")";
}

function powerOffText(info: BootInfo): string {
  if (info.powerMethod == POWER_ACPI_PORT) {
    return "ACPI: write " + hex(info.powerArg1) + " to port " + hex(info.powerArg0);
  }
  if (info.powerMethod == POWER_PSCI) {
    return "PSCI SYSTEM_OFF / SYSTEM_RESET through " + (info.powerArg0 == 0 ? "HVC" : "SMC");
  }
  return "(none found: halt stops the CPU)";
}

