import {
  AUDIT_BACKWARD, AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT,
  AUDIT_TARGET_ENDPOINT, AUDIT_TARGET_PROCESS, AUDIT_TARGET_SCHED, BAND_HIGH, BAND_LOW, BAND_MEDIUM, E_BAD_ARG, E_DENIED,
  E_NOT_FOUND, E_NO_RIGHTS, E_OK, KERNEL_INFO_UPTIME, SCHED_INFO_SELF, SYS_AUDIT_READ, SYS_CALL, SYS_CPU_INFO,
  SYS_KERNEL_INFO, SYS_SCHED_INFO, SYS_SCHED_SET, SYS_SCHED_TUNE,
} from "../../kernel/abi";
import { LINE_CAPACITY } from "../../kernel/lineedit";
import {
  DEFAULT_WEIGHTS, INIT_KILL, INIT_PS, SERVICE_RUNNING, SERVICE_FAILED, SchedState, ThreadSched, nameWord, packScores,
  psStateWord,
} from "../../services/lib";
import { addCommands } from "../../services/console/commands";
import {
  EXPLAIN_MAX_DECISIONS, EXPLAIN_MAX_RECORDS, cutoffText, explainLines, parseWeights, weightsList, weightsText,
} from "../../services/console/sched";
import { PROMPT, Shell, Terminal } from "../../services/console/shell";
import { SLOT_AUDIT, SLOT_INIT, SLOT_SCHED, SLOT_SCHED_TUNE } from "../../services/console/slots";
import {
  answerNext, answerNextWithText, answerReply, answersLeft, callArg, callCount, callNumber, resetKernel,
} from "./sysmock";

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
    let names = ["help", "version", "mem", "uptime", "echo", "ps", "kill <pid>", "caps [pid]", "audit [denied] [n]", "ipc",
      "sched", "tune [weights]", "explain <tid>", "cpus", "panic [kind]", "reboot", "halt"];
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

// ---------------------------------------------------------------------------
// The scheduler's commands (services/console/sched.ts), against scripted
// answers of SYS_SCHED_INFO, SYS_SCHED_TUNE, SYS_CPU_INFO, SYS_AUDIT_READ.

const DEFAULT_WEIGHTS_WORD: u64 = packScores(DEFAULT_WEIGHTS);

// SYS_SCHED_INFO of tid 0: the default weights, cut-offs 0.8 / 0.5, slice
// 5, aging 25, 100 Hz, `cpus` online.
function answerSchedState(weights: u64 = DEFAULT_WEIGHTS_WORD, cpus: u64 = 2): void {
  answerNext(E_OK, weights, 800 | (500 << 16), 5 | (25 << 16) | (<u64>100 << 32), cpus, 1234, 56789);
}

function threadWord(pid: u64, state: u32, cpu: u32, band: u32, baseBand: u32, pinPlusOne: u32): u64 {
  return pid | (<u64>state << 32) | (<u64>cpu << 40) | (<u64>band << 48) | (<u64>baseBand << 52) | (<u64>pinPlusOne << 56);
}

function answerThread(word: u64, scores: StaticArray<u32>, priority: u64, idleTicks: u64, runUs: u64, waitUs: u64, name: string): void {
  answerNextWithText(E_OK, word, packScores(scores), priority | (idleTicks << 32), runUs, waitUs, <u64>name.length, name);
}

function answerAudit(trace: u64, caller: u64, op: u32, kind: u32, target: u32, verdict: i32, times: u64, tick: u64): void {
  answerNext(E_OK, trace, caller, <u64>target | (<u64>kind << 32), <u64>op | (<u64><u32>verdict << 32), times, tick);
}

const CONSOLE_SCORES: StaticArray<u32> = [1000, 900, 500, 500, 900];
const INIT_SCORES: StaticArray<u32> = [600, 1000, 500, 500, 1000];

