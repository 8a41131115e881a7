// Builds bootable images of the kernel.
//
//   node build/tools/image.mjs disk --arch x86_64 --kernel build/x86_64/kernel.elf \
//       --out build/x86_64/cam-os.img [--bootloader grub|limine] [--limine-dir DIR] [--modules ...]
//
// writes a raw disk image for a USB stick (docs/flashing.md): GPT, a BIOS
// boot partition and an EFI system partition (FAT32) holding the loader, the
// kernel and the modules. Drawn at diskLayout() below.
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
// GRUB (Multiboot2): grub-mkimage from Debian's grub-pc-bin and
// grub-efi-amd64-bin makes GRUB's BIOS and UEFI images, with every module
// they need built in; the ISO is one hybrid image that boots on BIOS and
// UEFI from a CD or a stick, the disk image a GPT disk for a stick.
// Limine: its binaries are in no registry reachable here, so they come from
// a Limine binary release that the user points LIMINE_DIR at.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync,
  truncateSync, writeFileSync, writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { ARCH_CODE, Arch, BOOT_MANIFEST_FILE, ManifestError, Profile, decodeBootManifest, missingModules, readImage } from "./manifest";
import { KIND_BOOT_MANIFEST, SignError, encodeBundle, readTrailer } from "./module";
import { GUID_BIOS_BOOT, GUID_EFI_SYSTEM, MBR_CODE_BYTES, SECTOR_BYTES, gptSectors, guidFromBytes } from "./gpt";

export const LIMINE_HELP =
  "Limine's binaries are not packaged in Debian or npm. Download a Limine binary release\n" +
  "(8.x or later: the 'vX.Y-binary' branch or release tarball of the Limine bootloader project),\n" +
  "then run again with LIMINE_DIR=<that directory> (it must hold limine-bios.sys,\n" +
  "limine-bios-cd.bin, limine-uefi-cd.bin and BOOTX64.EFI / BOOTAA64.EFI).";

interface ImageOptions {
  verb: "iso" | "disk" | "bundle";
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
  const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: toolEnvironment() });
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

