// IPC: endpoints (synchronous call/reply, asynchronous bounded send) and
// notifications (bit sets; interrupts arrive as notifications).
//
// Endpoints and notifications are boot-manifest objects: created by name at
// boot, they outlive the processes that use them, so a restarted server
// serves the same endpoint its clients hold.
//
// An endpoint holds, in arrival order, either waiting receivers or pending
// work, never both:
//   receivers  threads blocked in SYS_RECV / SYS_REPLY_RECV (FIFO)
//   callers    threads blocked in SYS_CALL, each with its message (FIFO)
//   queue      a ring of `depth` messages from SYS_SEND (depth ≤ MAX_QUEUE_DEPTH)
// Calls and sends are received in the order they arrived (an arrival stamp
// orders the callers against the ring).
//
// A message is badge, label, w0..w3. The badge is the one on the sender's
// capability, stamped by the kernel; the sender's pid goes to the audit
// record, never into the message.
//
// Results reach a thread through arch.context_set: a thread that keeps
// running gets its status from syscall dispatch; a blocked thread gets
// status and results when it is woken, here.
//
// Fast paths (ipcCallFast, ipcReplyRecvFast) handle the common round trip:
// a receiver already waits, nothing but words travels. Everything else is
// the slow path below them.

import * as arch from "./arch";
import {
  E_ABANDONED, E_BAD_ARG, E_NO_CALLER, E_NO_CAP, E_OK, E_PEER_DEAD, E_QUEUE_FULL, LABEL_CAP_MASK,
  LABEL_CAP_SHIFT, LABEL_MASK, LABEL_NOTIFIED, LABEL_RECV_SHIFT, MAX_ENDPOINTS, MAX_IRQ_SOURCES,
} from "./abi";
import { capTransfer } from "./cap";
import {
  threadAt, THREAD_BLOCKED_CALL, THREAD_BLOCKED_RECV, THREAD_BLOCKED_REPLY, THREAD_BLOCKED_WAIT, THREAD_RUNNING,
} from "./proc";
import { schedAfterInterrupt, schedSwitchTo, threadReady, threadReadyFirst } from "./sched";
import { println } from "./console";

export { MAX_ENDPOINTS, MAX_IRQ_SOURCES } from "./abi";
export const MAX_NOTIFICATIONS: u32 = 64;
export const MAX_QUEUE_DEPTH: u32 = 16;
export const DEFAULT_QUEUE_DEPTH: u32 = 8;   // a manifest's depth 0

const CAP_BITS: u64 = LABEL_CAP_MASK << LABEL_CAP_SHIFT;

// ---------------------------------------------------------------------------
// Pools.

@unmanaged export class Endpoint {
  used: u8;
  reserved: u8;
  reserved2: u16;
  depth: u32;          // queue capacity
  head: u32;           // ring position of the oldest queued message
  count: u32;          // queued messages
  receiverCaps: u32;   // live capabilities with RIGHT_RECEIVE on it
  recvHead: u32;       // waiting receivers (tids)
  recvTail: u32;
  callHead: u32;       // waiting callers (tids)
  callTail: u32;
  arrival: u32;        // next arrival stamp
  calls: u64;          // counters for SYS_IPC_STATS
  sends: u64;
  replies: u64;
  denials: u64;
}

// A queued asynchronous message (64 bytes).
@unmanaged class Message {
  badge: u64;
  label: u64;
  w0: u64;
  w1: u64;
  w2: u64;
  w3: u64;
  senderPid: u32;
  capGid: u32;         // gid + 1 of a capability travelling with it; 0: none
  capGen: u32;
  arrival: u32;
}

@unmanaged export class Notification {
  used: u8;
  reserved: u8;
  reserved2: u16;
  waitHead: u32;
  waitTail: u32;
  bound: u32;          // a receiver that may be waiting bound to it (tid; checked on use)
  word: u64;           // pending bits
  signals: u64;
}

