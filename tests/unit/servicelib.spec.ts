import {
  AUDIT_OP_SCHED_AGE, AUDIT_OP_SCHED_BAND, AUDIT_OP_SCHED_MIGRATE, AUDIT_OP_SCHED_PREEMPT, AUDIT_TARGET_SCHED,
  BAND_HIGH, BAND_LOW, BAND_MEDIUM, CAP_ENDPOINT, CAP_IO_PORTS, CAP_SCHED, CAP_SCHED_TUNE, E_BAD_ARG, E_BAD_SLOT,
  E_NOT_FOUND, E_NO_RIGHTS, E_OK, EXIT_KILLED, EXIT_TRAP_BASE, LABEL_NOTIFIED, PROC_DEAD, RIGHT_CALL, RIGHT_READ,
  RIGHT_SEND, RIGHT_WRITE, SCHED_INFO_SELF, SCHED_PIN, SCHED_TRUST, SCHED_UNPINNED, SCHED_URGENCY, SLOT_SELF,
  SYS_BOOT_INFO, SYS_CAP_INFO, SYS_CPU_INFO, SYS_LOG, SYS_MMIO_WRITE, SYS_PROC_INFO, SYS_RECV, SYS_SCHED_INFO,
  SYS_SCHED_SET, SYS_SCHED_TUNE, TRAP_OOB, TRAP_UNREACHABLE, USER_WASM_BASE, labelWithCap, SCHED_STATE_DYING,
  SCHED_STATE_READY, SCHED_STATE_RECEIVING,
} from "../../kernel/abi";
import {
  BootServiceInfo, CapInfo, CpuSched, DEFAULT_WEIGHTS, Message, PARSE_ABOVE_ONE, PARSE_NEGATIVE, PARSE_NOT_A_NUMBER,
  PARSE_TOO_PRECISE, ProcInfo, SchedState, TEXT_BUFFER, ThreadSched,
  auditTargetText, bandName, bootInfo, capInfo, capTypeName, cpuInfo, errorName, exitText, isNotified,
  isSchedDecision, log, nameFromWords, nameWord, packScores, parseThousandths, procInfo, recv, rightsText,
  schedDecisionText, schedInfo, schedSet, schedState, schedTune, scoreField, scoreName, setLogSlot, syscallName,
  threadStateName, thousandthsFixed, thousandthsText, unpackScores,
} from "../../services/lib";
import { answerNext, answerNextWithText, callArg, callCount, callNumber, resetKernel } from "./sysmock";

describe("services/lib: names in message words", () => {
  it("packs a name little endian and unpacks it", () => {
    expect(nameWord("init", 0)).toBe(0x74696e69);
    expect(nameWord("init", 1)).toBe(0);
    expect(nameFromWords(nameWord("console", 0), nameWord("console", 1))).toBe("console");
    let sixteen = "abcdefghijklmnop";
    expect(nameFromWords(nameWord(sixteen, 0), nameWord(sixteen, 1))).toBe(sixteen);
  });

  it("cuts a name at 16 bytes and replaces what is not ASCII", () => {
    let long = "a-service-name-longer-than-16";
    expect(nameFromWords(nameWord(long, 0), nameWord(long, 1))).toBe("a-service-name-l");
    expect(nameFromWords(nameWord("caf\u00e9", 0), 0)).toBe("caf?");
  });
});

