// The signer: turns a service's ELF and manifest, or the boot manifest,
// into a signed boot module (the format: tools/module.ts).
//
//   node build/tools/sign.mjs sign-module --elf build/x86_64/services/console.elf \
//       --manifest services/console/manifest.json --arch x86_64 --out build/x86_64/modules/console.mod
//   node build/tools/sign.mjs sign-boot-manifest --arch x86_64 [--profile test] \
//       --out build/x86_64/modules/boot-manifest.mod
//   node build/tools/sign.mjs public-key [--ts build/kernel/trusted_key.ts]
//   node build/tools/sign.mjs show --module build/x86_64/modules/console.mod
//   node build/tools/sign.mjs check --arch x86_64 [--profile test]
//
// Common options: --boot <boot.json> (default services/boot.json), --key
// <pem>. The key is --key, else $CAMOS_SIGNING_KEY, else the development key
// keys/dev-ed25519.pem, generated on first use (mode 0600, never committed).
// The output depends only on the inputs and the key.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  ARCHES, Arch, ManifestError, Profile, checkGrant, decodeBootManifest, decodeServiceManifest,
  encodeBootManifest, encodeServiceManifest, parseBootManifest, readImage, readServiceManifest,
  capText, rightsText, hex, schedText,
} from "./manifest";
import {
  KEY_ENV, KIND_BOOT_MANIFEST, KIND_SERVICE, SignError, elfProblem, keyId, keyPermissionWarning, rawPublicKey,
  readTrailer, signModule, signingKey, trustedKeySource, verifyModule, writeIfChanged,
} from "./module";

const USAGE = `usage: sign.mjs <command> [options]
  sign-module --elf <elf> --manifest <manifest.json> --arch <arch> --out <file.mod> [--unchecked]
  sign-boot-manifest --arch <arch> --out <file.mod> [--profile release|test]
  public-key [--ts <trusted_key.ts>]    print the public key; --ts writes it as kernel source
  show --module <file.mod>              verify with the signing key and print what is inside
  check --arch <arch> [--profile release|test]   check the boot manifest and every service manifest
options: --boot <boot.json> (default services/boot.json), --key <private key PEM>
  (default $${KEY_ENV}, else keys/dev-ed25519.pem, made on first use)`;

class UsageError extends Error {}

interface Options {
  command: string;
  values: Map<string, string>;
  flags: Set<string>;
}

const VALUE_OPTIONS = ["--elf", "--manifest", "--arch", "--out", "--boot", "--key", "--profile", "--ts", "--module"];
const FLAG_OPTIONS = ["--unchecked"];

function parseArguments(argv: string[]): Options {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") throw new UsageError("");
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (FLAG_OPTIONS.includes(arg)) flags.add(arg);
    else if (VALUE_OPTIONS.includes(arg) && i + 1 < rest.length) values.set(arg, rest[++i]);
    else throw new UsageError(`unknown or incomplete option '${arg}'`);
  }
  return { command, values, flags };
}

function required(options: Options, name: string): string {
  const value = options.values.get(name);
  if (value === undefined) throw new UsageError(`${options.command} needs ${name}`);
  return value;
}

function archOf(options: Options): Arch {
  const arch = required(options, "--arch");
  if (!ARCHES.includes(arch as Arch)) throw new UsageError(`unknown architecture '${arch}' (one of ${ARCHES.join(", ")})`);
  return arch as Arch;
}

function profileOf(options: Options): Profile {
  const profile = options.values.get("--profile") ?? "release";
  if (profile !== "release" && profile !== "test") throw new UsageError(`unknown profile '${profile}' (release or test)`);
  return profile;
}

function key(options: Options) {
  const chosen = signingKey(options.values.get("--key"));
  if (chosen.created) console.error(`sign: made a development signing key, ${chosen.path} (kept out of git; ${KEY_ENV}=<pem> signs with your own)`);
  const warning = keyPermissionWarning(chosen.path);
  if (warning) console.error(`sign: warning: ${warning}`);
  return chosen;
}

