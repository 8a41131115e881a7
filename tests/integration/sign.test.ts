// tools/module.ts and tools/sign.ts: signing, verifying with Node's own
// crypto, determinism, the trailer, keys, and the command line (bundled
// here into a temporary directory, run in another one). Nothing but Node.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../../tools/harness";
import {
  KIND_BOOT_MANIFEST, KIND_SERVICE, MAX_MODULE_BYTES, SIGNING_CONTEXT, SignError, TRAILER_BYTES, elfProblem, keyFromSeed,
  rawPublicKey, readTrailer, signModule, signingKey, trustedKeySource, verifyModule, writeIfChanged,
} from "../../tools/module";
import { tinyElf } from "./elf";

const root = repoRoot();
const keyA = keyFromSeed(createHash("sha256").update("sign.test A").digest());
const keyB = keyFromSeed(createHash("sha256").update("sign.test B").digest());
const elf = Buffer.from("7f454c46" + "00".repeat(60), "hex");
const manifest = Buffer.from("CAMM-manifest-bytes", "latin1");
const parts = { kind: KIND_SERVICE, arch: "x86_64" as const, elf, manifest };

describe("signed modules", () => {
  it("are ELF | manifest | 120-byte trailer", () => {
    const m = signModule(parts, keyA);
    assert.equal(m.length, elf.length + manifest.length + TRAILER_BYTES);
    assert.ok(m.subarray(0, elf.length).equals(elf));
    assert.ok(m.subarray(elf.length, elf.length + manifest.length).equals(manifest));
    const t = readTrailer(m);
    assert.deepEqual([t.version, t.kind, t.arch, t.elfBytes, t.manifestBytes], [1, KIND_SERVICE, 1, elf.length, manifest.length]);
    assert.ok(t.publicKey.equals(rawPublicKey(keyA)));
    assert.equal(m.toString("latin1", m.length - 120, m.length - 112), "CAMSIG01");
  });

  it("carry an Ed25519 signature Node's crypto verifies over the statement", () => {
    const m = signModule(parts, keyA);
    const digest = createHash("sha512").update(m.subarray(0, m.length - 64)).digest();
    const statement = Buffer.concat([Buffer.from(SIGNING_CONTEXT, "latin1"), digest]);
    assert.equal(statement.length, 80);
    assert.ok(verify(null, statement, createPublicKey(keyA), m.subarray(m.length - 64)));
    verifyModule(m, rawPublicKey(keyA));
  });

  it("are deterministic for the same inputs and key", () => {
    assert.ok(signModule(parts, keyA).equals(signModule(parts, keyA)));
    assert.ok(!signModule(parts, keyA).equals(signModule(parts, keyB)));
  });

  it("fail verification when any byte changes, or with another key", () => {
    const good = signModule(parts, keyA);
    for (const at of [0, elf.length + 3, good.length - 100, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 1;
      assert.throws(() => verifyModule(bad, rawPublicKey(keyA)), SignError, `byte ${at}`);
    }
    assert.throws(() => verifyModule(good, rawPublicKey(keyB)), /signed by another key/);
    assert.throws(() => verifyModule(good.subarray(0, good.length - 1), rawPublicKey(keyA)), /no CAMSIG01 trailer/);
    assert.throws(() => readTrailer(good.subarray(0, 100)), /too small/);
    const resized = Buffer.from(good);
    resized.writeUInt32LE(elf.length + 1, resized.length - 120 + 12);
    assert.throws(() => readTrailer(resized), /are not the module's/);
  });

  it("are refused when malformed or too big to sign", () => {
    assert.throws(() => signModule({ ...parts, kind: KIND_BOOT_MANIFEST }, keyA), /no ELF part/);
    assert.throws(() => signModule({ ...parts, elf: Buffer.alloc(0) }, keyA), /needs its ELF/);
    assert.throws(() => signModule({ ...parts, elf: Buffer.alloc(MAX_MODULE_BYTES) }, keyA), /more than the 16777216/);
  });
});

describe("the signer's ELF checks (the kernel's, at build time)", () => {
  const seg = (vaddr: bigint, memsz: bigint, flags: number, filesz = 0n, offset = 0n) => ({ vaddr, memsz, flags, filesz, offset });

  it("accept the tiny executables, and the real services when they are built", () => {
    assert.equal(elfProblem(tinyElf("x86_64"), "x86_64"), "");
    assert.equal(elfProblem(tinyElf("aarch64"), "aarch64"), "");
    for (const arch of ["x86_64", "aarch64"] as const) {
      for (const name of ["init", "console", "hostile"]) {
        const path = join(root, "build", arch, "services", `${name}.elf`);
        if (existsSync(path)) assert.equal(elfProblem(readFileSync(path), arch), "", path);
      }
    }
  });

  it("refuse what the kernel refuses, in its words", () => {
    const cases: [Buffer, string][] = [
      [Buffer.alloc(10), "ELF: 10 bytes, shorter than an ELF header"],
      [Buffer.alloc(64), "not an ELF file"],
      [tinyElf("aarch64"), "ELF for aarch64, this machine is x86_64"],
      [tinyElf("x86_64", [seg(0x400000n, 0x1000n, 7, -1n)]), "segment 0 is writable and executable"],
      [tinyElf("x86_64", [seg(0x400000n, 0x2000n, 5, -1n), seg(0x401000n, 0x1000n, 6)]), "segments 0 and 1 overlap"],
      [tinyElf("x86_64", [seg(0x400010n, 0x1000n, 5, -1n)]), "segment 0 is not page-aligned (address 0x400010, offset 0x0)"],
      [tinyElf("x86_64", [seg(0x3ff000n, 0x1000n, 5, -1n)]), "segment 0 (0x3ff000, 4096 bytes) lies outside the user image range 0x400000..0xffffffff"],
      [tinyElf("x86_64", [seg(0x400000n, 0x20000n, 5, 0x10000n)]), "segment 0 runs past the end of the ELF"],
      [tinyElf("x86_64", [seg(0x400000n, 0x10n, 5, 0x20n)]), "segment 0 has more file bytes than memory bytes"],
      [tinyElf("x86_64", undefined, 0x500000n), "entry point 0x500000 outside the image"],
      [tinyElf("x86_64", undefined, 0x401000n), "entry point 0x401000 is in segment 1, which is not executable"],
    ];
    for (const [elf, message] of cases) assert.equal(elfProblem(elf, "x86_64"), message);
  });
});

describe("keys", () => {
  let work = "";
  const cwd = process.cwd();
  before(() => {
    work = mkdtempSync(join(tmpdir(), "camos-keys-"));
    process.chdir(work);
  });
  after(() => {
    process.chdir(cwd);
    rmSync(work, { recursive: true, force: true });
  });

  it("makes the development key on first use, mode 0600, then reuses it", () => {
    const first = signingKey(undefined, {});
    assert.equal(first.created, true);
    assert.equal(first.path, "keys/dev-ed25519.pem");
    assert.equal(statSync("keys/dev-ed25519.pem").mode & 0o777, 0o600);
    const second = signingKey(undefined, {});
    assert.equal(second.created, false);
    assert.ok(rawPublicKey(first.key).equals(rawPublicKey(second.key)));
  });

  it("takes CAMOS_SIGNING_KEY, and refuses a missing or non-Ed25519 one", () => {
    writeFileSync("mine.pem", keyA.export({ format: "pem", type: "pkcs8" }));
    assert.ok(rawPublicKey(signingKey(undefined, { CAMOS_SIGNING_KEY: "mine.pem" }).key).equals(rawPublicKey(keyA)));
    assert.throws(() => signingKey(undefined, { CAMOS_SIGNING_KEY: "nowhere.pem" }), /signing key nowhere\.pem does not exist \(CAMOS_SIGNING_KEY\)/);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync("ec.pem", privateKey.export({ format: "pem", type: "pkcs8" }));
    assert.throws(() => signingKey("ec.pem", {}), /ec\.pem: a ec key; modules are signed with Ed25519/);
    writeFileSync("junk.pem", "hello");
    assert.throws(() => signingKey("junk.pem", {}), /junk\.pem: not a PEM private key/);
  });

  it("writes the kernel's copy of the public key, only when it changes", () => {
    const source = trustedKeySource(rawPublicKey(keyA), "keys/test.pem");
    const hex = rawPublicKey(keyA).toString("hex");
    assert.match(source, /export const TRUSTED_KEY: usize = memory\.data<u8>\(\[/);
    assert.ok(source.includes(`0x${hex.slice(0, 2)}, 0x${hex.slice(2, 4)}`));
    assert.ok(source.includes(`TRUSTED_KEY_ID: string = "${hex.slice(0, 16)}"`));
    assert.equal(writeIfChanged("out/trusted_key.ts", source), true);
    assert.equal(writeIfChanged("out/trusted_key.ts", source), false);
  });
});

describe("sign.mjs, the command line", () => {
  let work = "";
  let sign = "";
  const run = (...args: string[]) => {
    const r = spawnSync("node", [sign, ...args], { cwd: work, encoding: "utf8", env: { ...process.env, CAMOS_SIGNING_KEY: "" } });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };
  before(() => {
    work = mkdtempSync(join(tmpdir(), "camos-sign-"));
    sign = join(work, "sign.mjs");
    const built = spawnSync(join(root, "node_modules", ".bin", "esbuild"), [join(root, "tools", "sign.ts"), "--bundle",
      "--platform=node", "--format=esm", "--log-level=warning", `--outfile=${sign}`], { encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);
    cpSync(join(root, "services"), join(work, "services"), { recursive: true });
    writeFileSync(join(work, "console.elf"), tinyElf("x86_64"));
    writeFileSync(join(work, "wx.elf"), tinyElf("x86_64", [{ vaddr: 0x400000n, offset: 0n, filesz: -1n, memsz: 0x1000n, flags: 7 }]));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("signs a service module and the boot manifest, the same bytes each time", () => {
    let r = run("sign-module", "--elf", "console.elf", "--manifest", "services/console/manifest.json", "--arch", "x86_64", "--out", "out/console.mod");
    assert.equal(r.status, 0, r.err);
    assert.match(r.err, /made a development signing key, keys\/dev-ed25519\.pem/);
    const first = readFileSync(join(work, "out", "console.mod"));
    r = run("sign-module", "--elf", "console.elf", "--manifest", "services/console/manifest.json", "--arch", "x86_64", "--out", "out/console.mod");
    assert.ok(readFileSync(join(work, "out", "console.mod")).equals(first));
    r = run("show", "--module", "out/console.mod");
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^service console \S+, \d+ memory pages$/m);
    assert.match(r.out, /^  sched: urgency 1, importance 0\.9, efficiency 0\.5, energy 0\.5, trust 0\.9; any cpu$/m);
    assert.match(r.out, /^  slot 7: sched rights read$/m);
    assert.match(r.out, /^  slot 8: sched-tune rights write$/m);
    r = run("sign-boot-manifest", "--arch", "aarch64", "--profile", "test", "--out", "out/boot-manifest.mod");
    assert.equal(r.status, 0, r.err);
    r = run("show", "--module", "out/boot-manifest.mod");
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /signature good/);
    assert.match(r.out, /grant mmio 0x9000000\.\.0x9000fff rights read,write,map/);
    assert.match(r.out, /hostile \(hostile\.mod\)/);
    assert.match(r.out, /grant sched rights read\n/);
    assert.match(r.out, /grant sched-tune rights write\n/);
  });

  it("writes the trusted key source and prints the public key", () => {
    const r = run("public-key", "--ts", "build/kernel/trusted_key.ts");
    assert.equal(r.status, 0, r.err);
    assert.ok(existsSync(join(work, "build", "kernel", "trusted_key.ts")));
    assert.match(run("public-key").out, /^[0-9a-f]{64}\n$/);
  });

  it("refuses a manifest beyond its grant unless told to, and bad JSON, with clear messages", () => {
    const greedy = { name: "console", version: "9", memory_pages: 4, caps: [{ slot: 0, type: "io-ports", range: "0x60..0x64", rights: ["read"] }] };
    writeFileSync(join(work, "greedy.json"), JSON.stringify(greedy));
    let r = run("sign-module", "--elf", "console.elf", "--manifest", "greedy.json", "--arch", "x86_64", "--out", "out/greedy.mod");
    assert.equal(r.status, 1);
    assert.equal(r.err.trim(), "sign: greedy.json: manifest asks for io-ports 0x60..0x64 beyond its grant (services/boot.json grants console)");
    r = run("sign-module", "--elf", "console.elf", "--manifest", "greedy.json", "--arch", "x86_64", "--out", "out/greedy.mod", "--unchecked");
    assert.equal(r.status, 0, r.err);
    r = run("sign-module", "--elf", "wx.elf", "--manifest", "services/console/manifest.json", "--arch", "x86_64", "--out", "out/wx.mod");
    assert.equal(r.status, 1);
    assert.equal(r.err.trim(), "sign: wx.elf: segment 0 is writable and executable");
    r = run("sign-module", "--elf", "console.elf", "--manifest", "services/console/manifest.json", "--arch", "aarch64", "--out", "out/arm.mod");
    assert.equal(r.err.trim(), "sign: console.elf: ELF for x86_64, this machine is aarch64");
    writeFileSync(join(work, "bad.json"), "{ \"name\": ");
    r = run("sign-module", "--elf", "console.elf", "--manifest", "bad.json", "--arch", "x86_64", "--out", "out/bad.mod");
    assert.equal(r.status, 1);
    assert.match(r.err, /^sign: bad\.json: not valid JSON/);
  });

  it("refuses unknown commands, options and architectures, with the usage", () => {
    assert.equal(run("bless").status, 2);
    assert.match(run("bless").err, /unknown command 'bless'/);
    assert.match(run("sign-boot-manifest", "--arch", "riscv64", "--out", "x").err, /unknown architecture 'riscv64'/);
    assert.match(run("sign-boot-manifest", "--colour").err, /unknown or incomplete option '--colour'/);
    assert.match(run("sign-module", "--arch", "x86_64").err, /sign-module needs --elf/);
    assert.match(run("check", "--arch", "x86_64").out, /check out for x86_64/);
  });
});