describe("services/lib: IPC", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("fills a Message from the result registers", () => {
    let message = new Message();
    answerNext(E_OK, 2, labelWithCap(7, 4), 10, 11, 12, 13);
    expect(recv(0, message, 5)).toBe(E_OK);
    expect(message.badge).toBe(2);
    expect(message.opcode).toBe(7);
    expect(message.capSlot).toBe(4);
    expect(message.w0).toBe(10);
    expect(message.w3).toBe(13);
    expect(isNotified(message)).toBe(false);
    expect(callNumber(0)).toBe(SYS_RECV);
    expect(callArg(0, 1)).toBe(6);   // receive slot + 1
    expect(callArg(0, 2)).toBe(0);   // no notification bound
  });

  it("binds a notification to a receive and tells its wake-up apart", () => {
    let message = new Message();
    answerNext(E_OK, 0, LABEL_NOTIFIED, 0b101, 0, 0, 0);
    expect(recv(0, message, -1, 60)).toBe(E_OK);
    expect(callArg(0, 1)).toBe(0);
    expect(callArg(0, 2)).toBe(61);
    expect(isNotified(message)).toBe(true);
    expect(message.w0).toBe(0b101);
  });

  it("leaves the Message alone when the call fails", () => {
    let message = new Message();
    message.w0 = 99;
    answerNext(E_NO_RIGHTS, 1, 2, 3, 4, 5, 6);
    expect(recv(0, message)).toBe(E_NO_RIGHTS);
    expect(message.w0).toBe(99);
  });
});

describe("services/lib: wrappers with buffers and records", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("logs from its text buffer, at a user address", () => {
    setLogSlot(5);
    log("hello");
    expect(callNumber(0)).toBe(SYS_LOG);
    expect(callArg(0, 0)).toBe(5);
    expect(callArg(0, 1)).toBe(USER_WASM_BASE + <u64>TEXT_BUFFER);
    expect(callArg(0, 2)).toBe(5);
    expect(load<u8>(TEXT_BUFFER)).toBe(0x68);
  });

  it("unpacks SYS_CAP_INFO", () => {
    let info = new CapInfo();
    answerNext(E_OK, CAP_IO_PORTS, RIGHT_READ | RIGHT_WRITE, 0, 0, 0x3f8, 8);
    expect(capInfo(SLOT_SELF, 2, info)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_CAP_INFO);
    expect(info.type).toBe(CAP_IO_PORTS);
    expect(rightsText(info.rights)).toBe("read,write");
    expect(info.base).toBe(0x3f8);
    expect(info.count).toBe(8);
    answerNext(E_BAD_SLOT, 0, 0, 0, 0, 0, 0);
    expect(capInfo(SLOT_SELF, 9, info)).toBe(E_BAD_SLOT);
  });

  it("unpacks SYS_PROC_INFO, name and reason from the buffer", () => {
    let info = new ProcInfo();
    let code = EXIT_TRAP_BASE + TRAP_OOB;
    answerNextWithText(E_OK, 4, <u64>PROC_DEAD | (code << 32), 1 | (3 << 32), 2 | (5 << 32), 1 | (2 << 32), 38,
      "hostile\0wasm trap: out-of-bounds\0");
    expect(procInfo(62, 3, info)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_PROC_INFO);
    expect(callArg(0, 2)).toBe(USER_WASM_BASE + <u64>TEXT_BUFFER);
    expect(info.pid).toBe(4);
    expect(info.state).toBe(PROC_DEAD);
    expect(info.exitCode).toBe(code);
    expect(info.serviceFaults).toBe(3);
    expect(info.service).toBe(2);
    expect(info.starts).toBe(5);
    expect(info.supervisor).toBe(1);
    expect(info.pages).toBe(2);
    expect(info.name).toBe("hostile");
    expect(info.reason).toBe("wasm trap: out-of-bounds");
  });

  it("unpacks SYS_BOOT_INFO", () => {
    let info = new BootServiceInfo();
    answerNextWithText(E_OK, 0b10, 3, 50, 2, 3, 7, "hostile");
    expect(bootInfo(63, 2, info)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_BOOT_INFO);
    expect(info.depends).toBe(0b10);
    expect(info.restartLimit).toBe(3);
    expect(info.backoffMs).toBe(50);
    expect(info.available).toBe(true);
    expect(info.isInit).toBe(false);
    expect(info.count).toBe(3);
    expect(info.name).toBe("hostile");
  });
});

