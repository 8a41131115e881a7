// User space in QEMU: init supervising the console service, the console's
// own commands (ps, kill, caps, audit, ipc), and the hostile test service
// trying every escape on the test image. One table of targets, as in
// shell.test.ts: a new architecture is one more row.
//
// Images come from `make test` (build/<arch>/cam-os.iso and
// cam-os-test.iso); missing images fail when CAMOS_REQUIRE_IMAGE is set.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { withoutLogLines } from "../../tools/console.ts";
import { PROMPT, QemuHarness, repoRoot } from "../../tools/harness.ts";
import type { Arch, Firmware } from "../../tools/qemu.ts";

interface ServicesTarget {
  arch: Arch;
  firmware: Firmware;
  image: string; // the release image: init and console
  testImage: string; // the test image: init, console, hostile and escape
  initrd?: string; // AArch64: the release modules as one bundle, beside the kernel Image
  testInitrd?: string; // AArch64: the test modules
  uartCap: RegExp; // how `caps` shows the console's UART
  promptTimeoutMs: number;
}

const TARGETS: ServicesTarget[] = [
  {
    arch: "x86_64",
    firmware: "bios",
    image: "build/x86_64/cam-os.iso",
    testImage: "build/x86_64/cam-os-test.iso",
    uartCap: /io-ports\s+read,write\s+ports 0x3f8\.\.0x3ff/,
    promptTimeoutMs: 30_000,
  },
  {
    arch: "aarch64",
    firmware: "bios",
    image: "build/aarch64/Image",
    testImage: "build/aarch64/Image",
    initrd: "build/aarch64/modules.img",
    testInitrd: "build/aarch64/modules-test.img",
    uartCap: /mmio\s+read,write,map\s+0x9000000\.\.0x9000fff/,
    promptTimeoutMs: 30_000,
  },
];

const root = repoRoot();
const required = process.env.CAMOS_REQUIRE_IMAGE !== undefined;

function skipReason(image: string): string | false {
  if (fs.existsSync(path.join(root, image)) || required) return false;
  return `${image} not built (make test builds it)`;
}

async function boot(target: ServicesTarget, image: string, initrd: string | undefined, name: string): Promise<QemuHarness> {
  for (const file of [image, initrd]) {
    if (file) assert.ok(fs.existsSync(path.join(root, file)), `${file} not found: run make test`);
  }
  const vm = await QemuHarness.boot({
    arch: target.arch, firmware: target.firmware, image, initrd: initrd ? path.join(root, initrd) : undefined,
    name, mem: "256M", smp: 1, noReboot: true, timeoutMs: 15_000,
  });
  await vm.firstPrompt(target.promptTimeoutMs);
  return vm;
}

// ps rows: "  PID  NAME  STATE  RESTARTS" → {pid, state, restarts} by name.
// The test image's services log onto the same serial line; their lines
// come whole but may land between rows, so they are cut out first.
function psTable(text: string): Map<string, { pid: string; state: string; restarts: number }> {
  const rows = new Map<string, { pid: string; state: string; restarts: number }>();
  for (const line of withoutLogLines(text).split("\n")) {
    const match = line.match(/^\s*(\d+|-)\s+(\S+)\s+(\S+)\s+(\d+)\s*$/);
    if (match) rows.set(match[2], { pid: match[1], state: match[3], restarts: Number(match[4]) });
  }
  return rows;
}