const ENDPOINT_BYTES: usize = offsetof<Endpoint>();
const MESSAGE_BYTES: usize = offsetof<Message>();
const NOTIFICATION_BYTES: usize = offsetof<Notification>();
const endpointPool = memory.data(<i32>(offsetof<Endpoint>() * MAX_ENDPOINTS), 16);
const messagePool = memory.data(<i32>(offsetof<Message>() * MAX_QUEUE_DEPTH * MAX_ENDPOINTS), 16);
const notificationPool = memory.data(<i32>(offsetof<Notification>() * MAX_NOTIFICATIONS), 16);
const irqBindings = memory.data(<i32>(4 * MAX_IRQ_SOURCES), 4);   // notification index + 1
const irqCounts = memory.data(<i32>(8 * MAX_IRQ_SOURCES), 8);

// Names, for lookups at boot and for `ipc`: managed, written at boot only.
// Entry i is read only while object i is in use.
const endpointNames: string[] = [];
const notificationNames: string[] = [];

@inline export function endpointAt(ep: u32): Endpoint {
  return changetype<Endpoint>(endpointPool + <usize>ep * ENDPOINT_BYTES);
}

@inline function messageAt(ep: u32, position: u32): Message {
  return changetype<Message>(messagePool + (<usize>ep * MAX_QUEUE_DEPTH + position) * MESSAGE_BYTES);
}

@inline export function notificationAt(n: u32): Notification {
  return changetype<Notification>(notificationPool + <usize>n * NOTIFICATION_BYTES);
}

export function ipcReset(): void {
  memory.fill(endpointPool, 0, ENDPOINT_BYTES * MAX_ENDPOINTS);
  memory.fill(notificationPool, 0, NOTIFICATION_BYTES * MAX_NOTIFICATIONS);
  memory.fill(irqBindings, 0, 4 * MAX_IRQ_SOURCES);
  memory.fill(irqCounts, 0, 8 * MAX_IRQ_SOURCES);
  endpointNames.length = 0;
  notificationNames.length = 0;
  for (let i: u32 = 0; i < MAX_ENDPOINTS; i++) endpointNames.push("");
  for (let i: u32 = 0; i < MAX_NOTIFICATIONS; i++) notificationNames.push("");
}

// A new endpoint; depth 0 means DEFAULT_QUEUE_DEPTH, more than
// MAX_QUEUE_DEPTH is cut to it (said on the console). -1 when the pool is full.
export function endpointCreate(name: string, depth: u32): i32 {
  for (let ep: u32 = 0; ep < MAX_ENDPOINTS; ep++) {
    let e = endpointAt(ep);
    if (e.used != 0) continue;
    memory.fill(changetype<usize>(e), 0, ENDPOINT_BYTES);
    e.used = 1;
    if (depth > MAX_QUEUE_DEPTH) println("boot: endpoint " + name + " queue depth " + depth.toString() + " cut to " + MAX_QUEUE_DEPTH.toString());
    e.depth = depth == 0 ? DEFAULT_QUEUE_DEPTH : min<u32>(depth, MAX_QUEUE_DEPTH);
    endpointNames[ep] = name;
    return <i32>ep;
  }
  return -1;
}

export function endpointByName(name: string): i32 {
  if (name.length == 0) return -1;
  for (let ep: u32 = 0; ep < MAX_ENDPOINTS; ep++) {
    if (endpointAt(ep).used != 0 && endpointNames[ep] == name) return <i32>ep;
  }
  return -1;
}

export function endpointName(ep: u32): string {
  return endpointUsed(ep) && ep < <u32>endpointNames.length ? endpointNames[ep] : "";
}

export function endpointUsed(ep: u32): bool {
  return ep < MAX_ENDPOINTS && endpointAt(ep).used != 0;
}

// A new notification ("" for an anonymous one: IRQs, init's deaths).
export function notificationCreate(name: string): i32 {
  for (let n: u32 = 0; n < MAX_NOTIFICATIONS; n++) {
    let o = notificationAt(n);
    if (o.used != 0) continue;
    memory.fill(changetype<usize>(o), 0, NOTIFICATION_BYTES);
    o.used = 1;
    notificationNames[n] = name;
    return <i32>n;
  }
  return -1;
}

