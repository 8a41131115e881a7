// Manifests: the JSON people write, checked, resolved for one architecture,
// and encoded into the binary records the kernel parses (kernel/module.ts).
//
//   services/<name>/manifest.json   what one service asks for
//   services/boot.json              the image: its services, the most each
//                                   may be granted, the kernel objects they
//                                   share, which one is init
//
// The image builder (tools/image.ts), the signer (tools/sign.ts) and, through
// the kernel, init all read the one boot manifest. Everything here is plain
// data in, plain data or a ManifestError out: no file is written, so the
// tests call it directly.
//
// A capability entry may carry "arch": "x86_64" | "aarch64"; such an entry
// exists only in images built for that architecture (the console's UART is
// I/O ports on x86_64 and an MMIO page on AArch64). Every check runs for
// every architecture, so a mistake in the AArch64 entries fails an x86_64
// build too.
//
// A service manifest may give the scheduler its view of the service, five
// scores from 0 to 1 (at most three decimals: the kernel keeps thousandths)
// and optionally a CPU to pin its thread to:
//
//   "sched": { "urgency": 0.9, "importance": 0.8, "efficiency": 0.5,
//              "energy": 0.5, "trust": 0.9, "cpu": 1 }
//
// All five scores are required when the block is there; without it each
// is 0.5 and the thread runs on any CPU (kernel/abi.ts SCHED_*).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

// ---------------------------------------------------------------------------
// Vocabulary, shared with the kernel (kernel/abi.ts, kernel/arch.ts).

export type Arch = "x86_64" | "aarch64";
export const ARCHES: Arch[] = ["x86_64", "aarch64"];
export const ARCH_CODE: Record<Arch, number> = { x86_64: 1, aarch64: 2 }; // boot/handoff.ts ARCH_*

export const CAP_TYPES: Record<string, number> = {
  endpoint: 1, notification: 2, irq: 3, "io-ports": 4, mmio: 5, spawn: 8, audit: 9, log: 10, power: 11,
  sched: 12, "sched-tune": 13,
};
export const RIGHTS: Record<string, number> = {
  send: 1 << 0, receive: 1 << 1, call: 1 << 2, grant: 1 << 3, read: 1 << 4, write: 1 << 5, map: 1 << 6,
};
export const IRQ_SOURCES: Record<string, number> = { timer: 0, console: 1 };
// The rights a type can use, where not every right makes sense: the
// scheduler capabilities are read and written, never called or mapped.
export const TYPE_RIGHTS: Record<string, string[]> = {
  sched: ["read", "write", "grant"],
  "sched-tune": ["write", "grant"],
};

// The scheduler's scores, in kernel/abi.ts SCHED_URGENCY .. SCHED_TRUST
// order, kept in thousandths (SCHED_ONE = 1000 stands for 1).
export const SCHED_SCORES = ["urgency", "importance", "efficiency", "energy", "trust"];
export const SCHED_ONE = 1000;
export const SCHED_DEFAULT = 500;        // a score a manifest does not give
export const SCHED_UNPINNED = 0xffff;    // kernel/abi.ts SCHED_UNPINNED
export const MAX_CPUS = 16;              // kernel/abi.ts MAX_CPUS

export const CAP_SLOTS = 64;
export const INIT_KERNEL_SLOTS = [60, 61, 62, 63]; // kernel/abi.ts INIT_SLOT_*: what the kernel gives init itself
export const MAX_CAPS = 64;              // per service manifest, and per grant
export const MAX_MEMORY_PAGES = 65536;   // 64 KiB pages: the whole wasm32 address space
export const MAX_SERVICES = 32;
export const MAX_OBJECTS = 64;
export const MAX_DEPENDS = 16;
export const MAX_QUEUE_DEPTH = 1024;
export const NAME_BYTES = 32;            // service, object and module names
export const VERSION_BYTES = 16;
export const PAGE_BYTES = 4096n;
export const IO_PORT_LIMIT = 0x10000n;
export const BOOT_MANIFEST_FILE = "boot-manifest.mod"; // the signed boot manifest's module name

// ---------------------------------------------------------------------------
// The resolved forms (one architecture, every name checked).

export interface Cap {
  slot: number;          // service manifests; 0 in a grant
  type: string;          // a key of CAP_TYPES
  rights: number;        // RIGHTS mask
  badge: bigint;
  object: string;        // endpoint / notification name; irq source name
  irq: number;
  base: bigint;          // io-ports: first port; mmio: physical address
  count: bigint;         // io-ports: ports; mmio: bytes
}

export interface ServiceManifest {
  name: string;
  version: string;
  memoryPages: number;
  caps: Cap[];
  scores: number[];      // thousandths, SCHED_SCORES order
  pin: number;           // a CPU number, or SCHED_UNPINNED
}

export interface BootObject {
  name: string;
  type: "endpoint" | "notification";
  queueDepth: number;
}

export interface BootService {
  name: string;
  module: string;
  memoryPages: number;   // the most its manifest may ask
  dependsOn: string[];
  restartLimit: number;
  restartBackoffMs: number;
  testOnly: boolean;
  grants: Cap[];
}

export interface BootManifest {
  init: string;
  objects: BootObject[];
  services: BootService[];
}

export type Profile = "release" | "test";

// Every problem found, one per line, each prefixed with the file and the
// JSON path of the value at fault.
export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

// ---------------------------------------------------------------------------
// A small checker: walks untrusted JSON and records problems with paths.

type Json = unknown;

class Checker {
  problems: string[] = [];
  constructor(readonly file: string) {}

  fail(path: string, message: string): void {
    this.problems.push(`${this.file}: ${path ? path + ": " : ""}${message}`);
  }

