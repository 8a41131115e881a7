// Builds bootable images of the kernel.
//
//   node build/tools/image.mjs iso --arch x86_64 --kernel build/x86_64/kernel.elf \
//       --out build/x86_64/cam-os.iso [--bootloader grub|limine] [--limine-dir DIR] \
//       [--modules build/x86_64/modules [--profile release|test] [--boot services/boot.json]
//        [--boot-manifest build/x86_64/modules/boot-manifest.mod]]
//
// With --modules, the image carries the signed boot modules: the boot
// manifest (as boot-manifest.mod) and the module of each service that
// services/boot.json lists for the profile (a release image leaves out the
// test_only services), each under /boot/modules/ with its file name as the
// loader's command line for it, which is how the kernel finds them. The
// signed boot manifest must list the same modules.
//
//   node build/tools/image.mjs bundle --arch aarch64 --modules build/aarch64/modules \
//       --out build/aarch64/modules.img [--profile release|test] [--boot-manifest FILE]
//
// writes the same modules as one module bundle (tools/module.ts), for boot
// paths whose loader passes a single file: the AArch64 Linux Image path
// (QEMU -initrd, U-Boot booti). The kernel splits it (kernel/module.ts
// bundleSplit) into the boot modules the other loaders would have given.
//
// GRUB (Multiboot2): grub-mkrescue from Debian's grub-pc-bin and
// grub-efi-amd64-bin makes one hybrid ISO that boots on BIOS and UEFI.
// Limine: its binaries are in no registry reachable here, so they come from
// a Limine binary release that the user points LIMINE_DIR at.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ARCH_CODE, Arch, BOOT_MANIFEST_FILE, ManifestError, Profile, decodeBootManifest, missingModules, readImage } from "./manifest";
import { KIND_BOOT_MANIFEST, SignError, encodeBundle, readTrailer } from "./module";

export const LIMINE_HELP =
  "Limine's binaries are not packaged in Debian or npm. Download a Limine binary release\n" +
  "(8.x or later: the 'vX.Y-binary' branch or release tarball of the Limine bootloader project),\n" +
  "then run again with LIMINE_DIR=<that directory> (it must hold limine-bios.sys,\n" +
  "limine-bios-cd.bin, limine-uefi-cd.bin and BOOTX64.EFI / BOOTAA64.EFI).";

interface ImageOptions {
  verb: "iso" | "bundle";
  arch: string;
  kernel: string;
  out: string;
  bootloader: "grub" | "limine";
  limineDir?: string;
  modulesDir?: string;
  bootManifest?: string;     // the signed boot manifest module
  profile: Profile;
  bootJson: string;
}