// An ISO's dates, all SOURCE_DATE_EPOCH's: xorriso's options for them (the
// volume's dates, from which it also derives its GPT GUIDs, and every
// file's), and the UUID GRUB reads from the volume modification date.
function isoDate(): { xorriso: string[]; uuid: string } {
  const iso = new Date(Number(sourceDateEpoch()) * 1000).toISOString(); // 2024-01-01T00:00:00.000Z
  const d = iso.slice(0, 19).replace(/\D/g, ""); // 20240101000000
  return {
    xorriso: [`--modification-date=${d}00`, "--set_all_file_dates", `${d}00`],
    uuid: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}-${d.slice(10, 12)}-${d.slice(12, 14)}-00`,
  };
}

// The GRUB ISO, hybrid: El Torito for BIOS (eltorito.img) and UEFI (efi.img,
// a FAT image holding BOOTX64.EFI), and GRUB's boot_hybrid.img in the MBR so
// that the same file boots from a USB stick on BIOS. What grub-mkrescue
// makes, put together here so that nothing in it is random or dated by the
// clock: GRUB's images have every module built in (no module tree on the
// ISO), and find the ISO by its UUID, which is its modification date,
// SOURCE_DATE_EPOCH's.
function grubIso(options: ImageOptions, modules: Module[]): void {
  if (options.arch !== "x86_64") throw new ImageError(`GRUB images are x86_64 only; ${options.arch} needs Limine.\n${LIMINE_HELP}`);
  const root = `${options.out}.root`;
  const work = `${options.out}.work`;
  freshDirectory(join(root, "boot", "grub"));
  freshDirectory(work);
  copyFileSync(options.kernel, join(root, "boot", "kernel.elf"));
  copyModules(root, modules);
  writeFileSync(join(root, "boot", "grub", "grub.cfg"), grubConfig(modules));

  const { uuid } = isoDate();
  const early = join(work, "early.cfg");
  writeFileSync(early, `search --no-floppy --fs-uuid --set=root ${uuid}\nset prefix=($root)/boot/grub\n`);
  run("grub-mkimage", ["-O", "i386-pc-eltorito", "-c", early, "-p", "/boot/grub", "-o", join(root, "boot", "grub", "eltorito.img"), "biosdisk", ...GRUB_MODULES]);
  const efi = join(work, "BOOTX64.EFI");
  run("grub-mkimage", ["-O", "x86_64-efi", "-c", early, "-p", "/boot/grub", "-o", efi, ...GRUB_MODULES, ...GRUB_EFI_MODULES]);
  const efiImage = join(root, "efi.img");
  const efiSectors = 2 * Math.ceil((statSync(efi).size + 64 * 1024) / 1024); // room for FAT's own tables
  writeFileSync(efiImage, Buffer.alloc(0));
  truncateSync(efiImage, efiSectors * SECTOR_BYTES);
  fatFloppy(efiImage, efiSectors, efi);
  run("xorriso", [
    "-as", "mkisofs", "-R", "-r", "-volid", "CAMOS", ...isoDate().xorriso,
    "-b", "boot/grub/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
    "--grub2-boot-info", "--grub2-mbr", join(GRUB_I386_PC, "boot_hybrid.img"),
    "--efi-boot", "efi.img", "-efi-boot-part", "--efi-boot-image", "--protective-msdos-label",
    "-o", options.out, root,
  ]);
  rmSync(work, { recursive: true, force: true });
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

// The Limine directory, once it is known to hold `files`.
function checkedLimineDir(options: ImageOptions, files: string[]): string {
  const dir = options.limineDir;
  if (!dir) {
    const why = options.arch === "aarch64" ? "an aarch64 image needs Limine (GRUB here is x86_64 only)" : "a Limine image was asked for";
    throw new ImageError(`${why}, but LIMINE_DIR is not set.\n${LIMINE_HELP}`);
  }
  const missing = files.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new ImageError(`LIMINE_DIR=${dir} lacks ${missing.join(", ")}.\n${LIMINE_HELP}`);
  return dir;
}

function limineIso(options: ImageOptions, modules: Module[]): void {
  const dir = checkedLimineDir(options, limineFiles(options.arch));

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
    "-as", "mkisofs", "-R", "-r", "-J", ...isoDate().xorriso, ...bios,
    "-hfsplus", "-apm-block-size", "2048",
    "--efi-boot", "boot/limine/limine-uefi-cd.bin", "-efi-boot-part", "--efi-boot-image",
    "--protective-msdos-label", root, "-o", options.out,
  ]);
  // `limine bios-install` makes the ISO boot from a USB stick on BIOS too.
  const installer = join(dir, "limine");
  if (options.arch === "x86_64" && existsSync(installer)) run(installer, ["bios-install", options.out]);
}


// ---- raw disk images (the `disk` verb) ----
//
//   LBA 0                protective MBR; with GRUB, the code of its boot.img,
//                        which loads core.img from partition 1
//   LBA 1..33            primary GPT (tools/gpt.ts)
//   1 MiB .. 2 MiB       partition 1, "BIOS boot" (type EF02): GRUB's core.img
//                        (i386-pc), or Limine's stage 2 (`limine bios-install`)
//   2 MiB .. 63 MiB      partition 2, "EFI system" (type EF00), FAT32, label CAMOS:
//                          /EFI/BOOT/BOOTX64.EFI (BOOTAA64.EFI on AArch64)
//                          /boot/kernel.elf, /boot/modules/<name>
//                          /boot/grub/grub.cfg, or /boot/limine/limine.conf and
//                          /boot/limine/limine-bios.sys
//   last 33 LBAs         backup GPT
//
// BIOS firmware runs the MBR code, UEFI firmware looks for
// /EFI/BOOT/BOOT<arch>.EFI on the EFI system partition of removable media.
// 64 MiB in all: FAT32 needs at least 65525 clusters (32 MiB in 512-byte
// clusters), and UEFI firmware is most at ease with FAT32.
const MIB = 1024 * 1024;
const DISK_BYTES = 64 * MIB;
const BIOS_BOOT_FIRST_LBA = MIB / SECTOR_BYTES;
const ESP_FIRST_LBA = (2 * MIB) / SECTOR_BYTES;
const ESP_LAST_LBA = (63 * MIB) / SECTOR_BYTES - 1;
const BIOS_BOOT_PARTITION = 1; // its number, for `limine bios-install`
const GRUB_I386_PC = "/usr/lib/grub/i386-pc"; // Debian's grub-pc-bin

// What every GRUB image needs built in: no module is loaded from disk.
const GRUB_MODULES = ["normal", "configfile", "part_gpt", "part_msdos", "fat", "iso9660", "multiboot2", "serial", "terminal", "test", "echo", "boot", "search"];
const GRUB_EFI_MODULES = ["efi_gop", "efi_uga"];

// A file to put on the EFI system partition: where it is now, its path there.
interface EspFile {
  source: string;
  path: string; // without a leading slash, e.g. "boot/kernel.elf"
}

// SOURCE_DATE_EPOCH (reproducible-builds.org) dates the files in the images;
// without it, a fixed date, so that the same inputs give the same bytes.
const DEFAULT_EPOCH = "1704067200"; // 2024-01-01T00:00:00Z
function sourceDateEpoch(): string {
  const value = process.env.SOURCE_DATE_EPOCH;
  return value && /^\d+$/.test(value) ? value : DEFAULT_EPOCH;
}

function toolEnvironment(): NodeJS.ProcessEnv {
  // mtools: dates from SOURCE_DATE_EPOCH, no geometry checks on an image file.
  return { ...process.env, SOURCE_DATE_EPOCH: sourceDateEpoch(), MTOOLS_SKIP_CHECK: "1" };
}

// One hash of everything the image holds, from which its FAT serial number
// and GUIDs are drawn: different contents, different identities; the same
// contents, the same bytes.
function contentSeed(label: string, files: EspFile[], extra: Buffer[]): Buffer {
  const hash = createHash("sha256").update(label);
  for (const file of files) hash.update(`\0${file.path}\0`).update(readFileSync(file.source));
  for (const bytes of extra) hash.update(bytes);
  return hash.digest();
}

function derived(seed: Buffer, what: string): Buffer {
  return createHash("sha256").update(seed).update(what).digest();
}

// efi.img of the ISO: FAT12, holding only GRUB's EFI program.
function fatFloppy(file: string, sectors: number, efiProgram: string): void {
  const seed = contentSeed("cam-os iso efi.img", [{ source: efiProgram, path: "EFI/BOOT/BOOTX64.EFI" }], []);
  run("mformat", ["-i", file, "-N", derived(seed, "fat serial").toString("hex").slice(0, 8), "-T", String(sectors), "-h", "2", "-s", "18", "::"]);
  run("mmd", ["-i", file, "::/EFI", "::/EFI/BOOT"]);
  run("mcopy", ["-i", file, "-o", efiProgram, "::/EFI/BOOT/BOOTX64.EFI"]);
}

// Formats `file` (already `sectors` long) as FAT32 and copies `files` in,
// parents before children, in a fixed order.
function fatImage(file: string, sectors: number, hiddenSectors: number, serial: string, files: EspFile[]): void {
  run("mformat", ["-i", file, "-F", "-c", "1", "-N", serial, "-v", "CAMOS", "-H", String(hiddenSectors),
    "-T", String(sectors), "-h", "64", "-s", "32", "::"]);
  const directories = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) directories.add(parts.slice(0, i).join("/"));
  }
  const sortedDirectories = [...directories].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  if (sortedDirectories.length > 0) run("mmd", ["-i", file, ...sortedDirectories.map((d) => `::/${d}`)]);
  for (const f of files) run("mcopy", ["-i", file, "-o", f.source, `::/${f.path}`]);
}

// GRUB's BIOS boot code: boot.img in the MBR, told where core.img starts;
// core.img's first sector (diskboot.img) told where the rest of it lies.
// (The offsets are GRUB's: include/grub/i386/pc/boot.h and diskboot.S.)
const BOOT_KERNEL_SECTOR = 0x5c; // u64: the LBA of core.img
const BOOT_DRIVE = 0x64; // 0xff: the drive the BIOS booted from
const BOOT_DRIVE_CHECK = 0x66; // a jump, made two NOPs for a hard disk
const DISKBOOT_BLOCKLIST = SECTOR_BYTES - 12; // {u64 start, u16 sectors, u16 segment}
const CORE_LOAD_SEGMENT = 0x820;

function grubBiosBoot(coreFile: string): { mbrCode: Buffer; core: Buffer } {
  const core = Buffer.from(readFileSync(coreFile));
  const sectors = Math.ceil(core.length / SECTOR_BYTES);
  if (sectors > ESP_FIRST_LBA - BIOS_BOOT_FIRST_LBA) throw new ImageError(`GRUB's core.img (${core.length} bytes) does not fit the BIOS boot partition`);
  core.writeBigUInt64LE(BigInt(BIOS_BOOT_FIRST_LBA + 1), DISKBOOT_BLOCKLIST);
  core.writeUInt16LE(sectors - 1, DISKBOOT_BLOCKLIST + 8);
  core.writeUInt16LE(CORE_LOAD_SEGMENT, DISKBOOT_BLOCKLIST + 10);
  const mbrCode = Buffer.from(readFileSync(join(GRUB_I386_PC, "boot.img")).subarray(0, MBR_CODE_BYTES));
  mbrCode.writeBigUInt64LE(BigInt(BIOS_BOOT_FIRST_LBA), BOOT_KERNEL_SECTOR);
  mbrCode[BOOT_DRIVE] = 0xff;
  mbrCode[BOOT_DRIVE_CHECK] = 0x90;
  mbrCode[BOOT_DRIVE_CHECK + 1] = 0x90;
  return { mbrCode, core };
}

