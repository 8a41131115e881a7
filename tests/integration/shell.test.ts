// The serial shell, booted for real in QEMU: the console service where the
// image carries the signed services (`services` targets), else the kernel's
// own shell.
//
// One table of boot targets ({arch, firmware, image, cpu}); every target runs
// the read-only commands on one shared machine (a `smoke` target only the
// banner and a few of them), and targets marked `lifecycle` also boot a fresh
// machine each for panic, halt and reboot. A new arch, firmware or CPU is one
// more row in TARGETS.
//
// The image comes from `make iso`. When it is missing the tests are skipped,
// unless CAMOS_REQUIRE_IMAGE is set (as `make test` does): then they fail.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { PROMPT, QemuHarness, repoRoot, sleep } from "../../tools/harness.ts";
import type { Arch, Firmware } from "../../tools/qemu.ts";

interface BootTarget {
  arch: Arch;
  firmware: Firmware; // on AArch64 "bios" means no firmware: QEMU's -kernel loader
  image: string; // relative to the repository root
  cpu?: string; // QEMU -cpu (default: QEMU's on x86_64, cortex-a72 on AArch64)
  machine?: string; // QEMU -M (default: q35, virt,gic-version=3)
  protocol: RegExp; // what `bootinfo` names as the boot protocol
  promptTimeoutMs: number; // from QEMU start to the first prompt (TCG is slow)
  lifecycle: boolean; // also boot fresh machines for panic, halt and reboot
  smoke?: boolean; // only the banner and a few commands (another CPU model)
  entryLevel?: RegExp; // what the trampoline's first line must say about the entry
  services: boolean; // the shell is the console service (init, console run in user mode)
  initrd?: string; // the signed modules as one bundle (the AArch64 Image path), relative to the root
}

// The AArch64 image, booted the way qemu -kernel and U-Boot booti do.
const AARCH64_IMAGE = "build/aarch64/Image";
// virtualization=on gives the CPU EL2, so the Image is entered there and the
// trampoline must drop to EL1 itself.
const AARCH64_WITH_EL2 = "virt,gic-version=3,virtualization=on";

const TARGETS: BootTarget[] = [
  {
    arch: "x86_64",
    services: true,
    firmware: "bios",
    image: "build/x86_64/cam-os.iso",
    protocol: /multiboot2/i,
    promptTimeoutMs: 30_000,
    lifecycle: true,
  },
  {
    arch: "x86_64",
    services: true,
    firmware: "uefi",
    image: "build/x86_64/cam-os.iso",
    protocol: /multiboot2/i,
    promptTimeoutMs: 60_000,
    lifecycle: false,
  },
  {
    arch: "aarch64",
    services: true,
    initrd: "build/aarch64/modules.img",
    firmware: "bios",
    image: AARCH64_IMAGE,
    cpu: "cortex-a72",
    protocol: /linux-arm64/i,
    promptTimeoutMs: 30_000,
    lifecycle: true,
    entryLevel: /entered at EL1,/,
  },
  {
    arch: "aarch64",
    services: true,
    initrd: "build/aarch64/modules.img",
    firmware: "bios",
    image: AARCH64_IMAGE,
    cpu: "cortex-a57",
    machine: AARCH64_WITH_EL2,
    protocol: /linux-arm64/i,
    promptTimeoutMs: 30_000,
    lifecycle: false,
    smoke: true,
    entryLevel: /entered at EL2 \(now EL1\)/,
  },
  {
    arch: "aarch64",
    services: true,
    initrd: "build/aarch64/modules.img",
    firmware: "bios",
    image: AARCH64_IMAGE,
    cpu: "max",
    machine: AARCH64_WITH_EL2,
    protocol: /linux-arm64/i,
    promptTimeoutMs: 30_000,
    lifecycle: false,
    smoke: true,
    entryLevel: /entered at EL2 \(now EL1\)/,
  },
];

