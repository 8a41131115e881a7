import { E_NOT_FOUND, E_OK, KERNEL_INFO_UPTIME, SYS_CALL, SYS_KERNEL_INFO } from "../../kernel/abi";
import { LINE_CAPACITY } from "../../kernel/lineedit";
import { INIT_KILL, INIT_PS, SERVICE_RUNNING, SERVICE_FAILED, nameWord, psStateWord } from "../../services/lib";
import { addCommands } from "../../services/console/commands";
import { PROMPT, Shell, Terminal } from "../../services/console/shell";
import { SLOT_INIT } from "../../services/console/slots";
import { answerNext, answerReply, answersLeft, callArg, callCount, callNumber, resetKernel } from "./sysmock";

// What the shell writes, kept instead of sent to a UART.
class Recorder extends Terminal {
  text: string = "";
  write(text: string): void {
    this.text += text;
  }
  take(): string {
    let text = this.text;
    this.text = "";
    return text;
  }
}

let terminal = new Recorder();
let shell = new Shell(terminal);
addCommands(shell);

// Types `line` and Enter; returns what the shell printed after the echo,
// without the prompt that follows.
function type(line: string): string {
  terminal.take();
  for (let i = 0; i < line.length; i++) shell.feed(<u8>line.charCodeAt(i));
  terminal.take(); // the echo
  shell.feed(13);
  let out = terminal.take();
  expect(out.endsWith(PROMPT)).toBe(true, "prompt after: " + line);
  return out.substring(2, out.length - PROMPT.length); // drop the echoed "\r\n"
}

function stateWord(state: u32, restarts: u32): u64 {
  return psStateWord(state, restarts);
}

function answerPsEntry(pid: u64, name: string, state: u32, restarts: u32): void {
  answerReply(<u64>E_OK, pid, nameWord(name, 0), nameWord(name, 1), stateWord(state, restarts));
}

describe("console: the shell", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("prints the prompt when it starts", () => {
    terminal.take();
    shell.start();
    expect(terminal.take()).toBe(PROMPT);
  });

  it("echoes what is typed, through the kernel's line editor", () => {
    terminal.take();
    shell.feed(<u8>0x61);
    shell.feed(<u8>0x62);
    shell.feed(<u8>0x08);
    expect(terminal.take()).toBe("ab\b \b");
    shell.feed(<u8>0x03); // Ctrl-C drops the line
    expect(terminal.take()).toBe("^C\r\n" + PROMPT);
  });

  it("runs echo", () => {
    expect(type("echo hello   world")).toBe("hello world\n");
    expect(type("echo \"a  b\" c")).toBe("a  b c\n");
  });

  it("lists every command in help", () => {
    let out = type("help");
    let names = ["help", "version", "mem", "uptime", "echo", "ps", "kill <pid>", "caps [pid]", "audit [n]", "ipc",
      "panic [kind]", "reboot", "halt"];
    for (let i = 0; i < names.length; i++) expect(out.includes("  " + names[i])).toBe(true, names[i]);
    expect(out.split("\n").length - 1).toBe(shell.commands.length);
  });

  it("names an unknown command", () => {
    expect(type("frobnicate now")).toBe("unknown command: frobnicate (try help)\n");
  });

  it("says nothing for an empty line", () => {
    expect(type("   ")).toBe("");
  });

  it("reports a parse error", () => {
    expect(type("echo \"open")).toBe("error: unterminated quote\n");
  });

  it("refuses a line that is too long, whole", () => {
    let long = "";
    for (let i = 0; i <= LINE_CAPACITY; i++) long += "x";
    expect(type(long)).toBe("error: line too long (max " + LINE_CAPACITY.toString() + " characters)\n");
    expect(callCount()).toBe(0); // nothing ran
  });

  it("says what an unknown panic kind is, without trapping", () => {
    expect(type("panic gently")).toBe("panic: unknown kind 'gently' (unreachable, oob, divide)\n");
  });
});

describe("console: commands that ask the kernel", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("prints uptime from SYS_KERNEL_INFO", () => {
    answerNext(E_OK, 12_345_678_901, 1234, 100, 0, 0, 0);
    expect(type("uptime")).toBe("up 12.345 s, 1234 timer ticks\n");
    expect(callNumber(0)).toBe(SYS_KERNEL_INFO);
    expect(callArg(0, 0)).toBe(KERNEL_INFO_UPTIME);
  });

  it("prints version from SYS_KERNEL_INFO", () => {
    answerNext(E_OK, nameWord("0.1.0", 0), 0, nameWord("x86_64", 0), 0, 0, 0);
    expect(type("version")).toBe("CAM-OS 0.1.0 (x86_64, AssemblyScript kernel via wasm2c)\n");
  });

  it("names the error when the kernel refuses", () => {
    expect(type("uptime")).toBe("error: uptime: E_BAD_SYSCALL\n"); // the mock's default answer
    expect(type("reboot")).toBe("Rebooting.\nerror: reboot: E_BAD_SYSCALL\n");
  });
});

describe("console: commands through init", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("lists init's services, one call per entry", () => {
    answerPsEntry(1, "init", SERVICE_RUNNING, 0);
    answerPsEntry(2, "console", SERVICE_RUNNING, 1);
    answerPsEntry(0, "hostile", SERVICE_FAILED, 3);
    answerReply(<u64><u32>E_NOT_FOUND);
    let out = type("ps");
    expect(out).toBe(
      "  PID  NAME              STATE        RESTARTS\n" +
      "    1  init              running             0\n" +
      "    2  console           running             1\n" +
      "    -  hostile           failed              3\n");
    expect(callCount()).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(callNumber(i)).toBe(SYS_CALL);
      expect(callArg(i, 0)).toBe(SLOT_INIT);
      expect(callArg(i, 1)).toBe(INIT_PS);
      expect(callArg(i, 2)).toBe(<u64>i);
    }
  });

  it("says so when init does not answer", () => {
    expect(type("ps")).toBe("error: ps: init did not answer: E_BAD_SYSCALL\n");
  });

  it("asks init to kill a pid", () => {
    answerReply(<u64>E_OK);
    expect(type("kill 3")).toBe("killed pid 3\n");
    expect(callArg(0, 1)).toBe(INIT_KILL);
    expect(callArg(0, 2)).toBe(3);
  });

  it("passes on init's refusal of a kill", () => {
    answerReply(<u64><u32>E_NOT_FOUND);
    expect(type("kill 42")).toBe("error: kill 42: E_NOT_FOUND\n");
  });

  it("checks kill's argument before asking anyone", () => {
    expect(type("kill")).toBe("usage: kill <pid>\n");
    expect(type("kill init")).toBe("usage: kill <pid>\n");
    expect(type("kill 0")).toBe("usage: kill <pid>\n");
    expect(callCount()).toBe(0);
    expect(answersLeft()).toBe(0);
  });
});
