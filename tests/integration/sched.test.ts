// The scheduler and SMP in QEMU, on the test image's services
// (services/spin, spin2, spin3: CPU-bound, low band; urgent: high band,
// measures its wake-up latency; pingd and ping: IPC from the same CPU and
// from another). Each architecture boots twice, and each machine answers
// several checks:
//
//   one CPU (-smp 1, -icount shift=0: guest time is the instruction count,
//   so a stall of QEMU on a loaded host is not read as latency)
//     cpus shows one CPU ticking; urgent, woken by the timer while spinners
//     hold the CPU, runs within one time slice, and `explain` shows it
//     preempting
//   four CPUs (-smp 4, multi-threaded TCG: the CPUs really run at once)
//     cpus shows four CPUs, each ticking; two spinners both make progress,
//     on different CPUs; ping's round trips across CPUs work; `tune` moves
//     threads between bands and refuses bad weights
//
// Not -icount on four CPUs: QEMU then runs the CPUs in turn, each for a
// slice of guest time, so an IPI or a lock hand-over waits for the other
// CPUs' slices, and with the spinners busy the shell crawls (a `sched`
// table took minutes); no latency is asserted there.
//
// Services log onto the same serial line as the console, even inside its
// prompt: commands go through tools/console.ts, which reads around them.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { shellCommand } from "../../tools/console.ts";
import { QemuHarness, repoRoot } from "../../tools/harness.ts";
import type { Arch } from "../../tools/qemu.ts";

interface SchedTarget {
  arch: Arch;
  image: string; // the test image: init, console and the test services
  initrd?: string; // AArch64: the test modules as one bundle, beside the kernel Image
  promptTimeoutMs: number;
}

const TARGETS: SchedTarget[] = [
  { arch: "x86_64", image: "build/x86_64/cam-os-test.iso", promptTimeoutMs: 60_000 },
  { arch: "aarch64", image: "build/aarch64/Image", initrd: "build/aarch64/modules-test.img", promptTimeoutMs: 60_000 },
];

const root = repoRoot();
const required = process.env.CAMOS_REQUIRE_IMAGE !== undefined;

function skipReason(target: SchedTarget): string | false {
  for (const file of [target.image, target.initrd]) {
    if (file && !fs.existsSync(path.join(root, file)) && !required) return `${file} not built (make test builds it)`;
  }
  return false;
}

// A command's output, the services' log lines cut out (tools/console.ts).
function run(vm: QemuHarness, line: string, timeoutMs = 60_000): Promise<string> {
  return shellCommand(vm, line, timeoutMs);
}

// ---- what the console's scheduler commands print (services/console/sched.ts) ----

interface SchedHeader {
  sliceTicks: number;
  agingTicks: number;
  hz: number;
  cpus: number;
}

interface ThreadRow {
  tid: number;
  name: string;
  priority: number;
  band: string; // where it is queued now
  baseBand: string; // the band its priority gives
  cpu: number;
  pin: number | null;
  runMs: number;
}

interface CpuRow {
  cpu: number;
  running: string;
  ticks: number;
  idle: string;
  switches: number;
}

// "weights 0.4,0.3,0.2,0.05,0.05  high >= 0.8  medium >= 0.5  slice 5 ticks  aging 25 ticks  100 Hz  2 cpus"
function schedHeader(text: string): SchedHeader {
  const match = text.match(/slice (\d+) ticks\s+aging (\d+) ticks\s+(\d+) Hz\s+(\d+) cpus?/);
  assert.ok(match, `no scheduler header in:\n${text}`);
  return { sliceTicks: Number(match[1]), agingTicks: Number(match[2]), hz: Number(match[3]), cpus: Number(match[4]) };
}