  object(value: Json, path: string, allowed: string[]): Record<string, Json> | null {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
      return null;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(path, `unknown field '${key}' (allowed: ${allowed.join(", ")})`);
    }
    return value as Record<string, Json>;
  }

  array(value: Json, path: string): Json[] | null {
    if (!Array.isArray(value)) {
      this.fail(path, `expected a list, got ${describe(value)}`);
      return null;
    }
    return value;
  }

  string(value: Json, path: string): string | null {
    if (typeof value !== "string") {
      this.fail(path, `expected a string, got ${describe(value)}`);
      return null;
    }
    return value;
  }

  // A name the kernel stores in NAME_BYTES bytes.
  name(value: Json, path: string): string | null {
    const text = this.string(value, path);
    if (text === null) return null;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(text)) {
      this.fail(path, `'${text}' is not a name (lower-case letters, digits, '-' and '_', starting with a letter or digit)`);
      return null;
    }
    if (text.length > NAME_BYTES) {
      this.fail(path, `'${text}' is longer than ${NAME_BYTES} bytes`);
      return null;
    }
    return text;
  }

  integer(value: Json, path: string, min: number, max: number): number | null {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(path, `expected an integer, got ${describe(value)}`);
      return null;
    }
    if (value < min || value > max) {
      this.fail(path, `${value} is out of ${min}..${max}`);
      return null;
    }
    return value;
  }

  // A u64: a JSON integer, or a string "0x..." / decimal for what JSON
  // numbers cannot hold exactly.
  u64(value: Json, path: string): bigint | null {
    let result: bigint | null = null;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) result = BigInt(value);
    else if (typeof value === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) result = BigInt(value);
    if (result === null || result >= 1n << 64n) {
      this.fail(path, `expected an unsigned 64-bit number (an integer or a "0x..." string), got ${describe(value)}`);
      return null;
    }
    return result;
  }

  // A scheduler score: a number from 0 to 1 with at most three decimals,
  // returned in thousandths. Every three-decimal number survives
  // x * 1000 -> round -> / 1000 unchanged; a fourth decimal does not.
  score(value: Json, path: string): number | null {
    if (value === undefined) {
      this.fail(path, `missing (a "sched" block gives all five scores: ${SCHED_SCORES.join(", ")})`);
      return null;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.fail(path, `expected a number from 0 to 1, got ${describe(value)}`);
      return null;
    }
    if (value < 0 || value > 1) {
      this.fail(path, `${value} is out of 0..1`);
      return null;
    }
    const thousandths = Math.round(value * SCHED_ONE);
    if (thousandths / SCHED_ONE !== value) {
      this.fail(path, `${value} has more than 3 decimals (the kernel keeps scores in thousandths)`);
      return null;
    }
    return thousandths;
  }

  boolean(value: Json, path: string): boolean | null {
    if (typeof value !== "boolean") {
      this.fail(path, `expected true or false, got ${describe(value)}`);
      return null;
    }
    return value;
  }

  done(): void {
    if (this.problems.length > 0) throw new ManifestError(this.problems);
  }
}

function describe(value: Json): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ManifestError([`${file}: not valid JSON: ${(error as Error).message}`]);
  }
}

export function hex(value: bigint | number): string {
  return "0x" + value.toString(16);
}

// "0x3f8..0x3ff" (inclusive, as the kernel prints it).
export function rangeText(base: bigint, count: bigint): string {
  return `${hex(base)}..${hex(base + count - 1n)}`;
}

export function rightsText(mask: number): string {
  const names = Object.keys(RIGHTS).filter((name) => (mask & RIGHTS[name]) !== 0);
  return names.length > 0 ? names.join(",") : "none";
}

// ---------------------------------------------------------------------------
// Capability entries (a service manifest's "caps", a boot service's "grant").

interface CapEntry {
  cap: Cap;
  arch: Arch | null;     // null: every architecture
  path: string;
}

const CAP_FIELDS = ["type", "rights", "badge", "object", "range", "arch", "description"];
const NO_OBJECT = ["spawn", "audit", "log", "power", "sched", "sched-tune"];

function parseRange(check: Checker, value: Json, path: string): [bigint, bigint] | null {
  const text = check.string(value, path);
  if (text === null) return null;
  const match = /^(0x[0-9a-fA-F]+|[0-9]+)\.\.(0x[0-9a-fA-F]+|[0-9]+)$/.exec(text);
  if (!match) {
    check.fail(path, `'${text}' is not a range (first..last, inclusive, e.g. "0x3F8..0x3FF")`);
    return null;
  }
  const first = BigInt(match[1]);
  const last = BigInt(match[2]);
  if (last < first || last >= 1n << 64n) {
    check.fail(path, `'${text}' is an empty or impossible range`);
    return null;
  }
  return [first, last - first + 1n];
}

