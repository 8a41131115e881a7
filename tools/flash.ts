// Writes a disk image to a USB stick or SD card, and checks what it wrote.
//
//   node build/tools/flash.mjs --image build/x86_64/cam-os.img --device /dev/sdX [--yes] [--force-file]
//   make usb DEVICE=/dev/sdX
//
// Before a byte is written it refuses, with the reason, a target that
//   - does not exist, or is not a block device (a plain file only with
//     --force-file, for tests; it must already be as large as the image),
//   - is a partition rather than a whole disk,
//   - is not removable (/sys/block/<dev>/removable),
//   - is mounted, or has a mounted partition (/proc/self/mounts, /proc/mounts),
//     or is held by device-mapper (LVM, dm-crypt: /sys/block/<dev>/holders),
//   - holds the running system (the disk under / or /boot),
//   - is smaller than the image (/sys/block/<dev>/size × 512),
// and then asks for the device's name (or "yes") unless --yes is given; with
// no terminal to ask on and no --yes, it refuses too. Then it writes (block
// devices opened O_EXCL, which the kernel refuses while anything has the
// device mounted), shows bytes, rate and time left, fsyncs, drops the
// device's cached pages (blockdev --flushbufs) so that the read-back comes
// from the medium, reads the image's length back and compares SHA-256.
//
// Every check reads the machine through a SystemView (the sysfs root, the
// mounts text, the devices under / and /boot, how a path maps to a device
// number), so that tests can hand it a fake sysfs tree in a temporary folder.
//
// Exit status: 0 written and verified, 1 refused (nothing written), 2 the
// write or the verification failed.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";

export const SECTOR_BYTES = 512;
const CHUNK_BYTES = 4 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 500;

// What the checks know of the machine.
export interface SystemView {
  sysfs: string; // normally "/sys"
  mounts: string; // the text of /proc/self/mounts followed by /proc/mounts
  rootDevices: string[]; // "major:minor" of the filesystems holding / and /boot
  // "major:minor" when `file` (after symlinks) is a block device, else null.
  blockDevice(file: string): string | null;
}

export interface Target {
  path: string;
  kind: "block" | "file";
  name: string; // the kernel's name (sdb), or the file's path
  sizeBytes: number;
  description: string; // for the confirmation and the log
}

export interface Check {
  target?: Target; // absent when the path could not be identified at all
  refusals: string[]; // empty: the target may be written
}

export class FlashError extends Error {}
// A command line that cannot be understood: nothing was tried.
class UsageError extends FlashError {}

// ---- the system view of this machine ----

// glibc's gnu_dev_major / gnu_dev_minor on a dev_t.
function deviceNumber(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

export function realSystemView(): SystemView {
  const rootDevices: string[] = [];
  for (const mountPoint of ["/", "/boot", "/boot/efi"]) {
    try {
      rootDevices.push(deviceNumber(fs.statSync(mountPoint, { bigint: true }).dev));
    } catch {
      // no such directory
    }
  }
  const view: SystemView = {
    sysfs: "/sys",
    mounts: readOr("/proc/self/mounts", "") + readOr("/proc/mounts", ""),
    rootDevices,
    blockDevice(file: string): string | null {
      try {
        const stat = fs.statSync(file, { bigint: true });
        return stat.isBlockDevice() ? deviceNumber(stat.rdev) : null;
      } catch {
        return null;
      }
    },
  };
  // The devices the mount table names for / and /boot count too (the
  // device number of / can be an overlay's, which names no disk).
  for (const mount of parseMounts(view.mounts)) {
    if (!["/", "/boot", "/boot/efi"].includes(mount.mountPoint)) continue;
    const number = view.blockDevice(mount.source);
    if (number) rootDevices.push(number);
  }
  return view;
}

// ---- reading sysfs ----

interface Mount {
  source: string;
  mountPoint: string;
}

// /proc/mounts escapes space, tab, newline and backslash as \ooo.
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMounts(text: string): Mount[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 2 && fields[0] !== "")
    .map((fields) => ({ source: unescapeMount(fields[0]), mountPoint: unescapeMount(fields[1]) }));
}

// The sysfs folder of a device number: <sysfs>/dev/block/<major:minor> is a
// symlink to it (.../block/sdb for a disk, .../block/sdb/sdb1 for a partition).
function deviceFolder(view: SystemView, number: string): string | null {
  try {
    return fs.realpathSync(path.join(view.sysfs, "dev", "block", number));
  } catch {
    return null;
  }
}

function isPartition(folder: string): boolean {
  return fs.existsSync(path.join(folder, "partition"));
}

function list(folder: string): string[] {
  try {
    return fs.readdirSync(folder).sort();
  } catch {
    return [];
  }
}

function partitionsOf(disk: string): string[] {
  return list(disk).filter((entry) => isPartition(path.join(disk, entry)));
}