function kernelAndModules(options: ImageOptions, modules: Module[]): EspFile[] {
  return [
    { source: options.kernel, path: "boot/kernel.elf" },
    ...modules.map((m) => ({ source: m.source, path: `boot/modules/${m.name}` })),
  ];
}

// GRUB on the disk: core.img finds its configuration on partition 2 of the
// drive it was loaded from ("(,gpt2)": the BIOS boot drive); BOOTX64.EFI on
// the partition it was loaded from.
function grubDiskFiles(options: ImageOptions, modules: Module[], work: string): { files: EspFile[]; mbrCode: Buffer; core: Buffer } {
  if (options.arch !== "x86_64") {
    throw new ImageError(`an ${options.arch} disk image needs Limine (GRUB here is x86_64 only): set LIMINE_DIR.\n${LIMINE_HELP}`);
  }
  const coreFile = join(work, "core.img");
  const efiFile = join(work, "BOOTX64.EFI");
  const config = join(work, "grub.cfg");
  run("grub-mkimage", ["-O", "i386-pc", "-p", "(,gpt2)/boot/grub", "-o", coreFile, "biosdisk", ...GRUB_MODULES]);
  run("grub-mkimage", ["-O", "x86_64-efi", "-p", "/boot/grub", "-o", efiFile, ...GRUB_MODULES, ...GRUB_EFI_MODULES]);
  writeFileSync(config, grubConfig(modules));
  return {
    ...grubBiosBoot(coreFile),
    files: [
      { source: efiFile, path: "EFI/BOOT/BOOTX64.EFI" },
      { source: config, path: "boot/grub/grub.cfg" },
      ...kernelAndModules(options, modules),
    ],
  };
}