function parseCapEntry(check: Checker, value: Json, path: string, withSlot: boolean): CapEntry | null {
  const fields = withSlot ? ["slot", ...CAP_FIELDS] : CAP_FIELDS;
  const entry = check.object(value, path, fields);
  if (entry === null) return null;
  const before = check.problems.length;
  const cap: Cap = { slot: 0, type: "", rights: 0, badge: 0n, object: "", irq: 0, base: 0n, count: 0n };

  if (withSlot) cap.slot = check.integer(entry.slot, `${path}.slot`, 0, CAP_SLOTS - 1) ?? 0;
  const type = check.string(entry.type, `${path}.type`);
  if (type !== null && !(type in CAP_TYPES)) {
    check.fail(`${path}.type`, `unknown capability type '${type}' (one of ${Object.keys(CAP_TYPES).join(", ")})`);
  } else if (type !== null) {
    cap.type = type;
  }

  const rights = check.array(entry.rights, `${path}.rights`);
  for (const [i, right] of (rights ?? []).entries()) {
    const name = check.string(right, `${path}.rights[${i}]`);
    if (name === null) continue;
    if (!(name in RIGHTS)) check.fail(`${path}.rights[${i}]`, `'${name}' is not a right (one of ${Object.keys(RIGHTS).join(", ")})`);
    else if (cap.rights & RIGHTS[name]) check.fail(`${path}.rights[${i}]`, `'${name}' is listed twice`);
    else cap.rights |= RIGHTS[name];
  }
  if (entry.badge !== undefined) cap.badge = check.u64(entry.badge, `${path}.badge`) ?? 0n;
  const usable = TYPE_RIGHTS[cap.type];
  if (usable !== undefined) {
    const beyond = Object.keys(RIGHTS).filter((name) => (cap.rights & RIGHTS[name]) !== 0 && !usable.includes(name));
    if (beyond.length > 0) check.fail(`${path}.rights`, `a ${cap.type} capability takes only ${usable.join(", ")}, not ${beyond.join(", ")}`);
  }

  let arch: Arch | null = null;
  if (entry.arch !== undefined) {
    const name = check.string(entry.arch, `${path}.arch`);
    if (name !== null && !ARCHES.includes(name as Arch)) check.fail(`${path}.arch`, `unknown architecture '${name}' (one of ${ARCHES.join(", ")})`);
    else if (name !== null) arch = name as Arch;
  }
  if (entry.description !== undefined) check.string(entry.description, `${path}.description`);

  // What names the object depends on the type.
  if (cap.type === "endpoint" || cap.type === "notification") {
    cap.object = check.name(entry.object, `${path}.object`) ?? "";
    if (entry.range !== undefined) check.fail(`${path}.range`, `an ${cap.type} has no range`);
  } else if (cap.type === "irq") {
    const source = check.string(entry.object, `${path}.object`);
    if (source !== null && !(source in IRQ_SOURCES)) {
      check.fail(`${path}.object`, `unknown interrupt source '${source}' (one of ${Object.keys(IRQ_SOURCES).join(", ")})`);
    } else if (source !== null) {
      cap.object = source;
      cap.irq = IRQ_SOURCES[source];
    }
    if (entry.range !== undefined) check.fail(`${path}.range`, "an irq has no range");
  } else if (cap.type === "io-ports" || cap.type === "mmio") {
    if (entry.object !== undefined) check.fail(`${path}.object`, `${cap.type} take a range, not an object`);
    const range = parseRange(check, entry.range, `${path}.range`);
    if (range !== null) {
      [cap.base, cap.count] = range;
      if (cap.type === "io-ports" && cap.base + cap.count > IO_PORT_LIMIT) {
        check.fail(`${path}.range`, `I/O ports end at 0xffff; ${rangeText(cap.base, cap.count)} goes past`);
      }
      // A page is the unit the MMU grants: a smaller range would expose the
      // rest of its page too.
      if (cap.type === "mmio" && (cap.base % PAGE_BYTES !== 0n || cap.count % PAGE_BYTES !== 0n)) {
        check.fail(`${path}.range`, `an MMIO range must cover whole 4 KiB pages; ${rangeText(cap.base, cap.count)} does not`);
      }
    }
  } else if (NO_OBJECT.includes(cap.type)) {
    if (entry.object !== undefined) check.fail(`${path}.object`, `a ${cap.type} capability names no object`);
    if (entry.range !== undefined) check.fail(`${path}.range`, `a ${cap.type} capability has no range`);
  }
  return check.problems.length === before ? { cap, arch, path } : null;
}

function capEntries(check: Checker, value: Json, path: string, withSlot: boolean): CapEntry[] {
  const list = check.array(value, path) ?? [];
  const out: CapEntry[] = [];
  for (const [i, item] of list.entries()) {
    const entry = parseCapEntry(check, item, `${path}[${i}]`, withSlot);
    if (entry !== null) out.push(entry);
  }
  return out;
}

function forArch(entries: CapEntry[], arch: Arch): CapEntry[] {
  return entries.filter((entry) => entry.arch === null || entry.arch === arch);
}

function checkCapCount(check: Checker, entries: CapEntry[], path: string): void {
  for (const arch of ARCHES) {
    const n = forArch(entries, arch).length;
    if (n > MAX_CAPS) check.fail(path, `${n} capabilities for ${arch}, at most ${MAX_CAPS}`);
  }
}

// ---------------------------------------------------------------------------
// Service manifests.

interface ServiceManifestSource {
  name: string;
  version: string;
  memoryPages: number;
  caps: CapEntry[];
  scores: number[];
  pin: number;
}

// The "sched" block: five scores in thousandths and a pin; the defaults
// when there is none.
function schedBlock(check: Checker, value: Json, path: string): { scores: number[]; pin: number } {
  const sched = { scores: SCHED_SCORES.map(() => SCHED_DEFAULT), pin: SCHED_UNPINNED };
  if (value === undefined) return sched;
  const block = check.object(value, path, [...SCHED_SCORES, "cpu", "description"]);
  if (block === null) return sched;
  SCHED_SCORES.forEach((name, i) => {
    sched.scores[i] = check.score(block[name], `${path}.${name}`) ?? SCHED_DEFAULT;
  });
  if (block.cpu !== undefined) sched.pin = check.integer(block.cpu, `${path}.cpu`, 0, MAX_CPUS - 1) ?? SCHED_UNPINNED;
  if (block.description !== undefined) check.string(block.description, `${path}.description`);
  return sched;
}