// The whole disks under a device folder: a partition's parent, and through
// device-mapper (LVM, dm-crypt, RAID) the disks of its slaves.
function disksUnder(folder: string, depth = 0): string[] {
  if (depth > 8) return [];
  const slaves = list(path.join(folder, "slaves"));
  if (slaves.length > 0) {
    return slaves.flatMap((slave) => {
      try {
        return disksUnder(fs.realpathSync(path.join(folder, "slaves", slave)), depth + 1);
      } catch {
        return [];
      }
    });
  }
  return [path.basename(isPartition(folder) ? path.dirname(folder) : folder)];
}

function sysfsText(folder: string, file: string): string {
  return readOr(path.join(folder, file), "").trim();
}

export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function describeDisk(folder: string, name: string, sizeBytes: number): string {
  const model = [sysfsText(folder, "device/vendor"), sysfsText(folder, "device/model")].filter(Boolean).join(" ");
  return `/dev/${name}: ${formatBytes(sizeBytes)}${model ? `, ${model}` : ""}`;
}

// ---- the checks ----

// Everything that stops `device` from being written with an image of
// `imageBytes` bytes; an empty list means it may be.
export function checkTarget(device: string, imageBytes: number, forceFile: boolean, view: SystemView): Check {
  if (!fs.existsSync(device)) return { refusals: [`${device} does not exist`] };
  const number = view.blockDevice(device);
  if (number === null) return checkFile(device, imageBytes, forceFile);

  const folder = deviceFolder(view, number);
  if (folder === null) return { refusals: [`${device} (block device ${number}) is not in ${view.sysfs}/dev/block: cannot check it`] };
  const name = path.basename(folder);
  if (isPartition(folder)) {
    const disk = path.basename(path.dirname(folder));
    return { refusals: [`${device} is a partition (${name}) of /dev/${disk}: write the whole disk, /dev/${disk}`] };
  }

  const refusals: string[] = [];
  const sizeBytes = Number(sysfsText(folder, "size") || "0") * SECTOR_BYTES;
  const target: Target = { path: device, kind: "block", name, sizeBytes, description: describeDisk(folder, name, sizeBytes) };

  if (sysfsText(folder, "removable") !== "1") {
    refusals.push(`/dev/${name} is not removable (${path.join(view.sysfs, "block", name, "removable")} is not 1): ` +
      "only removable media (USB sticks, SD cards) are written; for another disk see docs/flashing.md (dd)");
  }

  const partitions = partitionsOf(folder);
  const ours = new Set([name, ...partitions]);
  const numbers = new Set([number, ...partitions.map((p) => sysfsText(path.join(folder, p), "dev")).filter(Boolean)]);
  const mounted = new Set<string>();
  for (const mount of parseMounts(view.mounts)) {
    const byName = mount.source.startsWith("/dev/") && ours.has(path.basename(mount.source));
    const byNumber = mount.source.startsWith("/") && numbers.has(view.blockDevice(mount.source) ?? "");
    if (byName || byNumber) mounted.add(`${mount.source} on ${mount.mountPoint}`);
  }
  if (mounted.size > 0) {
    refusals.push(`/dev/${name} is mounted: ${[...mounted].join(", ")} (unmount it first: umount ${[...mounted].map((m) => m.split(" on ")[1]).join(" ")})`);
  }

  const holders = [name, ...partitions].flatMap((n) => list(path.join(n === name ? folder : path.join(folder, n), "holders")).map((h) => `${n} by ${h}`));
  if (holders.length > 0) refusals.push(`/dev/${name} is in use by device-mapper (LVM, dm-crypt, RAID): ${holders.join(", ")}`);

  const system = new Set(view.rootDevices.flatMap((n) => {
    const f = deviceFolder(view, n);
    return f ? disksUnder(f) : [];
  }));
  if (system.has(name)) refusals.push(`/dev/${name} holds the running system (/ or /boot is on it)`);

  if (sizeBytes < imageBytes) {
    refusals.push(`/dev/${name} is too small: ${formatBytes(sizeBytes)} (${sizeBytes} bytes), the image is ${formatBytes(imageBytes)} (${imageBytes} bytes)`);
  }
  return { target, refusals };
}

// A plain file stands in for a device only with --force-file, and only one
// that already exists, at least as large as the image, as a device would be.
function checkFile(file: string, imageBytes: number, forceFile: boolean): Check {
  const stat = fs.statSync(file);
  if (!forceFile) {
    return { refusals: [`${file} is not a block device (a USB stick is a whole disk such as /dev/sdb; --force-file writes a plain file, for tests)`] };
  }
  if (!stat.isFile()) return { refusals: [`${file} is neither a block device nor a regular file`] };
  const target: Target = { path: file, kind: "file", name: file, sizeBytes: stat.size, description: `${file}: a plain file of ${formatBytes(stat.size)}` };
  if (stat.size < imageBytes) {
    return { target, refusals: [`${file} is too small: ${formatBytes(stat.size)} (${stat.size} bytes), the image is ${formatBytes(imageBytes)} (${imageBytes} bytes)`] };
  }
  return { target, refusals: [] };
}