describe("console: tune's weights, parsed", () => {
  it("reads five weights, comma- or space-separated, exactly into thousandths", () => {
    let forms: string[][] = [["0.4,0.3,0.2,0.05,0.05"], ["0.4", "0.3", "0.2", "0.05", "0.05"], ["0.4,", "0.3,", "0.2,", "0.05,", ".05"],
      ["0.4,0.3", "0.2", "0.05,0.050"]];
    for (let f = 0; f < forms.length; f++) {
      let parse = parseWeights(forms[f]);
      expect(parse.error).toBe("", forms[f].join(" "));
      for (let i = 0; i < 5; i++) expect(parse.weights[i]).toBe(DEFAULT_WEIGHTS[i]);
    }
    let parse = parseWeights(["1,0,0,0,0"]);
    expect(parse.ok).toBe(true);
    expect(parse.weights[0]).toBe(1000);
    parse = parseWeights(["default"]);
    expect(parse.ok).toBe(true);
    expect(weightsList(parse.weights)).toBe("0.4,0.3,0.2,0.05,0.05");
    expect(weightsText(parse.weights)).toBe("urgency 0.4, importance 0.3, efficiency 0.2, energy 0.05, trust 0.05");
  });

  it("refuses a wrong count, what is not a number, negative, above 1, too precise, and a sum other than 1", () => {
    expect(parseWeights(["0.5,0.5"]).error).toBe("5 weights are needed (urgency, importance, efficiency, energy, trust), got 2");
    expect(parseWeights(["0.2,0.2,0.2,0.2,0.1,0.1"]).error).toBe("5 weights are needed (urgency, importance, efficiency, energy, trust), got 6");
    expect(parseWeights([]).error).toBe("5 weights are needed (urgency, importance, efficiency, energy, trust), got 0");
    expect(parseWeights(["0.4,0.3,x,0.05,0.05"]).error).toBe("weight 3 (efficiency) 'x' is not a number");
    expect(parseWeights(["0.4,0.3,0.2,-0.05,0.05"]).error).toBe("weight 4 (energy) '-0.05' is negative");
    expect(parseWeights(["1.5,0.3,0.2,0.05,0.05"]).error).toBe("weight 1 (urgency) '1.5' is above 1");
    expect(parseWeights(["0.4,0.3,0.2,0.05,0.0501"]).error).toBe("weight 5 (trust) '0.0501' has more than 3 decimals");
    expect(parseWeights(["0.4,0.3,0.2,0.05,0.0"]).error).toBe("the weights sum to 0.95, not 1");
    expect(parseWeights(["1,1,0,0,0"]).error).toBe("the weights sum to 2, not 1");
    expect(parseWeights(["defaults"]).error).toBe("5 weights are needed (urgency, importance, efficiency, energy, trust), got 1");
  });
});