for (const target of TARGETS) {
  describe(`services on ${target.arch}/${target.firmware}`, { skip: skipReason(target.image) }, () => {
    let vm: QemuHarness | undefined;
    let failed = false;
    const machine = () => {
      assert.ok(vm, "the machine did not boot");
      return vm;
    };
    const check = (name: string, body: () => Promise<void>) =>
      it(name, { timeout: 60_000 }, async () => {
        try {
          await body();
        } catch (error) {
          failed = true;
          throw error;
        }
      });

    before(async () => {
      vm = await boot(target, target.image, target.initrd, `services-${target.arch}`);
    });
    after(async () => {
      const kept = await vm?.close({ keepLog: failed });
      if (kept) console.log(`serial log kept: ${kept}`);
    });

    check("the prompt is served by the console service that init started", async () => {
      await machine().seen(/init: started console \(pid \d+\)/, 10_000);
      assert.match(machine().output, /console: serial shell/);
    });

    check("ps lists init and the console, both running", async () => {
      const table = psTable(await machine().command("ps"));
      assert.equal(table.get("init")?.state, "running", `init not running:\n${[...table]}`);
      assert.equal(table.get("console")?.state, "running");
    });

    check("caps shows the console's capabilities: its UART and its IRQ", async () => {
      const out = await machine().command("caps");
      assert.match(out, target.uartCap);
      assert.match(out, /irq\s+receive/);
    });

    check("ipc lists the endpoints with their counters, and a ps call shows up there", async () => {
      await machine().command("ps");
      const out = await machine().command("ipc");
      const init = out.split("\n").find((line) => /^init\s/.test(line));
      assert.ok(init, `no init endpoint in:\n${out}`);
      const calls = Number(init.trim().split(/\s+/)[1]);
      assert.ok(calls > 0, `init's endpoint counts no calls after ps:\n${out}`);
    });

    check("audit shows the newest records with trace id, caller, call and verdict", async () => {
      const out = await machine().command("audit 5");
      assert.match(out, /TRACE\s+PID\s+CALL\s+TARGET\s+VERDICT/);
      const rows = out.split("\n").filter((line) => /^\s*\d+\s+\d+\s+\S+/.test(line));
      assert.equal(rows.length, 5, `audit 5 gave ${rows.length} records:\n${out}`);
    });

    check("bench times a null syscall and an IPC round trip to init", async () => {
      const out = await machine().command("bench 200");
      const nullCycles = Number(out.match(/null syscall: (\d+) cycles \(200 runs\)/)?.[1]);
      const ipcCycles = Number(out.match(/ipc round trip: (\d+) cycles \(200 runs\)/)?.[1]);
      assert.ok(nullCycles > 0, `no null syscall figure in:\n${out}`);
      assert.ok(ipcCycles > nullCycles, `an IPC round trip (${ipcCycles}) should cost more than a null syscall (${nullCycles})`);
      assert.match(await machine().command("bench 0"), /usage: bench \[n\]/);
    });

    check("kill of the console: init restarts it and the new console answers", async () => {
      const before = psTable(await machine().command("ps")).get("console")!;
      machine().send(`kill ${before.pid}\r`);
      await machine().expect(new RegExp(`console \\(pid ${before.pid}\\) died: killed by pid \\d+`));
      // The new console may print its prompt before init logs the start.
      await machine().expect(/console: serial shell on/, 10_000);
      await machine().expect(PROMPT, 10_000);
      await machine().settle(500);
      const after = psTable(await machine().command("ps")).get("console")!;
      assert.notEqual(after.pid, before.pid, "the console kept its pid");
      assert.equal(after.restarts, before.restarts + 1);
    });
  });

  describe(`hostile service on ${target.arch}/${target.firmware}`, { skip: skipReason(target.testImage) }, () => {
    it("hostile is denied every escape and audited; each isolation layer stops an escape alone; the system goes on", { timeout: 300_000 }, async () => {
      const vm = await boot(target, target.testImage, target.testInitrd, `hostile-${target.arch}`);
      let failed = true;
      try {
        // TCG on a loaded host: the whole list can take a minute on AArch64.
        const done = await vm.expect(/hostile: done, (\d+) attempts, (\d+) denied/, 120_000);
        const attempts = Number(done.groups![1]);
        assert.ok(attempts >= 40, `only ${attempts} attempts`);
        assert.equal(Number(done.groups![2]), attempts, "not every attempt was denied");
        assert.ok(!vm.output.includes("ALLOWED"), `an escape was allowed:\n${vm.output.split("\n").filter((l) => l.includes("ALLOWED")).join("\n")}`);
        // The wasm sandbox: its out-of-bounds store traps and kills it, only it.
        await vm.expect(/hostile \(pid \d+\) died: wasm trap: out-of-bounds memory access/, 60_000);
        await vm.expect(/hostile .*giving up after \d+ restarts/, 90_000);
        assert.ok(!vm.output.includes("KERNEL PANIC"));
        // The MMU on its own: escape's native store into the kernel's image
        // (no wasm in the way) is a page fault that kills escape only. It
        // runs beside hostile, so its lines are anywhere in the log.
        assert.match(vm.output, /escape \(pid \d+\) died: page fault at 0xffffffff80200000/);
        assert.ok(!vm.output.includes("escape: native store into the kernel: ALLOWED"));
        await vm.settle(500);
        const ps = psTable(await vm.command("ps"));
        assert.equal(ps.get("hostile")?.state, "failed");
        assert.equal(ps.get("console")?.state, "running");
        assert.equal(ps.get("escape")?.state, "failed");
        // Each kind of denial the hostile service logged is in the audit ring,
        // with its verdict, under one of its pids.
        const pids = new Set([...vm.output.matchAll(/hostile \(pid (\d+)\) died/g)].map((m) => m[1]));
        // Denials only: the scheduler test services fill the ring of allowed records.
        const audit = await vm.command("audit denied 64");
        const denials = audit.split("\n").filter((line) => {
          const fields = line.trim().split(/\s+/);
          return pids.has(fields[1]) && /E_[A-Z_]+/.test(line) && !/E_OK/.test(line);
        });
        const verdicts = new Set(denials.map((line) => line.match(/E_[A-Z_]+/)![0]));
        for (const verdict of ["E_BAD_SLOT", "E_NO_RIGHTS", "E_NO_CAP", "E_FAULT", "E_BAD_ARG", "E_BAD_SYSCALL", "E_QUEUE_FULL"]) {
          assert.ok(verdicts.has(verdict), `no ${verdict} denial of the hostile service in the audit ring:\n${audit}`);
        }
        failed = false;
      } finally {
        const kept = await vm.close({ keepLog: failed });
        if (kept) console.log(`serial log kept: ${kept}`);
      }
    });
  });
}