// The removable disks of this machine, for a person who gave no --device.
export function removableDisks(view: SystemView): string[] {
  return list(path.join(view.sysfs, "block")).flatMap((name) => {
    const folder = path.join(view.sysfs, "block", name);
    const sizeBytes = Number(sysfsText(folder, "size") || "0") * SECTOR_BYTES;
    if (sysfsText(folder, "removable") !== "1" || sizeBytes === 0) return [];
    return [describeDisk(folder, name, sizeBytes)];
  });
}

// ---- confirmation, progress ----

export interface Console {
  interactive: boolean; // a terminal on stdin to ask on
  ask(question: string): Promise<string>;
  info(line: string): void; // stdout
  progress(line: string, final: boolean): void; // stderr; overwritten on a terminal
}

export function terminalConsole(): Console {
  const tty = Boolean(process.stderr.isTTY);
  return {
    interactive: Boolean(process.stdin.isTTY),
    ask(question: string): Promise<string> {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      return new Promise((resolve) => rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      }));
    },
    info: (line) => console.log(line),
    progress(line, final) {
      if (tty) process.stderr.write(`\r\x1b[K${line}${final ? "\n" : ""}`);
      else process.stderr.write(`${line}\n`);
    },
  };
}

// "written 32.0 MiB of 64.0 MiB (50%), 12.3 MiB/s, 3 s left"
export function progressLine(verb: string, done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const left = rate > 0 ? Math.ceil((total - done) / rate) : NaN;
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  const leftText = done >= total ? `${(elapsedMs / 1000).toFixed(1)} s` : Number.isFinite(left) ? `${left} s left` : "";
  return `${verb} ${formatBytes(done)} of ${formatBytes(total)} (${percent}%), ${formatBytes(rate)}/s${leftText ? `, ${leftText}` : ""}`;
}

