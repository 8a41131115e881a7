// The QEMU harness: boots an image, talks to its serial console, and never
// hangs. Every integration test drives the machine through this file.
//
//   const vm = await QemuHarness.boot({ arch: "x86_64", image, firmware: "bios", name: "shell-bios" });
//   (AArch64 Image with its services: { arch: "aarch64", image: "build/aarch64/Image",
//    initrd: "build/aarch64/modules.img", ... }, passed on to QEMU as -initrd)
//   await vm.expect(/CAM-OS \d+\.\d+\.\d+/);
//   await vm.expect("camos> ");
//   const text = await vm.command("mem");   // what `mem` printed, echo and prompt stripped
//   await vm.close({ keepLog: failed });    // the serial log stays only when a test failed
//
// Reading works like expect(1): a cursor moves through the serial output; each
// expect() searches from the cursor and moves it past what matched.
//
// Every run streams its serial output to <logDir>/<name>.log as it arrives, so
// a log survives even a crash of the test process. QEMU runs in its own
// process group under `timeout`, so even a SIGKILLed test run cannot leave a
// QEMU behind for longer than `lifetimeMs`.

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { type QemuCommand, type QemuOptions, formatCommand, qemuBinary, qemuCommand } from "./qemu.ts";

export const PROMPT = "camos> ";
// What the console service logs once its shell runs (services/console/main.ts).
const SHELL_READY = "serial shell on";
const NUDGE_AFTER_MS = 5000;

export interface BootOptions extends Omit<QemuOptions, "serial"> {
  name: string; // names the log file: <logDir>/<name>.log
  logDir?: string; // default <repo>/build/test-logs
  timeoutMs?: number; // default timeout of expect() and command(); default 30 s
  lifetimeMs?: number; // hard limit on the whole run; default 10 min
  prompt?: string; // default PROMPT; also what promptAtMs waits for
  // Runs this instead of QEMU (the harness's own tests use a fake machine).
  spawnCommand?: QemuCommand;
}

export interface Match {
  text: string; // what matched
  before: string; // the output between the cursor and the match
  groups: RegExpExecArray | null; // the regex match, for a RegExp pattern
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const KILL_GRACE_MS = 2000;
const LOG_TAIL_CHARS = 2000;

// Live machines, killed if the test process goes away without closing them.
const live = new Set<QemuHarness>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", () => {
    for (const vm of live) vm.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      for (const vm of live) vm.kill("SIGKILL");
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

// The repository root: the nearest folder upwards holding package.json. Works
// both from tools/ and from the bundles under build/.
export function repoRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export class HarnessError extends Error {
  override name = "HarnessError";
}

type Waiter = { check: () => boolean; onExit: () => void };

export class QemuHarness {
  readonly name: string;
  readonly logPath: string;
  readonly commandLine: string;
  readonly prompt: string;
  readonly timeoutMs: number;
  // Milliseconds from spawn until the prompt first appeared; undefined before.
  promptAtMs: number | undefined;
  exitStatus: ExitStatus | undefined;

  private readonly child: ChildProcess;
  private readonly startedAt: number;
  private readonly logFd: number;
  private readonly cleanupPaths: string[];
  private serial = "";
  private readonly decoder = new StringDecoder("utf8");
  private stderr = "";
  private cursor = 0;
  private waiters = new Set<Waiter>();
  private exited: Promise<ExitStatus>;
  private closed = false;