// A file to put in /boot/modules/: where it is now, and its name there
// (also its command line, which the kernel matches against the boot
// manifest).
interface Module {
  source: string;
  name: string;
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

function grubConfig(modules: Module[]): string {
  const lines = modules.map((m) => `  module2 /boot/modules/${m.name} ${m.name}\n`).join("");
  return GRUB_CONFIG.replace("  boot\n", `${lines}  boot\n`);
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

function grubIso(options: ImageOptions, modules: Module[]): void {
  if (options.arch !== "x86_64") throw new ImageError(`GRUB images are x86_64 only; ${options.arch} needs Limine.\n${LIMINE_HELP}`);
  const root = `${options.out}.root`;
  freshDirectory(join(root, "boot", "grub"));
  copyFileSync(options.kernel, join(root, "boot", "kernel.elf"));
  copyModules(root, modules);
  writeFileSync(join(root, "boot", "grub", "grub.cfg"), grubConfig(modules));
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

function limineConfig(modules: Module[]): string {
  return LIMINE_CONFIG + modules.map((m) => `    module_path: boot():/boot/modules/${m.name}\n    module_cmdline: ${m.name}\n`).join("");
}

function limineFiles(arch: string): string[] {
  return arch === "x86_64"
    ? ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"]
    : ["limine-uefi-cd.bin", "BOOTAA64.EFI"];
}

function limineIso(options: ImageOptions, modules: Module[]): void {
  const dir = options.limineDir;
  if (!dir) throw new ImageError(`a Limine image was asked for, but LIMINE_DIR is not set.\n${LIMINE_HELP}`);
  const missing = limineFiles(options.arch).filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new ImageError(`LIMINE_DIR=${dir} lacks ${missing.join(", ")}.\n${LIMINE_HELP}`);

  const root = `${options.out}.root`;
  freshDirectory(join(root, "boot", "limine"));
  mkdirSync(join(root, "EFI", "BOOT"), { recursive: true });
  copyFileSync(options.kernel, join(root, "boot", "kernel.elf"));
  copyModules(root, modules);
  writeFileSync(join(root, "boot", "limine", "limine.conf"), limineConfig(modules));
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

function copyModules(root: string, modules: Module[]): void {
  if (modules.length === 0) return;
  mkdirSync(join(root, "boot", "modules"), { recursive: true });
  for (const m of modules) copyFileSync(m.source, join(root, "boot", "modules", m.name));
}

// The boot manifest module first, then each service's module in boot.json
// order (init first). Checks that they are all there and that the signed
// boot manifest lists exactly these modules, for this architecture.
function imageModules(options: ImageOptions): Module[] {
  if (!options.modulesDir) return [];
  const dir = options.modulesDir;
  if (!ARCH_CODE[options.arch as Arch]) throw new ImageError(`unknown architecture '${options.arch}'`);
  const { boot } = readImage(options.bootJson, options.arch as Arch, options.profile);
  const bootManifest = options.bootManifest ?? join(dir, BOOT_MANIFEST_FILE);
  const missing = missingModules(boot, dir);
  if (!existsSync(bootManifest)) missing.unshift(`the signed boot manifest ${bootManifest} is missing`);
  if (missing.length > 0) throw new ImageError(`${missing.join("\n")}\n(make services builds and signs them)`);

  const bytes = readFileSync(bootManifest);
  const trailer = readTrailer(bytes);
  if (trailer.kind !== KIND_BOOT_MANIFEST) throw new ImageError(`${bootManifest} is not a boot manifest module`);
  if (trailer.arch !== ARCH_CODE[options.arch as Arch]) throw new ImageError(`${bootManifest} was signed for another architecture than ${options.arch}`);
  const signed = decodeBootManifest(bytes.subarray(trailer.elfBytes, trailer.elfBytes + trailer.manifestBytes));
  const listed = signed.services.map((s) => s.module).join(", ");
  const wanted = boot.services.map((s) => s.module).join(", ");
  if (listed !== wanted) {
    throw new ImageError(`${bootManifest} lists ${listed}, but the ${options.profile} profile of ${options.bootJson} has ${wanted}: sign it again`);
  }
  return [
    { source: bootManifest, name: BOOT_MANIFEST_FILE },
    ...boot.services.map((s) => ({ source: join(dir, s.module), name: basename(s.module) })),
  ];
}

function parseArguments(argv: string[]): ImageOptions {
  const [verb, ...rest] = argv;
  if (verb !== "iso" && verb !== "bundle") throw new ImageError(`unknown verb '${verb ?? ""}' (expected: iso or bundle)`);
  const value = (flag: string): string | undefined => {
    const index = rest.indexOf(flag);
    return index >= 0 ? rest[index + 1] : undefined;
  };
  const arch = value("--arch") ?? "x86_64";
  const kernel = value("--kernel") ?? "";
  const out = value("--out");
  if (verb === "bundle") {
    if (!out || !value("--modules")) throw new ImageError("bundle: --modules and --out are required");
  } else {
    if (!kernel || !out) throw new ImageError("--kernel and --out are required");
    if (!existsSync(kernel)) throw new ImageError(`kernel ${kernel} does not exist (run make kernel)`);
  }
  const limineDir = value("--limine-dir") || undefined;
  const asked = value("--bootloader") || (limineDir ? "limine" : "grub");
  if (asked !== "grub" && asked !== "limine") throw new ImageError(`unknown bootloader '${asked}' (grub or limine)`);
  const profile = value("--profile") ?? "release";
  if (profile !== "release" && profile !== "test") throw new ImageError(`unknown profile '${profile}' (release or test)`);
  return {
    verb, arch, kernel, out, bootloader: asked, limineDir, profile,
    modulesDir: value("--modules") || undefined,
    bootManifest: value("--boot-manifest") || undefined,
    bootJson: value("--boot") ?? "services/boot.json",
  };
}

function main(): void {
  try {
    const options = parseArguments(process.argv.slice(2));
    const modules = imageModules(options);
    mkdirSync(dirname(options.out), { recursive: true });
    if (options.verb === "bundle") {
      const bundle = encodeBundle(modules.map((m) => ({ name: m.name, bytes: readFileSync(m.source) })));
      writeFileSync(options.out, bundle);
      console.log(`image: ${options.out} (module bundle, ${bundle.length} bytes: ${modules.map((m) => m.name).join(" ")})`);
      return;
    }
    if (options.bootloader === "limine") limineIso(options, modules);
    else grubIso(options, modules);
    const carried = modules.length > 0 ? `, modules ${modules.map((m) => m.name).join(" ")}` : "";
    console.log(`image: ${options.out} (${options.bootloader}, ${statSync(options.out).size} bytes${carried})`);
  } catch (error) {
    if (!(error instanceof ImageError || error instanceof ManifestError || error instanceof SignError)) throw error;
    console.error(`image: ${error.message.split("\n").join("\nimage: ")}`);
    process.exit(1);
  }
}

main();