class Progress {
  private readonly started = performance.now();
  private last = 0;
  constructor(private readonly io: Console, private readonly verb: string, private readonly total: number) {}
  update(done: number): void {
    const now = performance.now();
    if (now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.io.progress(progressLine(this.verb, done, this.total, now - this.started), false);
  }
  finish(): void {
    this.io.progress(progressLine(this.verb, this.total, this.total, performance.now() - this.started), true);
  }
}

// ---- writing and verifying ----

// Copies the image to the target in chunks and fsyncs; returns the image's
// SHA-256 as read while copying.
function writeImage(image: string, imageBytes: number, target: Target, io: Console): string {
  const hash = createHash("sha256");
  const flags = target.kind === "block" ? fs.constants.O_WRONLY | fs.constants.O_EXCL : fs.constants.O_WRONLY;
  let out: number;
  try {
    out = fs.openSync(target.path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EBUSY" ? " (the kernel says it is busy: mounted or held by another program)" : "";
    throw new FlashError(`cannot open ${target.path} for writing: ${(error as Error).message}${why}`);
  }
  const input = fs.openSync(image, "r");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const progress = new Progress(io, "written", imageBytes);
  try {
    let done = 0;
    while (done < imageBytes) {
      const count = fs.readSync(input, buffer, 0, Math.min(CHUNK_BYTES, imageBytes - done), done);
      if (count === 0) throw new FlashError(`${image} ended after ${done} bytes`);
      const chunk = buffer.subarray(0, count);
      hash.update(chunk);
      let written = 0;
      while (written < count) written += fs.writeSync(out, chunk, written, count - written, done + written);
      done += count;
      progress.update(done);
    }
    progress.finish();
    io.info("syncing (fsync): waiting for the device to take every byte...");
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(input);
    fs.closeSync(out);
  }
  return hash.digest("hex");
}

// The SHA-256 of the first `bytes` bytes of the target, read back.
function readBack(target: Target, bytes: number, io: Console): string {
  if (target.kind === "block") {
    // Without this the read-back could come from the page cache, not the stick.
    const flushed = spawnSync("blockdev", ["--flushbufs", target.path], { stdio: "ignore" });
    if (flushed.status !== 0) io.info(`note: blockdev --flushbufs ${target.path} failed: the read-back may come from the page cache`);
  }
  const hash = createHash("sha256");
  const input = fs.openSync(target.path, "r");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const progress = new Progress(io, "verified", bytes);
  try {
    let done = 0;
    while (done < bytes) {
      const count = fs.readSync(input, buffer, 0, Math.min(CHUNK_BYTES, bytes - done), done);
      if (count === 0) throw new FlashError(`${target.path} ended after ${done} bytes while reading back`);
      hash.update(buffer.subarray(0, count));
      done += count;
      progress.update(done);
    }
    progress.finish();
  } finally {
    fs.closeSync(input);
  }
  return hash.digest("hex");
}

export interface FlashOptions {
  image: string;
  device: string;
  yes: boolean;
  forceFile: boolean;
}

export type FlashResult =
  | { status: "written"; target: Target; sha256: string; seconds: number }
  | { status: "refused"; reasons: string[] };

// Checks, asks, writes, verifies. Throws FlashError when writing or verifying
// fails after the checks passed.
export async function flash(options: FlashOptions, view: SystemView, io: Console): Promise<FlashResult> {
  if (!fs.existsSync(options.image)) return { status: "refused", reasons: [`image ${options.image} does not exist (make image builds it)`] };
  const imageBytes = fs.statSync(options.image).size;
  if (imageBytes === 0) return { status: "refused", reasons: [`image ${options.image} is empty`] };
  const check = checkTarget(options.device, imageBytes, options.forceFile, view);
  if (check.refusals.length > 0 || !check.target) return { status: "refused", reasons: check.refusals };
  const target = check.target;

  io.info(`image:  ${options.image} (${formatBytes(imageBytes)})`);
  io.info(`target: ${target.description}`);
  if (!options.yes) {
    if (!io.interactive) {
      return { status: "refused", reasons: ["no terminal to confirm on: run it from a terminal, or pass --yes (make usb YES=1)"] };
    }
    const short = target.kind === "block" ? target.name : path.basename(target.path);
    io.info(`Everything on ${target.path} will be lost.`);
    const answer = (await io.ask(`Type the device name (${short}) or yes to write it: `)).trim();
    if (answer !== "yes" && answer !== short && answer !== target.path) {
      return { status: "refused", reasons: [`not confirmed (got '${answer}'): nothing was written`] };
    }
  }

  const started = performance.now();
  const written = writeImage(options.image, imageBytes, target, io);
  const readBackHash = readBack(target, imageBytes, io);
  const seconds = (performance.now() - started) / 1000;
  if (readBackHash !== written) {
    throw new FlashError(`verification failed: the image's SHA-256 is ${written}, the first ${imageBytes} bytes of ${target.path} read back ${readBackHash}`);
  }
  io.info(`verified: sha256 ${written} (image and ${target.path} agree)`);
  io.info(`done: ${formatBytes(imageBytes)} written to ${target.path} in ${seconds.toFixed(1)} s${target.kind === "block" ? "; the stick may be removed" : ""}`);
  return { status: "written", target, sha256: written, seconds };
}

// ---- command line ----

const USAGE = `usage: node build/tools/flash.mjs --image <disk image> --device </dev/sdX> [--yes] [--force-file]
  --image       the raw disk image (make image: build/<arch>/cam-os.img)
  --device      the whole removable disk to overwrite, e.g. /dev/sdb (lsblk lists them)
  --yes         do not ask for confirmation
  --force-file  allow a plain file as the target (for tests)`;

function parseArguments(argv: string[]): FlashOptions | null {
  const options: FlashOptions = { image: "", device: "", yes: false, forceFile: false };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === "--help" || argument === "-h") return null;
    else if (argument === "--yes") options.yes = true;
    else if (argument === "--force-file") options.forceFile = true;
    else if (argument === "--image" || argument === "--device") {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${argument} needs a value`);
      if (argument === "--image") options.image = value;
      else options.device = value;
    } else throw new UsageError(`unknown argument '${argument}'\n${USAGE}`);
  }
  return options;
}

async function main(): Promise<void> {
  const io = terminalConsole();
  try {
    const options = parseArguments(process.argv.slice(2));
    if (options === null) {
      console.log(USAGE);
      return;
    }
    const view = realSystemView();
    if (!options.image || !options.device) {
      const disks = removableDisks(view);
      const found = disks.length > 0 ? `removable disks here:\n  ${disks.join("\n  ")}` : "no removable disk is attached";
      throw new UsageError(`--image and --device are required (make usb DEVICE=/dev/sdX)\n${found}`);
    }
    const result = await flash(options, view, io);
    if (result.status === "refused") {
      for (const reason of result.reasons) console.error(`flash: refused: ${reason}`);
      console.error("flash: nothing was written");
      process.exitCode = 1;
    }
  } catch (error) {
    if (!(error instanceof FlashError)) throw error;
    console.error(`flash: ${error.message.split("\n").join("\nflash: ")}`);
    process.exitCode = error instanceof UsageError ? 1 : 2;
  }
}

// Run as a program (flash.mjs, flash.ts), not when a test imports it.
if (/^flash\.(mjs|js|ts)$/.test(path.basename(process.argv[1] ?? ""))) await main();
