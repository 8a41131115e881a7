// Builds QEMU command lines: the one place that knows QEMU's flags.
//
// Used by tools/run.ts (`make run`, `make debug`) and by tools/harness.ts (every
// integration test). qemuCommand() only decides flags; its one side effect is
// the writable copy of the UEFI variable store, which QEMU needs on disk.
//
//   x86_64  qemu-system-x86_64 -machine q35 ... -cdrom cam-os.iso
//           firmware "bios": SeaBIOS (QEMU's default)
//           firmware "uefi": OVMF as two pflash drives (code read-only, vars a copy)
//   aarch64 qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a72 -kernel Image
//           [-initrd modules.img]: the signed boot modules as one bundle, which
//           QEMU loads into RAM and names in the DTB's /chosen
//           firmware "bios": no firmware, QEMU's own loader boots the Image
//           firmware "uefi": AAVMF as two pflash drives, for a disk or ISO image

import * as fs from "node:fs";
import * as path from "node:path";

export type Arch = "x86_64" | "aarch64";
export type Firmware = "bios" | "uefi";
export type Accel = "auto" | "kvm" | "tcg";

// "stdio": a person at a terminal; the monitor is muxed onto the serial line,
//          so Ctrl-A x quits and Ctrl-A c switches to the monitor.
// "pipe":  a program at the other end (the harness): the serial line alone on
//          stdin/stdout, no monitor to escape into.
export type SerialMode = "stdio" | "pipe";

// How the image is attached. "auto" picks from the arch and the file name:
// *.iso is a CD-ROM, *.img/*.raw/*.hdd a raw disk, anything else on AArch64
// a kernel Image for -kernel.
export type ImageKind = "auto" | "cdrom" | "disk" | "kernel";

export interface QemuOptions {
  arch: Arch;
  image?: string; // omitted: boot the firmware with nothing attached
  imageKind?: ImageKind;
  // AArch64 -kernel boots only: the module bundle (build/aarch64/modules.img),
  // passed with -initrd. An ISO or disk carries its modules itself.
  initrd?: string;
  smp?: number; // default 1
  mem?: string; // default "256M"
  firmware?: Firmware; // default "bios"
  extraFlags?: string[];
  debug?: boolean; // gdb stub on :1234, CPUs halted until gdb continues
  icount?: boolean; // guest time follows the instruction count (TCG only)
  serial?: SerialMode; // default "stdio"
  noReboot?: boolean; // a reset ends QEMU instead of rebooting
  accel?: Accel; // default "auto", or the CAMOS_ACCEL environment variable
  cpu?: string; // default: QEMU's own on x86_64, cortex-a72 on AArch64
  machine?: string; // default q35 on x86_64, virt,gic-version=3 on AArch64
  network?: boolean; // default false: no NIC at all (no PXE delay, no traffic)
  buildDir?: string; // where the UEFI variable store copy goes; default "build"
  uefiVarsPath?: string; // overrides <buildDir>/<arch>/uefi-vars.fd
  freshUefiVars?: boolean; // recopy the variable store even if the copy exists
}

export interface QemuCommand {
  command: string;
  args: string[];
}

export class QemuConfigError extends Error {
  override name = "QemuConfigError";
}

export interface UefiFirmware {
  code: string;
  vars: string;
}