// "    7  spin         0.10 0.20 0.30 0.30 0.50  0.200  low              1    -      812        3"
function threadRows(text: string): Map<string, ThreadRow> {
  const rows = new Map<string, ThreadRow>();
  const row = /^\s*(\d+)\s+(\S+)(?:\s+\d\.\d\d){5}\s+(\d\.\d{3})\s+(high|medium|low)(?: \((high|medium|low)\))?\s+(\d+)\s+(\d+|-)\s+(\d+)\s+(\d+)\s*$/;
  for (const line of text.split("\n")) {
    const m = line.match(row);
    if (!m) continue;
    rows.set(m[2], {
      tid: Number(m[1]), name: m[2], priority: Number(m[3]), band: m[4], baseBand: m[5] ?? m[4],
      cpu: Number(m[6]), pin: m[7] === "-" ? null : Number(m[7]), runMs: Number(m[8]),
    });
  }
  return rows;
}

// "   0       0      idle       0  0/0/0          1234   97%       210      0"
function cpuRows(text: string): CpuRow[] {
  const rows: CpuRow[] = [];
  const row = /^\s*(\d+)\s+(\S+)\s+(\d+|idle)\s+(\d+)\s+(\d+\/\d+\/\d+)\s+(\d+)\s+(\d+%|-)\s+(\d+)\s+(\d+)\s*$/;
  for (const line of text.split("\n")) {
    const m = line.match(row);
    if (m) rows.push({ cpu: Number(m[1]), running: m[3], ticks: Number(m[6]), idle: m[7], switches: Number(m[8]) });
  }
  return rows;
}

async function sched(vm: QemuHarness): Promise<{ header: SchedHeader; threads: Map<string, ThreadRow>; text: string }> {
  const text = await run(vm, "sched");
  return { header: schedHeader(text), threads: threadRows(text), text };
}

function thread(threads: Map<string, ThreadRow>, name: string, text: string): ThreadRow {
  const row = threads.get(name);
  assert.ok(row, `no ${name} in sched:\n${text}`);
  return row;
}

// The next "[name] progress N" after the cursor (whole: "progress 9" may
// be the first digit of 94).
async function progress(vm: QemuHarness, name: string, timeoutMs = 30_000): Promise<number> {
  const match = await vm.expect(new RegExp(`\\[${name}\\] progress (\\d+)\\r?\\n`), timeoutMs);
  return Number(match.groups![1]);
}

// Both cpus calls show `cpus` CPUs, each with ticks, each ticking on.
async function checkCpusTicking(vm: QemuHarness, cpus: number): Promise<void> {
  const first = await run(vm, "cpus");
  const before = cpuRows(first);
  assert.equal(before.length, cpus, `cpus lists ${before.length} CPUs, not ${cpus}:\n${first}`);
  assert.deepEqual(before.map((c) => c.cpu), [...Array(cpus).keys()], `CPUs not numbered 0..${cpus - 1}:\n${first}`);
  for (const c of before) assert.ok(c.ticks > 0, `cpu ${c.cpu} has no ticks:\n${first}`);
  // A few ticks at least pass between the calls: wait for one line a
  // spinner logs about once a second.
  await progress(vm, "spin");
  const second = await run(vm, "cpus");
  const afterRows = cpuRows(second);
  assert.equal(afterRows.length, cpus, second);
  for (const c of afterRows) {
    assert.ok(c.ticks > before[c.cpu].ticks, `cpu ${c.cpu} stopped ticking: ${before[c.cpu].ticks} then ${c.ticks}\n${first}\n${second}`);
  }
}

