// Builds bootable images of the kernel.
//
//   node build/tools/image.mjs iso --arch x86_64 --kernel build/x86_64/kernel.elf \
//       --out build/x86_64/cam-os.iso [--bootloader grub|limine] [--limine-dir DIR]
//
// GRUB (Multiboot2): grub-mkrescue from Debian's grub-pc-bin and
// grub-efi-amd64-bin makes one hybrid ISO that boots on BIOS and UEFI.
// Limine: its binaries are in no registry reachable here, so they come from
// a Limine binary release that the user points LIMINE_DIR at.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const LIMINE_HELP =
  "Limine's binaries are not packaged in Debian or npm. Download a Limine binary release\n" +
  "(8.x or later: the 'vX.Y-binary' branch or release tarball of the Limine bootloader project),\n" +
  "then run again with LIMINE_DIR=<that directory> (it must hold limine-bios.sys,\n" +
  "limine-bios-cd.bin, limine-uefi-cd.bin and BOOTX64.EFI / BOOTAA64.EFI).";

interface ImageOptions {
  arch: string;
  kernel: string;
  out: string;
  bootloader: "grub" | "limine";
  limineDir?: string;
}

class ImageError extends Error {}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.error) throw new ImageError(`${command}: ${result.error.message} (is it installed? run tools/deps.sh)`);
  if (result.status !== 0) throw new ImageError(`${command} ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
}

function freshDirectory(path: string): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}

const GRUB_CONFIG = `# CAM-OS: boot at once, GRUB's own output on the serial line too.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
# UEFI has no text mode: give GRUB the GOP driver so Multiboot2 finds a mode.
if [ "$grub_platform" = "efi" ]; then insmod efi_gop; fi
menuentry "CAM-OS" {
  multiboot2 /boot/kernel.elf
  boot
}
`;

function grubIso(options: ImageOptions): void {
  if (options.arch !== "x86_64") throw new ImageError(`GRUB images are x86_64 only; ${options.arch} needs Limine.\n${LIMINE_HELP}`);
  const root = `${options.out}.root`;
  freshDirectory(join(root, "boot", "grub"));
  copyFileSync(options.kernel, join(root, "boot", "kernel.elf"));
  writeFileSync(join(root, "boot", "grub", "grub.cfg"), GRUB_CONFIG);
  // xz and no fonts, locales or themes: 7 MiB instead of 20, same boot.
  run("grub-mkrescue", ["-o", options.out, "--compress=xz", "--fonts=", "--locales=", "--themes=", root, "--", "-volid", "CAMOS"]);
}

const LIMINE_CONFIG = `# CAM-OS: boot at once, Limine's own output on the serial line too.
timeout: 0
serial: yes

/CAM-OS
    protocol: limine
    path: boot():/boot/kernel.elf
`;

function limineFiles(arch: string): string[] {
  return arch === "x86_64"
    ? ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"]
    : ["limine-uefi-cd.bin", "BOOTAA64.EFI"];
}

function limineIso(options: ImageOptions): void {
  const dir = options.limineDir;
  if (!dir) throw new ImageError(`a Limine image was asked for, but LIMINE_DIR is not set.\n${LIMINE_HELP}`);
  const missing = limineFiles(options.arch).filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new ImageError(`LIMINE_DIR=${dir} lacks ${missing.join(", ")}.\n${LIMINE_HELP}`);

  const root = `${options.out}.root`;
  freshDirectory(join(root, "boot", "limine"));
  mkdirSync(join(root, "EFI", "BOOT"), { recursive: true });
  copyFileSync(options.kernel, join(root, "boot", "kernel.elf"));
  writeFileSync(join(root, "boot", "limine", "limine.conf"), LIMINE_CONFIG);
  for (const file of limineFiles(options.arch)) {
    const target = file.endsWith(".EFI") ? join(root, "EFI", "BOOT", file) : join(root, "boot", "limine", file);
    copyFileSync(join(dir, file), target);
  }
  const bios = options.arch === "x86_64"
    ? ["-b", "boot/limine/limine-bios-cd.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"]
    : [];
  run("xorriso", [
    "-as", "mkisofs", "-R", "-r", "-J", ...bios,
    "-hfsplus", "-apm-block-size", "2048",
    "--efi-boot", "boot/limine/limine-uefi-cd.bin", "-efi-boot-part", "--efi-boot-image",
    "--protective-msdos-label", root, "-o", options.out,
  ]);
  // `limine bios-install` makes the ISO boot from a USB stick on BIOS too.
  const installer = join(dir, "limine");
  if (options.arch === "x86_64" && existsSync(installer)) run(installer, ["bios-install", options.out]);
}

function parseArguments(argv: string[]): ImageOptions {
  const [verb, ...rest] = argv;
  if (verb !== "iso") throw new ImageError(`unknown verb '${verb ?? ""}' (expected: iso)`);
  const value = (flag: string): string | undefined => {
    const index = rest.indexOf(flag);
    return index >= 0 ? rest[index + 1] : undefined;
  };
  const arch = value("--arch") ?? "x86_64";
  const kernel = value("--kernel");
  const out = value("--out");
  if (!kernel || !out) throw new ImageError("--kernel and --out are required");
  if (!existsSync(kernel)) throw new ImageError(`kernel ${kernel} does not exist (run make kernel)`);
  const limineDir = value("--limine-dir") || undefined;
  const asked = value("--bootloader") || (limineDir ? "limine" : "grub");
  if (asked !== "grub" && asked !== "limine") throw new ImageError(`unknown bootloader '${asked}' (grub or limine)`);
  return { arch, kernel, out, bootloader: asked, limineDir };
}

function main(): void {
  try {
    const options = parseArguments(process.argv.slice(2));
    mkdirSync(dirname(options.out), { recursive: true });
    if (options.bootloader === "limine") limineIso(options);
    else grubIso(options);
    console.log(`image: ${options.out} (${options.bootloader}, ${statSync(options.out).size} bytes)`);
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    console.error(`image: ${error.message}`);
    process.exit(1);
  }
}

main();
