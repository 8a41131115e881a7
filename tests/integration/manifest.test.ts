// tools/manifest.ts: the JSON manifests, checked, resolved per architecture
// and profile, compared with their grants, and encoded for the kernel.
// Nothing but Node.

import { strict as assert } from "node:assert";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../../tools/harness";
import {
  ManifestError, checkGrant, decodeBootManifest, decodeServiceManifest, encodeBootManifest, encodeServiceManifest,
  missingModules, parseBootManifest, parseServiceManifest, readImage, schedText, RIGHTS, SCHED_UNPINNED,
} from "../../tools/manifest";

const BOOT_JSON = join(repoRoot(), "services", "boot.json");

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  assert.fail("expected a ManifestError");
}

function manifest(extra: Record<string, unknown> = {}, caps: unknown[] = [{ slot: 0, type: "log", rights: ["write"] }]): string {
  return JSON.stringify({ name: "svc", version: "1.0", memory_pages: 4, caps, ...extra });
}

function boot(services: unknown[], objects: unknown[] = [{ name: "ep", type: "endpoint", queue_depth: 4 }], init = "init"): string {
  return JSON.stringify({ init, objects, services });
}

function service(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, module: `${name}.mod`, memory_pages: 8, grant: [], ...extra };
}

describe("the repository's manifests", () => {
  it("check out for every architecture and profile", () => {
    for (const arch of ["x86_64", "aarch64"] as const) {
      for (const profile of ["release", "test"] as const) {
        const image = readImage(BOOT_JSON, arch, profile);
        assert.equal(image.boot.services[0].name, "init");
        assert.equal(image.manifests.size, image.boot.services.length);
      }
    }
  });

  it("leave the test-only services (hostile, escape, the scheduler's) out of release images", () => {
    assert.deepEqual(readImage(BOOT_JSON, "x86_64", "release").boot.services.map((s) => s.name), ["init", "console"]);
    assert.deepEqual(readImage(BOOT_JSON, "x86_64", "test").boot.services.map((s) => s.name),
      ["init", "console", "hostile", "escape", "spin", "spin2", "spin3", "urgent", "pingd", "ping"]);
  });

  it("give the console the UART as I/O ports on x86_64 and as MMIO on AArch64", () => {
    const x86 = readImage(BOOT_JSON, "x86_64").manifests.get("console")!;
    const arm = readImage(BOOT_JSON, "aarch64").manifests.get("console")!;
    const slot2 = (caps: typeof x86.caps) => caps.find((c) => c.slot === 2)!;
    assert.equal(slot2(x86.caps).type, "io-ports");
    assert.equal(slot2(x86.caps).base, 0x3f8n);
    assert.equal(slot2(x86.caps).count, 8n);
    assert.equal(slot2(arm.caps).type, "mmio");
    assert.equal(slot2(arm.caps).base, 0x9000000n);
    assert.equal(slot2(arm.caps).count, 0x1000n);
  });

  it("give the console and init their scores: the console high, init medium, with the default weights", () => {
    const { manifests } = readImage(BOOT_JSON, "x86_64");
    const priority = (scores: number[]) => [400, 300, 200, 50, 50].reduce((sum, w, i) => sum + w * scores[i], 0) / 1000;
    const console = manifests.get("console")!;
    assert.deepEqual(console.scores, [1000, 900, 500, 500, 900]);
    assert.equal(console.pin, SCHED_UNPINNED);
    assert.ok(priority(console.scores) >= 800, `console priority ${priority(console.scores)}`);
    const init = manifests.get("init")!;
    assert.deepEqual(init.scores, [600, 1000, 500, 500, 1000]);
    assert.ok(priority(init.scores) >= 500 && priority(init.scores) < 800, `init priority ${priority(init.scores)}`);
    const sched = (caps: typeof console.caps, type: string) => caps.find((c) => c.type === type);
    assert.equal(sched(console.caps, "sched")?.rights, RIGHTS.read);
    assert.equal(sched(console.caps, "sched-tune")?.rights, RIGHTS.write);
  });
});