function writeOutput(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function signServiceModule(options: Options): void {
  const arch = archOf(options);
  const elfPath = required(options, "--elf");
  const manifestPath = required(options, "--manifest");
  const out = required(options, "--out");
  const bootPath = options.values.get("--boot") ?? "services/boot.json";
  if (!existsSync(elfPath)) throw new SignError(`ELF ${elfPath} does not exist`);
  const manifest = readServiceManifest(manifestPath, arch);
  const elf = readFileSync(elfPath);
  // The kernel refuses a bad ELF or a manifest beyond its grant; refuse
  // them here first. --unchecked makes such modules on purpose (tests of
  // the kernel's refusals).
  if (!options.flags.has("--unchecked")) {
    const problem = elfProblem(elf, arch);
    if (problem) throw new SignError(`${elfPath}: ${problem}`);
    const boot = parseBootManifest(readFileSync(bootPath, "utf8"), bootPath, arch, "test");
    const service = boot.services.find((s) => s.name === manifest.name);
    if (service === undefined) throw new ManifestError([`${manifestPath}: service '${manifest.name}' is not in ${bootPath}`]);
    const problems = checkGrant(manifest, service);
    if (problems.length > 0) throw new ManifestError(problems.map((p) => `${manifestPath}: ${p} (${bootPath} grants ${service.name})`));
  }
  const module = signModule({ kind: KIND_SERVICE, arch, elf, manifest: encodeServiceManifest(manifest) }, key(options).key);
  writeOutput(out, module);
  console.log(`sign: ${out} (${manifest.name} ${manifest.version}, ${arch}, ${module.length} bytes)`);
}

function signBootManifest(options: Options): void {
  const arch = archOf(options);
  const out = required(options, "--out");
  const bootPath = options.values.get("--boot") ?? "services/boot.json";
  const profile = profileOf(options);
  const { boot } = readImage(bootPath, arch, profile);
  const module = signModule({ kind: KIND_BOOT_MANIFEST, arch, elf: Buffer.alloc(0), manifest: encodeBootManifest(boot) }, key(options).key);
  writeOutput(out, module);
  console.log(`sign: ${out} (boot manifest, ${profile}, ${arch}: ${boot.services.map((s) => s.name).join(", ")})`);
}

function publicKey(options: Options): void {
  const chosen = key(options);
  const raw = rawPublicKey(chosen.key);
  const ts = options.values.get("--ts");
  if (ts !== undefined) {
    if (writeIfChanged(ts, trustedKeySource(raw, chosen.path))) console.log(`sign: ${ts} (key ${keyId(raw)})`);
  } else {
    console.log(raw.toString("hex"));
  }
}

function show(options: Options): void {
  const path = required(options, "--module");
  const module = readFileSync(path);
  const trailer = readTrailer(module);
  const { manifest } = verifyModule(module, rawPublicKey(key(options).key));
  const arch = ARCHES.find((a) => ({ x86_64: 1, aarch64: 2 })[a] === trailer.arch) ?? `arch ${trailer.arch}`;
  console.log(`${path}: signature good (key ${keyId(trailer.publicKey)}), ${arch}, ELF ${trailer.elfBytes} bytes, manifest ${trailer.manifestBytes} bytes`);
  if (trailer.kind === KIND_SERVICE) {
    const m = decodeServiceManifest(manifest);
    console.log(`service ${m.name} ${m.version}, ${m.memoryPages} memory pages`);
    console.log(`  sched: ${schedText(m.scores, m.pin)}`);
    for (const cap of m.caps) console.log(`  slot ${cap.slot}: ${capText(cap)} rights ${rightsText(cap.rights)}${cap.badge ? ` badge ${hex(cap.badge)}` : ""}`);
  } else {
    const b = decodeBootManifest(manifest);
    console.log(`boot manifest: init ${b.init}; objects ${b.objects.map((o) => `${o.type} ${o.name}`).join(", ")}`);
    for (const s of b.services) {
      console.log(`  ${s.name} (${s.module}) ${s.memoryPages} pages, restart ${s.restartLimit} from ${s.restartBackoffMs} ms, after ${s.dependsOn.join(", ") || "nothing"}`);
      for (const g of s.grants) console.log(`    grant ${capText(g)} rights ${rightsText(g.rights)}${g.badge ? ` badge ${hex(g.badge)}` : ""}`);
    }
  }
}

function check(options: Options): void {
  const arch = archOf(options);
  const bootPath = options.values.get("--boot") ?? "services/boot.json";
  const { boot } = readImage(bootPath, arch, profileOf(options));
  console.log(`sign: ${bootPath} and ${boot.services.length} service manifests check out for ${arch}`);
}

function main(): void {
  try {
    const options = parseArguments(process.argv.slice(2));
    const commands: Record<string, (o: Options) => void> = {
      "sign-module": signServiceModule, "sign-boot-manifest": signBootManifest, "public-key": publicKey, show, check,
    };
    const run = commands[options.command];
    if (!run) throw new UsageError(`unknown command '${options.command}'`);
    run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message ? `sign: ${error.message}\n${USAGE}` : USAGE);
      process.exit(2);
    }
    if (error instanceof ManifestError || error instanceof SignError) {
      console.error(`sign: ${error.message.split("\n").join("\nsign: ")}`);
      process.exit(1);
    }
    throw error;
  }
}

main();