  private constructor(opts: BootOptions, cmd: QemuCommand, logPath: string, cleanupPaths: string[]) {
    this.name = opts.name;
    this.logPath = logPath;
    this.prompt = opts.prompt ?? PROMPT;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.commandLine = formatCommand(cmd);
    this.cleanupPaths = cleanupPaths;
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    this.logFd = fs.openSync(logPath, "w");
    fs.writeSync(this.logFd, `# ${this.commandLine}\n`);

    // `timeout` sends SIGTERM at the deadline, SIGKILL 5 s later; detached
    // puts QEMU in a process group of its own that kill() can take down whole.
    const lifetimeSeconds = Math.ceil((opts.lifetimeMs ?? 600_000) / 1000);
    this.startedAt = performance.now();
    this.child = spawn("timeout", ["--kill-after=5", String(lifetimeSeconds), cmd.command, ...cmd.args], {
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.child.stdin!.on("error", () => {}); // writes after QEMU exited: ignored, exit is reported
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: Buffer) => this.onSerial(chunk));
    this.child.stderr!.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.exitStatus = { code, signal };
        live.delete(this);
        for (const waiter of [...this.waiters]) waiter.onExit();
        resolve(this.exitStatus);
      });
    });
    live.add(this);
    installExitHooks();
  }

  // Starts the machine. Resolves once the process runs; it does not wait for
  // the guest: expect() the banner and the prompt.
  static async boot(opts: BootOptions): Promise<QemuHarness> {
    const logDir = opts.logDir ?? path.join(repoRoot(), "build", "test-logs");
    const logPath = path.join(logDir, `${opts.name}.log`);
    const cleanupPaths: string[] = [];
    let cmd = opts.spawnCommand;
    if (!cmd) {
      const binary = qemuBinary(opts.arch);
      if (!onPath(binary.command)) {
        throw new HarnessError(`${binary.command} not found on PATH: apt-get install ${binary.debianPackage}`);
      }
      // Each run gets its own UEFI variable store: QEMU locks the file, so two
      // machines sharing one could not run side by side.
      const uefiVarsPath = opts.uefiVarsPath ?? path.join(logDir, `${opts.name}.uefi-vars.fd`);
      if (opts.firmware === "uefi" && !opts.uefiVarsPath) cleanupPaths.push(uefiVarsPath);
      cmd = qemuCommand({
        ...opts,
        noReboot: opts.noReboot ?? true,
        uefiVarsPath,
        freshUefiVars: true,
        serial: "pipe",
      });
    }
    const vm = new QemuHarness(opts, cmd, logPath, cleanupPaths);
    await vm.started();
    return vm;
  }

  private started(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once("spawn", resolve);
      this.child.once("error", (err) => {
        live.delete(this);
        reject(new HarnessError(`cannot start \`timeout\` (coreutils): ${err.message}`));
      });
    });
  }

  // Raw bytes go to the log; the text seen by expect() is decoded as UTF-8.
  private onSerial(chunk: Buffer): void {
    fs.writeSync(this.logFd, chunk);
    this.serial += this.decoder.write(chunk);
    if (this.promptAtMs === undefined && this.serial.includes(this.prompt)) {
      this.promptAtMs = Math.round(performance.now() - this.startedAt);
    }
    for (const waiter of [...this.waiters]) waiter.check();
  }

  // Everything the serial port printed so far.
  get output(): string {
    return this.serial;
  }

  // What QEMU itself printed on stderr (warnings, errors).
  get qemuStderr(): string {
    return this.stderr;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  // Waits for the shell's first prompt. Other services' log lines share the
  // serial line with the console service, which writes byte by byte, so a
  // log line can split its prompt ("c[init] ...amos> "). Once the console has
  // said it is up and no whole prompt has come for a while, a bare Enter
  // asks it for a fresh one. `before` of the match runs from the cursor, so
  // it still holds the boot log.
  async firstPrompt(timeoutMs: number, nudgeAfterMs: number = NUDGE_AFTER_MS): Promise<Match> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const wait = Math.max(1, Math.min(nudgeAfterMs, deadline - performance.now()));
      try {
        return await this.expect(this.prompt, wait);
      } catch (err) {
        if (!(err instanceof HarnessError) || !this.running || performance.now() >= deadline) throw err;
        if (this.serial.includes(SHELL_READY)) this.send("\r");
      }
    }
  }

  // Waits for `pattern` after the cursor; moves the cursor past the match.
  expect(pattern: string | RegExp, timeoutMs: number = this.timeoutMs): Promise<Match> {
    const regex = typeof pattern === "string" ? null : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
    const find = (): Match | null => {
      const rest = this.serial.slice(this.cursor);
      let index: number;
      let text: string;
      let groups: RegExpExecArray | null = null;
      if (regex) {
        groups = regex.exec(rest);
        if (!groups) return null;
        index = groups.index;
        text = groups[0];
      } else {
        index = rest.indexOf(pattern as string);
        if (index < 0) return null;
        text = pattern as string;
      }
      this.cursor += index + text.length;
      return { text, before: rest.slice(0, index), groups };
    };
    return this.waitFor(find, timeoutMs, `${describe(pattern)}`);
  }

  // Waits until `pattern` is anywhere in the output so far, whatever the
  // cursor (which does not move): for a line that may come just before or
  // just after the one a test synchronised on (two services print at once).
  async seen(pattern: RegExp, timeoutMs: number = this.timeoutMs): Promise<void> {
    await this.waitFor(() => (pattern.test(this.serial) ? true : null), timeoutMs, `${describe(pattern)} anywhere`);
  }

  // Resolves true if `pattern` appears after the cursor within `ms`, false if
  // it does not (the cursor moves only on a match). For "this must not happen".
  async appears(pattern: string | RegExp, ms: number): Promise<boolean> {
    try {
      await this.expect(pattern, ms);
      return true;
    } catch (err) {
      if (err instanceof HarnessError) return false;
      throw err;
    }
  }

  // Writes to the serial port.
  send(text: string): void {
    if (!this.running) throw new HarnessError(`${this.name}: cannot send ${JSON.stringify(text)}: machine has exited`);
    this.child.stdin!.write(text, "utf8");
  }

  // Types `line` and Enter, waits for the next prompt, and returns what the
  // command printed: without the echoed line, without \r, without the final
  // newline before the prompt. Output not yet read before the call is skipped.
  async command(line: string, timeoutMs: number = this.timeoutMs): Promise<string> {
    this.cursor = this.serial.length;
    this.send(`${line}\r`);
    const match = await this.expect(this.prompt, timeoutMs);
    const text = match.before.replaceAll("\r", "");
    const echoEnd = text.indexOf("\n");
    if (echoEnd < 0) return "";
    return text.slice(echoEnd + 1).replace(/\n$/, "");
  }

  // Moves the cursor to the end of the output once nothing new has arrived for
  // `quietMs` (gives up waiting for quiet after `timeoutMs`).
  async settle(quietMs: number, timeoutMs: number = this.timeoutMs): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let seen = -1;
    while (seen !== this.serial.length && performance.now() < deadline && this.running) {
      seen = this.serial.length;
      await sleep(quietMs);
    }
    this.cursor = this.serial.length;
  }

  // Waits for QEMU to exit on its own (guest power-off, -no-reboot reset).
  async exit(timeoutMs: number = this.timeoutMs): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HarnessError(`${this.name}: QEMU did not exit within ${timeoutMs} ms${this.context()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Signals the whole process group (timeout + QEMU). Safe to call twice.
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  // Stops the machine if it still runs, then keeps or deletes the log.
  // Returns the log's path when kept.
  async close(opts: { keepLog: boolean }): Promise<string | undefined> {
    if (this.closed) return opts.keepLog ? this.logPath : undefined;
    this.closed = true;
    if (this.running) {
      this.kill("SIGTERM");
      const dead = await Promise.race([this.exited.then(() => true), sleep(KILL_GRACE_MS).then(() => false)]);
      if (!dead) {
        this.kill("SIGKILL");
        await Promise.race([this.exited, sleep(KILL_GRACE_MS)]);
      }
    }
    if (this.stderr) fs.writeSync(this.logFd, `\n# --- QEMU stderr ---\n${this.stderr}`);
    fs.closeSync(this.logFd);
    for (const file of this.cleanupPaths) fs.rmSync(file, { force: true });
    if (opts.keepLog) return this.logPath;
    fs.rmSync(this.logPath, { force: true });
    return undefined;
  }

  private waitFor<T>(find: () => T | null, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const found = find();
      if (found !== null) return resolve(found);
      if (!this.running) return reject(this.exitedError(what));
      let timer: NodeJS.Timeout;
      const waiter: Waiter = {
        check: () => {
          const hit = find();
          if (hit === null) return false;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(hit);
          return true;
        },
        onExit: () => {
          if (waiter.check()) return;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          reject(this.exitedError(what));
        },
      };
      timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new HarnessError(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}${this.context()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private exitedError(what: string): HarnessError {
    const status = this.exitStatus!;
    const how = status.signal
      ? `signal ${status.signal}`
      : status.code === 124
        ? "killed at its lifetime limit"
        : `status ${status.code}`;
    return new HarnessError(`${this.name}: machine exited (${how}) before ${what} appeared${this.context()}`);
  }

  // The tail of the serial log and QEMU's complaints, for error messages.
  private context(): string {
    const tail = this.serial.slice(-LOG_TAIL_CHARS);
    const lines = [
      "",
      `--- last ${tail.length} characters of serial output (full log: ${this.logPath}) ---`,
      printable(tail),
      "--- end of serial output ---",
    ];
    if (this.stderr.trim()) lines.push(`QEMU stderr: ${this.stderr.trim()}`);
    lines.push(`command: ${this.commandLine}`);
    return lines.join("\n");
  }
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      // not in this one
    }
  }
  return false;
}

function describe(pattern: string | RegExp): string {
  return typeof pattern === "string" ? JSON.stringify(pattern) : String(pattern);
}

// Control characters other than newline and tab shown as \xNN.
function printable(text: string): string {
  return text
    .replaceAll("\r\n", "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