describe("service manifests", () => {
  it("resolve rights, badges, ranges and interrupt sources", () => {
    const m = parseServiceManifest(manifest({}, [
      { slot: 0, type: "endpoint", object: "ep", rights: ["send", "call"], badge: "0x10" },
      { slot: 5, type: "io-ports", range: "0x60..0x64", rights: ["read"] },
      { slot: 6, type: "irq", object: "timer", rights: ["receive"] },
    ]), "m.json", "x86_64");
    assert.equal(m.caps[0].rights, RIGHTS.send | RIGHTS.call);
    assert.equal(m.caps[0].badge, 16n);
    assert.equal(m.caps[1].base, 0x60n);
    assert.equal(m.caps[1].count, 5n);
    assert.equal(m.caps[2].irq, 0);
  });

  it("refuse bad JSON, naming the file", () => {
    assert.deepEqual(problems(() => parseServiceManifest("{ name: ", "m.json", "x86_64")).map((p) => p.split(":")[0]), ["m.json"]);
    assert.match(problems(() => parseServiceManifest("{ name: ", "m.json", "x86_64"))[0], /not valid JSON/);
  });

  it("refuse unknown fields, cap types and rights, with the path of each", () => {
    assert.deepEqual(problems(() => parseServiceManifest(manifest({ colour: "red" }), "m.json", "x86_64")),
      ["m.json: unknown field 'colour' (allowed: name, version, memory_pages, sched, caps, description)"]);
    assert.match(problems(() => parseServiceManifest(manifest({}, [{ slot: 0, type: "teleport", rights: [] }]), "m.json", "x86_64"))[0],
      /^m\.json: caps\[0\]\.type: unknown capability type 'teleport' \(one of endpoint, notification, irq, io-ports, mmio, spawn, audit, log, power, sched, sched-tune\)$/);
    assert.deepEqual(problems(() => parseServiceManifest(manifest({}, [{ slot: 0, type: "log", rights: ["fly"] }]), "m.json", "x86_64")),
      ["m.json: caps[0].rights[0]: 'fly' is not a right (one of send, receive, call, grant, read, write, map)"]);
    assert.deepEqual(problems(() => parseServiceManifest(manifest({}, [{ slot: 0, type: "log", rights: ["write", "write"] }]), "m.json", "x86_64")),
      ["m.json: caps[0].rights[1]: 'write' is listed twice"]);
    assert.deepEqual(problems(() => parseServiceManifest(manifest({}, [{ slot: 0, type: "log", rights: [], colour: 1 }]), "m.json", "x86_64")),
      ["m.json: caps[0]: unknown field 'colour' (allowed: slot, type, rights, badge, object, range, arch, description)"]);
  });

  it("refuse slots out of 0..63 or used twice, but allow one slot per architecture", () => {
    assert.deepEqual(problems(() => parseServiceManifest(manifest({}, [{ slot: 64, type: "log", rights: [] }]), "m.json", "x86_64")),
      ["m.json: caps[0].slot: 64 is out of 0..63"]);
    assert.deepEqual(problems(() => parseServiceManifest(manifest({}, [
      { slot: 3, type: "log", rights: [] }, { slot: 3, type: "audit", rights: [] },
    ]), "m.json", "x86_64")), ["m.json: caps[1].slot: slot 3 is already used by caps[0]", "m.json: caps[1].slot: slot 3 is already used by caps[0]"]);
    parseServiceManifest(manifest({}, [
      { slot: 3, type: "io-ports", arch: "x86_64", range: "0x3f8..0x3ff", rights: [] },
      { slot: 3, type: "mmio", arch: "aarch64", range: "0x9000000..0x9000fff", rights: [] },
    ]), "m.json", "x86_64");
  });

  it("refuse malformed objects and ranges", () => {
    const one = (cap: Record<string, unknown>) => problems(() => parseServiceManifest(manifest({}, [{ slot: 0, rights: [], ...cap }]), "m.json", "x86_64"));
    assert.deepEqual(one({ type: "endpoint" }), ["m.json: caps[0].object: expected a string, got nothing"]);
    assert.deepEqual(one({ type: "endpoint", object: "Big" }), [
      "m.json: caps[0].object: 'Big' is not a name (lower-case letters, digits, '-' and '_', starting with a letter or digit)"]);
    assert.deepEqual(one({ type: "irq", object: "keyboard" }), ["m.json: caps[0].object: unknown interrupt source 'keyboard' (one of timer, console)"]);
    assert.deepEqual(one({ type: "io-ports", range: "0xfff8..0x10000" }), ["m.json: caps[0].range: I/O ports end at 0xffff; 0xfff8..0x10000 goes past"]);
    assert.deepEqual(one({ type: "io-ports", range: "8" }), ["m.json: caps[0].range: '8' is not a range (first..last, inclusive, e.g. \"0x3F8..0x3FF\")"]);
    assert.deepEqual(one({ type: "io-ports", range: "0x10..0x8" }), ["m.json: caps[0].range: '0x10..0x8' is an empty or impossible range"]);
    assert.deepEqual(one({ type: "mmio", range: "0x9000000..0x90007ff" }), [
      "m.json: caps[0].range: an MMIO range must cover whole 4 KiB pages; 0x9000000..0x90007ff does not"]);
    assert.deepEqual(one({ type: "log", object: "x" }), ["m.json: caps[0].object: a log capability names no object"]);
    assert.deepEqual(one({ type: "log", badge: "0x10000000000000000" }), [
      "m.json: caps[0].badge: expected an unsigned 64-bit number (an integer or a \"0x...\" string), got string \"0x10000000000000000\""]);
    assert.deepEqual(one({ type: "log", arch: "riscv64" }), ["m.json: caps[0].arch: unknown architecture 'riscv64' (one of x86_64, aarch64)"]);
  });

  it("refuse a bad quota, name or version, and report every problem at once", () => {
    const found = problems(() => parseServiceManifest(JSON.stringify({ name: "a very long name that is longer than 32 bytes", version: "1 0", memory_pages: 0, caps: [] }), "m.json", "x86_64"));
    assert.deepEqual(found, [
      "m.json: name: 'a very long name that is longer than 32 bytes' is not a name (lower-case letters, digits, '-' and '_', starting with a letter or digit)",
      "m.json: version: '1 0' is not a version (1..16 printable characters, no spaces)",
      "m.json: memory_pages: 0 is out of 1..65536",
    ]);
  });

  it("read a \"sched\" block into thousandths and a pin, and default without one", () => {
    const m = parseServiceManifest(manifest({ sched: { urgency: 0.9, importance: 1, efficiency: 0, energy: 0.05, trust: 0.125, cpu: 3 } }), "m.json", "x86_64");
    assert.deepEqual(m.scores, [900, 1000, 0, 50, 125]);
    assert.equal(m.pin, 3);
    const plain = parseServiceManifest(manifest(), "m.json", "x86_64");
    assert.deepEqual(plain.scores, [500, 500, 500, 500, 500]);
    assert.equal(plain.pin, SCHED_UNPINNED);
    assert.equal(schedText(m.scores, m.pin), "urgency 0.9, importance 1, efficiency 0, energy 0.05, trust 0.125; cpu 3");
    assert.equal(schedText(plain.scores, plain.pin), "urgency 0.5, importance 0.5, efficiency 0.5, energy 0.5, trust 0.5; any cpu");
    // Every three-decimal score comes through exactly.
    for (let k = 0; k <= 1000; k++) {
      const all = parseServiceManifest(manifest({ sched: { urgency: k / 1000, importance: k / 1000, efficiency: 0, energy: 0, trust: 1 } }), "m.json", "x86_64");
      assert.equal(all.scores[0], k);
    }
  });

  it("refuse a \"sched\" block with a score missing, out of 0..1, too precise or not a number, or a bad cpu", () => {
    const sched = (block: unknown) => problems(() => parseServiceManifest(manifest({ sched: block }), "m.json", "x86_64"));
    const good = { urgency: 0.9, importance: 0.8, efficiency: 0.5, energy: 0.5, trust: 0.9 };
    assert.deepEqual(sched({ urgency: 0.9, importance: 0.8, efficiency: 0.5, energy: 0.5 }),
      ["m.json: sched.trust: missing (a \"sched\" block gives all five scores: urgency, importance, efficiency, energy, trust)"]);
    assert.deepEqual(sched({ ...good, urgency: 1.5 }), ["m.json: sched.urgency: 1.5 is out of 0..1"]);
    assert.deepEqual(sched({ ...good, energy: -0.1 }), ["m.json: sched.energy: -0.1 is out of 0..1"]);
    assert.deepEqual(sched({ ...good, efficiency: 0.1234 }),
      ["m.json: sched.efficiency: 0.1234 has more than 3 decimals (the kernel keeps scores in thousandths)"]);
    assert.deepEqual(sched({ ...good, importance: "high" }), ["m.json: sched.importance: expected a number from 0 to 1, got string \"high\""]);
    assert.deepEqual(sched({ ...good, cpu: 16 }), ["m.json: sched.cpu: 16 is out of 0..15"]);
    assert.deepEqual(sched({ ...good, cpu: 1.5 }), ["m.json: sched.cpu: expected an integer, got number 1.5"]);
    assert.deepEqual(sched({ ...good, nice: 5 }),
      ["m.json: sched: unknown field 'nice' (allowed: urgency, importance, efficiency, energy, trust, cpu, description)"]);
    assert.deepEqual(sched([0.5]), ["m.json: sched: expected an object, got a list"]);
    assert.equal(sched({}).length, 5);
  });

  it("give the scheduler capabilities only the rights they can use", () => {
    const one = (cap: Record<string, unknown>) => problems(() => parseServiceManifest(manifest({}, [{ slot: 0, ...cap }]), "m.json", "x86_64"));
    parseServiceManifest(manifest({}, [
      { slot: 0, type: "sched", rights: ["read", "write", "grant"] }, { slot: 1, type: "sched-tune", rights: ["write"] },
    ]), "m.json", "x86_64");
    assert.deepEqual(one({ type: "sched", rights: ["read", "call"] }), ["m.json: caps[0].rights: a sched capability takes only read, write, grant, not call"]);
    assert.deepEqual(one({ type: "sched-tune", rights: ["read", "write"] }), ["m.json: caps[0].rights: a sched-tune capability takes only write, grant, not read"]);
    assert.deepEqual(one({ type: "sched", rights: ["read"], object: "x" }), ["m.json: caps[0].object: a sched capability names no object"]);
    assert.deepEqual(one({ type: "sched-tune", rights: ["write"], range: "1..2" }), ["m.json: caps[0].range: a sched-tune capability has no range"]);
  });

  it("refuse more than 64 capabilities", () => {
    const caps = Array.from({ length: 65 }, (_, i) => ({ slot: i % 64, type: "log", rights: [] }));
    assert.ok(problems(() => parseServiceManifest(manifest({}, caps), "m.json", "x86_64")).includes("m.json: caps: 65 capabilities for x86_64, at most 64"));
  });
});

