// IPC: endpoints (call, send, receive, reply) and notifications (signal,
// wait). docs/abi.md says what each does when the peer died, the queue is
// full or nobody is being served.
//
// A received message, as the kernel returns it (r0..r5):
//
//   badge   the sender's badge, stamped by the kernel (0: the kernel itself)
//   label   bits 0..31 the protocol's opcode (or a reply's status);
//           32..47 the slot a transferred capability landed in, + 1;
//           bit 48 LOST: a capability was sent but not delivered
//   w0..w3  the payload
//
// One Message per service is enough: every call below fills the one it is
// given, so a server loop allocates nothing.

import {
  SYS_CALL, SYS_SEND, SYS_RECV, SYS_REPLY, SYS_REPLY_RECV, SYS_SIGNAL, SYS_WAIT,
  LABEL_MASK, LABEL_CAP_LOST, LABEL_NOTIFIED, labelCapSlot, labelWithRecv,
} from "../../kernel/abi";
import { result, syscall } from "./sys";

@final export class Message {
  badge: u64 = 0;
  label: u64 = 0;
  w0: u64 = 0;
  w1: u64 = 0;
  w2: u64 = 0;
  w3: u64 = 0;

  // The protocol's opcode; in a reply, the status as the server sent it.
  get opcode(): u32 { return <u32>(this.label & LABEL_MASK); }
  get status(): i32 { return <i32>(this.label & LABEL_MASK); }
  // The slot a capability sent with the message now occupies, or -1.
  get capSlot(): i32 { return labelCapSlot(this.label); }
  get capLost(): bool { return (this.label & LABEL_CAP_LOST) != 0; }

  // Copies r0..r5 of the last system call in.
  fill(): void {
    this.badge = result(0);
    this.label = result(1);
    this.w0 = result(2);
    this.w1 = result(3);
    this.w2 = result(4);
    this.w3 = result(5);
  }

  clear(): void {
    this.badge = 0;
    this.label = 0;
    this.w0 = 0;
    this.w1 = 0;
    this.w2 = 0;
    this.w3 = 0;
  }
}

// Calls the server behind `slot` (RIGHT_CALL) and waits for its reply,
// which fills `reply`. `label` may carry a capability (labelWithCap) and a
// receive slot for one in the reply (labelWithRecv).
export function call(slot: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, reply: Message): i32 {
  let status = syscall(SYS_CALL, slot, label, w0, w1, w2, w3);
  if (status >= 0) reply.fill();
  return status;
}

// Queues a message on `slot` (RIGHT_SEND) without waiting: E_QUEUE_FULL
// when its queue is full, E_RATE_LIMITED when the caller's budget is spent.
export function send(slot: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): i32 {
  return syscall(SYS_SEND, slot, label, w0, w1, w2, w3);
}

// Waits for the next message on `slot` (RIGHT_RECEIVE). A capability sent
// with it goes to `capSlot` (-1: take none; it is then LOST). With a
// `notification` slot (a notification or IRQ capability) bound, bits set on
// it end the wait too: badge 0, label LABEL_NOTIFIED, w0 the bits (taken);
// isNotified() tells which it was.
export function recv(slot: u32, into: Message, capSlot: i32 = -1, notification: i32 = -1): i32 {
  let status = syscall(SYS_RECV, slot, <u64>(capSlot + 1), <u64>(notification + 1));
  if (status >= 0) into.fill();
  return status;
}

@inline export function isNotified(message: Message): bool {
  return message.badge == 0 && message.opcode == LABEL_NOTIFIED;
}

// Answers the caller being served (E_NO_CALLER when there is none).
export function reply(label: u64, w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0): i32 {
  return syscall(SYS_REPLY, label, w0, w1, w2, w3);
}

// Replies, then waits for the next message on `slot`: a server's loop in
// one system call.
export function replyRecv(slot: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, into: Message, capSlot: i32 = -1): i32 {
  let sent = capSlot >= 0 ? labelWithRecv(label, <u32>capSlot) : label;
  let status = syscall(SYS_REPLY_RECV, slot, sent, w0, w1, w2, w3);
  if (status >= 0) into.fill();
  return status;
}

// Sets `bits` (non-zero) on the notification behind `slot` (RIGHT_SEND).
export function signal(slot: u32, bits: u64): i32 {
  return syscall(SYS_SIGNAL, slot, bits);
}

// Waits until the notification or IRQ behind `slot` has bits set; they are
// taken (cleared) and waitedBits() returns them.
export function wait(slot: u32): i32 {
  return syscall(SYS_WAIT, slot);
}

@inline export function waitedBits(): u64 {
  return result(0);
}