export function notificationByName(name: string): i32 {
  if (name.length == 0) return -1;
  for (let n: u32 = 0; n < MAX_NOTIFICATIONS; n++) {
    if (notificationAt(n).used != 0 && notificationNames[n] == name) return <i32>n;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Thread queues. `head` and `tail` are addresses of u32 fields holding tids;
// threads link through Thread.next. A thread is in one queue at a time.

@inline function queueAppend(head: usize, tail: usize, tid: u32): void {
  threadAt(tid).next = 0;
  let last = load<u32>(tail);
  if (last == 0) store<u32>(head, tid);
  else threadAt(last).next = tid;
  store<u32>(tail, tid);
}

@inline function queuePop(head: usize, tail: usize): u32 {
  let tid = load<u32>(head);
  if (tid == 0) return 0;
  let next = threadAt(tid).next;
  store<u32>(head, next);
  if (next == 0) store<u32>(tail, 0);
  threadAt(tid).next = 0;
  return tid;
}

function queueRemove(head: usize, tail: usize, tid: u32): void {
  let previous: u32 = 0;
  for (let at = load<u32>(head); at != 0; at = threadAt(at).next) {
    if (at == tid) {
      let next = threadAt(at).next;
      if (previous == 0) store<u32>(head, next);
      else threadAt(previous).next = next;
      if (load<u32>(tail) == tid) store<u32>(tail, previous);
      threadAt(tid).next = 0;
      return;
    }
    previous = at;
  }
}

@inline function receivers(e: Endpoint): usize { return changetype<usize>(e) + offsetof<Endpoint>("recvHead"); }
@inline function receiversTail(e: Endpoint): usize { return changetype<usize>(e) + offsetof<Endpoint>("recvTail"); }
@inline function callers(e: Endpoint): usize { return changetype<usize>(e) + offsetof<Endpoint>("callHead"); }
@inline function callersTail(e: Endpoint): usize { return changetype<usize>(e) + offsetof<Endpoint>("callTail"); }
@inline function waiters(o: Notification): usize { return changetype<usize>(o) + offsetof<Notification>("waitHead"); }
@inline function waitersTail(o: Notification): usize { return changetype<usize>(o) + offsetof<Notification>("waitTail"); }

// ---------------------------------------------------------------------------
// Delivery.

// A woken thread's status and message, all seven registers. Every IPC
// delivery to a blocked thread goes through here, so a bulk register
// import from the trampoline would change only this function.
@inline function deliverWoken(tid: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): void {
  arch.context_set(tid, arch.REG_STATUS, 0);
  deliverRegs(tid, badge, label, w0, w1, w2, w3);
}

// A message into a thread's result registers r0..r5 (not its status).
@inline function deliverRegs(tid: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): void {
  arch.context_set(tid, arch.REG_RESULT0, badge);
  arch.context_set(tid, arch.REG_RESULT0 + 1, label);
  arch.context_set(tid, arch.REG_RESULT0 + 2, w0);
  arch.context_set(tid, arch.REG_RESULT0 + 3, w1);
  arch.context_set(tid, arch.REG_RESULT0 + 4, w2);
  arch.context_set(tid, arch.REG_RESULT0 + 5, w3);
}

// The received label: the sent label's opcode plus what became of a
// travelling capability (kernel/abi.ts, label as received).
@inline function receivedLabel(tid: u32, label: u64, capRef: u32, capGen: u32): u64 {
  let result = label & LABEL_MASK;
  if (capRef != 0) result |= capTransfer(capRef, capGen, <u32>threadAt(tid).process, <u32>threadAt(tid).recvSlot);
  return result;
}

// Wakes a blocked thread with a status and nothing else.
function wake(tid: u32, status: i32): void {
  arch.context_set(tid, arch.REG_STATUS, <u64>status);
  threadReady(tid);
}

// Receiver `r` takes caller `c`'s call: the message, and the right to reply.
function takeCall(r: u32, c: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32): void {
  let rt = threadAt(r);
  let ct = threadAt(c);
  deliverRegs(r, badge, receivedLabel(r, label, capRef, capGen), w0, w1, w2, w3);
  ct.state = THREAD_BLOCKED_REPLY;
  rt.replyTo = c;
  rt.replyGen = ct.generation;
}

// ---------------------------------------------------------------------------
// The fast paths.

// Whether SYS_CALL can take the fast path: a receiver waits and no
// capability travels.
@inline export function ipcCallFastReady(ep: u32, label: u64): bool {
  return endpointAt(ep).recvHead != 0 && (label & CAP_BITS) == 0;
}

// SYS_CALL when ipcCallFastReady said so. The caller holds a CALL
// capability to `ep` and its label's receive slot is valid (both checked).
// Returns the receiver, now running.
export function ipcCallFast(caller: u32, ep: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): u32 {
  let e = endpointAt(ep);
  let r = e.recvHead;
  let rt = threadAt(r);
  let ct = threadAt(caller);
  e.recvHead = rt.next;
  if (rt.next == 0) e.recvTail = 0;
  rt.next = 0;
  rt.replyTo = caller;
  rt.replyGen = ct.generation;
  ct.state = THREAD_BLOCKED_REPLY;
  ct.blockedOn = ep;
  ct.recvSlot = <u8>(label >> LABEL_RECV_SHIFT);
  e.calls++;
  deliverWoken(r, badge, label & LABEL_MASK, w0, w1, w2, w3);
  return schedSwitchTo(r);
}

// SYS_REPLY_RECV when the caller still waits, no capability travels and
// nothing is pending on `ep` (nor on the notification it binds,
// `notificationRef`, as ipcRecv): the caller gets the reply and runs, the
// server waits. `recvCap` is the gid of the server's RECEIVE capability
// (checked). Returns the caller, now running; 0: take the slow path.
export function ipcReplyRecvFast(server: u32, ep: u32, recvCap: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64,
                                 notificationRef: u32): u32 {
  let st = threadAt(server);
  let c = st.replyTo;
  if (c == 0 || (label & CAP_BITS) != 0) return 0;
  let ct = threadAt(c);
  let e = endpointAt(ep);
  if (ct.generation != st.replyGen || ct.state != THREAD_BLOCKED_REPLY || e.callHead != 0 || e.count != 0) return 0;
  if (notificationRef != 0) {
    let n = notificationRef - 1;
    if (notificationAt(n).word != 0 || boundElsewhere(n, server)) return 0;
    notificationAt(n).bound = server;
  }
  st.replyTo = 0;
  endpointAt(ct.blockedOn).replies++;
  deliverWoken(c, 0, label & LABEL_MASK, w0, w1, w2, w3);
  st.recvSlot = <u8>(label >> LABEL_RECV_SHIFT);
  st.boundNotification = notificationRef;
  st.state = THREAD_BLOCKED_RECV;
  st.blockedOn = ep;
  st.recvCapGid = recvCap + 1;
  queueAppend(receivers(e), receiversTail(e), server);
  return schedSwitchTo(c);
}

// ---------------------------------------------------------------------------
// The slow paths. Each returns the status for the calling thread; when the
// calling thread blocked, dispatch picks the next thread (the ready queue's
// first: a thread handed the CPU directly is put first).

// SYS_CALL. With nobody able to receive on `ep` (no RECEIVE capability
// left), E_PEER_DEAD at once. `capRef`/`capGen`: a capability travelling
// along (gid + 1, GRANT checked), or 0.
export function ipcCall(caller: u32, ep: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32): i32 {
  let e = endpointAt(ep);
  if (e.recvHead == 0 && e.receiverCaps == 0) return E_PEER_DEAD;
  let ct = threadAt(caller);
  ct.recvSlot = <u8>(label >> LABEL_RECV_SHIFT);
  ct.blockedOn = ep;
  e.calls++;
  let r = queuePop(receivers(e), receiversTail(e));
  if (r != 0) {
    takeCall(r, caller, badge, label, w0, w1, w2, w3, capRef, capGen);
    arch.context_set(r, arch.REG_STATUS, 0);
    threadReadyFirst(r);
    return E_OK;
  }
  ct.badge = badge;
  ct.label = label;
  ct.w0 = w0;
  ct.w1 = w1;
  ct.w2 = w2;
  ct.w3 = w3;
  ct.capGid = capRef;
  ct.capGen = capGen;
  ct.arrival = e.arrival++;
  ct.state = THREAD_BLOCKED_CALL;
  queueAppend(callers(e), callersTail(e), caller);
  return E_OK;
}

// SYS_SEND: to a waiting receiver (which becomes ready; the sender goes on),
// else into the queue; E_QUEUE_FULL when the queue is full, and then
// nothing changed. A send to an endpoint nobody receives on right now is
// queued: a restarted server finds it.
export function ipcSend(senderPid: u32, ep: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32): i32 {
  let e = endpointAt(ep);
  let r = queuePop(receivers(e), receiversTail(e));
  if (r != 0) {
    deliverWoken(r, badge, receivedLabel(r, label, capRef, capGen), w0, w1, w2, w3);
    threadReady(r);
    e.sends++;
    return E_OK;
  }
  if (e.count >= e.depth) return E_QUEUE_FULL;
  let position = e.head + e.count;
  if (position >= e.depth) position -= e.depth;
  let m = messageAt(ep, position);
  m.badge = badge;
  m.label = label;
  m.w0 = w0;
  m.w1 = w1;
  m.w2 = w2;
  m.w3 = w3;
  m.senderPid = senderPid;
  m.capGid = capRef;
  m.capGen = capGen;
  m.arrival = e.arrival++;
  e.count++;
  e.sends++;
  return E_OK;
}

// Gives the oldest pending call or message of `ep` to receiver `tid`
// (results only); false when nothing is pending.
function takePending(tid: u32, ep: u32): bool {
  let e = endpointAt(ep);
  let c = e.callHead;
  if (c == 0 && e.count == 0) return false;
  let useCall = c != 0 && (e.count == 0 || <i32>(threadAt(c).arrival - messageAt(ep, e.head).arrival) < 0);
  if (useCall) {
    queuePop(callers(e), callersTail(e));
    let ct = threadAt(c);
    takeCall(tid, c, ct.badge, ct.label, ct.w0, ct.w1, ct.w2, ct.w3, ct.capGid, ct.capGen);
    ct.capGid = 0;
  } else {
    let m = messageAt(ep, e.head);
    deliverRegs(tid, m.badge, receivedLabel(tid, m.label, m.capGid, m.capGen), m.w0, m.w1, m.w2, m.w3);
    e.head = e.head + 1 == e.depth ? 0 : e.head + 1;
    e.count--;
  }
  return true;
}

// A server that receives again while a caller waits for its reply abandons
// that call: the caller is woken with E_ABANDONED.
function abandonCall(tid: u32): void {
  let c = replyTarget(tid);
  if (c > 0) wake(<u32>c, E_ABANDONED);
}

// Whether another receiver waits bound to notification `n`.
function boundElsewhere(n: u32, tid: u32): bool {
  let b = notificationAt(n).bound;
  return b != 0 && b != tid && threadAt(b).state == THREAD_BLOCKED_RECV && threadAt(b).boundNotification == n + 1;
}

// A bound notification's bits, as a message (results only); takes them.
function deliverNotified(tid: u32, o: Notification): void {
  deliverRegs(tid, 0, LABEL_NOTIFIED, o.word, 0, 0, 0);
  o.word = 0;
}

// SYS_RECV: takes the bits of the bound notification if it has any, else
// the oldest pending call or message, or blocks. `recvSlotRef` (slot + 1,
// 0: none) is where a travelling capability goes; `recvCap` the gid of the
// RECEIVE capability used (checked); `notificationRef` a notification index
// + 1 to bind (0: none; E_BAD_ARG when another receiver waits bound to it).
export function ipcRecv(tid: u32, ep: u32, recvSlotRef: u32, recvCap: u32, notificationRef: u32): i32 {
  if (notificationRef != 0 && boundElsewhere(notificationRef - 1, tid)) return E_BAD_ARG;
  abandonCall(tid);
  let t = threadAt(tid);
  t.recvSlot = <u8>recvSlotRef;
  t.boundNotification = 0;
  if (notificationRef != 0) {
    let o = notificationAt(notificationRef - 1);
    if (o.word != 0) {
      deliverNotified(tid, o);
      return E_OK;
    }
  }
  if (takePending(tid, ep)) return E_OK;
  let e = endpointAt(ep);
  t.state = THREAD_BLOCKED_RECV;
  t.blockedOn = ep;
  t.recvCapGid = recvCap + 1;
  if (notificationRef != 0) {
    t.boundNotification = notificationRef;
    notificationAt(notificationRef - 1).bound = tid;
  }
  queueAppend(receivers(e), receiversTail(e), tid);
  return E_OK;
}

// Takes the reply right of `tid`: the caller's tid, E_NO_CALLER when it has
// none, E_PEER_DEAD when that caller died (or was woken) since.
function replyTarget(tid: u32): i32 {
  let t = threadAt(tid);
  let c = t.replyTo;
  if (c == 0) return E_NO_CALLER;
  t.replyTo = 0;
  let ct = threadAt(c);
  if (ct.generation != t.replyGen || ct.state != THREAD_BLOCKED_REPLY) return E_PEER_DEAD;
  return <i32>c;
}

// The reply into caller `c`'s registers; the caller is not yet ready.
function replyDeliver(c: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32): void {
  let ct = threadAt(c);
  endpointAt(ct.blockedOn).replies++;
  deliverWoken(c, 0, receivedLabel(c, label, capRef, capGen), w0, w1, w2, w3);
}

// SYS_REPLY: the caller gets the reply (badge 0) and becomes ready; the
// server goes on. E_NO_CALLER / E_PEER_DEAD as replyTarget.
export function ipcReply(tid: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32): i32 {
  let c = replyTarget(tid);
  if (c < 0) return c;
  replyDeliver(<u32>c, label, w0, w1, w2, w3, capRef, capGen);
  threadReady(<u32>c);
  return E_OK;
}

// What the reply half of the last ipcReplyRecv came to (for the audit).
let replyRecvReplyStatus: i32 = E_OK;
export function ipcLastReplyStatus(): i32 { return replyRecvReplyStatus; }

// SYS_REPLY_RECV: the reply half as SYS_REPLY, except that a missing or
// dead caller does not stop the receive half (its status is kept for the
// audit: ipcLastReplyStatus); then SYS_RECV, bound to `notificationRef` as
// ipcRecv. A caller that got its reply runs next if the server blocks.
export function ipcReplyRecv(tid: u32, ep: u32, recvCap: u32, label: u64, w0: u64, w1: u64, w2: u64, w3: u64, capRef: u32, capGen: u32,
                             notificationRef: u32): i32 {
  let c = replyTarget(tid);
  replyRecvReplyStatus = c < 0 ? c : E_OK;
  if (c > 0) replyDeliver(<u32>c, label, w0, w1, w2, w3, capRef, capGen);
  let status = ipcRecv(tid, ep, <u32>(label >> LABEL_RECV_SHIFT), recvCap, notificationRef);
  if (c > 0) {
    if (threadAt(tid).state == THREAD_RUNNING) threadReady(<u32>c);
    else threadReadyFirst(<u32>c);
  }
  return status;
}

// ---------------------------------------------------------------------------
// Notifications.

// ORs `bits` in; a waiter (the first) takes them all and becomes ready;
// without one, a receiver waiting bound to the notification does.
export function notificationSignal(n: u32, bits: u64): void {
  let o = notificationAt(n);
  o.word |= bits;
  o.signals++;
  let w = queuePop(waiters(o), waitersTail(o));
  if (w != 0) {
    arch.context_set(w, arch.REG_STATUS, 0);
    arch.context_set(w, arch.REG_RESULT0, o.word);
    o.word = 0;
    threadReady(w);
    return;
  }
  let b = o.bound;
  if (b != 0 && threadAt(b).state == THREAD_BLOCKED_RECV && threadAt(b).boundNotification == n + 1) {
    let bt = threadAt(b);
    let e = endpointAt(bt.blockedOn);
    queueRemove(receivers(e), receiversTail(e), b);
    bt.boundNotification = 0;
    o.bound = 0;
    arch.context_set(b, arch.REG_STATUS, 0);
    deliverNotified(b, o);
    threadReady(b);
  }
}

// SYS_WAIT: takes the pending bits (r0), or blocks until a signal.
export function notificationWait(tid: u32, n: u32): i32 {
  let o = notificationAt(n);
  if (o.word != 0) {
    arch.context_set(tid, arch.REG_RESULT0, o.word);
    o.word = 0;
    return E_OK;
  }
  let t = threadAt(tid);
  t.state = THREAD_BLOCKED_WAIT;
  t.blockedOn = n;
  queueAppend(waiters(o), waitersTail(o), tid);
  return E_OK;
}

// ---------------------------------------------------------------------------
// Interrupts: source s signals bit (s mod 64) of the notification bound to
// it (the one an IRQ grant named, or an anonymous one the kernel made).

export function irqBind(source: u32, n: u32): void {
  store<u32>(irqBindings + (<usize>source << 2), n + 1);
}

// The notification bound to `source`; -1 when none.
export function irqNotification(source: u32): i32 {
  if (source >= MAX_IRQ_SOURCES) return -1;
  return <i32>load<u32>(irqBindings + (<usize>source << 2)) - 1;
}

export function irqCount(source: u32): u64 {
  return source < MAX_IRQ_SOURCES ? load<u64>(irqCounts + (<usize>source << 3)) : 0;
}

// The kernel entry for a device interrupt routed to user space. Returns
// the thread to run: the interrupted one, or the first ready thread when
// the CPU was idle.
export function irqDeliver(source: u32): u32 {
  let n = irqNotification(source);
  if (n >= 0) {
    store<u64>(irqCounts + (<usize>source << 3), irqCount(source) + 1);
    notificationSignal(<u32>n, (<u64>1) << (<u64>(source & 63)));
  }
  return schedAfterInterrupt();
}

// ---------------------------------------------------------------------------
// Capabilities and deaths.

export function endpointReceiveCapAdded(ep: u32): void {
  endpointAt(ep).receiverCaps++;
}

// A RECEIVE capability on `ep` (slot `gid`) is gone. A receiver waiting
// through it stops waiting (E_NO_CAP). When none is left, nobody can answer
// the waiting callers: they get E_PEER_DEAD. Queued sends stay for
// whoever gets a RECEIVE capability next (a restarted server).
export function endpointReceiveCapRemoved(ep: u32, gid: u32): void {
  let e = endpointAt(ep);
  if (e.receiverCaps > 0) e.receiverCaps--;
  let at = e.recvHead;
  while (at != 0) {
    let next = threadAt(at).next;
    if (threadAt(at).recvCapGid == gid + 1) {
      queueRemove(receivers(e), receiversTail(e), at);
      wake(at, E_NO_CAP);
    }
    at = next;
  }
  if (e.receiverCaps != 0) return;
  for (let c = queuePop(callers(e), callersTail(e)); c != 0; c = queuePop(callers(e), callersTail(e))) {
    threadAt(c).capGid = 0;
    wake(c, E_PEER_DEAD);
  }
}

// A dying thread leaves whatever queue it waits in; a caller it was
// serving gets E_PEER_DEAD. (A caller waiting for its own reply needs
// nothing: the server's reply finds it gone by its generation.)
export function ipcThreadCancel(tid: u32): void {
  let t = threadAt(tid);
  if (t.state == THREAD_BLOCKED_CALL) {
    let e = endpointAt(t.blockedOn);
    queueRemove(callers(e), callersTail(e), tid);
  } else if (t.state == THREAD_BLOCKED_RECV) {
    let e = endpointAt(t.blockedOn);
    queueRemove(receivers(e), receiversTail(e), tid);
    if (t.boundNotification != 0 && notificationAt(t.boundNotification - 1).bound == tid) {
      notificationAt(t.boundNotification - 1).bound = 0;
    }
    t.boundNotification = 0;
  } else if (t.state == THREAD_BLOCKED_WAIT) {
    let o = notificationAt(t.blockedOn);
    queueRemove(waiters(o), waitersTail(o), tid);
  }
  let c = replyTarget(tid);
  if (c > 0) wake(<u32>c, E_PEER_DEAD);
}

// The interceptor denied an operation on `ep`.
export function endpointDenied(ep: u32): void {
  if (ep < MAX_ENDPOINTS) endpointAt(ep).denials++;
}
