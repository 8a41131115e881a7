// tools/flash.ts: every refusal against a fake sysfs tree in a temporary
// folder (nothing is written, byte for byte), a plain file target written and
// verified (--force-file), the command line, and a real loop device where the
// machine lets us make one (losetup; skipped, with the reason, where not).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type Console, type SystemView, checkTarget, flash, formatBytes, parseMounts, progressLine, realSystemView, removableDisks,
} from "../../tools/flash.ts";
import { repoRoot } from "../../tools/harness.ts";

const root = repoRoot();
const flashTool = path.join(root, "build", "tools", "flash.mjs");
const IMAGE_BYTES = 3 * 1024 * 1024 + 512; // not a whole number of chunks
const SECTORS = (bytes: number) => Math.ceil(bytes / 512);

interface FakeDisk {
  name: string; // sdb
  number: string; // 8:16
  removable: boolean;
  sizeBytes: number;
  partitions?: { name: string; number: string }[];
  holders?: string[]; // of the disk itself
  slaves?: string[]; // for a dm-N: the paths (relative to devices/) of what it sits on
  model?: string;
}

// A sysfs tree as Linux lays it out, with what the checks read:
//   devices/virtual/block/<disk>/{dev,size,removable,device/model,holders/,slaves/}
//   devices/virtual/block/<disk>/<part>/{partition,dev,size}
//   block/<disk> -> ../devices/virtual/block/<disk>
//   dev/block/<major:minor> -> ../../devices/virtual/block/<disk>[/<part>]
// and a "dev" folder of stand-in device nodes (plain files) that
// blockDevice() maps to their numbers.
class FakeMachine {
  readonly sysfs: string;
  readonly dev: string;
  readonly numbers = new Map<string, string>();
  mounts = "";
  rootDevices: string[] = [];

  constructor(readonly dir: string) {
    this.sysfs = path.join(dir, "sys");
    this.dev = path.join(dir, "dev");
    for (const d of ["devices/virtual/block", "block", "dev/block"]) fs.mkdirSync(path.join(this.sysfs, d), { recursive: true });
    fs.mkdirSync(this.dev, { recursive: true });
  }

  add(disk: FakeDisk): string {
    const folder = path.join(this.sysfs, "devices", "virtual", "block", disk.name);
    fs.mkdirSync(path.join(folder, "holders"), { recursive: true });
    fs.mkdirSync(path.join(folder, "slaves"), { recursive: true });
    fs.mkdirSync(path.join(folder, "device"), { recursive: true });
    fs.writeFileSync(path.join(folder, "dev"), `${disk.number}\n`);
    fs.writeFileSync(path.join(folder, "size"), `${SECTORS(disk.sizeBytes)}\n`);
    fs.writeFileSync(path.join(folder, "removable"), disk.removable ? "1\n" : "0\n");
    if (disk.model) fs.writeFileSync(path.join(folder, "device", "model"), `${disk.model}\n`);
    for (const holder of disk.holders ?? []) fs.mkdirSync(path.join(folder, "holders", holder));
    for (const slave of disk.slaves ?? []) {
      fs.symlinkSync(path.join(this.sysfs, "devices", slave), path.join(folder, "slaves", path.basename(slave)));
    }
    fs.symlinkSync(`../devices/virtual/block/${disk.name}`, path.join(this.sysfs, "block", disk.name));
    this.node(disk.name, disk.number, `../../devices/virtual/block/${disk.name}`, disk.sizeBytes);
    for (const part of disk.partitions ?? []) {
      const partFolder = path.join(folder, part.name);
      fs.mkdirSync(path.join(partFolder, "holders"), { recursive: true });
      fs.writeFileSync(path.join(partFolder, "partition"), "1\n");
      fs.writeFileSync(path.join(partFolder, "dev"), `${part.number}\n`);
      fs.writeFileSync(path.join(partFolder, "size"), "2048\n");
      this.node(part.name, part.number, `../../devices/virtual/block/${disk.name}/${part.name}`, 1024 * 1024);
    }
    return path.join(this.dev, disk.name);
  }