describe("services/lib: words for people", () => {
  it("names errors, exits, capabilities and system calls, without a system call", () => {
    resetKernel();
    expect(errorName(E_NO_RIGHTS)).toBe("E_NO_RIGHTS");
    expect(errorName(-99)).toBe("error -99");
    expect(exitText(0)).toBe("exit 0");
    expect(exitText(EXIT_TRAP_BASE + TRAP_UNREACHABLE)).toBe("wasm trap: unreachable");
    expect(exitText(EXIT_KILLED)).toBe("killed");
    expect(capTypeName(CAP_ENDPOINT)).toBe("endpoint");
    expect(rightsText(RIGHT_SEND | RIGHT_CALL)).toBe("send,call");
    expect(rightsText(0)).toBe("none");
    expect(syscallName(SYS_LOG)).toBe("log");
    expect(syscallName(999)).toBe("syscall 999");
    expect(callCount()).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// The scheduler (services/lib/sched.ts): packed words, text, the calls.

describe("services/lib: the scheduler's packed words", () => {
  it("packs and unpacks five 12-bit scores, SCHED_URGENCY lowest", () => {
    let scores: StaticArray<u32> = [1000, 900, 500, 50, 4095];
    let word = packScores(scores);
    expect(word).toBe(<u64>1000 | (<u64>900 << 12) | (<u64>500 << 24) | (<u64>50 << 36) | (<u64>4095 << 48));
    expect(scoreField(word, SCHED_URGENCY)).toBe(1000);
    expect(scoreField(word, SCHED_TRUST)).toBe(4095);
    let back = new StaticArray<u32>(5);
    unpackScores(word, back);
    for (let i = 0; i < 5; i++) expect(back[i]).toBe(scores[i]);
    expect(packScores(DEFAULT_WEIGHTS)).toBe(<u64>400 | (<u64>300 << 12) | (<u64>200 << 24) | (<u64>50 << 36) | (<u64>50 << 48));
  });

  it("names bands, scores and thread states", () => {
    expect(bandName(BAND_LOW)).toBe("low");
    expect(bandName(BAND_MEDIUM)).toBe("medium");
    expect(bandName(BAND_HIGH)).toBe("high");
    expect(bandName(7)).toBe("band 7");
    expect(scoreName(SCHED_URGENCY)).toBe("urgency");
    expect(scoreName(SCHED_TRUST)).toBe("trust");
    expect(threadStateName(SCHED_STATE_READY)).toBe("ready");
    expect(threadStateName(SCHED_STATE_RECEIVING)).toBe("receiving");
    expect(threadStateName(SCHED_STATE_DYING)).toBe("dying");
    expect(threadStateName(99)).toBe("state 99");
  });

  it("writes thousandths exactly, or with fixed decimals rounded half up", () => {
    expect(thousandthsText(400)).toBe("0.4");
    expect(thousandthsText(50)).toBe("0.05");
    expect(thousandthsText(125)).toBe("0.125");
    expect(thousandthsText(1)).toBe("0.001");
    expect(thousandthsText(0)).toBe("0");
    expect(thousandthsText(1000)).toBe("1");
    expect(thousandthsText(1050)).toBe("1.05");
    expect(thousandthsFixed(840, 2)).toBe("0.84");
    expect(thousandthsFixed(875, 2)).toBe("0.88");
    expect(thousandthsFixed(874, 2)).toBe("0.87");
    expect(thousandthsFixed(995, 2)).toBe("1.00");
    expect(thousandthsFixed(5, 2)).toBe("0.01");
    expect(thousandthsFixed(50, 3)).toBe("0.050");
    expect(thousandthsFixed(1000, 3)).toBe("1.000");
    expect(thousandthsFixed(449, 1)).toBe("0.4");
  });

  it("reads decimals from 0 to 1 into thousandths exactly, and says what is wrong with the rest", () => {
    expect(parseThousandths("0.4")).toBe(400);
    expect(parseThousandths("0.05")).toBe(50);
    expect(parseThousandths(".05")).toBe(50);
    expect(parseThousandths("0.125")).toBe(125);
    expect(parseThousandths("1")).toBe(1000);
    expect(parseThousandths("1.000")).toBe(1000);
    expect(parseThousandths("1.")).toBe(1000);
    expect(parseThousandths("0")).toBe(0);
    expect(parseThousandths("0.4000")).toBe(400);
    expect(parseThousandths("-0")).toBe(0);
    expect(parseThousandths("")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths(".")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("-")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("abc")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("0.4.1")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("4e-1")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("0,4")).toBe(PARSE_NOT_A_NUMBER);
    expect(parseThousandths("-0.1")).toBe(PARSE_NEGATIVE);
    expect(parseThousandths("1.001")).toBe(PARSE_ABOVE_ONE);
    expect(parseThousandths("99999999999999999999")).toBe(PARSE_ABOVE_ONE);
    expect(parseThousandths("0.0001")).toBe(PARSE_TOO_PRECISE);
    expect(parseThousandths("0.1234")).toBe(PARSE_TOO_PRECISE);
  });

  it("says what a scheduler decision in the audit ring was", () => {
    expect(isSchedDecision(AUDIT_OP_SCHED_BAND)).toBe(true);
    expect(isSchedDecision(AUDIT_OP_SCHED_MIGRATE)).toBe(true);
    expect(isSchedDecision(SYS_SCHED_SET)).toBe(false);
    expect(schedDecisionText(AUDIT_OP_SCHED_BAND, BAND_HIGH | (870 << 8))).toBe("placed in band high, priority 0.87");
    expect(schedDecisionText(AUDIT_OP_SCHED_AGE, BAND_MEDIUM | (25 << 8))).toBe("aged low -> medium after 25 ticks waiting");
    expect(schedDecisionText(AUDIT_OP_SCHED_PREEMPT, 7)).toBe("preempted pid 7");
    expect(schedDecisionText(AUDIT_OP_SCHED_MIGRATE, 2 | (0 << 8))).toBe("moved cpu 2 -> cpu 0");
    expect(syscallName(AUDIT_OP_SCHED_AGE)).toBe("sched:age");
    expect(syscallName(SYS_SCHED_TUNE)).toBe("sched_tune");
    expect(syscallName(SYS_CPU_INFO)).toBe("cpu_info");
    expect(syscallName(SYS_MMIO_WRITE)).toBe("mmio_write");
    expect(auditTargetText(AUDIT_TARGET_SCHED, 0x302)).toBe("sched 0x302");
    expect(capTypeName(CAP_SCHED)).toBe("sched");
    expect(capTypeName(CAP_SCHED_TUNE)).toBe("sched-tune");
  });
});

describe("services/lib: the scheduler's calls", () => {
  beforeEach(() => {
    resetKernel();
  });

  it("unpacks SYS_SCHED_INFO of a thread: pid, state, cpu, bands, pin, scores, times, name", () => {
    let t = new ThreadSched();
    let r0 = <u64>5 | (<u64>SCHED_STATE_READY << 32) | (<u64>1 << 40) | (<u64>BAND_HIGH << 48) | (<u64>BAND_MEDIUM << 52) | (<u64>(3 + 1) << 56);
    let scores: StaticArray<u32> = [1000, 900, 500, 500, 900];
    answerNextWithText(E_OK, r0, packScores(scores), 715 | (<u64>30 << 32), 1_234_567, 89_000, 7, "console");
    expect(schedInfo(7, 12, t)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_SCHED_INFO);
    expect(callArg(0, 0)).toBe(7);
    expect(callArg(0, 1)).toBe(12);
    expect(callArg(0, 2)).toBe(USER_WASM_BASE + <u64>TEXT_BUFFER);
    expect(t.tid).toBe(12);
    expect(t.pid).toBe(5);
    expect(t.state).toBe(SCHED_STATE_READY);
    expect(t.cpu).toBe(1);
    expect(t.band).toBe(BAND_HIGH);
    expect(t.baseBand).toBe(BAND_MEDIUM);
    expect(t.aged).toBe(true);
    expect(t.pinned).toBe(true);
    expect(t.pin).toBe(3);
    expect(t.scores[SCHED_URGENCY]).toBe(1000);
    expect(t.scores[SCHED_TRUST]).toBe(900);
    expect(t.priority).toBe(715);
    expect(t.ticksSinceRun).toBe(30);
    expect(t.runUs).toBe(1_234_567);
    expect(t.waitUs).toBe(89_000);
    expect(t.name).toBe("console");
    // Pin field 0: not pinned; a failed call leaves the object alone.
    answerNextWithText(E_OK, 9, 0, 0, 0, 0, 4, "init");
    expect(schedInfo(7, 1, t)).toBe(E_OK);
    expect(t.pinned).toBe(false);
    expect(t.pin).toBe(SCHED_UNPINNED);
    expect(t.aged).toBe(false);
    answerNext(E_NOT_FOUND, 0, 0, 0, 0, 0, 0);
    expect(schedInfo(7, 2, t)).toBe(E_NOT_FOUND);
    expect(t.tid).toBe(1);
  });

  it("unpacks SYS_SCHED_INFO of the scheduler itself (tid 0)", () => {
    let s = new SchedState();
    answerNext(E_OK, packScores(DEFAULT_WEIGHTS), 800 | (500 << 16), 5 | (25 << 16) | (<u64>100 << 32), 2, 4242, 99_000);
    expect(schedState(7, s)).toBe(E_OK);
    expect(callArg(0, 1)).toBe(SCHED_INFO_SELF);
    for (let i = 0; i < 5; i++) expect(s.weights[i]).toBe(DEFAULT_WEIGHTS[i]);
    expect(s.highCutoff).toBe(800);
    expect(s.mediumCutoff).toBe(500);
    expect(s.sliceTicks).toBe(5);
    expect(s.agingTicks).toBe(25);
    expect(s.timerHz).toBe(100);
    expect(s.cpus).toBe(2);
    expect(s.decisions).toBe(4242);
    expect(s.decisionCycles).toBe(99_000);
  });

  it("unpacks SYS_CPU_INFO", () => {
    let c = new CpuSched();
    answerNext(E_OK, 3 | (<u64>0x81000100 << 32), 1 | (2 << 16) | (<u64>4 << 32), 1000, 870, 456, 3);
    expect(cpuInfo(7, 1, c)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_CPU_INFO);
    expect(callArg(0, 0)).toBe(7);
    expect(callArg(0, 1)).toBe(1);
    expect(c.cpu).toBe(1);
    expect(c.runningTid).toBe(3);
    expect(c.hardwareId).toBe(0x81000100);
    expect(c.queuedHigh).toBe(1);
    expect(c.queuedMedium).toBe(2);
    expect(c.queuedLow).toBe(4);
    expect(c.queued).toBe(7);
    expect(c.ticks).toBe(1000);
    expect(c.idleTicks).toBe(870);
    expect(c.switches).toBe(456);
    expect(c.pulls).toBe(3);
  });

  it("passes scores, pins and weights as the ABI says", () => {
    answerNext(E_OK, 0, 0, 0, 0, 0, 0);
    expect(schedSet(7, SLOT_SELF, SCHED_PIN, SCHED_UNPINNED)).toBe(E_OK);
    expect(callNumber(0)).toBe(SYS_SCHED_SET);
    expect(callArg(0, 0)).toBe(7);
    expect(callArg(0, 1)).toBe(SLOT_SELF);
    expect(callArg(0, 2)).toBe(SCHED_PIN);
    expect(callArg(0, 3)).toBe(SCHED_UNPINNED);
    answerNext(E_BAD_ARG, 0, 0, 0, 0, 0, 0);
    let weights: StaticArray<u32> = [500, 250, 125, 100, 25];
    expect(schedTune(8, weights)).toBe(E_BAD_ARG);
    expect(callNumber(1)).toBe(SYS_SCHED_TUNE);
    expect(callArg(1, 0)).toBe(8);
    for (let i = 0; i < 5; i++) expect(callArg(1, 1 + i)).toBe(weights[i]);
  });
});
