// The images booted as a USB stick would be: attached as a raw disk
// (-drive format=raw, the harness's "disk" image kind), on BIOS (SeaBIOS) and
// on UEFI (OVMF). The raw disk image of `make image` (GPT, GRUB in the MBR
// and the BIOS boot partition, GRUB's BOOTX64.EFI on the EFI system
// partition), and the hybrid ISO of `make iso` written to a stick as it is.
// Each boot reaches the console service's prompt, runs `version`, and `ps`
// shows init and the console running; it prints its wall time to the prompt.
//
// Each machine boots a copy of the image: QEMU may write to a disk, and
// locks it. Images come from `make test`; missing ones fail when
// CAMOS_REQUIRE_IMAGE is set, else the tests are skipped.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { QemuHarness, repoRoot } from "../../tools/harness.ts";
import type { Firmware } from "../../tools/qemu.ts";

interface DiskTarget {
  image: string; // relative to the repository root
  what: string;
  firmware: Firmware;
  promptTimeoutMs: number;
}

const TARGETS: DiskTarget[] = [
  { image: "build/x86_64/cam-os.img", what: "raw disk image", firmware: "bios", promptTimeoutMs: 60_000 },
  { image: "build/x86_64/cam-os.img", what: "raw disk image", firmware: "uefi", promptTimeoutMs: 90_000 },
  { image: "build/x86_64/cam-os.iso", what: "hybrid ISO as a disk", firmware: "bios", promptTimeoutMs: 60_000 },
  { image: "build/x86_64/cam-os.iso", what: "hybrid ISO as a disk", firmware: "uefi", promptTimeoutMs: 90_000 },
];

const root = repoRoot();
const logDir = path.join(root, "build", "test-logs");
const SEMVER = /CAM-OS (\d+\.\d+\.\d+)/;

function skipReason(image: string): string | false {
  if (fs.existsSync(path.join(root, image)) || process.env.CAMOS_REQUIRE_IMAGE) return false;
  return `${image} not built (make image, make iso; make test builds both)`;
}

// ps rows: "  PID  NAME  STATE  RESTARTS".
function psStates(text: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const line of text.replaceAll("\r", "").split("\n")) {
    const match = line.match(/^\s*(\d+|-)\s+(\S+)\s+(\S+)\s+(\d+)\s*$/);
    if (match) states.set(match[2], match[3]);
  }
  return states;
}

for (const target of TARGETS) {
  const kind = path.extname(target.image).slice(1);
  const slug = `disk-${kind}-${target.firmware}`;
  describe(`${target.what} (${target.image}) booted as a disk on ${target.firmware}`, { skip: skipReason(target.image) }, () => {
    let vm: QemuHarness | undefined;
    let copy = "";
    let failed = false;
    const check = (name: string, body: (vm: QemuHarness) => Promise<void>) =>
      it(name, { timeout: 60_000 }, async () => {
        try {
          assert.ok(vm, "the machine did not boot");
          await body(vm);
        } catch (error) {
          failed = true;
          throw error;
        }
      });

    before(async () => {
      const image = path.join(root, target.image);
      assert.ok(fs.existsSync(image), `${target.image} not found: run make test`);
      fs.mkdirSync(logDir, { recursive: true });
      copy = path.join(logDir, `${slug}.${kind}.img`);
      fs.copyFileSync(image, copy);
      vm = await QemuHarness.boot({
        arch: "x86_64", firmware: target.firmware, image: copy, imageKind: "disk", name: slug, logDir,
        mem: "256M", smp: 1, noReboot: true, timeoutMs: 15_000,
      });
      try {
        await vm.firstPrompt(target.promptTimeoutMs);
      } catch (error) {
        failed = true;
        throw error;
      }
      console.log(`boot-time target=x86_64/${target.firmware} image=${kind}-as-disk prompt_ms=${vm.promptAtMs}`);
    });
    after(async () => {
      const kept = await vm?.close({ keepLog: failed });
      if (kept) console.log(`serial log kept: ${kept}`);
      if (copy) fs.rmSync(copy, { force: true });
    });

    check("QEMU attached it as a raw disk, not a CD-ROM", async (machine) => {
      assert.match(machine.commandLine, /-drive file=[^ ]+,format=raw,if=ide/);
      assert.doesNotMatch(machine.commandLine, /-cdrom/);
    });

    check("GRUB booted the kernel by Multiboot2 and init started the console", async (machine) => {
      assert.match(machine.output, /booted by multiboot2/);
      await machine.seen(/init: started console \(pid \d+\)/, 10_000);
    });

    check("version prints CAM-OS <semver> on x86_64", async (machine) => {
      const out = await machine.command("version");
      assert.match(out, SEMVER);
      assert.match(out, /x86_64/);
    });

    check("ps shows init and the console running", async (machine) => {
      const states = psStates(await machine.command("ps"));
      assert.equal(states.get("init"), "running", `ps: ${[...states]}`);
      assert.equal(states.get("console"), "running", `ps: ${[...states]}`);
    });
  });
}
