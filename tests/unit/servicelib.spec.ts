import {
  CAP_ENDPOINT, CAP_IO_PORTS, E_BAD_SLOT, E_NO_RIGHTS, E_OK, EXIT_KILLED, EXIT_TRAP_BASE, LABEL_NOTIFIED,
  PROC_DEAD, RIGHT_CALL, RIGHT_READ, RIGHT_SEND, RIGHT_WRITE, SLOT_SELF, SYS_BOOT_INFO, SYS_CAP_INFO, SYS_LOG,
  SYS_PROC_INFO, SYS_RECV, TRAP_OOB, TRAP_UNREACHABLE, USER_WASM_BASE, labelWithCap,
} from "../../kernel/abi";
import {
  BootServiceInfo, CapInfo, Message, ProcInfo, TEXT_BUFFER, bootInfo, capInfo, capTypeName, errorName, exitText,
  isNotified, log, nameFromWords, nameWord, procInfo, recv, rightsText, setLogSlot, syscallName,
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
