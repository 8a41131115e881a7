// The scripted kernel behind services' sys.syscall (as-pect.config.js):
// specs of service code queue answers and read back the calls made.

// Queues the answer of the next system call: its status and r0..r5.
@external("sysmock", "answer")
export declare function answerNext(status: i32, r0: u64, r1: u64, r2: u64, r3: u64, r4: u64, r5: u64): void;

// As answerNext, and the call's buffer (a2, length a3) receives `text`.
@external("sysmock", "answer_text")
declare function answerTextRaw(status: i32, r0: u64, r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, text: usize, length: i32): void;

export function answerNextWithText(status: i32, r0: u64, r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, text: string): void {
  let bytes = String.UTF8.encode(text);
  answerTextRaw(status, r0, r1, r2, r3, r4, r5, changetype<usize>(bytes), bytes.byteLength);
}

// A reply to SYS_CALL: IPC status E_OK, badge, then the reply's label and
// words.
export function answerReply(label: u64, w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0): void {
  answerNext(0, 0, label, w0, w1, w2, w3);
}

@external("sysmock", "reset")
export declare function resetKernel(): void;

@external("sysmock", "answers_left")
export declare function answersLeft(): i32;

@external("sysmock", "call_count")
export declare function callCount(): i32;

@external("sysmock", "call_number")
export declare function callNumber(i: i32): u32;

// Argument a<j> (0..5) of call i.
@external("sysmock", "call_arg")
export declare function callArg(i: i32, j: i32): u64;