const MEM = "256M";
const SMP = 1;
const COMMAND_TIMEOUT_MS = 15_000;
const SHELL_COMMANDS = ["help", "version", "mem", "uptime", "echo", "bootinfo", "panic", "reboot", "halt"];
// What the console service adds to the kernel shell's commands.
const SERVICE_COMMANDS = ["ps", "kill", "caps", "audit", "ipc", "bench"];
const MAX_LINE_CHARS = 128;
const SEMVER = /CAM-OS (\d+\.\d+\.\d+)/;

const root = repoRoot();
const logDir = path.join(root, "build", "test-logs");

function skipReason(target: BootTarget): string | false {
  if (fs.existsSync(path.join(root, target.image)) || process.env.CAMOS_REQUIRE_IMAGE) return false;
  return `${target.image} not found: run \`make iso\` first (with CAMOS_REQUIRE_IMAGE set, a missing image fails)`;
}

function label(target: BootTarget): string {
  if (target.arch === "aarch64") return `${target.arch}/${target.cpu ?? "cortex-a72"}${target.machine?.includes("virtualization=on") ? "-el2" : ""}`;
  return `${target.arch}/${target.firmware}`;
}

// A name for log files: the label without slashes.
function slug(target: BootTarget): string {
  return label(target).replaceAll("/", "-");
}

interface Booted {
  vm: QemuHarness;
  banner: string; // the banner line, without \r
}

