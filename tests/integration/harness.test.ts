// Tests of the QEMU harness itself, without QEMU: the harness drives a fake
// machine (a small Node script) that prints a banner and a prompt and runs a
// few commands the way the kernel shell does (echo, \r\n, DEL erases).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { HarnessError, QemuHarness } from "../../tools/harness.ts";

const FAKE_MACHINE = String.raw`
const out = (s) => process.stdout.write(s);
let line = "";
let waiting = false;
function run(cmd) {
  if (cmd === "hello") out("hello, world\r\n");
  else if (cmd === "two") out("line one\r\nline two\r\n");
  else if (cmd === "bye") { out("bye\r\n"); process.exit(0); }
  else if (cmd === "crash") process.exit(3);
  else if (cmd === "hang") { out("hanging\r\n"); waiting = true; return; }
  else if (cmd !== "") out("unknown command: " + cmd + "\r\n");
  out("camos> ");
}
setTimeout(() => { out("FAKE-OS 1.2.3 test \u00b7 1 CPU\r\ncamos> "); }, 50);
process.stdin.on("data", (buf) => {
  if (waiting) return;
  for (const byte of buf) {
    const ch = String.fromCharCode(byte);
    if (ch === "\r") { out("\r\n"); const cmd = line; line = ""; run(cmd); if (waiting) return; }
    else if (byte === 0x7f) { if (line.length) { line = line.slice(0, -1); out("\b \b"); } }
    else { line += ch; out(ch); }
  }
});
`;

const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "camos-harness-test-"));
after(() => fs.rmSync(logDir, { recursive: true, force: true }));

let bootCount = 0;
function bootFake(extra: { lifetimeMs?: number } = {}, machine: string = FAKE_MACHINE): Promise<QemuHarness> {
  bootCount += 1;
  return QemuHarness.boot({
    arch: "x86_64",
    name: `fake-${bootCount}`,
    logDir,
    timeoutMs: 5000,
    spawnCommand: { command: process.execPath, args: ["-e", machine] },
    ...extra,
  });
}

// A console whose first prompt another service's log line splits, as the
// shared serial line can: only a bare Enter brings a whole prompt.
const SPLIT_PROMPT_MACHINE = String.raw`
const out = (s) => process.stdout.write(s);
setTimeout(() => { out("BOOT LOG\r\n[console] console: serial shell on COM1\r\nc[init] a log line\r\namos> "); }, 50);
process.stdin.on("data", (buf) => { if (buf.includes(13)) out("\r\ncamos> "); });
`;

describe("QemuHarness against a fake machine", () => {
  it("expect() matches strings and regexes, in order, and records the prompt time", async () => {
    const vm = await bootFake();
    try {
      const banner = await vm.expect(/FAKE-OS (\d+\.\d+\.\d+)/);
      assert.equal(banner.groups?.[1], "1.2.3");
      assert.equal(banner.before, "");
      const prompt = await vm.expect("camos> ");
      assert.match(prompt.before, /test · 1 CPU\r\n$/);
      assert.equal(typeof vm.promptAtMs, "number");
      assert.ok(vm.promptAtMs! >= 0);
      assert.match(vm.output, /^FAKE-OS 1\.2\.3/);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("firstPrompt() asks for a fresh prompt when a log line split the first one", async () => {
    const vm = await bootFake({}, SPLIT_PROMPT_MACHINE);
    try {
      const prompt = await vm.firstPrompt(4000, 300);
      assert.match(prompt.before, /^BOOT LOG/, "the boot log before the prompt was lost");
      assert.match(vm.output, /amos> \r\ncamos> $/);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("command() returns what a command printed, without echo, \\r or prompt", async () => {
    const vm = await bootFake();
    try {
      await vm.expect("camos> ");
      assert.equal(await vm.command("hello"), "hello, world");
      assert.equal(await vm.command("two"), "line one\nline two");
      assert.equal(await vm.command(""), "");
      assert.equal(await vm.command("hex\x7fllo"), "hello, world");
      assert.equal(await vm.command("nope"), "unknown command: nope");
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("a timed-out expect() rejects quickly with the pattern and the log tail", async () => {
    const vm = await bootFake();
    try {
      await vm.expect("camos> ");
      const started = performance.now();
      await assert.rejects(vm.expect("never printed", 300), (err: Error) => {
        assert.ok(err instanceof HarnessError);
        assert.match(err.message, /timed out after 300 ms waiting for "never printed"/);
        assert.match(err.message, /FAKE-OS 1\.2\.3/);
        assert.ok(err.message.includes(vm.logPath));
        return true;
      });
      assert.ok(performance.now() - started < 1500, "the timeout fired late");
      assert.equal(await vm.appears("never printed", 200), false);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("expect() fails at once, not at its timeout, when the machine exits", async () => {
    const vm = await bootFake();
    try {
      await vm.expect("camos> ");
      vm.send("crash\r");
      const started = performance.now();
      await assert.rejects(vm.expect("camos> ", 5000), /machine exited \(status 3\)/);
      assert.ok(performance.now() - started < 2000);
      assert.deepEqual(await vm.exit(1000), { code: 3, signal: null });
      assert.throws(() => vm.send("x"), /has exited/);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("exit() waits for a machine that stops by itself, and times out on one that does not", async () => {
    const vm = await bootFake();
    try {
      await vm.expect("camos> ");
      await assert.rejects(vm.exit(300), /did not exit within 300 ms/);
      vm.send("bye\r");
      assert.equal((await vm.exit(3000)).code, 0);
      assert.equal(vm.running, false);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("close() kills a hung machine; the log is kept only when asked", async () => {
    const kept = await bootFake();
    await kept.expect("camos> ");
    kept.send("hang\r");
    await kept.expect("hanging");
    assert.equal(await kept.appears("camos> ", 300), false);
    const keptPath = await kept.close({ keepLog: true });
    assert.equal(kept.running, false);
    assert.equal(keptPath, kept.logPath);
    const log = fs.readFileSync(kept.logPath, "utf8");
    assert.match(log, /^# .*node/);
    assert.match(log, /FAKE-OS 1\.2\.3 test · 1 CPU/);
    assert.match(log, /hanging/);

    const removed = await bootFake();
    await removed.expect("camos> ");
    assert.equal(await removed.close({ keepLog: false }), undefined);
    assert.equal(fs.existsSync(removed.logPath), false);
  });

  it("settle() skips output until the machine is quiet", async () => {
    const vm = await bootFake();
    try {
      await vm.expect("FAKE-OS");
      await vm.settle(200);
      assert.equal(await vm.appears("camos> ", 200), false, "settle() should have consumed the prompt");
      assert.equal(await vm.command("hello"), "hello, world");
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("the lifetime limit ends a machine even if nobody closes it", async () => {
    const vm = await bootFake({ lifetimeMs: 1000 });
    try {
      await vm.expect("camos> ");
      const status = await vm.exit(8000);
      assert.equal(status.code, 124);
      await assert.rejects(vm.expect("never", 5000), /killed at its lifetime limit/);
    } finally {
      await vm.close({ keepLog: false });
    }
  });

  it("reports a command that cannot run as an exit, with its stderr", async () => {
    const vm = await QemuHarness.boot({
      arch: "x86_64",
      name: "missing-binary",
      logDir,
      spawnCommand: { command: "camos-no-such-binary", args: [] },
    });
    try {
      await assert.rejects(vm.expect("camos> ", 3000), /machine exited \(status 127\)[\s\S]*camos-no-such-binary/);
    } finally {
      await vm.close({ keepLog: false });
    }
  });
});