function serviceManifestSource(text: string, file: string): ServiceManifestSource {
  const check = new Checker(file);
  const top = check.object(parseJson(text, file), "", ["name", "version", "memory_pages", "sched", "caps", "description"]);
  if (top === null) check.done();
  const t = top!;
  const name = check.name(t.name, "name") ?? "";
  const version = check.string(t.version, "version") ?? "";
  if (t.version !== undefined && !/^[\x21-\x7e]{1,16}$/.test(version)) {
    check.fail("version", `'${version}' is not a version (1..${VERSION_BYTES} printable characters, no spaces)`);
  }
  const memoryPages = check.integer(t.memory_pages, "memory_pages", 1, MAX_MEMORY_PAGES) ?? 0;
  if (t.description !== undefined) check.string(t.description, "description");
  const { scores, pin } = schedBlock(check, t.sched, "sched");
  const caps = capEntries(check, t.caps, "caps", true);
  checkCapCount(check, caps, "caps");
  // Slots are per architecture: slot 2 may be the UART's I/O ports on
  // x86_64 and its MMIO page on AArch64.
  for (const arch of ARCHES) {
    const seen = new Map<number, string>();
    for (const entry of forArch(caps, arch)) {
      const first = seen.get(entry.cap.slot);
      if (first !== undefined) check.fail(`${entry.path}.slot`, `slot ${entry.cap.slot} is already used by ${first}${entry.arch === null ? "" : ` (${arch})`}`);
      else seen.set(entry.cap.slot, entry.path);
    }
  }
  check.done();
  return { name, version, memoryPages, caps, scores, pin };
}

// A service manifest, checked and resolved for `arch`.
export function parseServiceManifest(text: string, file: string, arch: Arch): ServiceManifest {
  const source = serviceManifestSource(text, file);
  return {
    name: source.name,
    version: source.version,
    memoryPages: source.memoryPages,
    caps: forArch(source.caps, arch).map((entry) => entry.cap),
    scores: source.scores,
    pin: source.pin,
  };
}

// ---------------------------------------------------------------------------
// The boot manifest.

interface BootServiceSource extends Omit<BootService, "grants"> {
  grants: CapEntry[];
  path: string;
}

function bootManifestSource(text: string, file: string): { init: string; objects: BootObject[]; services: BootServiceSource[] } {
  const check = new Checker(file);
  const top = check.object(parseJson(text, file), "", ["init", "objects", "services", "description"]);
  if (top === null) check.done();
  const t = top!;
  if (t.description !== undefined) check.string(t.description, "description");

  const objects: BootObject[] = [];
  const objectList = check.array(t.objects, "objects") ?? [];
  if (objectList.length > MAX_OBJECTS) check.fail("objects", `${objectList.length} objects, at most ${MAX_OBJECTS}`);
  for (const [i, item] of objectList.entries()) {
    const path = `objects[${i}]`;
    const o = check.object(item, path, ["name", "type", "queue_depth", "description"]);
    if (o === null) continue;
    const name = check.name(o.name, `${path}.name`);
    const type = check.string(o.type, `${path}.type`);
    if (o.description !== undefined) check.string(o.description, `${path}.description`);
    if (type !== null && type !== "endpoint" && type !== "notification") {
      check.fail(`${path}.type`, `a kernel object is an endpoint or a notification, not '${type}'`);
      continue;
    }
    let queueDepth = 0;
    if (type === "endpoint") queueDepth = check.integer(o.queue_depth, `${path}.queue_depth`, 1, MAX_QUEUE_DEPTH) ?? 0;
    else if (o.queue_depth !== undefined) check.fail(`${path}.queue_depth`, "a notification has no queue");
    if (name === null || type === null) continue;
    if (objects.some((other) => other.name === name)) check.fail(`${path}.name`, `object '${name}' is declared twice`);
    objects.push({ name, type, queueDepth });
  }

  const services: BootServiceSource[] = [];
  const serviceList = check.array(t.services, "services") ?? [];
  if (serviceList.length > MAX_SERVICES) check.fail("services", `${serviceList.length} services, at most ${MAX_SERVICES}`);
  for (const [i, item] of serviceList.entries()) {
    const path = `services[${i}]`;
    const s = check.object(item, path, ["name", "module", "memory_pages", "depends_on", "restart_limit",
      "restart_backoff_ms", "test_only", "grant", "description"]);
    if (s === null) continue;
    const name = check.name(s.name, `${path}.name`) ?? "";
    const module = check.string(s.module, `${path}.module`) ?? "";
    if (s.module !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*\.mod$/.test(module)) {
      check.fail(`${path}.module`, `'${module}' is not a module file name (letters, digits, '.', '-', '_', ending in .mod)`);
    } else if (module.length > NAME_BYTES) {
      check.fail(`${path}.module`, `'${module}' is longer than ${NAME_BYTES} bytes`);
    } else if (module === BOOT_MANIFEST_FILE) {
      check.fail(`${path}.module`, `'${module}' is the boot manifest's own module name`);
    }
    const memoryPages = check.integer(s.memory_pages, `${path}.memory_pages`, 1, MAX_MEMORY_PAGES) ?? 0;
    const dependsOn: string[] = [];
    const depends = s.depends_on === undefined ? [] : check.array(s.depends_on, `${path}.depends_on`) ?? [];
    if (depends.length > MAX_DEPENDS) check.fail(`${path}.depends_on`, `${depends.length} dependencies, at most ${MAX_DEPENDS}`);
    for (const [j, d] of depends.entries()) {
      const dep = check.name(d, `${path}.depends_on[${j}]`);
      if (dep !== null && dependsOn.includes(dep)) check.fail(`${path}.depends_on[${j}]`, `'${dep}' is listed twice`);
      else if (dep !== null) dependsOn.push(dep);
    }
    const restartLimit = s.restart_limit === undefined ? 0 : check.integer(s.restart_limit, `${path}.restart_limit`, 0, 1000) ?? 0;
    const restartBackoffMs = s.restart_backoff_ms === undefined ? 0
      : check.integer(s.restart_backoff_ms, `${path}.restart_backoff_ms`, 0, 3_600_000) ?? 0;
    const testOnly = s.test_only === undefined ? false : check.boolean(s.test_only, `${path}.test_only`) ?? false;
    if (s.description !== undefined) check.string(s.description, `${path}.description`);
    const grants = capEntries(check, s.grant, `${path}.grant`, false);
    checkCapCount(check, grants, `${path}.grant`);
    services.push({ name, module, memoryPages, dependsOn, restartLimit, restartBackoffMs, testOnly, grants, path });
  }

  // Names: services and modules unique, init is one of them.
  for (const [i, s] of services.entries()) {
    if (services.findIndex((o) => o.name === s.name) < i) check.fail(`${s.path}.name`, `service '${s.name}' is listed twice`);
    if (services.findIndex((o) => o.module === s.module) < i) check.fail(`${s.path}.module`, `module '${s.module}' is used twice`);
  }
  const init = check.name(t.init, "init") ?? "";
  const initService = services.find((s) => s.name === init);
  if (t.init !== undefined && init !== "" && initService === undefined) check.fail("init", `'${init}' is not one of the services`);
  if (initService?.testOnly) check.fail("init", `'${init}' is test_only; init is in every image`);
  if (initService && initService.dependsOn.length > 0) check.fail(`${initService.path}.depends_on`, "init starts first and depends on nothing");

  // Grants name declared objects of the right type.
  for (const s of services) {
    for (const entry of s.grants) {
      if (entry.cap.type !== "endpoint" && entry.cap.type !== "notification") continue;
      const object = objects.find((o) => o.name === entry.cap.object);
      if (object === undefined) check.fail(`${entry.path}.object`, `no object '${entry.cap.object}' is declared in objects`);
      else if (object.type !== entry.cap.type) check.fail(`${entry.path}.object`, `'${entry.cap.object}' is a ${object.type}, not a ${entry.cap.type}`);
    }
  }

  // Dependencies: known services, not test-only from a release service, no cycle.
  for (const s of services) {
    for (const [j, dep] of s.dependsOn.entries()) {
      const target = services.find((o) => o.name === dep);
      if (target === undefined) check.fail(`${s.path}.depends_on[${j}]`, `'${dep}' is not one of the services`);
      else if (target.testOnly && !s.testOnly) check.fail(`${s.path}.depends_on[${j}]`, `'${dep}' is test_only, '${s.name}' is not`);
      else if (dep === s.name) check.fail(`${s.path}.depends_on[${j}]`, `'${s.name}' depends on itself`);
    }
  }
  const cycle = dependencyCycle(services);
  if (cycle !== null) check.fail("services", `dependency cycle: ${cycle.join(" -> ")}`);

  check.done();
  return { init, objects, services };
}