describe("the boot manifest", () => {
  it("refuses grants naming objects not declared, or of another type", () => {
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { grant: [{ type: "endpoint", object: "nope", rights: [] }] })]), "b.json", "x86_64")),
      ["b.json: services[0].grant[0].object: no object 'nope' is declared in objects"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { grant: [{ type: "notification", object: "ep", rights: [] }] })]), "b.json", "x86_64")),
      ["b.json: services[0].grant[0].object: 'ep' is a endpoint, not a notification"]);
  });

  it("refuses a dependency cycle, an unknown dependency, a service depending on itself", () => {
    assert.deepEqual(problems(() => parseBootManifest(boot([
      service("init"), service("a", { depends_on: ["b"] }), service("b", { depends_on: ["c"] }), service("c", { depends_on: ["a"] }),
    ]), "b.json", "x86_64")), ["b.json: services: dependency cycle: a -> b -> c -> a"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init"), service("a", { depends_on: ["ghost"] })]), "b.json", "x86_64")),
      ["b.json: services[1].depends_on[0]: 'ghost' is not one of the services"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init"), service("a", { depends_on: ["a"] })]), "b.json", "x86_64")),
      ["b.json: services[1].depends_on[0]: 'a' depends on itself"]);
  });

  it("refuses a missing, test-only or dependent init", () => {
    assert.deepEqual(problems(() => parseBootManifest(boot([service("a")], [], "init"), "b.json", "x86_64")), ["b.json: init: 'init' is not one of the services"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { test_only: true })], []), "b.json", "x86_64")),
      ["b.json: init: 'init' is test_only; init is in every image"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { depends_on: ["a"] }), service("a")], []), "b.json", "x86_64")),
      ["b.json: services[0].depends_on: init starts first and depends on nothing"]);
  });

  it("refuses duplicates, bad module names, and release services depending on test ones", () => {
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init"), service("init", { module: "b.mod" })], []), "b.json", "x86_64")),
      ["b.json: services[1].name: service 'init' is listed twice"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init"), service("a", { module: "init.mod" })], []), "b.json", "x86_64")),
      ["b.json: services[1].module: module 'init.mod' is used twice"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { module: "../init" })], []), "b.json", "x86_64")),
      ["b.json: services[0].module: '../init' is not a module file name (letters, digits, '.', '-', '_', ending in .mod)"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init", { module: "boot-manifest.mod" })], []), "b.json", "x86_64")),
      ["b.json: services[0].module: 'boot-manifest.mod' is the boot manifest's own module name"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init"), service("t", { test_only: true }), service("a", { depends_on: ["t"] })], []), "b.json", "x86_64")),
      ["b.json: services[2].depends_on[0]: 't' is test_only, 'a' is not"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init")], [{ name: "ep", type: "endpoint", queue_depth: 1 }, { name: "ep", type: "notification" }]), "b.json", "x86_64")),
      ["b.json: objects[1].name: object 'ep' is declared twice"]);
    assert.deepEqual(problems(() => parseBootManifest(boot([service("init")], [{ name: "ep", type: "endpoint" }]), "b.json", "x86_64")),
      ["b.json: objects[0].queue_depth: expected an integer, got nothing"]);
  });

  it("puts init first, whatever the order in the file", () => {
    const b = parseBootManifest(boot([service("a"), service("init")], []), "b.json", "x86_64");
    assert.deepEqual(b.services.map((s) => s.name), ["init", "a"]);
  });

  it("reports missing modules", () => {
    const dir = mkdtempSync(join(tmpdir(), "camos-modules-"));
    try {
      writeFileSync(join(dir, "init.mod"), "");
      const b = parseBootManifest(boot([service("init"), service("a")], []), "b.json", "x86_64");
      assert.deepEqual(missingModules(b, dir), [`module a.mod of service 'a' is missing from ${dir}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps init's manifest off the slots the kernel gives init", () => {
    const dir = mkdtempSync(join(tmpdir(), "camos-services-"));
    try {
      writeFileSync(join(dir, "boot.json"), boot([service("init", { grant: [{ type: "power", rights: ["write"] }] })], []));
      mkdirSync(join(dir, "init"));
      writeFileSync(join(dir, "init", "manifest.json"), JSON.stringify({ name: "init", version: "1", memory_pages: 1, caps: [{ slot: 61, type: "power", rights: ["write"] }] }));
      assert.deepEqual(problems(() => readImage(join(dir, "boot.json"), "x86_64")), [
        `${join(dir, "init", "manifest.json")}: slot 61 is one the kernel fills for init (60..63); use another`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads every service manifest with the boot manifest, and reports a missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "camos-services-"));
    try {
      writeFileSync(join(dir, "boot.json"), boot([service("init", { grant: [{ type: "log", rights: ["write"] }] }), service("a")], []));
      mkdirSync(join(dir, "init"));
      writeFileSync(join(dir, "init", "manifest.json"), JSON.stringify({ name: "init", version: "1", memory_pages: 16, caps: [{ slot: 0, type: "log", rights: ["write", "read"] }] }));
      assert.deepEqual(problems(() => readImage(join(dir, "boot.json"), "x86_64")), [
        `${join(dir, "init", "manifest.json")}: manifest asks for 16 memory pages, its grant is 8 (${join(dir, "boot.json")} grants init)`,
        `${join(dir, "init", "manifest.json")}: manifest asks for log with rights read,write beyond its grant (write) (${join(dir, "boot.json")} grants init)`,
        `${join(dir, "a", "manifest.json")}: missing`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("manifest against grant", () => {
  const grants = parseBootManifest(boot([service("init", {
    memory_pages: 8,
    grant: [
      { type: "endpoint", object: "ep", rights: ["send", "call"], badge: 5 },
      { type: "io-ports", range: "0x3f8..0x3ff", rights: ["read", "write"] },
    ],
  })]), "b.json", "x86_64").services[0];
  const ask = (caps: unknown[], extra: Record<string, unknown> = {}) =>
    checkGrant(parseServiceManifest(manifest({ name: "init", ...extra }, caps), "m.json", "x86_64"), grants);

  it("accepts a subset of the rights and a sub-range", () => {
    assert.deepEqual(ask([{ slot: 0, type: "endpoint", object: "ep", rights: ["call"], badge: 5 },
      { slot: 1, type: "io-ports", range: "0x3fa..0x3fb", rights: ["read"] }]), []);
  });

  it("refuses more rights, a wider range, another object, another badge, a bigger quota", () => {
    assert.deepEqual(ask([{ slot: 0, type: "endpoint", object: "ep", rights: ["receive"], badge: 5 }]),
      ["manifest asks for endpoint 'ep' with rights receive beyond its grant (send,call badge 0x5)"]);
    assert.deepEqual(ask([{ slot: 1, type: "io-ports", range: "0x3f8..0x400", rights: ["read"] }]),
      ["manifest asks for io-ports 0x3f8..0x400 beyond its grant"]);
    assert.deepEqual(ask([{ slot: 1, type: "io-ports", range: "0x60..0x64", rights: ["read"] }]),
      ["manifest asks for io-ports 0x60..0x64 beyond its grant"]);
    assert.deepEqual(ask([{ slot: 0, type: "log", rights: [] }]), ["manifest asks for log beyond its grant"]);
    assert.deepEqual(ask([{ slot: 0, type: "endpoint", object: "ep", rights: ["send"] }]),
      ["manifest asks for endpoint 'ep' with badge 0x0, its grant says send,call badge 0x5"]);
    assert.deepEqual(ask([], { memory_pages: 9 }), ["manifest asks for 9 memory pages, its grant is 8"]);
    assert.deepEqual(ask([], { name: "other" }), ["manifest names service 'other', the boot manifest expects 'init'"]);
  });
});

describe("binary encoding", () => {
  it("lays out a service manifest as kernel/module.ts reads it", () => {
    const m = parseServiceManifest(manifest({}, [
      { slot: 9, type: "endpoint", object: "ep", rights: ["send"], badge: 258 },
      { slot: 2, type: "io-ports", range: "0x3f8..0x3ff", rights: ["read"] },
    ]), "m.json", "x86_64");
    const bytes = encodeServiceManifest(m);
    assert.equal(bytes.length, 80 + 2 * 64);
    assert.equal(bytes.toString("latin1", 0, 4), "CAMM");
    assert.equal(bytes.readUInt16LE(4), 2);
    assert.equal(bytes.readUInt16LE(6), 2);
    assert.equal(bytes.readUInt32LE(8), 4);
    assert.equal(bytes.toString("latin1", 16, 19), "svc");
    // No "sched" block: 500 each, unpinned, reserved zero.
    for (let i = 0; i < 5; i++) assert.equal(bytes.readUInt16LE(64 + 2 * i), 500);
    assert.equal(bytes.readUInt16LE(74), 0xffff);
    assert.equal(bytes.readUInt32LE(76), 0);
    // Sorted by slot: slot 2 first.
    assert.equal(bytes.readUInt8(80), 2);
    assert.equal(bytes.readUInt8(81), 4);
    assert.equal(bytes.readBigUInt64LE(80 + 16), 0x3f8n);
    assert.equal(bytes.readBigUInt64LE(80 + 24), 8n);
    assert.equal(bytes.readUInt8(144), 9);
    assert.equal(bytes.readBigUInt64LE(144 + 8), 258n);
    assert.equal(bytes.toString("latin1", 144 + 32, 144 + 34), "ep");
    assert.deepEqual(decodeServiceManifest(bytes), { ...m, caps: [m.caps[1], m.caps[0]] });
  });

  it("puts the scores and the pin in the service header, u16 each", () => {
    const m = parseServiceManifest(manifest({ sched: { urgency: 1, importance: 0.9, efficiency: 0.5, energy: 0.05, trust: 0.001, cpu: 15 } }), "m.json", "x86_64");
    const bytes = encodeServiceManifest(m);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => bytes.readUInt16LE(64 + 2 * i)), [1000, 900, 500, 50, 1]);
    assert.equal(bytes.readUInt16LE(74), 15);
    assert.equal(bytes.readUInt32LE(76), 0);
    assert.deepEqual(decodeServiceManifest(bytes), m);
    const old = Buffer.from(bytes);
    old.writeUInt16LE(1, 4);
    assert.throws(() => decodeServiceManifest(old), /service manifest format 1, this tool reads 2/);
  });

  it("round-trips the repository's boot manifest", () => {
    const b = readImage(BOOT_JSON, "x86_64", "test").boot;
    const bytes = encodeBootManifest(b);
    assert.equal(bytes.readUInt16LE(4), 2);
    const decoded = decodeBootManifest(bytes);
    assert.equal(decoded.init, "init");
    assert.deepEqual(decoded.objects, b.objects);
    assert.deepEqual(decoded.services.map((s) => [s.name, s.module, s.memoryPages, s.dependsOn, s.grants.length]),
      b.services.map((s) => [s.name, s.module, s.memoryPages, s.dependsOn, s.grants.length]));
    assert.deepEqual(decoded.services[1].grants, b.services[1].grants);
  });
});
