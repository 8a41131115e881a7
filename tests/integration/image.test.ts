// tools/image.ts: the Limine image without LIMINE_DIR (refused, with where
// to get Limine), with an incomplete LIMINE_DIR (refused, naming what is
// missing), and with a complete one (the ISO holds what Limine looks for).
// Limine's real binaries are in no registry reachable here, so the complete
// LIMINE_DIR holds stand-in files: this checks our layout, not Limine.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../../tools/harness";
import { encodeBootManifest, encodeServiceManifest, readImage } from "../../tools/manifest";
import { KIND_BOOT_MANIFEST, KIND_SERVICE, decodeBundle, keyFromSeed, signModule } from "../../tools/module";

const root = repoRoot();
const imageTool = join(root, "build", "tools", "image.mjs");
const kernel = join(root, "build", "x86_64", "kernel.elf");
const LIMINE_X86_64 = ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"];

function image(args: string[]): { status: number | null; output: string } {
  const result = spawnSync("node", [imageTool, "iso", "--arch", "x86_64", "--kernel", kernel, ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("tools/image.ts, Limine images", { skip: !existsSync(imageTool) || !existsSync(kernel) ? "build the ISO first (make iso)" : false }, () => {
  let work = "";
  before(() => {
    work = mkdtempSync(join(tmpdir(), "camos-image-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("refuses without LIMINE_DIR and says where to get Limine", () => {
    const { status, output } = image(["--out", join(work, "a.iso"), "--bootloader", "limine"]);
    assert.notEqual(status, 0);
    assert.match(output, /LIMINE_DIR is not set/);
    assert.match(output, /Limine binary release/);
    assert.ok(!existsSync(join(work, "a.iso")));
  });

  it("refuses an incomplete LIMINE_DIR, naming the missing files", () => {
    const dir = join(work, "incomplete");
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "limine-bios.sys"), "stand-in");
    const { status, output } = image(["--out", join(work, "b.iso"), "--limine-dir", dir]);
    assert.notEqual(status, 0);
    assert.match(output, /lacks limine-bios-cd\.bin, limine-uefi-cd\.bin, BOOTX64\.EFI/);
  });

  it("lays out the ISO as Limine expects it", () => {
    const dir = join(work, "complete");
    spawnSync("mkdir", ["-p", dir]);
    for (const file of LIMINE_X86_64) writeFileSync(join(dir, file), Buffer.alloc(2048));
    const out = join(work, "c.iso");
    const { status, output } = image(["--out", out, "--limine-dir", dir]);
    assert.equal(status, 0, output);
    const listing = spawnSync("xorriso", ["-indev", out, "-find", "/", "-type", "f"], { encoding: "utf8" }).stdout;
    for (const path of ["/boot/kernel.elf", "/boot/limine/limine.conf", "/boot/limine/limine-bios.sys",
      "/boot/limine/limine-bios-cd.bin", "/boot/limine/limine-uefi-cd.bin", "/EFI/BOOT/BOOTX64.EFI"]) {
      assert.ok(listing.includes(`'${path}'`), `${path} missing from the ISO:\n${listing}`);
    }
  });
});

// Signed modules for the repository's services/boot.json, with stand-in
// ELFs and a test key: this checks what goes into the image and how the
// loader is told about it, not the modules.
function signedModules(dir: string, profile: "release" | "test"): string {
  const key = keyFromSeed(Buffer.alloc(32, 7));
  const { boot, manifests } = readImage(join(root, "services", "boot.json"), "x86_64", "test");
  mkdirSync(dir, { recursive: true });
  for (const service of boot.services) {
    const manifest = encodeServiceManifest(manifests.get(service.name)!);
    writeFileSync(join(dir, service.module), signModule({ kind: KIND_SERVICE, arch: "x86_64", elf: Buffer.from("\x7fELF stand-in"), manifest }, key));
  }
  const chosen = readImage(join(root, "services", "boot.json"), "x86_64", profile).boot;
  const bootManifest = join(dir, `boot-manifest.${profile}.mod`);
  writeFileSync(bootManifest, signModule({ kind: KIND_BOOT_MANIFEST, arch: "x86_64", elf: Buffer.alloc(0), manifest: encodeBootManifest(chosen) }, key));
  return bootManifest;
}

describe("tools/image.ts, boot modules", { skip: !existsSync(imageTool) || !existsSync(kernel) ? "build the ISO first (make iso)" : false }, () => {
  let work = "";
  before(() => {
    work = mkdtempSync(join(tmpdir(), "camos-image-modules-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("puts the release modules in a GRUB image, each with its name as command line", () => {
    const modules = join(work, "modules");
    const bootManifest = signedModules(modules, "release");
    const out = join(work, "grub.iso");
    const { status, output } = image(["--out", out, "--modules", modules, "--boot-manifest", bootManifest]);
    assert.equal(status, 0, output);
    assert.match(output, /modules boot-manifest\.mod init\.mod console\.mod\)/);
    const config = readFileSync(`${out}.root/boot/grub/grub.cfg`, "utf8");
    assert.match(config, /multiboot2 \/boot\/kernel\.elf\n  module2 \/boot\/modules\/boot-manifest\.mod boot-manifest\.mod\n  module2 \/boot\/modules\/init\.mod init\.mod\n  module2 \/boot\/modules\/console\.mod console\.mod\n  boot\n/);
    assert.ok(!config.includes("hostile") && !config.includes("escape"));
  });

  it("adds the test-only services to a test image, in the Limine configuration too", () => {
    const modules = join(work, "modules-test");
    const bootManifest = signedModules(modules, "test");
    const dir = join(work, "limine");
    mkdirSync(dir, { recursive: true });
    for (const file of LIMINE_X86_64) writeFileSync(join(dir, file), Buffer.alloc(2048));
    const out = join(work, "limine.iso");
    const { status, output } = image(["--out", out, "--limine-dir", dir, "--modules", modules, "--boot-manifest", bootManifest, "--profile", "test"]);
    assert.equal(status, 0, output);
    const config = readFileSync(`${out}.root/boot/limine/limine.conf`, "utf8");
    assert.match(config, /module_path: boot\(\):\/boot\/modules\/hostile\.mod\n    module_cmdline: hostile\.mod\n/);
    const listing = spawnSync("xorriso", ["-indev", out, "-find", "/boot/modules", "-type", "f"], { encoding: "utf8" }).stdout;
    for (const file of ["boot-manifest.mod", "init.mod", "console.mod", "hostile.mod", "escape.mod"]) {
      assert.ok(listing.includes(`'/boot/modules/${file}'`), `${file} missing from the ISO:\n${listing}`);
    }
  });

  it("refuses a boot manifest signed for another profile, and a missing module", () => {
    const modules = join(work, "modules-mixed");
    const bootManifest = signedModules(modules, "release");
    let { status, output } = image(["--out", join(work, "x.iso"), "--modules", modules, "--boot-manifest", bootManifest, "--profile", "test"]);
    assert.notEqual(status, 0);
    assert.match(output, /lists init\.mod, console\.mod, but the test profile of services\/boot\.json has init\.mod, console\.mod, hostile\.mod, escape\.mod, spin\.mod, .*ping\.mod: sign it again/);
    rmSync(join(modules, "console.mod"));
    ({ status, output } = image(["--out", join(work, "y.iso"), "--modules", modules, "--boot-manifest", bootManifest]));
    assert.notEqual(status, 0);
    assert.match(output, /module console\.mod of service 'console' is missing from/);
    ({ status, output } = image(["--out", join(work, "z.iso"), "--modules", join(work, "nowhere")]));
    assert.match(output, /the signed boot manifest .*boot-manifest\.mod is missing/);
  });
});

describe("tools/image.ts, module bundles (the AArch64 -initrd)", { skip: !existsSync(imageTool) ? "build the image tool first (make iso)" : false }, () => {
  let work = "";
  before(() => {
    work = mkdtempSync(join(tmpdir(), "camos-bundle-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("packs the boot manifest and the profile's modules, page-aligned, byte for byte", () => {
    const modules = join(work, "modules");
    const bootManifest = signedModules(modules, "test");
    const out = join(work, "modules.img");
    const result = spawnSync("node", [imageTool, "bundle", "--arch", "x86_64", "--modules", modules, "--boot-manifest", bootManifest,
      "--profile", "test", "--out", out], { cwd: root, encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const bundle = readFileSync(out);
    const entries = decodeBundle(bundle);
    assert.deepEqual(entries.map((e) => e.name), ["boot-manifest.mod", "init.mod", "console.mod", "hostile.mod", "escape.mod",
      "spin.mod", "spin2.mod", "spin3.mod", "urgent.mod", "pingd.mod", "ping.mod"]);
    assert.ok(entries[0].bytes.equals(readFileSync(bootManifest)));
    assert.ok(entries[3].bytes.equals(readFileSync(join(modules, "hostile.mod"))));
    for (let i = 0; i < entries.length; i++) assert.equal(Number(bundle.readBigUInt64LE(16 + 48 * i + 32)) % 4096, 0);
  });

  it("needs --modules", () => {
    const result = spawnSync("node", [imageTool, "bundle", "--arch", "aarch64", "--out", join(work, "x.img")], { cwd: root, encoding: "utf8" });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /bundle: --modules and --out are required/);
  });
});