// The first cycle found, as a closed path of names, or null.
function dependencyCycle(services: { name: string; dependsOn: string[] }[]): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === "done") return null;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    const service = services.find((s) => s.name === name);
    if (service === undefined) return null;
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of service.dependsOn) {
      if (dep === name) continue; // reported as "depends on itself"
      const found = visit(dep);
      if (found !== null) return found;
    }
    stack.pop();
    state.set(name, "done");
    return null;
  };
  for (const s of services) {
    const found = visit(s.name);
    if (found !== null) return found;
  }
  return null;
}

// The boot manifest, checked, resolved for `arch` and cut to `profile`
// (a release image leaves out the test_only services).
export function parseBootManifest(text: string, file: string, arch: Arch, profile: Profile = "release"): BootManifest {
  const source = bootManifestSource(text, file);
  const services = source.services
    .filter((s) => profile === "test" || !s.testOnly)
    .map(({ path: _path, grants, ...rest }) => ({ ...rest, grants: forArch(grants, arch).map((entry) => entry.cap) }));
  // init first: the kernel starts it, init starts the rest in dependency order.
  services.sort((a, b) => Number(b.name === source.init) - Number(a.name === source.init));
  return { init: source.init, objects: source.objects, services };
}

// ---------------------------------------------------------------------------
// A manifest against its grant: the kernel makes the same check at boot
// (kernel/module.ts grantCheck); the build makes it first, so a mistake
// shows up at `make` rather than as a missing service.

export function capText(cap: Cap): string {
  if (cap.type === "io-ports" || cap.type === "mmio") return `${cap.type} ${rangeText(cap.base, cap.count)}`;
  if (cap.type === "endpoint" || cap.type === "notification") return `${cap.type} '${cap.object}'`;
  if (cap.type === "irq") return `irq ${cap.object}`;
  return cap.type;
}

function sameObject(a: Cap, b: Cap): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "endpoint" || a.type === "notification") return a.object === b.object;
  if (a.type === "irq") return a.irq === b.irq;
  if (a.type === "io-ports" || a.type === "mmio") return a.base >= b.base && a.base + a.count <= b.base + b.count;
  return true;
}