// Boots `target` and waits for the first prompt. The banner is the last line
// naming CAM-OS and a version before that prompt (a boot loader's menu may
// name CAM-OS earlier). Prints the time to the prompt for the record.
async function bootToPrompt(target: BootTarget, name: string, noReboot: boolean): Promise<Booted> {
  const image = path.join(root, target.image);
  assert.ok(fs.existsSync(image), `${target.image} not found (CAMOS_REQUIRE_IMAGE is set): run \`make iso\``);
  const vm = await QemuHarness.boot({
    arch: target.arch,
    firmware: target.firmware,
    image,
    initrd: target.initrd ? path.join(root, target.initrd) : undefined,
    cpu: target.cpu,
    machine: target.machine,
    smp: SMP,
    mem: MEM,
    noReboot,
    name,
    logDir,
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  try {
    const first = await vm.firstPrompt(target.promptTimeoutMs);
    console.log(`boot-time target=${label(target)} vm=${name} prompt_ms=${vm.promptAtMs}`);
    return { vm, banner: lastBannerLine(first.before, "the first prompt") };
  } catch (err) {
    await vm.close({ keepLog: true });
    throw err;
  }
}

function lastBannerLine(text: string, where: string): string {
  const lines = text.replaceAll("\r", "").split("\n").filter((line) => SEMVER.test(line));
  assert.ok(lines.length > 0, `no banner (a line with "CAM-OS <semver>") before ${where}:\n${text.slice(-1000)}`);
  return lines[lines.length - 1];
}

// Runs `body` as a test and remembers a failure, so the machine's log is kept.
function makeCheck(onFail: () => void) {
  return (name: string, body: () => Promise<void>, timeout = 4 * COMMAND_TIMEOUT_MS) =>
    it(name, { timeout }, async () => {
      try {
        await body();
      } catch (err) {
        onFail();
        throw err;
      }
    });
}

const UNIT_KIB: Record<string, number> = { B: 1 / 1024, KIB: 1, MIB: 1024, GIB: 1024 * 1024 };

// The size on the line that names `keyword`, in KiB: the first "<n> KiB|MiB|GiB"
// after the keyword on that line, else the last one before it.
function sizeKiB(text: string, keyword: string): number {
  const line = text.split("\n").find((l) => new RegExp(`\\b${keyword}\\b`, "i").test(l));
  assert.ok(line, `no line with "${keyword}" in:\n${text}`);
  const at = line.search(new RegExp(`\\b${keyword}\\b`, "i"));
  const sizes = [...line.matchAll(/(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|B)\b/gi)];
  assert.ok(sizes.length > 0, `no size in KiB/MiB on the "${keyword}" line: ${line}`);
  const size = sizes.find((m) => m.index! > at) ?? sizes[sizes.length - 1];
  return Number(size[1]) * UNIT_KIB[size[2].toUpperCase()];
}

// Seconds from `uptime`: a number followed by s/sec/seconds, else the first number.
function uptimeSeconds(text: string): number {
  const match = text.match(/(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b/) ?? text.match(/(\d+(?:\.\d+)?)/);
  assert.ok(match, `uptime printed no number: ${JSON.stringify(text)}`);
  return Number(match[1]);
}

for (const target of TARGETS) {
  describe(`shell on ${label(target)}`, { skip: skipReason(target) }, () => {
    let booted: Booted | undefined;
    let failed = false;
    const check = makeCheck(() => {
      failed = true;
    });
    const vm = () => {
      assert.ok(booted, "the machine did not boot");
      return booted.vm;
    };

    before(async () => {
      booted = await bootToPrompt(target, `shell-${slug(target)}`, true);
    });
    // A smoke target (another CPU model) runs only the checks marked true.
    const full = !target.smoke;
    after(async () => {
      const kept = await booted?.vm.close({ keepLog: failed });
      if (kept) console.log(`serial log kept: ${kept}`);
    });

    check("the banner names CAM-OS, its version, the arch, the memory and the CPUs", async () => {
      const banner = booted!.banner;
      assert.match(banner, /CAM-OS \d+\.\d+\.\d+/);
      assert.match(banner, new RegExp(target.arch));
      assert.match(banner, /MiB/);
      assert.match(banner, /CPU/);
    });

    if (target.entryLevel) {
      check("the trampoline reports the exception level it was entered at", async () => {
        assert.match(booted!.vm.output, target.entryLevel!);
      });
    }

    if (full) check("help lists every command", async () => {
      const out = await vm().command("help");
      const names = target.services ? [...SHELL_COMMANDS, ...SERVICE_COMMANDS] : SHELL_COMMANDS;
      for (const name of names) assert.match(out, new RegExp(`\\b${name}\\b`), `help does not list "${name}":\n${out}`);
    });

    check("version prints CAM-OS <semver> and the arch, as the banner does", async () => {
      const out = await vm().command("version");
      const version = out.match(SEMVER);
      assert.ok(version, `no "CAM-OS <semver>" in: ${out}`);
      assert.match(out, new RegExp(target.arch));
      assert.equal(version[1], booted!.banner.match(SEMVER)![1], "version and banner disagree");
    });

    if (full) check(`mem prints total, free and used; total fits -m ${MEM}`, async () => {
      const out = await vm().command("mem");
      const total = sizeKiB(out, "total");
      const free = sizeKiB(out, "free");
      const used = sizeKiB(out, "used");
      for (const [name, value] of Object.entries({ total, free, used })) {
        assert.ok(Number.isFinite(value) && value >= 0, `${name} is not a size: ${out}`);
      }
      assert.ok(free <= total, `free (${free} KiB) > total (${total} KiB):\n${out}`);
      assert.ok(used <= total, `used (${used} KiB) > total (${total} KiB):\n${out}`);
      assert.ok(total >= 200 * 1024 && total <= 256 * 1024, `total ${total} KiB is not within 200..256 MiB:\n${out}`);
    });

    check("uptime counts seconds upwards", async () => {
      const first = uptimeSeconds(await vm().command("uptime"));
      await sleep(1100);
      const second = uptimeSeconds(await vm().command("uptime"));
      assert.ok(second > first, `uptime did not increase over ~1 s: ${first} then ${second}`);
    });

    check("echo prints its arguments; quotes keep inner spaces", async () => {
      assert.equal((await vm().command("echo hello world")).trimEnd(), "hello world");
      assert.equal((await vm().command('echo "a  b"')).trimEnd(), "a  b");
    });

    if (full) check("bootinfo names the protocol, a usable memory region and the modules", async () => {
      const out = await vm().command("bootinfo");
      assert.match(out, target.protocol);
      assert.match(out, /usable/i);
      assert.match(out, /module/i);
    });

    if (full) check("an unknown command says so and points to help", async () => {
      const out = await vm().command("frobnicate");
      assert.ok(out.includes("unknown command: frobnicate (try help)"), `got: ${out}`);
    });

    if (full) check(`a line of ${MAX_LINE_CHARS} characters is accepted`, async () => {
      const word = "y".repeat(MAX_LINE_CHARS - "echo ".length);
      assert.equal((await vm().command(`echo ${word}`)).trimEnd(), word);
    });

    if (full) check(`a line longer than ${MAX_LINE_CHARS} characters is refused, and the shell goes on`, async () => {
      const machine = vm();
      await machine.settle(200);
      machine.send(`echo ${"z".repeat(MAX_LINE_CHARS + 20)}\r`);
      await machine.expect("error: line too long");
      await machine.settle(500);
      assert.match(await machine.command("version"), SEMVER);
    });

    if (full) check("DEL erases the character before it", async () => {
      const out = await vm().command("vex\x7frsion");
      assert.match(out, SEMVER, `"vex<DEL>rsion" did not run version: ${out}`);
    });
  });

  if (!target.lifecycle) continue;

  // Each of these ends the machine, so each gets its own. They boot without
  // -no-reboot: a triple fault then shows up as a second banner, not an exit.
  describe(`panic, halt and reboot on ${label(target)}`, { skip: skipReason(target) }, () => {
    const lifecycle = (what: string, body: (booted: Booted) => Promise<void>) =>
      it(what, { timeout: target.promptTimeoutMs * 2 + 30_000 }, async () => {
        const booted = await bootToPrompt(target, `${what.split(" ")[0]}-${slug(target)}`, false);
        let failed = true;
        try {
          await body(booted);
          failed = false;
        } finally {
          const kept = await booted.vm.close({ keepLog: failed });
          if (kept) console.log(`serial log kept: ${kept}`);
        }
      });

    if (target.services) lifecycle("panic kills the console only; the kernel reports the trap and init restarts it", async ({ vm }) => {
      const mark = vm.output.length;
      vm.send("panic\r");
      await vm.expect(/console \(pid \d+\) died: wasm trap: unreachable/);
      // The new console may print its prompt before init logs the start.
      await vm.expect(/console: serial shell on/, 10_000);
      await vm.expect(PROMPT, 10_000);
      await vm.settle(500);
      assert.match(vm.output.slice(mark), /init: started console \(pid \d+\)/);
      assert.ok(!vm.output.slice(mark).includes("KERNEL PANIC"), "a trap in a service panicked the kernel");
      assert.match(await vm.command("version"), SEMVER);
      assert.match(await vm.command("ps"), /console\s+running\s+1\b/, "ps does not show the console restarted once");
    });

    if (!target.services) lifecycle("panic prints a report with the trap kind, and the machine stops", async ({ vm }) => {
      const mark = vm.output.length;
      vm.send("panic\r");
      await vm.expect("KERNEL PANIC");
      await vm.settle(1000);
      const report = vm.output.slice(mark);
      assert.match(report, /unreachable/i, `the panic report names no trap kind:\n${report}`);
      assert.ok(!report.slice(report.indexOf("KERNEL PANIC")).includes(PROMPT), "a prompt came back after the panic");
      if (vm.running) vm.send("\rversion\r");
      assert.equal(await vm.appears(PROMPT, 3000), false, "the shell answered after a kernel panic");
    });

    lifecycle("halt prints System halted and QEMU exits", async ({ vm }) => {
      vm.send("halt\r");
      await vm.expect("System halted");
      try {
        const status = await vm.exit(10_000);
        assert.equal(status.code, 0, `QEMU exited with status ${status.code} (signal ${status.signal}) after halt`);
      } catch (err) {
        if (!vm.running) throw err;
        const promptBack = vm.output.slice(vm.output.lastIndexOf("System halted")).includes(PROMPT);
        assert.fail(
          `QEMU was still running 10 s after "System halted": the power-off (ACPI, PSCI) did not happen` +
            (promptBack ? " (and the prompt came back)" : " (no prompt came back)"),
        );
      }
    });

    lifecycle("reboot brings the banner and the prompt back", async ({ vm }) => {
      vm.send("reboot\r");
      const second = await vm.expect(PROMPT, target.promptTimeoutMs);
      const banner = lastBannerLine(second.before, "the prompt after reboot");
      assert.match(banner, new RegExp(target.arch));
      assert.match(banner, /MiB/);
      assert.match(await vm.command("version"), SEMVER);
    });
  });
}