  private node(name: string, number: string, link: string, sizeBytes: number): void {
    fs.symlinkSync(link, path.join(this.sysfs, "dev", "block", number));
    const node = path.join(this.dev, name);
    fs.writeFileSync(node, Buffer.alloc(0));
    fs.truncateSync(node, sizeBytes);
    this.numbers.set(node, number);
  }

  view(): SystemView {
    return {
      sysfs: this.sysfs,
      mounts: this.mounts,
      rootDevices: this.rootDevices,
      blockDevice: (file: string) => this.numbers.get(file) ?? null,
    };
  }
}

// A console that records what it printed and answers with `answer`.
function recordingConsole(interactive: boolean, answer = ""): Console & { lines: string[]; asked: string[] } {
  const lines: string[] = [];
  const asked: string[] = [];
  return {
    interactive, lines, asked,
    ask: async (question: string) => {
      asked.push(question);
      return answer;
    },
    info: (line: string) => lines.push(line),
    progress: (line: string) => lines.push(line),
  };
}

function sha256(file: string, bytes?: number): string {
  const data = fs.readFileSync(file);
  return createHash("sha256").update(bytes === undefined ? data : data.subarray(0, bytes)).digest("hex");
}

let work = "";
let image = "";
before(() => {
  work = fs.mkdtempSync(path.join(tmpdir(), "camos-flash-"));
  image = path.join(work, "cam-os.img");
  fs.writeFileSync(image, randomBytes(IMAGE_BYTES));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

// A fresh fake machine with one good USB stick (sdb) and the system disk (sda).
function machine(name: string): { m: FakeMachine; stick: string; system: string } {
  const m = new FakeMachine(path.join(work, name));
  const system = m.add({ name: "sda", number: "8:0", removable: false, sizeBytes: 64 << 20,
    partitions: [{ name: "sda1", number: "8:1" }, { name: "sda2", number: "8:2" }] });
  const stick = m.add({ name: "sdb", number: "8:16", removable: true, sizeBytes: 8 << 20, model: "Stick 3000",
    partitions: [{ name: "sdb1", number: "8:17" }] });
  m.mounts = "/dev/sda2 / ext4 rw,relatime 0 0\n/dev/sda1 /boot/efi vfat rw 0 0\nproc /proc proc rw 0 0\n";
  m.rootDevices = ["8:2"];
  return { m, stick, system };
}

// Runs flash() and checks it refused for `reason`, and that the target is
// byte for byte what it was.
async function assertRefused(view: SystemView, device: string, reason: RegExp, options: { yes?: boolean; forceFile?: boolean; io?: Console } = {}) {
  const before = fs.existsSync(device) && fs.statSync(device).isFile() ? sha256(device) : null;
  const io = options.io ?? recordingConsole(false);
  const result = await flash({ image, device, yes: options.yes ?? true, forceFile: options.forceFile ?? false }, view, io);
  assert.equal(result.status, "refused", `expected a refusal matching ${reason}, got ${JSON.stringify(result)}`);
  if (result.status !== "refused") return;
  assert.ok(result.reasons.some((r) => reason.test(r)), `no reason matches ${reason}: ${result.reasons.join(" | ")}`);
  if (before !== null) assert.equal(sha256(device), before, `${device} changed although the write was refused`);
}

describe("flash: refusals (fake sysfs, nothing written)", () => {
  it("accepts the good stick: removable, unmounted, not the system, large enough", () => {
    const { m, stick } = machine("good");
    const check = checkTarget(stick, IMAGE_BYTES, false, m.view());
    assert.deepEqual(check.refusals, []);
    assert.equal(check.target?.name, "sdb");
    assert.equal(check.target?.sizeBytes, 8 << 20);
    assert.match(check.target!.description, /\/dev\/sdb: 8\.0 MiB, Stick 3000/);
  });

  it("refuses a disk that is not removable", async () => {
    const { m } = machine("fixed");
    const disk = m.add({ name: "sdc", number: "8:32", removable: false, sizeBytes: 8 << 20 });
    await assertRefused(m.view(), disk, /\/dev\/sdc is not removable \(.*sdc\/removable is not 1\)/);
  });

  it("refuses a mounted device", async () => {
    const { m, stick } = machine("mounted");
    m.mounts += "/dev/sdb /media/stick vfat rw 0 0\n";
    await assertRefused(m.view(), stick, /\/dev\/sdb is mounted: \/dev\/sdb on \/media\/stick \(unmount it first: umount \/media\/stick\)/);
  });

  it("refuses a device with a mounted partition, mount point unescaped", async () => {
    const { m, stick } = machine("partition-mounted");
    m.mounts += "/dev/sdb1 /media/my\\040stick vfat rw 0 0\n";
    await assertRefused(m.view(), stick, /is mounted: \/dev\/sdb1 on \/media\/my stick/);
  });

  it("refuses a device mounted under another name (a symlink to the same device number)", async () => {
    const { m, stick } = machine("mounted-by-number");
    const alias = path.join(m.dev, "disk-by-label-STICK");
    fs.writeFileSync(alias, "");
    m.numbers.set(alias, "8:17");
    m.mounts += `${alias} /mnt vfat rw 0 0\n`;
    await assertRefused(m.view(), stick, /is mounted: .*disk-by-label-STICK on \/mnt/);
  });

  it("refuses a device held by device-mapper (LVM, dm-crypt)", async () => {
    const { m } = machine("held");
    const disk = m.add({ name: "sdd", number: "8:48", removable: true, sizeBytes: 8 << 20, holders: ["dm-3"] });
    await assertRefused(m.view(), disk, /in use by device-mapper .*sdd by dm-3/);
  });

  it("refuses the disk the system runs from (/ on one of its partitions)", async () => {
    const { m } = machine("system");
    // Make the system disk look removable and unmounted: only the root check is left.
    fs.writeFileSync(path.join(m.sysfs, "block", "sda", "removable"), "1\n");
    m.mounts = "";
    await assertRefused(m.view(), path.join(m.dev, "sda"), /\/dev\/sda holds the running system/);
  });

  it("refuses the disk under / when / is on device-mapper (its slaves' disks)", async () => {
    const { m } = machine("system-dm");
    const usb = m.add({ name: "sde", number: "8:64", removable: true, sizeBytes: 8 << 20, partitions: [{ name: "sde1", number: "8:65" }] });
    m.add({ name: "dm-0", number: "254:0", removable: false, sizeBytes: 4 << 20, slaves: ["virtual/block/sde/sde1"] });
    m.rootDevices = ["254:0"];
    m.mounts = "";
    await assertRefused(m.view(), usb, /\/dev\/sde holds the running system/);
  });

  it("refuses a device smaller than the image", async () => {
    const { m } = machine("small");
    const small = m.add({ name: "sdf", number: "8:80", removable: true, sizeBytes: 2 << 20 });
    await assertRefused(m.view(), small, /\/dev\/sdf is too small: 2\.0 MiB \(2097152 bytes\), the image is 3\.0 MiB \(3146240 bytes\)/);
  });

  it("refuses a partition, naming the whole disk to use", async () => {
    const { m } = machine("partition");
    await assertRefused(m.view(), path.join(m.dev, "sdb1"), /is a partition \(sdb1\) of \/dev\/sdb: write the whole disk, \/dev\/sdb/);
  });

  it("refuses a path that is not a block device, without --force-file", async () => {
    const { m } = machine("plain");
    const file = path.join(work, "plain.bin");
    fs.writeFileSync(file, Buffer.alloc(IMAGE_BYTES * 2, 0xaa));
    await assertRefused(m.view(), file, /is not a block device .*--force-file/);
  });

  it("refuses a path that does not exist", async () => {
    const { m } = machine("missing");
    await assertRefused(m.view(), path.join(m.dev, "sdz"), /does not exist/);
  });

  it("refuses without a terminal to confirm on and without --yes", async () => {
    const { m, stick } = machine("no-tty");
    await assertRefused(m.view(), stick, /no terminal to confirm on: .* --yes/, { yes: false, io: recordingConsole(false) });
  });

  it("refuses when the confirmation is anything but the device name or yes", async () => {
    const { m, stick } = machine("wrong-answer");
    const io = recordingConsole(true, "y");
    await assertRefused(m.view(), stick, /not confirmed \(got 'y'\)/, { yes: false, io });
    assert.match(io.asked[0], /Type the device name \(sdb\) or yes/);
  });

  it("lists every reason at once", () => {
    const { m } = machine("many");
    const bad = m.add({ name: "sdg", number: "8:96", removable: false, sizeBytes: 1 << 20 });
    m.mounts += "/dev/sdg /mnt ext4 rw 0 0\n";
    const { refusals } = checkTarget(bad, IMAGE_BYTES, false, m.view());
    assert.equal(refusals.length, 3, refusals.join("\n"));
  });
});

describe("flash: writing and verifying", () => {
  it("writes a (fake) device after the name is typed, and verifies it", async () => {
    const { m, stick } = machine("confirmed");
    const io = recordingConsole(true, "sdb");
    const result = await flash({ image, device: stick, yes: false, forceFile: false }, m.view(), io);
    assert.equal(result.status, "written", io.lines.join("\n"));
    assert.equal(sha256(stick, IMAGE_BYTES), sha256(image));
    assert.ok(io.lines.some((l) => /^verified: sha256 [0-9a-f]{64}/.test(l)), io.lines.join("\n"));
  });

  it("writes a plain file with --force-file and verifies it; the rest of the file is left alone", async () => {
    const target = path.join(work, "target.bin");
    fs.writeFileSync(target, Buffer.alloc(IMAGE_BYTES + 4096, 0x5a));
    const io = recordingConsole(false);
    const result = await flash({ image, device: target, yes: true, forceFile: true }, realSystemView(), io);
    assert.equal(result.status, "written");
    if (result.status === "written") assert.equal(result.sha256, sha256(image));
    const data = fs.readFileSync(target);
    assert.ok(data.subarray(0, IMAGE_BYTES).equals(fs.readFileSync(image)));
    assert.ok(data.subarray(IMAGE_BYTES).every((b) => b === 0x5a));
    assert.ok(io.lines.some((l) => /^written 3\.0 MiB of 3\.0 MiB \(100%\)/.test(l)), io.lines.join("\n"));
  });

  it("refuses a plain file smaller than the image, even with --force-file", async () => {
    const target = path.join(work, "small.bin");
    fs.writeFileSync(target, Buffer.alloc(IMAGE_BYTES - 512, 0x11));
    await assertRefused(realSystemView(), target, /small\.bin is too small/, { forceFile: true });
  });

  it("progress lines give bytes, percent, rate and time left", () => {
    assert.equal(progressLine("written", 32 << 20, 64 << 20, 2000), "written 32.0 MiB of 64.0 MiB (50%), 16.0 MiB/s, 2 s left");
    assert.equal(progressLine("written", 64 << 20, 64 << 20, 4000), "written 64.0 MiB of 64.0 MiB (100%), 16.0 MiB/s, 4.0 s");
    assert.equal(formatBytes(1536), "1.5 KiB");
  });

  it("parses /proc/mounts, escapes included", () => {
    assert.deepEqual(parseMounts("/dev/sdb1 /media/a\\040b vfat rw 0 0\n\n"), [{ source: "/dev/sdb1", mountPoint: "/media/a b" }]);
  });

  it("lists the removable disks for a person who gave no device", () => {
    const { m } = machine("listing");
    assert.deepEqual(removableDisks(m.view()), ["/dev/sdb: 8.0 MiB, Stick 3000"]);
  });
});

describe("flash: the command line", { skip: fs.existsSync(flashTool) ? false : "build/tools/flash.mjs not built (make test builds it)" }, () => {
  const cli = (args: string[]) => spawnSync("node", [flashTool, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  it("writes a file with --force-file --yes, verifies, and exits 0", () => {
    const target = path.join(work, "cli.bin");
    fs.writeFileSync(target, Buffer.alloc(IMAGE_BYTES));
    const result = cli(["--image", image, "--device", target, "--force-file", "--yes"]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /verified: sha256 [0-9a-f]{64} \(image and .* agree\)/);
    assert.match(result.stderr, /written 3\.0 MiB of 3\.0 MiB \(100%\), .*\/s/);
    assert.equal(sha256(target), sha256(image));
  });

  it("refuses without a terminal and without --yes, exits 1, writes nothing", () => {
    const target = path.join(work, "cli-no.bin");
    fs.writeFileSync(target, Buffer.alloc(IMAGE_BYTES, 7));
    const result = cli(["--image", image, "--device", target, "--force-file"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /flash: refused: no terminal to confirm on/);
    assert.match(result.stderr, /flash: nothing was written/);
    assert.ok(fs.readFileSync(target).every((b) => b === 7));
  });

  it("refuses a plain file without --force-file, and an unknown argument", () => {
    let result = cli(["--image", image, "--device", image, "--yes"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /is not a block device/);
    result = cli(["--image", image, "--device", image, "--bogus"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unknown argument '--bogus'/);
  });

  it("says what is missing without --device", () => {
    const result = cli(["--image", image]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--image and --device are required \(make usb DEVICE=\/dev\/sdX\)/);
  });
});

// A loop device is a real block device, but the kernel calls it not
// removable: the real checks must refuse it; with a sysfs view that says
// removable, the real write, fsync, flush and read-back must work on it.
function makeLoop(file: string): { device?: string; why?: string } {
  const result = spawnSync("losetup", ["--find", "--show", file], { encoding: "utf8" });
  if (result.error) return { why: `losetup not available (${result.error.message})` };
  if (result.status !== 0) return { why: `losetup not permitted here: ${result.stderr.trim() || `status ${result.status}`}` };
  return { device: result.stdout.trim() };
}

describe("flash: a loop device", () => {
  let loop: string | undefined;
  let backing = "";
  let why = "";
  before(() => {
    backing = path.join(work, "loop-backing.bin");
    fs.writeFileSync(backing, Buffer.alloc(0));
    fs.truncateSync(backing, 8 << 20);
    const made = makeLoop(backing);
    loop = made.device;
    why = made.why ?? "";
    if (!loop) console.log(`flash loop-device tests skipped: ${why}`);
  });
  after(() => {
    if (loop) spawnSync("losetup", ["--detach", loop]);
  });

  it("the real checks refuse it as not removable, and nothing is written", async (t) => {
    if (!loop) return t.skip(why);
    await assertRefused(realSystemView(), loop, /is not removable/);
    assert.ok(fs.readFileSync(backing).every((b) => b === 0), "the loop device's backing file changed");
  });

  it("with sysfs saying removable, it is written, synced, flushed and read back", async (t) => {
    if (!loop) return t.skip(why);
    const real = realSystemView();
    const number = real.blockDevice(loop)!;
    // A sysfs copy of just this device, marked removable.
    const fake = path.join(work, "loop-sys");
    const folder = path.join(fake, "devices", "virtual", "block", path.basename(loop));
    fs.mkdirSync(folder, { recursive: true });
    fs.mkdirSync(path.join(fake, "dev", "block"), { recursive: true });
    fs.writeFileSync(path.join(folder, "removable"), "1\n");
    fs.writeFileSync(path.join(folder, "size"), fs.readFileSync(path.join("/sys/dev/block", number, "size")));
    fs.symlinkSync(folder, path.join(fake, "dev", "block", number));
    const io = recordingConsole(false);
    const result = await flash({ image, device: loop, yes: true, forceFile: false }, { ...real, sysfs: fake }, io);
    assert.equal(result.status, "written", JSON.stringify(result));
    assert.equal(sha256(backing, IMAGE_BYTES), sha256(image), "the backing file does not hold the image");
  });
});
