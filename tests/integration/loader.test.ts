// The kernel's module loader in QEMU: a test image whose hostile.mod has one
// byte changed after signing must boot with that service refused by name in
// the boot log, init told it cannot start it, and everything else running.
// (Every other refusal — truncation, another key, a manifest beyond its
// grant, W+X, overlapping segments, a bad entry — is checked on the host by
// tests/unit/module.spec.ts against the same verifier.)

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { QemuHarness, repoRoot } from "../../tools/harness.ts";

const root = repoRoot();
const MODULES = path.join(root, "build", "x86_64", "modules");
const KERNEL = path.join(root, "build", "x86_64", "kernel.elf");
const IMAGE_TOOL = path.join(root, "build", "tools", "image.mjs");
const missing = [MODULES, KERNEL, IMAGE_TOOL].find((p) => !fs.existsSync(p));

describe("a tampered module on x86_64", { skip: missing && !process.env.CAMOS_REQUIRE_IMAGE ? `${missing} not built (make test builds it)` : false }, () => {
  let work = "";
  let iso = "";
  before(() => {
    assert.ok(!missing, `${missing} not found: run make test`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "camos-tamper-"));
    const modules = path.join(work, "modules");
    fs.cpSync(MODULES, modules, { recursive: true });
    const file = path.join(modules, "hostile.mod");
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01; // inside the signed ELF
    fs.writeFileSync(file, bytes);
    iso = path.join(work, "tampered.iso");
    const made = spawnSync("node", [IMAGE_TOOL, "iso", "--arch", "x86_64", "--kernel", KERNEL, "--out", iso,
      "--bootloader", "grub", "--modules", modules, "--boot-manifest", path.join(modules, "test", "boot-manifest.mod"),
      "--profile", "test"], { cwd: root, encoding: "utf8" });
    assert.equal(made.status, 0, made.stdout + made.stderr);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("refuses it by name with the reason, and boots the rest", { timeout: 90_000 }, async () => {
    const vm = await QemuHarness.boot({ arch: "x86_64", image: iso, name: "tampered-x86_64", noReboot: true, timeoutMs: 15_000 });
    let failed = true;
    try {
      // Log lines of other services share the UART with the console and may
      // land inside its first prompt: wait for the last of them instead
      // (escape's end), then talk to the console with whole commands.
      await vm.expect(/init: escape \(pid \d+\) died: .*giving up/, 30_000);
      await vm.settle(500);
      assert.match(vm.output, /boot: hostile\.mod: bad signature; hostile will not run/);
      assert.match(vm.output, /init: not starting hostile: its module did not verify/);
      assert.ok(!vm.output.includes("[hostile]"), "the refused service ran");
      const ps = await vm.command("ps");
      assert.match(ps, /console\s+running/);
      assert.doesNotMatch(ps, /hostile\s+running/);
      failed = false;
    } finally {
      const kept = await vm.close({ keepLog: failed });
      if (kept) console.log(`serial log kept: ${kept}`);
    }
  });
});
