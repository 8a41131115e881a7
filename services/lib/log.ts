// The kernel log: SYS_LOG(log slot, pointer, length <= LOG_MAX_BYTES) adds
// the line "[service] text". Each service says once where its CAP_LOG is
// (init: INIT_SLOT_LOG; the others: their manifest's slot).

import { LOG_MAX_BYTES, SYS_LOG } from "../../kernel/abi";
import { syscall, userPointer } from "./sys";
import { TEXT_BUFFER, textToBuffer } from "./text";

let logSlot: u32 = 0;

export function setLogSlot(slot: u32): void {
  logSlot = slot;
}

// Logs `text` (cut to LOG_MAX_BYTES); returns the status.
export function log(text: string): i32 {
  let length = min(textToBuffer(text), <i32>LOG_MAX_BYTES);
  return syscall(SYS_LOG, logSlot, userPointer(TEXT_BUFFER), <u64>length);
}
