// Tests of tools/qemu.ts: the QEMU command lines, checked without running QEMU.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { type QemuOptions, findUefiFirmware, formatCommand, qemuCommand, splitFlags } from "../../tools/qemu.ts";

const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "camos-qemu-test-"));
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

function args(opts: QemuOptions): string[] {
  return qemuCommand({ accel: "tcg", buildDir, ...opts }).args;
}

// The value that follows `flag` (the first occurrence).
function valueOf(list: string[], flag: string): string | undefined {
  const i = list.indexOf(flag);
  return i < 0 ? undefined : list[i + 1];
}

function hasUefi(arch: "x86_64" | "aarch64"): boolean {
  try {
    findUefiFirmware(arch);
    return true;
  } catch {
    return false;
  }
}

describe("qemuCommand", () => {
  it("x86_64 BIOS: q35, the ISO as a CD-ROM, no NIC, the interactive serial console", () => {
    const cmd = qemuCommand({ arch: "x86_64", image: "build/x86_64/cam-os.iso", accel: "tcg", smp: 2, mem: "512M" });
    assert.equal(cmd.command, "qemu-system-x86_64");
    assert.equal(valueOf(cmd.args, "-machine"), "q35");
    assert.equal(valueOf(cmd.args, "-accel"), "tcg");
    assert.equal(valueOf(cmd.args, "-smp"), "2");
    assert.equal(valueOf(cmd.args, "-m"), "512M");
    assert.equal(valueOf(cmd.args, "-cdrom"), "build/x86_64/cam-os.iso");
    assert.equal(valueOf(cmd.args, "-nic"), "none");
    assert.equal(valueOf(cmd.args, "-serial"), "mon:stdio");
    assert.equal(valueOf(cmd.args, "-display"), "none");
    assert.ok(!cmd.args.includes("pflash"));
    assert.ok(!cmd.args.includes("-no-reboot"));
    assert.ok(!cmd.args.includes("-s"));
  });

  it("pipe serial mode has no monitor on the serial line", () => {
    const list = args({ arch: "x86_64", image: "a.iso", serial: "pipe" });
    assert.equal(valueOf(list, "-serial"), "stdio");
    assert.equal(valueOf(list, "-monitor"), "none");
  });

  it("a raw disk image is a drive, not a CD-ROM", () => {
    const list = args({ arch: "x86_64", image: "build/x86_64/cam-os.img" });
    assert.equal(valueOf(list, "-drive"), "file=build/x86_64/cam-os.img,format=raw,if=ide");
    assert.ok(!list.includes("-cdrom"));
  });

  it("debug, icount, no-reboot and extra flags", () => {
    const list = args({ arch: "x86_64", image: "a.iso", debug: true, icount: true, noReboot: true, extraFlags: ["-d", "int"] });
    assert.ok(list.includes("-s") && list.includes("-S"));
    assert.equal(valueOf(list, "-icount"), "shift=0");
    assert.ok(list.includes("-no-reboot"));
    assert.deepEqual(list.slice(-2), ["-d", "int"]);
  });

  it("icount forces TCG and refuses KVM", () => {
    assert.equal(valueOf(qemuCommand({ arch: "x86_64", image: "a.iso", icount: true, accel: "auto" }).args, "-accel"), "tcg");
    assert.throws(() => qemuCommand({ arch: "x86_64", image: "a.iso", icount: true, accel: "kvm" }), /icount needs TCG/);
  });

  it("x86_64 UEFI: OVMF code read-only, a writable copy of the variable store in the build dir", { skip: !hasUefi("x86_64") && "OVMF not installed" }, () => {
    const list = args({ arch: "x86_64", image: "a.iso", firmware: "uefi" });
    const drives = list.filter((_, i) => list[i - 1] === "-drive");
    const code = drives.find((d) => d.includes("unit=0"))!;
    const vars = drives.find((d) => d.includes("unit=1"))!;
    assert.match(code, /^if=pflash,format=raw,unit=0,readonly=on,file=\/usr\/share\/.*OVMF.*\.fd$/);
    const varsFile = path.join(buildDir, "x86_64", "uefi-vars.fd");
    assert.equal(vars, `if=pflash,format=raw,unit=1,file=${varsFile}`);
    assert.ok(fs.existsSync(varsFile), "the variable store copy was not made");
    assert.equal(fs.statSync(varsFile).size, fs.statSync(findUefiFirmware("x86_64").vars).size);
  });

  it("aarch64: virt with GICv3, cortex-a72, the Image through -kernel", () => {
    const cmd = qemuCommand({ arch: "aarch64", image: "build/aarch64/Image", accel: "tcg" });
    assert.equal(cmd.command, "qemu-system-aarch64");
    assert.equal(valueOf(cmd.args, "-M"), "virt,gic-version=3");
    assert.equal(valueOf(cmd.args, "-cpu"), "cortex-a72");
    assert.equal(valueOf(cmd.args, "-kernel"), "build/aarch64/Image");
    assert.equal(qemuCommand({ arch: "aarch64", image: "Image", cpu: "max", accel: "tcg" }).args.includes("max"), true);
  });

  it("aarch64 UEFI boots a disk image with AAVMF", { skip: !hasUefi("aarch64") && "AAVMF not installed" }, () => {
    const list = args({ arch: "aarch64", image: "build/aarch64/cam-os.img", firmware: "uefi" });
    assert.ok(list.some((a) => /^if=pflash,.*readonly=on,file=.*AAVMF_CODE\.fd$/.test(a)));
    assert.ok(list.includes("if=virtio,file=build/aarch64/cam-os.img,format=raw"));
    assert.ok(!list.includes("-kernel"));
  });

  it("rejects bad options with a clear message", () => {
    assert.throws(() => qemuCommand({ arch: "riscv64" as "x86_64" }), /unknown arch/);
    assert.throws(() => qemuCommand({ arch: "x86_64", smp: 0, accel: "tcg" }), /smp must be a positive integer/);
    assert.throws(() => qemuCommand({ arch: "x86_64", firmware: "coreboot" as "bios" }), /firmware must be bios or uefi/);
  });

  it("formatCommand quotes what a shell would split", () => {
    assert.equal(
      formatCommand({ command: "qemu-system-x86_64", args: ["-cdrom", "my image.iso", "-append", "it's"] }),
      `qemu-system-x86_64 -cdrom 'my image.iso' -append 'it'\\''s'`,
    );
  });
});

describe("splitFlags", () => {
  it("splits on whitespace and keeps quoted words whole", () => {
    assert.deepEqual(splitFlags(""), []);
    assert.deepEqual(splitFlags("  -d int  -D /tmp/q.log "), ["-d", "int", "-D", "/tmp/q.log"]);
    assert.deepEqual(splitFlags(`-append "a b" -name 'x y'`), ["-append", "a b", "-name", "x y"]);
    assert.deepEqual(splitFlags(`-x ""`), ["-x", ""]);
    assert.throws(() => splitFlags(`-append "a b`), /unbalanced/);
  });
});