// The reasons `manifest` asks for more than `service` grants; [] when it
// does not.
export function checkGrant(manifest: ServiceManifest, service: BootService): string[] {
  const problems: string[] = [];
  if (manifest.name !== service.name) problems.push(`manifest names service '${manifest.name}', the boot manifest expects '${service.name}'`);
  if (manifest.memoryPages > service.memoryPages) {
    problems.push(`manifest asks for ${manifest.memoryPages} memory pages, its grant is ${service.memoryPages}`);
  }
  for (const cap of manifest.caps) {
    const granted = service.grants.filter((g) => sameObject(cap, g));
    const enough = granted.filter((g) => (cap.rights & ~g.rights) === 0);
    if (enough.some((g) => g.badge === cap.badge)) continue;
    const allowed = granted.map((g) => rightsText(g.rights) + (g.badge !== 0n ? ` badge ${hex(g.badge)}` : "")).join(" | ");
    if (granted.length === 0) problems.push(`manifest asks for ${capText(cap)} beyond its grant`);
    else if (enough.length === 0) problems.push(`manifest asks for ${capText(cap)} with rights ${rightsText(cap.rights)} beyond its grant (${allowed})`);
    else problems.push(`manifest asks for ${capText(cap)} with badge ${hex(cap.badge)}, its grant says ${allowed}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Binary encoding: the records kernel/module.ts parses. Little-endian; every
// reserved byte is zero and the kernel checks it is.
//
// A capability record, 64 bytes (service manifests and boot grants):
//
//    0      1      2      3      4             8
//   ┌──────┬──────┬──────┬──────┬─────────────┬───────────────────────────┐
//   │ slot │ type │rights│  0   │ irq    u32  │ badge                 u64 │
//   ├──────┴──────┴──────┴──────┴─────────────┼───────────────────────────┤
//   │ base  u64 (io-ports: port, mmio: phys)  │ count u64 (ports / bytes) │ 16
//   ├─────────────────────────────────────────┴───────────────────────────┤
//   │ object: endpoint / notification name, 32 bytes UTF-8, NUL-padded   │ 32
//   └─────────────────────────────────────────────────────────────────────┘ 64
//
// slot is 0 in a grant; fields a type does not use are 0.
//
// A service manifest, 80 + 64 × caps bytes:
//
//    0          4         6         8              12          16
//   ┌──────────┬─────────┬─────────┬──────────────┬───────────┐
//   │ "CAMM"   │ format  │ caps    │ memory pages │ 0         │
//   │          │ u16 = 2 │ u16≤64  │ u32          │ u32       │
//   ├──────────┴─────────┴─────────┴──────────────┴───────────┤
//   │ name, 32 bytes NUL-padded                                │ 16
//   ├──────────────────────────────────────────────────────────┤
//   │ version, 16 bytes NUL-padded                             │ 48
//   ├───────┬───────┬───────┬───────┬───────┬───────┬──────────┤
//   │urgency│import-│effici-│energy │ trust │ pin   │ 0        │ 64
//   │ u16   │ance   │ency   │ u16   │ u16   │ u16   │ u32      │
//   ├───────┴───────┴───────┴───────┴───────┴───────┴──────────┤
//   │ capability records × caps                                │ 80
//   └──────────────────────────────────────────────────────────┘
//
// The scores are thousandths, 0..1000 (500 each without a "sched" block);
// pin is a CPU number below 16, or 0xffff for any CPU.
//
// The boot manifest, 16 + 40 × objects + Σ (96 + 64 × grants) bytes:
//
//    0          4         6         7          8      9          16
//   ┌──────────┬─────────┬─────────┬──────────┬──────┬──────────┐
//   │ "CAMB"   │ format  │ objects │ services │ init │ 0 × 7    │
//   │          │ u16 = 2 │ u8 ≤ 64 │ u8 1..32 │ u8   │          │
//   └──────────┴─────────┴─────────┴──────────┴──────┴──────────┘
//   object record × objects, 40 bytes each:
//   ┌──────────────────────────────┬──────┬──────────┬────────────────┐
//   │ name, 32 bytes NUL-padded    │ type │ 0 × 3    │ queue depth u32│
//   └──────────────────────────────┴──────┴──────────┴────────────────┘
//    0                              32     33         36               40
//   service record × services, 96 + 64 × grants bytes each:
//   ┌──────────────────────────────┬──────────────────────────────┐
//   │ name, 32 bytes NUL-padded    │ module file, 32 bytes        │ 0
//   ├───────────┬───────────┬──────┴─────┬────────┬────────┬──────┤
//   │ memory    │ restart   │ restart    │ depends│ grants │ 0    │ 64
//   │ pages u32 │ limit u32 │ backoff ms │ u8≤16  │ u8≤64  │ u16  │
//   ├───────────┴───────────┴────────────┴────────┴────────┴──────┤
//   │ depends: 16 × u8 service index (unused entries 0)           │ 80
//   ├─────────────────────────────────────────────────────────────┤
//   │ capability records × grants (slot 0)                        │ 96
//   └─────────────────────────────────────────────────────────────┘
//
// Services appear init first (the init byte is then 0, kept explicit).
//
// Format 2 added the scheduler block (and with it the "sched" and
// "sched-tune" capability types, which a format-1 kernel would refuse);
// both records carry the one format number, since a kernel reads both.

export const MANIFEST_FORMAT = 2;
export const CAP_RECORD_BYTES = 64;
export const SERVICE_HEADER_BYTES = 80;
export const SCHED_SCORES_OFFSET = 64;   // in a service manifest: the five scores, u16 each
export const SCHED_PIN_OFFSET = 74;      // ... then the pin
export const BOOT_HEADER_BYTES = 16;
export const OBJECT_RECORD_BYTES = 40;
export const SERVICE_RECORD_BYTES = 96;

function writeName(out: Buffer, offset: number, text: string, width: number): void {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > width) throw new Error(`'${text}' does not fit in ${width} bytes`);
  bytes.copy(out, offset);
}

function encodeCap(out: Buffer, offset: number, cap: Cap): void {
  out.writeUInt8(cap.slot, offset);
  out.writeUInt8(CAP_TYPES[cap.type], offset + 1);
  out.writeUInt8(cap.rights, offset + 2);
  out.writeUInt32LE(cap.irq, offset + 4);
  out.writeBigUInt64LE(cap.badge, offset + 8);
  out.writeBigUInt64LE(cap.base, offset + 16);
  out.writeBigUInt64LE(cap.count, offset + 24);
  if (cap.type === "endpoint" || cap.type === "notification") writeName(out, offset + 32, cap.object, NAME_BYTES);
}

export function encodeServiceManifest(manifest: ServiceManifest): Buffer {
  const out = Buffer.alloc(SERVICE_HEADER_BYTES + CAP_RECORD_BYTES * manifest.caps.length);
  out.write("CAMM", 0, "latin1");
  out.writeUInt16LE(MANIFEST_FORMAT, 4);
  out.writeUInt16LE(manifest.caps.length, 6);
  out.writeUInt32LE(manifest.memoryPages, 8);
  writeName(out, 16, manifest.name, NAME_BYTES);
  writeName(out, 48, manifest.version, VERSION_BYTES);
  manifest.scores.forEach((score, i) => out.writeUInt16LE(score, SCHED_SCORES_OFFSET + 2 * i));
  out.writeUInt16LE(manifest.pin, SCHED_PIN_OFFSET);
  // By slot, so the bytes do not depend on the order of the JSON list.
  const caps = [...manifest.caps].sort((a, b) => a.slot - b.slot);
  caps.forEach((cap, i) => encodeCap(out, SERVICE_HEADER_BYTES + CAP_RECORD_BYTES * i, cap));
  return out;
}

export function encodeBootManifest(boot: BootManifest): Buffer {
  const size = BOOT_HEADER_BYTES + OBJECT_RECORD_BYTES * boot.objects.length +
    boot.services.reduce((sum, s) => sum + SERVICE_RECORD_BYTES + CAP_RECORD_BYTES * s.grants.length, 0);
  const out = Buffer.alloc(size);
  out.write("CAMB", 0, "latin1");
  out.writeUInt16LE(MANIFEST_FORMAT, 4);
  out.writeUInt8(boot.objects.length, 6);
  out.writeUInt8(boot.services.length, 7);
  out.writeUInt8(boot.services.findIndex((s) => s.name === boot.init), 8);
  let at = BOOT_HEADER_BYTES;
  for (const object of boot.objects) {
    writeName(out, at, object.name, NAME_BYTES);
    out.writeUInt8(CAP_TYPES[object.type], at + 32);
    out.writeUInt32LE(object.queueDepth, at + 36);
    at += OBJECT_RECORD_BYTES;
  }
  for (const service of boot.services) {
    writeName(out, at, service.name, NAME_BYTES);
    writeName(out, at + 32, service.module, NAME_BYTES);
    out.writeUInt32LE(service.memoryPages, at + 64);
    out.writeUInt32LE(service.restartLimit, at + 68);
    out.writeUInt32LE(service.restartBackoffMs, at + 72);
    out.writeUInt8(service.dependsOn.length, at + 76);
    out.writeUInt8(service.grants.length, at + 77);
    service.dependsOn.forEach((dep, i) => out.writeUInt8(boot.services.findIndex((s) => s.name === dep), at + 80 + i));
    at += SERVICE_RECORD_BYTES;
    for (const grant of service.grants) {
      encodeCap(out, at, { ...grant, slot: 0 });
      at += CAP_RECORD_BYTES;
    }
  }
  return out;
}

// ---- decoding: for `sign.mjs show` and the tests (the kernel has its own) ----

function readName(buf: Buffer, offset: number, width: number): string {
  const field = buf.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? width : end).toString("utf8");
}

const TYPE_NAMES = Object.fromEntries(Object.entries(CAP_TYPES).map(([name, code]) => [code, name]));
const IRQ_NAMES = Object.fromEntries(Object.entries(IRQ_SOURCES).map(([name, code]) => [code, name]));

function decodeCap(buf: Buffer, offset: number): Cap {
  const type = TYPE_NAMES[buf.readUInt8(offset + 1)] ?? `type-${buf.readUInt8(offset + 1)}`;
  const irq = buf.readUInt32LE(offset + 4);
  return {
    slot: buf.readUInt8(offset),
    type,
    rights: buf.readUInt8(offset + 2),
    irq,
    badge: buf.readBigUInt64LE(offset + 8),
    base: buf.readBigUInt64LE(offset + 16),
    count: buf.readBigUInt64LE(offset + 24),
    object: type === "irq" ? IRQ_NAMES[irq] ?? "" : readName(buf, offset + 32, NAME_BYTES),
  };
}

export function decodeServiceManifest(buf: Buffer): ServiceManifest {
  if (buf.length < SERVICE_HEADER_BYTES || buf.toString("latin1", 0, 4) !== "CAMM") throw new Error("not a service manifest (no CAMM)");
  const format = buf.readUInt16LE(4);
  if (format !== MANIFEST_FORMAT) throw new Error(`service manifest format ${format}, this tool reads ${MANIFEST_FORMAT}`);
  const count = buf.readUInt16LE(6);
  if (buf.length !== SERVICE_HEADER_BYTES + CAP_RECORD_BYTES * count) throw new Error("service manifest size does not match its cap count");
  const caps: Cap[] = [];
  for (let i = 0; i < count; i++) caps.push(decodeCap(buf, SERVICE_HEADER_BYTES + CAP_RECORD_BYTES * i));
  return {
    name: readName(buf, 16, NAME_BYTES), version: readName(buf, 48, VERSION_BYTES), memoryPages: buf.readUInt32LE(8), caps,
    scores: SCHED_SCORES.map((_, i) => buf.readUInt16LE(SCHED_SCORES_OFFSET + 2 * i)), pin: buf.readUInt16LE(SCHED_PIN_OFFSET),
  };
}

// "urgency 0.9, importance 0.8, efficiency 0.5, energy 0.5, trust 0.9; cpu 1"
// (or "; any cpu"), as `sign show` prints it.
export function schedText(scores: number[], pin: number): string {
  const named = SCHED_SCORES.map((name, i) => `${name} ${scores[i] / SCHED_ONE}`).join(", ");
  return `${named}; ${pin === SCHED_UNPINNED ? "any cpu" : `cpu ${pin}`}`;
}

export function decodeBootManifest(buf: Buffer): BootManifest {
  if (buf.length < BOOT_HEADER_BYTES || buf.toString("latin1", 0, 4) !== "CAMB") throw new Error("not a boot manifest (no CAMB)");
  const format = buf.readUInt16LE(4);
  if (format !== MANIFEST_FORMAT) throw new Error(`boot manifest format ${format}, this tool reads ${MANIFEST_FORMAT}`);
  const objectCount = buf.readUInt8(6);
  const serviceCount = buf.readUInt8(7);
  let at = BOOT_HEADER_BYTES;
  const objects: BootObject[] = [];
  for (let i = 0; i < objectCount; i++, at += OBJECT_RECORD_BYTES) {
    objects.push({ name: readName(buf, at, NAME_BYTES), type: TYPE_NAMES[buf.readUInt8(at + 32)] as BootObject["type"], queueDepth: buf.readUInt32LE(at + 36) });
  }
  const raw: { service: BootService; depends: number[] }[] = [];
  for (let i = 0; i < serviceCount; i++) {
    const grantCount = buf.readUInt8(at + 77);
    const depends = [...buf.subarray(at + 80, at + 80 + buf.readUInt8(at + 76))];
    const service: BootService = {
      name: readName(buf, at, NAME_BYTES), module: readName(buf, at + 32, NAME_BYTES),
      memoryPages: buf.readUInt32LE(at + 64), restartLimit: buf.readUInt32LE(at + 68),
      restartBackoffMs: buf.readUInt32LE(at + 72), dependsOn: [], testOnly: false, grants: [],
    };
    at += SERVICE_RECORD_BYTES;
    for (let g = 0; g < grantCount; g++, at += CAP_RECORD_BYTES) service.grants.push(decodeCap(buf, at));
    raw.push({ service, depends });
  }
  if (at !== buf.length) throw new Error(`boot manifest is ${buf.length} bytes, its records ${at}`);
  for (const { service, depends } of raw) service.dependsOn = depends.map((i) => raw[i]?.service.name ?? `#${i}`);
  return { init: raw[buf.readUInt8(8)]?.service.name ?? "", objects, services: raw.map((r) => r.service) };
}

// ---------------------------------------------------------------------------
// Files: the boot manifest and the manifests of its services, read and
// checked together for one architecture and profile.


// services/<name>/manifest.json beside services/boot.json.
export function manifestPath(bootPath: string, service: string): string {
  return join(dirname(bootPath), service, "manifest.json");
}

function readText(path: string): string {
  if (!existsSync(path)) throw new ManifestError([`${path}: missing`]);
  return readFileSync(path, "utf8");
}

export function readServiceManifest(path: string, arch: Arch): ServiceManifest {
  return parseServiceManifest(readText(path), path, arch);
}

export interface Image {
  boot: BootManifest;
  manifests: Map<string, ServiceManifest>;  // by service name
}

// The boot manifest and every service manifest it lists, each checked
// against its grant. Throws one ManifestError with every problem found.
export function readImage(bootPath: string, arch: Arch, profile: Profile = "release"): Image {
  const text = readText(bootPath);
  // Every architecture and both profiles are checked, so a mistake in
  // another architecture's entries still fails this build.
  for (const other of ARCHES) parseBootManifest(text, bootPath, other, "test");
  const boot = parseBootManifest(text, bootPath, arch, profile);
  const problems: string[] = [];
  const manifests = new Map<string, ServiceManifest>();
  for (const service of boot.services) {
    const path = manifestPath(bootPath, service.name);
    try {
      for (const other of ARCHES) readServiceManifest(path, other);
      const manifest = readServiceManifest(path, arch);
      if (service.name === boot.init) {
        for (const cap of manifest.caps.filter((c) => INIT_KERNEL_SLOTS.includes(c.slot))) {
          problems.push(`${path}: slot ${cap.slot} is one the kernel fills for init (${INIT_KERNEL_SLOTS[0]}..${INIT_KERNEL_SLOTS[3]}); use another`);
        }
      }
      for (const problem of checkGrant(manifest, service)) problems.push(`${path}: ${problem} (${bootPath} grants ${service.name})`);
      manifests.set(service.name, manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return { boot, manifests };
}

// The image's module files missing from `dir`, as messages.
export function missingModules(boot: BootManifest, dir: string): string[] {
  return boot.services
    .filter((s) => !existsSync(join(dir, s.module)))
    .map((s) => `module ${s.module} of service '${s.name}' is missing from ${dir}`);
}