describe("console: the scheduler's commands", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("lists every thread under the scheduler's settings, skipping free tids", () => {
    answerSchedState();
    answerThread(threadWord(1, 5, 0, BAND_MEDIUM, BAND_MEDIUM, 0), INIT_SCORES, 715, 3, 12_345, 678, "init");
    answerNext(E_NOT_FOUND, 0, 0, 0, 0, 0, 0);
    answerThread(threadWord(2, 2, 1, BAND_HIGH, BAND_MEDIUM, 2), CONSOLE_SCORES, 790, 0, 2_000_999, 40_000, "console");
    answerNext(E_BAD_ARG, 0, 0, 0, 0, 0, 0);
    expect(type("sched")).toBe(
      "weights 0.4,0.3,0.2,0.05,0.05  high >= 0.8  medium >= 0.5  slice 5 ticks  aging 25 ticks  100 Hz  2 cpus\n" +
      "  TID  NAME         URG  IMP  EFF  ENE  TRU   PRIO  BAND           CPU  PIN   RUN ms  WAIT ms\n" +
      "    1  init         0.60 1.00 0.50 0.50 1.00  0.715  medium           0    -       12        0\n" +
      "    3  console      1.00 0.90 0.50 0.50 0.90  0.790  high (medium)    1    1     2000       40\n");
    expect(callCount()).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(callNumber(i)).toBe(SYS_SCHED_INFO);
      expect(callArg(i, 0)).toBe(SLOT_SCHED);
      expect(callArg(i, 1)).toBe(<u64>i);
    }
  });

  it("says so when it may not look, or there is no scheduler yet", () => {
    expect(type("sched")).toBe("error: sched: E_BAD_SYSCALL\n");
    answerNext(E_NO_RIGHTS, 0, 0, 0, 0, 0, 0);
    expect(type("sched")).toBe("error: sched: E_NO_RIGHTS\n");
    expect(type("sched now")).toBe("usage: sched\n");
  });

  it("prints the weights, sets new ones and prints what the kernel holds then", () => {
    answerSchedState();
    expect(type("tune")).toBe("weights urgency 0.4, importance 0.3, efficiency 0.2, energy 0.05, trust 0.05\n");
    resetKernel();
    let wanted: StaticArray<u32> = [500, 300, 100, 50, 50];
    answerNext(E_OK, 0, 0, 0, 0, 0, 0);
    answerSchedState(packScores(wanted));
    expect(type("tune 0.5, 0.3, 0.1, 0.05, 0.05")).toBe(
      "weights now urgency 0.5, importance 0.3, efficiency 0.1, energy 0.05, trust 0.05\n");
    expect(callNumber(0)).toBe(SYS_SCHED_TUNE);
    expect(callArg(0, 0)).toBe(SLOT_SCHED_TUNE);
    for (let i = 0; i < 5; i++) expect(callArg(0, 1 + i)).toBe(wanted[i]);
    expect(callNumber(1)).toBe(SYS_SCHED_INFO);
  });

  it("restores the default weights", () => {
    answerNext(E_OK, 0, 0, 0, 0, 0, 0);
    answerSchedState();
    expect(type("tune default")).toBe("weights now urgency 0.4, importance 0.3, efficiency 0.2, energy 0.05, trust 0.05\n");
    for (let i = 0; i < 5; i++) expect(callArg(0, 1 + i)).toBe(DEFAULT_WEIGHTS[i]);
  });

  it("refuses bad weights before asking the kernel, and names the kernel's refusal", () => {
    expect(type("tune 0.5,0.5")).toBe("error: tune: 5 weights are needed (urgency, importance, efficiency, energy, trust), got 2\n");
    expect(type("tune 0.4 0.3 0.2 0.05 0.04")).toBe("error: tune: the weights sum to 0.99, not 1\n");
    expect(type("tune 0.4,0.3,0.2,0.05,lots")).toBe("error: tune: weight 5 (trust) 'lots' is not a number\n");
    expect(callCount()).toBe(0);
    answerNext(E_NO_RIGHTS, 0, 0, 0, 0, 0, 0);
    expect(type("tune default")).toBe("error: tune: E_NO_RIGHTS\n");
    expect(callCount()).toBe(1);
  });

  it("explains a thread: the breakdown, its band, aging, pinning, then the decisions about it", () => {
    answerThread(threadWord(2, 1, 0, BAND_HIGH, BAND_MEDIUM, 2), INIT_SCORES, 665, 30, 2_000_000, 45_000, "init");
    answerSchedState(packScores([400, 200, 300, 50, 50]));
    answerAudit(70, 1, SYS_SCHED_TUNE, 0, 0, E_OK, 1, 130);                                      // weights: about everyone
    answerAudit(69, 3, AUDIT_OP_SCHED_BAND, AUDIT_TARGET_SCHED, BAND_LOW | (300 << 8), E_OK, 1, 129); // another pid
    answerAudit(68, 2, AUDIT_OP_SCHED_AGE, AUDIT_TARGET_SCHED, BAND_HIGH | (25 << 8), E_OK, 1, 120);
    answerAudit(67, 3, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED, 2, E_OK, 1, 110);              // pid 3 took its CPU
    answerAudit(66, 2, AUDIT_OP_SCHED_MIGRATE, AUDIT_TARGET_SCHED, 2 | (0 << 8), E_OK, 1, 100);
    answerAudit(65, 2, AUDIT_OP_SCHED_MIGRATE, AUDIT_TARGET_SCHED, 0 | (1 << 8), E_OK, 1, 95);
    answerAudit(64, 2, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED, 7, E_OK, 1, 90);
    answerAudit(63, 5, SYS_SCHED_SET, AUDIT_TARGET_PROCESS, 2, E_DENIED, 3, 80);
    answerAudit(62, 2, SYS_CALL, AUDIT_TARGET_ENDPOINT, 0, E_OK, 1, 75);                          // not the scheduler's
    answerAudit(61, 2, AUDIT_OP_SCHED_BAND, AUDIT_TARGET_SCHED, BAND_MEDIUM | (665 << 8), E_OK, 1, 1); // the 8th: it stops here
    expect(type("explain 3")).toBe(
      "thread 3: init (pid 2), ready on cpu 0\n" +
      "  score       weight    score     contribution\n" +
      "  urgency     0.400  x  0.600  =  0.240\n" +
      "  importance  0.200  x  1.000  =  0.200\n" +
      "  efficiency  0.300  x  0.500  =  0.150\n" +
      "  energy      0.050  x  0.500  =  0.025\n" +
      "  trust       0.050  x  1.000  =  0.050\n" +
      "  priority                        0.665\n" +
      "base band medium: 0.5 (medium cut-off) <= priority 0.665 < 0.8 (high cut-off)\n" +
      "aged: queued in band high, lifted from medium by waiting (a band per 25 ticks ready; last ran 30 ticks ago)\n" +
      "pinned to cpu 1\n" +
      "ran 2000 ms, waited 45 ms ready\n" +
      "last decisions, newest first:\n" +
      "  #70 tick 130: pid 1 tuned the weights\n" +
      "  #68 tick 120: aged medium -> high after 25 ticks waiting\n" +
      "  #67 tick 110: preempted by pid 3\n" +
      "  #66 tick 100: moved cpu 2 -> cpu 0 (balancing)\n" +
      "  #65 tick 95: moved cpu 0 -> cpu 1 (pinned there)\n" +
      "  #64 tick 90: preempted pid 7\n" +
      "  #63 tick 80: pid 5 set its score or pin (refused: E_DENIED) (x3)\n" +
      "  #61 tick 1: placed in band medium, priority 0.665\n");
    expect(callNumber(0)).toBe(SYS_SCHED_INFO);
    expect(callArg(0, 1)).toBe(3);
    expect(callArg(1, 1)).toBe(SCHED_INFO_SELF);
    expect(callNumber(2)).toBe(SYS_AUDIT_READ);
    expect(callArg(2, 0)).toBe(SLOT_AUDIT);
    expect(callArg(2, 1)).toBe(u64.MAX_VALUE);
    expect(callArg(2, 2)).toBe(AUDIT_BACKWARD);
    expect(callArg(3, 1)).toBe(69);
    expect(answersLeft()).toBe(0);
  });

  it("says which cut-off places a priority, and when the kernel's figure is older than the scores", () => {
    let state = new SchedState();
    state.highCutoff = 800;
    state.mediumCutoff = 500;
    expect(cutoffText(800, state)).toBe("priority 0.800 >= 0.8 (high cut-off)");
    expect(cutoffText(799, state)).toBe("0.5 (medium cut-off) <= priority 0.799 < 0.8 (high cut-off)");
    expect(cutoffText(499, state)).toBe("priority 0.499 < 0.5 (medium cut-off)");
    for (let i = 0; i < 5; i++) state.weights[i] = DEFAULT_WEIGHTS[i];
    let t = new ThreadSched();
    t.tid = 4;
    t.state = 2;
    for (let i = 0; i < 5; i++) t.scores[i] = CONSOLE_SCORES[i];
    t.priority = 840;
    t.band = BAND_HIGH;
    t.baseBand = BAND_HIGH;
    let lines = explainLines(t, state);
    expect(lines[0]).toBe("thread 4: ? (pid 0), running on cpu 0");
    expect(lines[7]).toBe("  priority                        0.840");
    expect(lines[8]).toBe("base band high: priority 0.840 >= 0.8 (high cut-off)");
    expect(lines[9]).toBe("not aged: queued in its own band (last ran 0 ticks ago)");
    expect(lines[10]).toBe("not pinned: any cpu");
    expect(lines.length).toBe(12);
    t.priority = 700;
    lines = explainLines(t, state);
    expect(lines[8]).toBe("  (these weights and scores make 0.840 now; the kernel's priority is from its last decision about it)");
  });

  it("stops looking through the audit ring after 8 decisions or 256 records", () => {
    answerThread(threadWord(2, 1, 0, BAND_HIGH, BAND_HIGH, 0), CONSOLE_SCORES, 840, 0, 0, 0, "console");
    answerSchedState();
    for (let i = 0; i < 300; i++) answerAudit(<u64>(1000 - i), 9, SYS_CALL, AUDIT_TARGET_ENDPOINT, 0, E_OK, 1, 5);
    let out = type("explain 3");
    expect(out.endsWith("no scheduler decisions about it in the last 256 audit records\n")).toBe(true, out);
    expect(callCount()).toBe(2 + EXPLAIN_MAX_RECORDS);
    resetKernel();
    answerThread(threadWord(2, 1, 0, BAND_HIGH, BAND_HIGH, 0), CONSOLE_SCORES, 840, 0, 0, 0, "console");
    answerSchedState();
    for (let i = 0; i < 20; i++) answerAudit(<u64>(100 - i), 2, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED, 7, E_OK, 1, 5);
    out = type("explain 3");
    expect(out.split("preempted pid 7").length - 1).toBe(EXPLAIN_MAX_DECISIONS);
    expect(callCount()).toBe(2 + EXPLAIN_MAX_DECISIONS);
  });

  it("checks explain's argument, and names a thread that is not there", () => {
    expect(type("explain")).toBe("usage: explain <tid> (a thread number from `sched`)\n");
    expect(type("explain console")).toBe("usage: explain <tid> (a thread number from `sched`)\n");
    expect(type("explain 0")).toBe("usage: explain <tid> (a thread number from `sched`)\n");
    expect(type("explain 1 2")).toBe("usage: explain <tid> (a thread number from `sched`)\n");
    expect(type("explain 99999999999")).toBe("usage: explain <tid> (a thread number from `sched`)\n");
    expect(callCount()).toBe(0);
    answerNext(E_NOT_FOUND, 0, 0, 0, 0, 0, 0);
    expect(type("explain 42")).toBe("error: explain: no thread 42: E_NOT_FOUND\n");
    answerNext(E_BAD_ARG, 0, 0, 0, 0, 0, 0);
    expect(type("explain 4000")).toBe("error: explain: tid 4000 is out of range: E_BAD_ARG\n");
    answerThread(threadWord(2, 1, 0, BAND_HIGH, BAND_HIGH, 0), CONSOLE_SCORES, 840, 0, 0, 0, "console");
    answerSchedState();
    let out = type("explain 3");
    expect(out.endsWith("error: explain: audit ring: E_BAD_SYSCALL\n")).toBe(true, out);
  });

  it("lists the CPUs until the kernel has no more", () => {
    answerNext(E_OK, 3 | (<u64>0 << 32), 1 | (1 << 16), 1000, 870, 456, 0);
    answerNext(E_OK, 0 | (<u64>1 << 32), 0, 1000, 1000, 12, 2);
    answerNext(E_NOT_FOUND, 0, 0, 0, 0, 0, 0);
    expect(type("cpus")).toBe(
      " CPU    HWID  RUNNING  QUEUED  H/M/L         TICKS  IDLE  SWITCHES  PULLS\n" +
      "   0     0x0        3       2  1/1/0          1000   87%       456      0\n" +
      "   1     0x1     idle       0  0/0/0          1000  100%        12      2\n");
    expect(callNumber(0)).toBe(SYS_CPU_INFO);
    expect(callArg(0, 0)).toBe(SLOT_SCHED);
    expect(callArg(1, 1)).toBe(1);
    expect(type("cpus")).toBe("error: cpus: E_BAD_SYSCALL\n");
    expect(type("cpus 1")).toBe("usage: cpus\n");
  });
});