// Code and variable store must come from the same build (same flash size), so
// they are listed in pairs. Debian paths first, then Fedora's and Arch's.
const UEFI_FIRMWARE: Record<Arch, { pairs: UefiFirmware[]; debianPackage: string }> = {
  x86_64: {
    pairs: [
      { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
      { code: "/usr/share/OVMF/OVMF_CODE.fd", vars: "/usr/share/OVMF/OVMF_VARS.fd" },
      { code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", vars: "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
      { code: "/usr/share/edk2/x64/OVMF_CODE.4m.fd", vars: "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
    ],
    debianPackage: "ovmf",
  },
  aarch64: {
    pairs: [
      { code: "/usr/share/AAVMF/AAVMF_CODE.fd", vars: "/usr/share/AAVMF/AAVMF_VARS.fd" },
      { code: "/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw", vars: "/usr/share/edk2/aarch64/vars-template-pflash.raw" },
      { code: "/usr/share/edk2/aarch64/QEMU_CODE.fd", vars: "/usr/share/edk2/aarch64/QEMU_VARS.fd" },
    ],
    debianPackage: "qemu-efi-aarch64",
  },
};

const QEMU_BINARY: Record<Arch, { command: string; debianPackage: string }> = {
  x86_64: { command: "qemu-system-x86_64", debianPackage: "qemu-system-x86" },
  aarch64: { command: "qemu-system-aarch64", debianPackage: "qemu-system-arm" },
};

export const DEFAULT_MEM = "256M";
const DEFAULT_AARCH64_CPU = "cortex-a72";

export function qemuBinary(arch: Arch): { command: string; debianPackage: string } {
  return QEMU_BINARY[arch];
}

// Finds the UEFI firmware of `arch`, or throws naming the package to install.
export function findUefiFirmware(arch: Arch): UefiFirmware {
  const known = UEFI_FIRMWARE[arch];
  for (const pair of known.pairs) {
    if (fs.existsSync(pair.code) && fs.existsSync(pair.vars)) return pair;
  }
  const looked = known.pairs.map((p) => p.code).join(", ");
  throw new QemuConfigError(
    `UEFI firmware for ${arch} not found (looked for ${looked}); ` +
      `install the Debian package: apt-get install ${known.debianPackage}`,
  );
}

// /dev/kvm can exist and still be useless: inside a VM without nested
// virtualisation QEMU starts, then dies with "KVM internal error" on the first
// instruction it cannot emulate. So on x86 the CPU must also offer VMX or SVM.
export function kvmUsable(arch: Arch): boolean {
  const hostArch = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch;
  if (hostArch !== arch || process.platform !== "linux") return false;
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return false;
  }
  if (arch === "x86_64") {
    try {
      const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
      return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
    } catch {
      return false;
    }
  }
  return true;
}

export function resolveAccel(arch: Arch, requested: Accel | undefined, icount: boolean): "kvm" | "tcg" {
  const wanted = requested ?? (process.env.CAMOS_ACCEL as Accel | undefined) ?? "auto";
  if (wanted !== "auto" && wanted !== "kvm" && wanted !== "tcg") {
    throw new QemuConfigError(`accel must be auto, kvm or tcg, not "${wanted}"`);
  }
  // Instruction counting exists only in the TCG interpreter.
  if (icount) {
    if (wanted === "kvm") throw new QemuConfigError("icount needs TCG; it cannot be combined with accel kvm");
    return "tcg";
  }
  if (wanted === "auto") return kvmUsable(arch) ? "kvm" : "tcg";
  return wanted;
}

function resolveImageKind(arch: Arch, image: string, kind: ImageKind): Exclude<ImageKind, "auto"> {
  if (kind !== "auto") return kind;
  const lower = image.toLowerCase();
  if (lower.endsWith(".iso")) return "cdrom";
  if (/\.(img|raw|hdd|bin)$/.test(lower)) return "disk";
  return arch === "aarch64" ? "kernel" : "cdrom";
}

// QEMU splits -drive options on commas; a comma in a path is written twice.
function driveValue(file: string): string {
  return file.replaceAll(",", ",,");
}

function imageArgs(arch: Arch, image: string, kind: Exclude<ImageKind, "auto">): string[] {
  const file = driveValue(image);
  if (kind === "kernel") {
    if (arch !== "aarch64") throw new QemuConfigError("a -kernel image is only supported on aarch64");
    return ["-kernel", image];
  }
  if (arch === "x86_64") {
    // On q35 both land on the AHCI controller, which SeaBIOS and OVMF boot from.
    if (kind === "cdrom") return ["-cdrom", image];
    return ["-drive", `file=${file},format=raw,if=ide`];
  }
  // The virt board has no IDE: disks are virtio, a CD-ROM hangs off virtio-scsi.
  if (kind === "cdrom") {
    return [
      "-device", "virtio-scsi-pci,id=scsi0",
      "-drive", `if=none,id=cd0,file=${file},format=raw,media=cdrom,readonly=on`,
      "-device", "scsi-cd,bus=scsi0.0,drive=cd0",
    ];
  }
  return ["-drive", `if=virtio,file=${file},format=raw`];
}

// QEMU hands an initrd only to a kernel it loads itself (-kernel); firmware
// booting a disk or an ISO would never see it.
function initrdArgs(arch: Arch, kind: Exclude<ImageKind, "auto">, initrd: string): string[] {
  if (arch !== "aarch64" || kind !== "kernel") {
    throw new QemuConfigError(`an initrd goes only with an aarch64 kernel Image (-kernel), not with ${arch} and a ${kind} image`);
  }
  return ["-initrd", initrd];
}

// Copies the pristine variable store next to the build output: QEMU writes to
// it, and /usr/share must never be written.
function prepareUefiVars(pristine: string, copy: string, fresh: boolean): void {
  if (!fresh && fs.existsSync(copy)) return;
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.copyFileSync(pristine, copy);
}

function firmwareArgs(opts: QemuOptions): string[] {
  if ((opts.firmware ?? "bios") === "bios") return [];
  const firmware = findUefiFirmware(opts.arch);
  const varsPath = opts.uefiVarsPath ?? path.join(opts.buildDir ?? "build", opts.arch, "uefi-vars.fd");
  prepareUefiVars(firmware.vars, varsPath, opts.freshUefiVars ?? false);
  return [
    "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${driveValue(firmware.code)}`,
    "-drive", `if=pflash,format=raw,unit=1,file=${driveValue(varsPath)}`,
  ];
}

function serialArgs(mode: SerialMode): string[] {
  if (mode === "stdio") return ["-display", "none", "-serial", "mon:stdio"];
  return ["-display", "none", "-serial", "stdio", "-monitor", "none"];
}

export function qemuCommand(opts: QemuOptions): QemuCommand {
  const arch = opts.arch;
  if (arch !== "x86_64" && arch !== "aarch64") throw new QemuConfigError(`unknown arch "${arch}"`);
  const firmware = opts.firmware ?? "bios";
  if (firmware !== "bios" && firmware !== "uefi") throw new QemuConfigError(`firmware must be bios or uefi, not "${firmware}"`);
  const smp = opts.smp ?? 1;
  if (!Number.isInteger(smp) || smp < 1) throw new QemuConfigError(`smp must be a positive integer, not ${smp}`);
  const icount = opts.icount ?? false;
  const accel = resolveAccel(arch, opts.accel, icount);

  const args: string[] = [];
  if (arch === "x86_64") {
    args.push("-machine", opts.machine ?? "q35");
    if (opts.cpu) args.push("-cpu", opts.cpu);
  } else {
    args.push("-M", opts.machine ?? "virt,gic-version=3");
    args.push("-cpu", opts.cpu ?? DEFAULT_AARCH64_CPU);
  }
  args.push("-accel", accel);
  if (icount) args.push("-icount", "shift=0");
  args.push("-smp", String(smp), "-m", opts.mem ?? DEFAULT_MEM);
  args.push(...firmwareArgs(opts));
  if (opts.image !== undefined) {
    const kind = resolveImageKind(arch, opts.image, opts.imageKind ?? "auto");
    args.push(...imageArgs(arch, opts.image, kind));
    if (opts.initrd !== undefined) args.push(...initrdArgs(arch, kind, opts.initrd));
  } else if (opts.initrd !== undefined) {
    throw new QemuConfigError("an initrd needs a kernel image to go with it");
  }
  if (!opts.network) args.push("-nic", "none");
  args.push(...serialArgs(opts.serial ?? "stdio"));
  if (opts.noReboot) args.push("-no-reboot");
  if (opts.debug) args.push("-s", "-S");
  args.push(...(opts.extraFlags ?? []));
  return { command: QEMU_BINARY[arch].command, args };
}

// The command as one line a person can paste into a POSIX shell.
export function formatCommand(cmd: QemuCommand): string {
  return [cmd.command, ...cmd.args].map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

// Splits a flag string the way a shell would for simple cases: whitespace
// separates words, single or double quotes keep spaces inside one word.
export function splitFlags(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new QemuConfigError(`unbalanced ${quote} in QEMU flags: ${text}`);
  if (inWord) words.push(current);
  return words;
}
