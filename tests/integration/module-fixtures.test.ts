// The signed-module fixtures of the kernel's unit tests
// (tests/unit/module_fixtures.ts), made here with the real tools: tiny real
// ELF executables, manifests through tools/manifest.ts, signatures through
// tools/module.ts, with two fixed test keys. The kernel has no Ed25519
// signing, so its tests verify what Node signed: that is also what checks
// that the two sides agree byte for byte.
//
// This test fails when the checked-in file is not what the generator makes.
// To regenerate it (after changing the format or the fixtures):
//
//   node_modules/.bin/esbuild tests/integration/module-fixtures.test.ts --bundle \
//     --platform=node --format=esm --outfile=build/tests/module-fixtures.test.mjs
//   CAMOS_WRITE_FIXTURES=1 node --test build/tests/module-fixtures.test.mjs

import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../../tools/harness";
import {
  Arch, encodeBootManifest, encodeServiceManifest, parseBootManifest, parseServiceManifest, checkGrant,
} from "../../tools/manifest";
import { KIND_BOOT_MANIFEST, KIND_SERVICE, encodeBundle, keyFromSeed, rawPublicKey, signModule, verifyModule } from "../../tools/module";
import { tinyElf } from "./elf";

const FIXTURE_FILE = join(repoRoot(), "tests", "unit", "module_fixtures.ts");

// Fixed test keys: seeds are SHA-256 of a label. Test keys only.
export const TEST_KEY_A = keyFromSeed(createHash("sha256").update("CAM-OS test key A").digest());
export const TEST_KEY_B = keyFromSeed(createHash("sha256").update("CAM-OS test key B").digest());

// ---------------------------------------------------------------------------
// The manifests.

export const FIXTURE_BOOT_JSON = JSON.stringify({
  init: "init",
  objects: [
    { name: "init", type: "endpoint", queue_depth: 8 },
    { name: "fixture", type: "endpoint", queue_depth: 4 },
    { name: "events", type: "notification" },
  ],
  services: [
    {
      name: "init", module: "init.mod", memory_pages: 16,
      grant: [
        { type: "log", rights: ["write"] },
        { type: "sched", rights: ["read", "write"] },
        { type: "sched-tune", rights: ["write"] },
      ],
    },
    {
      name: "fixture", module: "fixture.mod", memory_pages: 8, depends_on: ["init"], restart_limit: 3, restart_backoff_ms: 50,
      grant: [
        { type: "endpoint", object: "fixture", rights: ["send", "receive"] },
        { type: "endpoint", object: "init", rights: ["call"], badge: 7 },
        { type: "io-ports", arch: "x86_64", range: "0x3F8..0x3FF", rights: ["read", "write"] },
        { type: "mmio", arch: "aarch64", range: "0x09000000..0x09000FFF", rights: ["read", "write", "map"] },
        { type: "irq", object: "console", rights: ["receive"] },
        { type: "notification", object: "events", rights: ["receive"] },
        { type: "log", rights: ["write"] },
      ],
    },
    {
      name: "greedy", module: "greedy.mod", memory_pages: 4, depends_on: ["fixture"], test_only: true,
      grant: [{ type: "io-ports", range: "0x3F8..0x3FF", rights: ["read"] }],
    },
  ],
});

export const FIXTURE_MANIFEST_JSON = JSON.stringify({
  name: "fixture",
  version: "1.2.3",
  memory_pages: 4,
  sched: { urgency: 0.9, importance: 0.8, efficiency: 0.25, energy: 0.125, trust: 1, cpu: 3 },
  caps: [
    { slot: 0, type: "endpoint", object: "fixture", rights: ["receive"] },
    { slot: 1, type: "endpoint", object: "init", rights: ["call"], badge: 7 },
    { slot: 2, type: "io-ports", arch: "x86_64", range: "0x3F8..0x3FF", rights: ["read", "write"] },
    { slot: 2, type: "mmio", arch: "aarch64", range: "0x09000000..0x09000FFF", rights: ["read", "write"] },
    { slot: 3, type: "irq", object: "console", rights: ["receive"] },
    { slot: 63, type: "log", rights: ["write"] },
  ],
});

const GREEDY_MANIFEST_JSON = JSON.stringify({
  name: "greedy",
  version: "0.1",
  memory_pages: 1,
  caps: [{ slot: 0, type: "io-ports", range: "0x60..0x64", rights: ["read"] }],
});

function serviceModule(arch: Arch, manifestJson: string, elf: Buffer, key = TEST_KEY_A): Buffer {
  const manifest = parseServiceManifest(manifestJson, "fixture manifest", arch);
  return signModule({ kind: KIND_SERVICE, arch, elf, manifest: encodeServiceManifest(manifest) }, key);
}

