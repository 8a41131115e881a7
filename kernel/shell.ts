// The serial shell. It lives in the kernel until user space exists; the
// user-space issue moves it into the `console` service.
//
// Bytes arrive from kernel_irq(IRQ_CONSOLE); the line editor echoes and
// collects them; a complete line is parsed and run here.

import * as arch from "./arch";
import { BootInfo } from "../boot/bootinfo";
import { bootReport } from "./bootreport";
import { parseCommand } from "./command";
import { print, println } from "./console";
import { padLeft, padRight, secondsText, sizeText } from "./format";
import { frames_free_bytes, frames_total_bytes, frames_used_bytes } from "./frames";
import { LineEditor, LINE_CAPACITY, EVENT_CANCEL, EVENT_LINE, EVENT_OVERFLOW } from "./lineedit";
import { KERNEL_VERSION, timerTicks } from "./state";

export const PROMPT = "camos> ";

type Handler = (args: string[]) => void;

class ShellCommand {
  constructor(public name: string, public usage: string, public help: string, public run: Handler) {}
}

let editor = new LineEditor(LINE_CAPACITY);
let boot: BootInfo | null = null;
// Filled by shellStart: the handlers refer back to this table (help).
const commands = new Array<ShellCommand>();

export function shellStart(info: BootInfo): void {
  boot = info;
  commands.push(new ShellCommand("help", "help", "list the commands", cmdHelp));
  commands.push(new ShellCommand("version", "version", "kernel version and architecture", cmdVersion));
  commands.push(new ShellCommand("mem", "mem", "physical memory and kernel heap totals", cmdMem));
  commands.push(new ShellCommand("uptime", "uptime", "time since boot", cmdUptime));
  commands.push(new ShellCommand("echo", "echo [text...]", "print the arguments", cmdEcho));
  commands.push(new ShellCommand("bootinfo", "bootinfo", "what the boot loader handed over", cmdBootinfo));
  commands.push(new ShellCommand("panic", "panic [kind]", "trap on purpose: unreachable, oob or divide", cmdPanic));
  commands.push(new ShellCommand("reboot", "reboot", "reset the machine", cmdReboot));
  commands.push(new ShellCommand("halt", "halt", "stop the machine (powers off where it can)", cmdHalt));
  print(PROMPT);
}

// Drains the console's waiting input through the line editor.
export function shellInput(): void {
  for (let byte = arch.console_read(); byte >= 0; byte = arch.console_read()) {
    let event = editor.feed(<u8>byte);
    print(editor.takeOutput());
    if (event == EVENT_LINE) {
      runLine(editor.line());
      print(PROMPT);
    } else if (event == EVENT_OVERFLOW) {
      println("error: line too long (max " + LINE_CAPACITY.toString() + " characters)");
      print(PROMPT);
    } else if (event == EVENT_CANCEL) {
      print(PROMPT);
    }
  }
}

function runLine(line: string): void {
  let parsed = parseCommand(line);
  if (!parsed.ok) {
    println("error: " + parsed.message);
    return;
  }
  if (parsed.name.length == 0) return;
  for (let i = 0; i < commands.length; i++) {
    if (commands[i].name == parsed.name) {
      commands[i].run(parsed.args);
      return;
    }
  }
  println("unknown command: " + parsed.name + " (try help)");
}

function bootInfo(): BootInfo {
  return changetype<BootInfo>(boot);
}

// ---- the commands ----

function cmdHelp(args: string[]): void {
  for (let i = 0; i < commands.length; i++) {
    println("  " + padRight(commands[i].usage, 16) + commands[i].help);
  }
}

function cmdVersion(args: string[]): void {
  println("CAM-OS " + KERNEL_VERSION + " (" + bootInfo().arch + ", AssemblyScript kernel via wasm2c)");
}

function cmdMem(args: string[]): void {
  let heap = <u64>memory.size() << 16;
  println("physical memory");
  println("  total " + padLeft(sizeText(frames_total_bytes()), 10) + padLeft((frames_total_bytes() >> 10).toString(), 12) + " KiB");
  println("  used  " + padLeft(sizeText(frames_used_bytes()), 10) + padLeft((frames_used_bytes() >> 10).toString(), 12) + " KiB");
  println("  free  " + padLeft(sizeText(frames_free_bytes()), 10) + padLeft((frames_free_bytes() >> 10).toString(), 12) + " KiB");
  println("kernel heap (wasm linear memory) " + sizeText(heap));
}

function cmdUptime(args: string[]): void {
  println("up " + secondsText(arch.time_ns()) + " s, " + timerTicks().toString() + " timer ticks");
}

function cmdEcho(args: string[]): void {
  println(args.join(" "));
}

function cmdBootinfo(args: string[]): void {
  let lines = bootReport();
  for (let i = 0; i < lines.length; i++) println(lines[i]);
}

// Each kind takes a different road to the same panic report: `unreachable`
// is wasm2c's trap call, `oob` a load past linear memory that faults in the
// guard region (the CPU's page-fault handler turns it into the trap), and
// `divide` wasm2c's divide-by-zero check.
function cmdPanic(args: string[]): void {
  let kind = args.length > 0 ? args[0] : "unreachable";
  if (kind == "unreachable") {
    println("panic: executing unreachable");
    unreachable();
  } else if (kind == "oob") {
    println("panic: loading from the end of the 4 GiB address space");
    println(load<u8>(<usize>0xFFFFFFF0).toString());
  } else if (kind == "divide") {
    println("panic: dividing by zero");
    println((<u32>timerTicks() / (<u32>args.length - 1)).toString());
  } else {
    println("panic: unknown kind '" + kind + "' (unreachable, oob, divide)");
  }
}

function cmdReboot(args: string[]): void {
  let info = bootInfo();
  println("Rebooting.");
  arch.reset(info.powerMethod, info.powerArg0, info.powerArg1);
}

function cmdHalt(args: string[]): void {
  let info = bootInfo();
  println("System halted.");
  arch.power_off(info.powerMethod, info.powerArg0, info.powerArg1);
}