// One machine for a describe() block: booted before its checks, closed
// after, its serial log kept when a check failed. check() is it() that
// notes the failure.
function onMachine(target: SchedTarget, cpus: number) {
  let vm: QemuHarness | undefined;
  let failed = false;
  before(async () => {
    vm = await boot(target, cpus);
  });
  after(async () => {
    const kept = await vm?.close({ keepLog: failed });
    if (kept) console.log(`serial log kept: ${kept}`);
  });
  const machine = (): QemuHarness => {
    assert.ok(vm, "the machine did not boot");
    return vm;
  };
  const check = (name: string, body: (vm: QemuHarness) => Promise<void>) =>
    it(name, { timeout: 120_000 }, async () => {
      try {
        await body(machine());
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  return check;
}

for (const target of TARGETS) {
  describe(`scheduler on ${target.arch}`, () => {
    // ---- one CPU ----
    describe("one CPU (-smp 1)", { skip: skipReason(target) }, () => {
      const check = onMachine(target, 1);

      check("cpus lists the one CPU, ticking", async (vm) => {
        await checkCpusTicking(vm, 1);
      });

      check("urgent, woken while spinners hold the CPU, runs within one time slice; explain shows it preempting", async (vm) => {
        const { header, threads, text } = await sched(vm);
        assert.equal(header.cpus, 1, text);
        const sliceUs = (header.sliceTicks * 1_000_000) / header.hz;
        const urgent = thread(threads, "urgent", text);
        assert.equal(urgent.band, "high", `urgent is not in the high band:\n${text}`);
        for (const spinner of ["spin", "spin2"]) assert.equal(thread(threads, spinner, text).baseBand, "low", text);
        // The spinners run, so urgent's CPU is busy whenever it wakes.
        const before = await progress(vm, "spin");
        assert.ok((await progress(vm, "spin")) > before, "spin makes no progress");
        // Two whole windows of 20 wakes after the last command: the console
        // (high band too) is idle meanwhile, so only lower bands are in the way.
        const windows: number[] = [];
        await vm.expect(/\[urgent\] wake latency max \d+ us/, 60_000);
        for (let i = 0; i < 2; i++) {
          const line = await vm.expect(/\[urgent\] wake latency max (\d+) us, mean (\d+) us over (\d+) wakes/, 60_000);
          windows.push(Number(line.groups![1]));
        }
        const worst = Math.max(...windows);
        console.log(`# ${target.arch} smp 1: urgent's worst wake latency ${worst} us, slice ${sliceUs} us (${header.sliceTicks} ticks at ${header.hz} Hz)`);
        assert.ok(worst < sliceUs, `urgent woke up to ${worst} us late; a time slice is ${sliceUs} us`);

        const explain = await run(vm, `explain ${urgent.tid}`);
        assert.match(explain, new RegExp(`thread ${urgent.tid}: urgent`), explain);
        assert.match(explain, /preempted pid \d+/, `no preemption among urgent's decisions:\n${explain}`);
      });
    });

    // ---- four CPUs ----
    describe("four CPUs (-smp 4)", { skip: skipReason(target) }, () => {
      const check = onMachine(target, 4);

      check("cpus lists four CPUs, each ticking", async (vm) => {
        await checkCpusTicking(vm, 4);
      });

      check("two CPU-bound services both make progress, on different CPUs", async (vm) => {
        const counts = { spin: [await progress(vm, "spin")], spin2: [await progress(vm, "spin2")] };
        counts.spin.push(await progress(vm, "spin"));
        counts.spin2.push(await progress(vm, "spin2"));
        assert.ok(counts.spin[1] > counts.spin[0], `spin's progress stood still: ${counts.spin}`);
        assert.ok(counts.spin2[1] > counts.spin2[0], `spin2's progress stood still: ${counts.spin2}`);

        // sched: both run on, and (the balancer's work) on different CPUs.
        // Unpinned threads may move, so a few looks are allowed for that.
        const first = await sched(vm);
        let apart = false;
        let last = first;
        for (let look = 0; look < 5 && !apart; look++) {
          await progress(vm, "spin");
          last = await sched(vm);
          const [a, b] = [thread(last.threads, "spin", last.text), thread(last.threads, "spin2", last.text)];
          apart = a.cpu !== b.cpu;
        }
        for (const name of ["spin", "spin2"]) {
          const was = thread(first.threads, name, first.text).runMs;
          const now = thread(last.threads, name, last.text).runMs;
          assert.ok(now > was, `${name}'s run time did not grow: ${was} ms, then ${now} ms\n${first.text}\n${last.text}`);
        }
        assert.ok(apart, `spin and spin2 share a CPU in every look:\n${last.text}`);
      });

      check("IPC across CPUs: ping's calls from another CPU reach pingd and come back", async (vm) => {
        // Logged once, at start: look in the whole output.
        const servingLine = /\[pingd\] serving on cpu (\d+) of (\d+)\r?\n/;
        await vm.seen(servingLine, 30_000);
        const serving = vm.output.match(servingLine)!;
        assert.equal(Number(serving[2]), 4, `pingd sees ${serving[2]} CPUs`);
        const server = Number(serving[1]);
        const line = await vm.expect(/\[ping\] cpu (\d+) -> cpu (\d+): (\d+) cycles per round trip; cpu (\d+) -> cpu (\d+): (\d+) \((\d+) runs each\)/, 60_000);
        const [, sameFrom, sameTo, same, crossFrom, crossTo, cross] = line.groups!.map(Number);
        assert.equal(sameFrom, server);
        assert.equal(sameTo, server);
        assert.notEqual(crossFrom, server, "the cross-CPU round trips came from pingd's CPU");
        assert.equal(crossTo, server);
        assert.ok(same > 0 && cross > 0, line.text);
        console.log(`# ${target.arch} smp 4: round trip same CPU ${same} cycles, across CPUs ${cross} cycles`);
        const { threads, text } = await sched(vm);
        const pingd = thread(threads, "pingd", text);
        assert.equal(pingd.pin, server, `pingd is not pinned to cpu ${server}:\n${text}`);
        assert.equal(pingd.cpu, server, `pingd is not on cpu ${server}:\n${text}`);
        // The console's own benchmark still answers with four CPUs.
        assert.match(await run(vm, "bench 200"), /ipc round trip: \d+ cycles \(200 runs\)/);
      });

      check("tune moves threads between bands; bad weights are refused and change nothing", async (vm) => {
        const before = await sched(vm);
        const spin = thread(before.threads, "spin", before.text);
        assert.equal(spin.baseBand, "low", before.text);

        // Trust alone: a spinner's priority becomes its trust score, 0.5.
        assert.match(await run(vm, "tune 0,0,0,0,1"), /weights now urgency 0, importance 0, efficiency 0, energy 0, trust 1/);
        const trusted = await sched(vm);
        assert.match(trusted.text, /weights 0,0,0,0,1\s/);
        const lifted = thread(trusted.threads, "spin", trusted.text);
        assert.equal(lifted.priority, 0.5, trusted.text);
        assert.equal(lifted.baseBand, "medium", trusted.text);

        // Weights that do not make 1: refused, and nothing moves.
        assert.match(await run(vm, "tune 1,1,1,1,1"), /error: tune: the weights sum to 5, not 1/);
        assert.match(await run(vm, "tune 0.5,0.5,0.5,-0.5,0"), /error: tune:/);
        const unchanged = await sched(vm);
        assert.match(unchanged.text, /weights 0,0,0,0,1\s/);
        assert.equal(thread(unchanged.threads, "spin", unchanged.text).priority, 0.5, unchanged.text);

        assert.match(await run(vm, "tune default"), /weights now urgency 0.4, importance 0.3, efficiency 0.2, energy 0.05, trust 0.05/);
        const back = await sched(vm);
        const restored = thread(back.threads, "spin", back.text);
        assert.equal(restored.priority, spin.priority, back.text);
        assert.equal(restored.baseBand, "low", back.text);
      });
    });
  });
}

async function boot(target: SchedTarget, cpus: number): Promise<QemuHarness> {
  for (const file of [target.image, target.initrd]) {
    if (file) assert.ok(fs.existsSync(path.join(root, file)), `${file} not found: run make test`);
  }
  const vm = await QemuHarness.boot({
    arch: target.arch, firmware: "bios", image: target.image,
    initrd: target.initrd ? path.join(root, target.initrd) : undefined,
    name: `sched-${target.arch}-smp${cpus}`, mem: "256M", smp: cpus, icount: cpus === 1, noReboot: true,
    timeoutMs: 30_000,
  });
  try {
    await vm.firstPrompt(target.promptTimeoutMs);
    // The console (high band) prompts before init has started the rest;
    // ping is the last in the boot manifest.
    await vm.seen(/init: started ping \(pid \d+\)/, target.promptTimeoutMs);
    // firstPrompt may have asked for fresh prompts that are still coming:
    // a command's echo and answer mark where the shell is.
    assert.equal(await run(vm, "echo sched-test-ready", target.promptTimeoutMs), "sched-test-ready");
  } catch (error) {
    await vm.close({ keepLog: true });
    throw error;
  }
  return vm;
}
