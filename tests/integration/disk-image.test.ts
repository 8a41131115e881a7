// tools/image.ts `disk` (and the ISO's reproducibility): the raw disk image's
// layout read back byte by byte (protective MBR with GRUB's boot code, both
// GPTs, core.img in the BIOS boot partition, the FAT32 EFI system partition
// and what is on it), the same bytes from the same inputs, Limine's layout
// with stand-in files (Limine's binaries are in no registry reachable here)
// and a stand-in `limine` program that records how it was called, and the
// refusals. Booting the image is image-boot.test.ts's.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { GUID_BIOS_BOOT, GUID_EFI_SYSTEM, crc32, gptSectors, guidBytes, readGpt } from "../../tools/gpt.ts";
import { repoRoot } from "../../tools/harness.ts";
import { encodeBootManifest, encodeServiceManifest, readImage } from "../../tools/manifest.ts";
import { KIND_BOOT_MANIFEST, KIND_SERVICE, keyFromSeed, signModule } from "../../tools/module.ts";

const root = repoRoot();
const imageTool = path.join(root, "build", "tools", "image.mjs");
const kernel = path.join(root, "build", "x86_64", "kernel.elf");
const MIB = 1024 * 1024;
const ESP_OFFSET = 2 * MIB;
const skip = !fs.existsSync(imageTool) || !fs.existsSync(kernel) ? "build the image tool and the kernel first (make image)" : false;