function limineDiskFiles(options: ImageOptions, modules: Module[], work: string): EspFile[] {
  const dir = checkedLimineDir(options, options.arch === "x86_64" ? ["limine-bios.sys", "BOOTX64.EFI"] : ["BOOTAA64.EFI"]);
  const config = join(work, "limine.conf");
  writeFileSync(config, limineConfig(modules));
  const efi = options.arch === "x86_64" ? "BOOTX64.EFI" : "BOOTAA64.EFI";
  return [
    { source: join(dir, efi), path: `EFI/BOOT/${efi}` },
    ...(options.arch === "x86_64" ? [{ source: join(dir, "limine-bios.sys"), path: "boot/limine/limine-bios.sys" }] : []),
    { source: config, path: "boot/limine/limine.conf" },
    ...kernelAndModules(options, modules),
  ];
}

function diskImage(options: ImageOptions, modules: Module[]): string[] {
  const notes: string[] = [];
  const work = `${options.out}.work`;
  freshDirectory(work);
  let files: EspFile[];
  let mbrCode: Buffer | undefined;
  let core: Buffer | undefined;
  if (options.bootloader === "grub") ({ files, mbrCode, core } = grubDiskFiles(options, modules, work));
  else files = limineDiskFiles(options, modules, work);

  const seed = contentSeed(`cam-os disk ${options.arch} ${options.bootloader}`, files, [mbrCode ?? Buffer.alloc(0), core ?? Buffer.alloc(0)]);
  const espSectors = ESP_LAST_LBA - ESP_FIRST_LBA + 1;
  const esp = join(work, "esp.img");
  writeFileSync(esp, Buffer.alloc(0));
  truncateSync(esp, espSectors * SECTOR_BYTES);
  fatImage(esp, espSectors, ESP_FIRST_LBA, derived(seed, "fat serial").toString("hex").slice(0, 8), files);

  const totalSectors = DISK_BYTES / SECTOR_BYTES;
  const { head, tail } = gptSectors({
    totalSectors,
    diskGuid: guidFromBytes(derived(seed, "disk")),
    bootCode: mbrCode,
    partitions: [
      { name: "BIOS boot", type: GUID_BIOS_BOOT, guid: guidFromBytes(derived(seed, "bios boot")), firstLba: BIOS_BOOT_FIRST_LBA, lastLba: ESP_FIRST_LBA - 1 },
      { name: "EFI system", type: GUID_EFI_SYSTEM, guid: guidFromBytes(derived(seed, "esp")), firstLba: ESP_FIRST_LBA, lastLba: ESP_LAST_LBA },
    ],
  });

  const partial = `${options.out}.partial`;
  const fd = openSync(partial, "w");
  try {
    ftruncateSync(fd, DISK_BYTES);
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, tail, 0, tail.length, DISK_BYTES - tail.length);
    if (core) writeSync(fd, core, 0, core.length, BIOS_BOOT_FIRST_LBA * SECTOR_BYTES);
    writeSync(fd, readFileSync(esp), 0, espSectors * SECTOR_BYTES, ESP_FIRST_LBA * SECTOR_BYTES);
  } finally {
    closeSync(fd);
  }
  if (options.bootloader === "limine" && options.arch === "x86_64") {
    // Limine's BIOS stages: its MBR code, stage 2 into the BIOS boot partition.
    const installer = join(options.limineDir!, "limine");
    if (existsSync(installer)) run(installer, ["bios-install", partial, String(BIOS_BOOT_PARTITION)]);
    else notes.push(`no 'limine' program in LIMINE_DIR (build it there with make): this image boots on UEFI only`);
  }
  renameSync(partial, options.out);
  rmSync(work, { recursive: true, force: true });
  return notes;
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
  if (verb !== "iso" && verb !== "disk" && verb !== "bundle") throw new ImageError(`unknown verb '${verb ?? ""}' (expected: iso, disk or bundle)`);
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

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
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
    let notes: string[] = [];
    if (options.verb === "disk") notes = diskImage(options, modules);
    else if (options.bootloader === "limine") limineIso(options, modules);
    else grubIso(options, modules);
    const carried = modules.length > 0 ? `, modules ${modules.map((m) => m.name).join(" ")}` : "";
    const kind = options.verb === "disk" ? "disk image, GPT: BIOS boot + EFI system partition" : "ISO";
    console.log(`image: ${options.out} (${options.bootloader} ${kind}, ${statSync(options.out).size} bytes${carried})`);
    console.log(`image: sha256 ${sha256File(options.out)}  ${options.out}`);
    for (const note of notes) console.log(`image: note: ${note}`);
  } catch (error) {
    if (!(error instanceof ImageError || error instanceof ManifestError || error instanceof SignError)) throw error;
    console.error(`image: ${error.message.split("\n").join("\nimage: ")}`);
    process.exit(1);
  }
}

main();