// Every fixture, by the name the AssemblyScript file exports it under.
export function fixtures(): Map<string, Buffer> {
  const boot = parseBootManifest(FIXTURE_BOOT_JSON, "fixture boot manifest", "x86_64", "test");
  const bootAarch64 = parseBootManifest(FIXTURE_BOOT_JSON, "fixture boot manifest", "aarch64", "test");
  const page = 0x1000n;
  const service = serviceModule("x86_64", FIXTURE_MANIFEST_JSON, tinyElf("x86_64"));
  const bootModule = signModule({ kind: KIND_BOOT_MANIFEST, arch: "x86_64", elf: Buffer.alloc(0), manifest: encodeBootManifest(boot) }, TEST_KEY_A);
  return new Map([
    ["SERVICE_MODULE", service],
    ["SERVICE_MODULE_KEY_B", serviceModule("x86_64", FIXTURE_MANIFEST_JSON, tinyElf("x86_64"), TEST_KEY_B)],
    ["SERVICE_MODULE_AARCH64", serviceModule("aarch64", FIXTURE_MANIFEST_JSON, tinyElf("aarch64"))],
    ["GREEDY_MODULE", serviceModule("x86_64", GREEDY_MANIFEST_JSON, tinyElf("x86_64"))],
    ["WX_MODULE", serviceModule("x86_64", FIXTURE_MANIFEST_JSON, tinyElf("x86_64", [
      { vaddr: 0x400000n, offset: 0n, filesz: -1n, memsz: page, flags: 7 },
    ]))],
    ["OVERLAP_MODULE", serviceModule("x86_64", FIXTURE_MANIFEST_JSON, tinyElf("x86_64", [
      { vaddr: 0x400000n, offset: 0n, filesz: -1n, memsz: 0x2000n, flags: 5 },
      { vaddr: 0x401000n, offset: 0n, filesz: 0n, memsz: page, flags: 6 },
    ]))],
    ["ENTRY_OUTSIDE_MODULE", serviceModule("x86_64", FIXTURE_MANIFEST_JSON, tinyElf("x86_64", undefined, 0x500000n))],
    ["BOOT_MANIFEST_MODULE", bootModule],
    ["BUNDLE", encodeBundle([{ name: "boot-manifest.mod", bytes: bootModule }, { name: "fixture.mod", bytes: service }])],
    ["BOOT_MANIFEST_MODULE_AARCH64", signModule({ kind: KIND_BOOT_MANIFEST, arch: "aarch64", elf: Buffer.alloc(0), manifest: encodeBootManifest(bootAarch64) }, TEST_KEY_A)],
  ]);
}

// An array of lines joined once at start-up: a long chain of "+" makes
// binaryen's optimiser recurse too deep.
function hexLines(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 96) lines.push(`  "${hex.slice(i, i + 96)}",`);
  return `[\n${lines.join("\n")}\n].join("")`;
}

export function fixtureSource(): string {
  const parts = [
    `// Generated by tests/integration/module-fixtures.test.ts: do not edit.
// Signed modules made by the real tools (tools/manifest.ts, tools/module.ts)
// with two fixed TEST keys, as hex; module.spec.ts decodes them into linear
// memory. \`make test\` fails when this file is stale; the generator's header
// says how to regenerate it.
//
// SERVICE_MODULE: service "fixture" 1.2.3, x86_64, key A, 4 memory pages,
//   scores 900 800 250 125 1000, pinned to cpu 3:
//   slot 0 endpoint 'fixture' receive, slot 1 endpoint 'init' call badge 7,
//   slot 2 io-ports 0x3f8..0x3ff read,write, slot 3 irq console receive,
//   slot 63 log write. ELF: R+X 0x400000 (headers + exit code), R+W 0x401000.
// BOOT_MANIFEST_MODULE: services init (grants log, sched, sched-tune),
//   fixture (grants cover SERVICE_MODULE), greedy (io-ports 0x3f8..0x3ff
//   read only); GREEDY_MODULE asks 0x60..0x64, has no "sched" block.
// WX_MODULE, OVERLAP_MODULE, ENTRY_OUTSIDE_MODULE: SERVICE_MODULE's manifest
//   with a bad ELF. *_AARCH64: the same for aarch64. *_KEY_B: key B.
// BUNDLE: BOOT_MANIFEST_MODULE and SERVICE_MODULE in a module bundle.`,
    `export const TEST_KEY_A: string = "${rawPublicKey(TEST_KEY_A).toString("hex")}";`,
    `export const TEST_KEY_B: string = "${rawPublicKey(TEST_KEY_B).toString("hex")}";`,
  ];
  for (const [name, bytes] of fixtures()) parts.push(`export const ${name}: string = ${hexLines(bytes)};`);
  return parts.join("\n\n") + "\n";
}

describe("signed-module fixtures for the kernel's unit tests", () => {
  it("are consistent: the tools accept the good ones", () => {
    const all = fixtures();
    for (const name of ["SERVICE_MODULE", "BOOT_MANIFEST_MODULE", "WX_MODULE", "GREEDY_MODULE"]) {
      verifyModule(all.get(name)!, rawPublicKey(TEST_KEY_A));
    }
    assert.throws(() => verifyModule(all.get("SERVICE_MODULE_KEY_B")!, rawPublicKey(TEST_KEY_A)), /another key/);
    const boot = parseBootManifest(FIXTURE_BOOT_JSON, "boot", "x86_64", "test");
    const manifest = parseServiceManifest(FIXTURE_MANIFEST_JSON, "fixture", "x86_64");
    assert.deepEqual(checkGrant(manifest, boot.services[1]), []);
    const greedy = parseServiceManifest(GREEDY_MANIFEST_JSON, "greedy", "x86_64");
    assert.deepEqual(checkGrant(greedy, boot.services[2]), ["manifest asks for io-ports 0x60..0x64 beyond its grant"]);
  });

  it("are what tests/unit/module_fixtures.ts holds", () => {
    const source = fixtureSource();
    if (process.env.CAMOS_WRITE_FIXTURES) {
      writeFileSync(FIXTURE_FILE, source);
      return;
    }
    assert.ok(existsSync(FIXTURE_FILE), `${FIXTURE_FILE} is missing; regenerate it (see this file's header)`);
    assert.equal(readFileSync(FIXTURE_FILE, "utf8"), source,
      "tests/unit/module_fixtures.ts is stale; regenerate it with CAMOS_WRITE_FIXTURES=1 (see this file's header)");
  });
});