function imageRun(verb: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync("node", [imageTool, verb, "--kernel", kernel, ...args], {
    cwd: root, encoding: "utf8", env: { ...process.env, ...env },
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

// The files on the EFI system partition, as "/path" lines (mtools).
function espFiles(image: string): string[] {
  const result = spawnSync("mdir", ["-/", "-b", "-i", `${image}@@${ESP_OFFSET}`, "::"], {
    encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split("\n").filter(Boolean).map((line) => line.replace(/^::/, "")).filter((p) => !p.endsWith("/")).sort();
}

function espText(image: string, file: string): string {
  const result = spawnSync("mtype", ["-i", `${image}@@${ESP_OFFSET}`, `::${file}`], {
    encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

// Signed release modules with stand-in ELFs and a test key.
function signedModules(dir: string): string {
  const key = keyFromSeed(Buffer.alloc(32, 9));
  const { boot, manifests } = readImage(path.join(root, "services", "boot.json"), "x86_64", "release");
  fs.mkdirSync(dir, { recursive: true });
  for (const service of boot.services) {
    const manifest = encodeServiceManifest(manifests.get(service.name)!);
    fs.writeFileSync(path.join(dir, service.module), signModule({ kind: KIND_SERVICE, arch: "x86_64", elf: Buffer.from("\x7fELF stand-in"), manifest }, key));
  }
  const bootManifest = path.join(dir, "boot-manifest.mod");
  fs.writeFileSync(bootManifest, signModule({ kind: KIND_BOOT_MANIFEST, arch: "x86_64", elf: Buffer.alloc(0), manifest: encodeBootManifest(boot) }, key));
  return bootManifest;
}

let work = "";
before(() => {
  work = fs.mkdtempSync(path.join(tmpdir(), "camos-disk-"));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe("tools/gpt.ts", () => {
  it("computes the CRC32 GPT uses (IEEE 802.3)", () => {
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
  });

  it("writes GUIDs mixed-endian, as the UEFI specification does", () => {
    assert.equal(guidBytes(GUID_EFI_SYSTEM).toString("hex"), "28732ac11ff8d211ba4b00a0c93ec93b");
  });

  it("refuses overlapping partitions and ones outside the usable range", () => {
    const p = (name: string, first: number, last: number) => ({ name, type: GUID_EFI_SYSTEM, guid: GUID_BIOS_BOOT, firstLba: first, lastLba: last });
    const disk = { totalSectors: 4096, diskGuid: GUID_BIOS_BOOT };
    assert.throws(() => gptSectors({ ...disk, partitions: [p("a", 2048, 3000), p("b", 3000, 4000)] }), /overlap/);
    assert.throws(() => gptSectors({ ...disk, partitions: [p("a", 10, 100)] }), /outside 34\.\.4062/);
  });
});

describe("tools/image.ts disk, GRUB", { skip }, () => {
  let image = "";
  let output = "";
  before(() => {
    const modules = path.join(work, "modules");
    const bootManifest = signedModules(modules);
    image = path.join(work, "grub.img");
    const result = imageRun("disk", ["--arch", "x86_64", "--out", image, "--modules", modules, "--boot-manifest", bootManifest]);
    assert.equal(result.status, 0, result.output);
    output = result.output;
  });

  it("prints the size and the SHA-256 of the image", () => {
    assert.match(output, /\(grub disk image, GPT: BIOS boot \+ EFI system partition, 67108864 bytes, modules boot-manifest\.mod init\.mod console\.mod\)/);
    assert.ok(output.includes(`image: sha256 ${sha256(image)}  ${image}`), output);
    assert.equal(fs.statSync(image).size, 64 * MIB);
  });

  it("has a protective MBR, and both GPTs agree on two partitions: BIOS boot and EFI system", () => {
    const disk = fs.readFileSync(image);
    assert.equal(disk[0x1be + 4], 0xee);
    assert.equal(disk.readUInt32LE(0x1be + 8), 1);
    assert.equal(disk.readUInt16LE(510), 0xaa55);
    const gpt = readGpt(disk); // checks the CRC32s of both headers and both arrays
    assert.deepEqual(gpt.partitions.map((p) => [p.name, p.type, p.firstLba, p.lastLba]), [
      ["BIOS boot", GUID_BIOS_BOOT, 2048, 4095],
      ["EFI system", GUID_EFI_SYSTEM, 4096, 129023],
    ]);
  });

  it("carries GRUB's boot.img in the MBR, pointing at core.img in the BIOS boot partition", () => {
    const disk = fs.readFileSync(image);
    const bootImg = fs.readFileSync("/usr/lib/grub/i386-pc/boot.img");
    assert.ok(disk.subarray(0, 0x5c).equals(bootImg.subarray(0, 0x5c)), "MBR code is not GRUB's boot.img");
    assert.equal(disk.readBigUInt64LE(0x5c), 2048n);
    const core = disk.subarray(2048 * 512);
    assert.equal(core.readBigUInt64LE(0x1f4), 2049n, "diskboot's block list does not start after it");
    assert.ok(core.readUInt16LE(0x1fc) > 10, "diskboot's block list has no length");
  });

  it("formats the EFI system partition FAT32 and puts GRUB, its configuration, the kernel and the modules on it", () => {
    const esp = fs.readFileSync(image).subarray(ESP_OFFSET, ESP_OFFSET + 512);
    assert.equal(esp.toString("latin1", 82, 90), "FAT32   ");
    assert.equal(esp.readUInt32LE(28), 4096, "hidden sectors is not the partition's start");
    assert.deepEqual(espFiles(image), [
      "/EFI/BOOT/BOOTX64.EFI", "/boot/grub/grub.cfg", "/boot/kernel.elf",
      "/boot/modules/boot-manifest.mod", "/boot/modules/console.mod", "/boot/modules/init.mod",
    ]);
    const config = espText(image, "/boot/grub/grub.cfg");
    assert.match(config, /multiboot2 \/boot\/kernel\.elf\n  module2 \/boot\/modules\/boot-manifest\.mod boot-manifest\.mod\n  module2 \/boot\/modules\/init\.mod init\.mod\n/);
    assert.match(config, /serial --unit=0 --speed=115200/);
  });

  it("is the same bytes when built again from the same inputs, and dated by SOURCE_DATE_EPOCH", () => {
    const modules = path.join(work, "modules");
    const again = path.join(work, "grub-again.img");
    assert.equal(imageRun("disk", ["--out", again, "--modules", modules]).status, 0);
    assert.equal(sha256(again), sha256(image));
    const dated = path.join(work, "grub-dated.img");
    assert.equal(imageRun("disk", ["--out", dated, "--modules", modules], { SOURCE_DATE_EPOCH: "1750000000" }).status, 0);
    assert.notEqual(sha256(dated), sha256(image));
    assert.equal(readGpt(fs.readFileSync(dated)).diskGuid, readGpt(fs.readFileSync(image)).diskGuid, "the GUIDs follow the contents, not the date");
  });

  it("takes its GUIDs from its contents: another kernel, another disk GUID", () => {
    const other = path.join(work, "other-kernel.elf");
    fs.writeFileSync(other, Buffer.concat([fs.readFileSync(kernel), Buffer.from("x")]));
    const out = path.join(work, "other.img");
    const result = spawnSync("node", [imageTool, "disk", "--kernel", other, "--out", out], { cwd: root, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.notEqual(readGpt(fs.readFileSync(out)).diskGuid, readGpt(fs.readFileSync(image)).diskGuid);
  });

  it("refuses GRUB for AArch64, saying it needs Limine", () => {
    const { status, output } = imageRun("disk", ["--arch", "aarch64", "--out", path.join(work, "a64.img"), "--bootloader", "grub"]);
    assert.notEqual(status, 0);
    assert.match(output, /an aarch64 disk image needs Limine .*set LIMINE_DIR/);
    assert.match(output, /Limine binary release/);
    assert.ok(!fs.existsSync(path.join(work, "a64.img")));
  });
});

describe("tools/image.ts disk, Limine (stand-in files)", { skip }, () => {
  function limineDir(name: string, files: string[], installer: boolean): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const file of files) fs.writeFileSync(path.join(dir, file), Buffer.alloc(4096, 0x4c));
    if (installer) {
      // Records its arguments where the test can read them.
      fs.writeFileSync(path.join(dir, "limine"), `#!/bin/sh\necho "$@" > "${path.join(dir, "installer-args")}"\n`, { mode: 0o755 });
    }
    return dir;
  }

  it("x86_64: BOOTX64.EFI, limine-bios.sys and limine.conf on the ESP; `limine bios-install <image> 1` for BIOS", () => {
    const dir = limineDir("limine-x86", ["limine-bios.sys", "BOOTX64.EFI"], true);
    const out = path.join(work, "limine.img");
    const { status, output } = imageRun("disk", ["--arch", "x86_64", "--out", out, "--limine-dir", dir]);
    assert.equal(status, 0, output);
    assert.match(output, /\(limine disk image, GPT/);
    assert.deepEqual(espFiles(out), ["/EFI/BOOT/BOOTX64.EFI", "/boot/kernel.elf", "/boot/limine/limine-bios.sys", "/boot/limine/limine.conf"]);
    assert.match(espText(out, "/boot/limine/limine.conf"), /protocol: limine\n    path: boot\(\):\/boot\/kernel\.elf\n/);
    assert.equal(fs.readFileSync(path.join(dir, "installer-args"), "utf8").trim(), `bios-install ${out}.partial 1`);
    const disk = fs.readFileSync(out);
    assert.ok(disk.subarray(0, 440).every((b) => b === 0), "no GRUB code in a Limine image's MBR (Limine writes its own)");
  });

  it("x86_64 without the `limine` program: says the image boots on UEFI only", () => {
    const dir = limineDir("limine-no-installer", ["limine-bios.sys", "BOOTX64.EFI"], false);
    const { status, output } = imageRun("disk", ["--out", path.join(work, "limine-uefi.img"), "--limine-dir", dir]);
    assert.equal(status, 0, output);
    assert.match(output, /note: no 'limine' program in LIMINE_DIR .*: this image boots on UEFI only/);
  });

  it("AArch64: BOOTAA64.EFI only, no BIOS parts", () => {
    const dir = limineDir("limine-a64", ["BOOTAA64.EFI"], true);
    const out = path.join(work, "limine-a64.img");
    const { status, output } = imageRun("disk", ["--arch", "aarch64", "--out", out, "--limine-dir", dir]);
    assert.equal(status, 0, output);
    assert.deepEqual(espFiles(out), ["/EFI/BOOT/BOOTAA64.EFI", "/boot/kernel.elf", "/boot/limine/limine.conf"]);
    assert.ok(!fs.existsSync(path.join(dir, "installer-args")), "bios-install ran for AArch64");
  });

  it("refuses without LIMINE_DIR, and names what an incomplete one lacks", () => {
    let result = imageRun("disk", ["--arch", "aarch64", "--out", path.join(work, "x.img"), "--bootloader", "limine"]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /LIMINE_DIR is not set/);
    const dir = limineDir("limine-empty", [], false);
    result = imageRun("disk", ["--arch", "aarch64", "--out", path.join(work, "y.img"), "--limine-dir", dir]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /lacks BOOTAA64\.EFI/);
  });
});

describe("tools/image.ts iso, reproducible", { skip }, () => {
  it("the GRUB ISO is the same bytes when built twice, and prints its SHA-256", () => {
    const first = path.join(work, "one.iso");
    const second = path.join(work, "two.iso");
    const a = imageRun("iso", ["--out", first]);
    assert.equal(a.status, 0, a.output);
    assert.ok(a.output.includes(`image: sha256 ${sha256(first)}  ${first}`), a.output);
    assert.equal(imageRun("iso", ["--out", second]).status, 0);
    assert.equal(sha256(first), sha256(second));
  });
});
