// tools/image.ts: the Limine image without LIMINE_DIR (refused, with where
// to get Limine), with an incomplete LIMINE_DIR (refused, naming what is
// missing), and with a complete one (the ISO holds what Limine looks for).
// Limine's real binaries are in no registry reachable here, so the complete
// LIMINE_DIR holds stand-in files: this checks our layout, not Limine.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../../tools/harness";

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
