// kernel/ipc.ts, through the system calls that reach it: call/reply and
// its fast paths, blocking receive, the bounded asynchronous queue,
// arrival order, the peer-dead corners, capability transfer, badges,
// notifications, interrupts and bound notifications; and that the fast
// path allocates nothing.

import {
  endpointAt, irqDeliver, irqCount, notificationAt,
} from "../../kernel/ipc";
import { capAt, capDelete, capGid } from "../../kernel/cap";
import { processAt, processKill, processStateOf, threadAt, THREAD_BLOCKED_CALL, THREAD_BLOCKED_RECV,
  THREAD_BLOCKED_REPLY, THREAD_BLOCKED_WAIT, THREAD_READY, THREAD_RUNNING,
} from "../../kernel/proc";
import {
  CAP_ENDPOINT, CAP_IRQ, CAP_NONE, CAP_NOTIFICATION, E_ABANDONED, E_BAD_ARG, E_BAD_SLOT, E_NO_CALLER, E_NO_CAP,
  E_NO_RIGHTS, E_OK, E_PEER_DEAD, E_QUEUE_FULL, LABEL_CAP_LOST, LABEL_NOTIFIED, labelWithCap, labelWithRecv,
  RIGHT_CALL, RIGHT_GRANT, RIGHT_RECEIVE, RIGHT_SEND, SYS_CALL, SYS_CAP_DELETE, SYS_CAP_DERIVE, SYS_CAP_REVOKE,
  SYS_NULL, SYS_RECV, SYS_REPLY, SYS_REPLY_RECV, SYS_SEND, SYS_SIGNAL, SYS_WAIT, PROC_DEAD,
} from "../../kernel/abi";
import {
  allocation_count, EP_OTHER, EP_SERVER, EP_SMALL, grant, irqGrant, mainTid, reg, spawnProcess, status, sys,
  systemReset, NOTE,
} from "./process_fixtures";

const BADGE: u64 = 7;

// A server with RECEIVE on "server" (slot 0) and RECEIVE on "note" (slot
// 1); returns its process index.
function server(): u32 {
  return spawnProcess("server", [
    grant(0, CAP_ENDPOINT, RIGHT_RECEIVE, "server"),
    grant(1, CAP_NOTIFICATION, RIGHT_RECEIVE, "note"),
  ]);
}

// A client with CALL and SEND on "server" badged BADGE (slot 0), SEND and
// GRANT on "other" (slot 1), SEND on "small" (slot 2), SEND on "note"
// (slot 3), and an unbadged CALL on "server" (slot 4).
function client(name: string = "client"): u32 {
  return spawnProcess(name, [
    grant(0, CAP_ENDPOINT, RIGHT_CALL | RIGHT_SEND, "server", BADGE),
    grant(1, CAP_ENDPOINT, RIGHT_SEND | RIGHT_GRANT, "other"),
    grant(2, CAP_ENDPOINT, RIGHT_SEND, "small"),
    grant(3, CAP_NOTIFICATION, RIGHT_SEND, "note"),
    grant(4, CAP_ENDPOINT, RIGHT_CALL, "server"),
  ]);
}

function expectWords(tid: u32, badge: u64, label: u64, w0: u64, w1: u64, w2: u64, w3: u64): void {
  expect(reg(tid, 0)).toBe(badge);
  expect(reg(tid, 1)).toBe(label);
  expect(reg(tid, 2)).toBe(w0);
  expect(reg(tid, 3)).toBe(w1);
  expect(reg(tid, 4)).toBe(w2);
  expect(reg(tid, 5)).toBe(w3);
}

describe("call and reply", () => {
  it("makes a round trip: the caller waits, the server answers", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    expect(sys(s, SYS_RECV, 0, 0)).toBe(c);             // nothing pending: the server waits
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
    expect(sys(c, SYS_CALL, 0, 0x1234, 1, 2, 3, 4)).toBe(s); // straight to the waiting server
    expect(threadAt(c).state).toBe(THREAD_BLOCKED_REPLY);
    expect(status(s)).toBe(E_OK);
    expectWords(s, BADGE, 0x1234, 1, 2, 3, 4);
    expect(sys(s, SYS_REPLY, 0x99, 5, 6, 7, 8)).toBe(s);  // the server goes on
    expect(status(s)).toBe(E_OK);
    expect(threadAt(c).state).toBe(THREAD_READY);
    expect(status(c)).toBe(E_OK);
    expectWords(c, 0, 0x99, 5, 6, 7, 8);                  // a reply has badge 0
    let e = endpointAt(EP_SERVER);
    expect(e.calls).toBe(1);
    expect(e.replies).toBe(1);
  });

  it("takes a call that waited for the server (slow path)", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(c, SYS_CALL, 0, 0x55, 9, 0, 0, 0);
    expect(threadAt(c).state).toBe(THREAD_BLOCKED_CALL);
    expect(sys(s, SYS_RECV, 0, 0)).toBe(s);               // pending: no wait
    expectWords(s, BADGE, 0x55, 9, 0, 0, 0);
    expect(threadAt(c).state).toBe(THREAD_BLOCKED_REPLY);
  });

  it("goes round with reply_recv: the caller runs, the server waits again", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);
    for (let i: u64 = 0; i < 50; i++) {
      expect(sys(c, SYS_CALL, 0, 0x10, i, 0, 0, 0)).toBe(s);
      expect(reg(s, 2)).toBe(i);
      expect(sys(s, SYS_REPLY_RECV, 0, 0x20, i * 2, 0, 0, 0)).toBe(c);
      expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
      expect(threadAt(c).state).toBe(THREAD_RUNNING);
      expect(status(c)).toBe(E_OK);
      expect(reg(c, 2)).toBe(i * 2);
    }
    expect(endpointAt(EP_SERVER).calls).toBe(50);
    expect(endpointAt(EP_SERVER).replies).toBe(50);
  });

  it("stamps the badge of the capability used; the message cannot choose it", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(c, SYS_CAP_DERIVE, 4, 5, RIGHT_CALL, 99);        // a badge on the unbadged copy
    expect(status(c)).toBe(E_OK);
    sys(c, SYS_CAP_DERIVE, 0, 6, RIGHT_CALL, 99);        // the badged one keeps its badge
    expect(status(c)).toBe(E_BAD_ARG);
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 5, 0xffffffff, BADGE, 0, 0, 0);
    expect(reg(s, 0)).toBe(99);
    sys(s, SYS_REPLY_RECV, 0, 0, 0, 0, 0, 0);
    sys(c, SYS_CALL, 4, 0, 0, 0, 0, 0);
    expect(reg(s, 0)).toBe(0);
  });

  it("answers E_NO_CALLER to a reply with nobody to answer", () => {
    systemReset();
    let s = mainTid(server());
    sys(s, SYS_REPLY, 1, 0, 0, 0, 0);
    expect(status(s)).toBe(E_NO_CALLER);
  });

  it("wakes an abandoned caller with E_ABANDONED", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    expect(sys(s, SYS_RECV, 0, 0)).toBe(c);              // receives again without replying
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
    expect(status(c)).toBe(E_ABANDONED);
  });
});

describe("asynchronous send", () => {
  it("wakes a waiting receiver and lets the sender go on", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);
    expect(sys(c, SYS_SEND, 0, 0x77, 1, 2, 3, 4)).toBe(c);
    expect(status(c)).toBe(E_OK);
    expect(threadAt(s).state).toBe(THREAD_READY);
    expect(status(s)).toBe(E_OK);
    expectWords(s, BADGE, 0x77, 1, 2, 3, 4);
  });

  it("queues up to the depth, then E_QUEUE_FULL with nothing lost or added", () => {
    systemReset();
    let receiver = spawnProcess("small-server", [grant(0, CAP_ENDPOINT, RIGHT_RECEIVE, "small")]);
    let r = mainTid(receiver);
    let c = mainTid(client());
    sys(c, SYS_SEND, 2, 1, 10, 0, 0, 0);
    expect(status(c)).toBe(E_OK);
    sys(c, SYS_SEND, 2, 2, 20, 0, 0, 0);
    expect(status(c)).toBe(E_OK);
    sys(c, SYS_SEND, 2, 3, 30, 0, 0, 0);
    expect(status(c)).toBe(E_QUEUE_FULL);
    let e = endpointAt(EP_SMALL);
    expect(e.count).toBe(2);
    expect(e.sends).toBe(2);
    expect(e.denials).toBe(1);
    sys(r, SYS_RECV, 0, 0);
    expect(reg(r, 1)).toBe(1);
    expect(reg(r, 2)).toBe(10);
    sys(r, SYS_RECV, 0, 0);
    expect(reg(r, 1)).toBe(2);
    expect(e.count).toBe(0);
    sys(r, SYS_RECV, 0, 0);                              // empty: it waits
    expect(threadAt(r).state).toBe(THREAD_BLOCKED_RECV);
  });

  it("delivers calls and sends in the order they arrived", () => {
    systemReset();
    let s = mainTid(server());
    let a = mainTid(client("a"));
    let b = mainTid(client("b"));
    sys(a, SYS_SEND, 0, 1, 0, 0, 0, 0);
    sys(b, SYS_CALL, 0, 2, 0, 0, 0, 0);
    sys(a, SYS_SEND, 0, 3, 0, 0, 0, 0);
    sys(s, SYS_RECV, 0, 0);
    expect(reg(s, 1)).toBe(1);
    sys(s, SYS_RECV, 0, 0);
    expect(reg(s, 1)).toBe(2);
    sys(s, SYS_REPLY, 0, 0, 0, 0, 0);
    sys(s, SYS_RECV, 0, 0);
    expect(reg(s, 1)).toBe(3);
  });
});

describe("a peer that dies", () => {
  it("wakes a caller whose call the server took with E_PEER_DEAD", () => {
    systemReset();
    let serverIndex = server();
    let s = mainTid(serverIndex);
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    processKill(serverIndex, 0);
    expect(threadAt(c).state).toBe(THREAD_READY);
    expect(status(c)).toBe(E_PEER_DEAD);
  });

  it("fails queued callers when the last RECEIVE capability goes, and later calls at once", () => {
    systemReset();
    let serverIndex = server();
    let c = mainTid(client());
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    expect(threadAt(c).state).toBe(THREAD_BLOCKED_CALL);
    processKill(serverIndex, 0);
    expect(threadAt(c).state).toBe(THREAD_READY);
    expect(status(c)).toBe(E_PEER_DEAD);
    expect(endpointAt(EP_SERVER).callHead).toBe(0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    expect(status(c)).toBe(E_PEER_DEAD);
    sys(c, SYS_SEND, 0, 1, 0, 0, 0, 0);                  // a send waits for a restarted server
    expect(status(c)).toBe(E_OK);
    expect(endpointAt(EP_SERVER).count).toBe(1);
  });

  it("answers a reply to a caller that died with E_PEER_DEAD", () => {
    systemReset();
    let s = mainTid(server());
    let clientIndex = client();
    let c = mainTid(clientIndex);
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    processKill(clientIndex, 0);
    sys(s, SYS_REPLY, 0, 0, 0, 0, 0);
    expect(status(s)).toBe(E_PEER_DEAD);
  });

  it("keeps receiving on reply_recv when the caller died", () => {
    systemReset();
    let s = mainTid(server());
    let clientIndex = client();
    let c = mainTid(clientIndex);
    let other = mainTid(client("other"));
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);
    processKill(clientIndex, 0);
    sys(other, SYS_SEND, 0, 5, 0, 0, 0, 0);
    sys(s, SYS_REPLY_RECV, 0, 0, 0, 0, 0, 0);
    expect(status(s)).toBe(E_OK);
    expect(reg(s, 1)).toBe(5);
  });

  it("wakes a receiver whose RECEIVE capability is deleted with E_NO_CAP", () => {
    systemReset();
    let serverIndex = server();
    let s = mainTid(serverIndex);
    let c = mainTid(client());
    sys(s, SYS_CAP_DERIVE, 0, 9, RIGHT_RECEIVE, 0);
    sys(s, SYS_RECV, 9, 0);
    sys(c, SYS_CALL, 4, 1, 0, 0, 0, 0);                    // taken at once: through slot 9
    sys(s, SYS_REPLY, 0, 0, 0, 0, 0);
    sys(s, SYS_RECV, 9, 0);
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
    capDelete(serverIndex, 9);                             // what a revoke by an ancestor does
    expect(threadAt(s).state).toBe(THREAD_READY);
    expect(status(s)).toBe(E_NO_CAP);
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(1);    // slot 0 still receives
    sys(c, SYS_CALL, 4, 2, 0, 0, 0, 0);                    // so a call still waits
    expect(threadAt(c).state).toBe(THREAD_BLOCKED_CALL);
  });
});

describe("capability transfer", () => {
  it("moves a copy with GRANT into the receiver's slot, under the sender's", () => {
    systemReset();
    let serverIndex = server();
    let s = mainTid(serverIndex);
    let clientIndex = client();
    let c = mainTid(clientIndex);
    sys(s, SYS_RECV, 0, 6);                              // capabilities to slot 5
    expect(sys(c, SYS_CALL, 0, labelWithCap(0x10, 1), 0, 0, 0, 0)).toBe(s);
    expect(reg(s, 1)).toBe(0x10 | ((<u64>6) << 32));
    let copy = capAt(capGid(serverIndex, 5));
    expect(copy.type).toBe(CAP_ENDPOINT);
    expect(copy.object).toBe(EP_OTHER);
    expect(copy.rights).toBe(RIGHT_SEND | RIGHT_GRANT);
    sys(s, SYS_REPLY, 0, 0, 0, 0, 0);
    sys(c, SYS_CAP_REVOKE, 1);
    expect(reg(c, 0)).toBe(1);
    expect(capAt(capGid(serverIndex, 5)).type).toBe(CAP_NONE);
  });

  it("refuses to send a capability without GRANT: nothing is delivered", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 6);
    expect(sys(c, SYS_CALL, 0, labelWithCap(0x10, 3), 0, 0, 0, 0)).toBe(c);
    expect(status(c)).toBe(E_NO_RIGHTS);
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
    expect(endpointAt(EP_SERVER).denials).toBe(1);
    sys(c, SYS_CALL, 0, labelWithCap(0x10, 40), 0, 0, 0, 0);  // an empty slot
    expect(status(c)).toBe(E_BAD_SLOT);
  });

  it("delivers the message but not the capability when the receiver takes none", () => {
    systemReset();
    let serverIndex = server();
    let s = mainTid(serverIndex);
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);                              // no receive slot
    sys(c, SYS_SEND, 0, labelWithCap(0x11, 1), 3, 0, 0, 0);
    expect(status(c)).toBe(E_OK);
    expect(reg(s, 1)).toBe(0x11 | LABEL_CAP_LOST);
    expect(reg(s, 2)).toBe(3);
    sys(s, SYS_RECV, 0, 2);                              // slot 1 is occupied
    sys(c, SYS_SEND, 0, labelWithCap(0x12, 1), 0, 0, 0, 0);
    expect(reg(s, 1)).toBe(0x12 | LABEL_CAP_LOST);
    expect(capAt(capGid(serverIndex, 1)).type).toBe(CAP_NOTIFICATION);
  });

  it("drops a capability deleted while its message waited in the queue", () => {
    systemReset();
    let serverIndex = server();
    let s = mainTid(serverIndex);
    let c = mainTid(client());
    sys(c, SYS_SEND, 0, labelWithCap(0x13, 1), 0, 0, 0, 0);
    sys(c, SYS_CAP_DELETE, 1);
    sys(s, SYS_RECV, 0, 8);
    expect(reg(s, 1)).toBe(0x13 | LABEL_CAP_LOST);
    expect(capAt(capGid(serverIndex, 7)).type).toBe(CAP_NONE);
  });

  it("carries a capability back in a reply, to the slot the call named", () => {
    systemReset();
    let s = mainTid(server());
    let clientIndex = client();
    let c = mainTid(clientIndex);
    sys(s, SYS_RECV, 0, 6);
    sys(c, SYS_CALL, 0, labelWithCap(0, 1), 0, 0, 0, 0);     // hands "other" over (slot 5)
    sys(s, SYS_REPLY, labelWithCap(0, 5), 0, 0, 0, 0);       // and it comes back...
    expect(reg(c, 1)).toBe(LABEL_CAP_LOST);                  // ...lost: the call named no slot
    sys(c, SYS_CALL, 0, labelWithRecv(0, 20), 0, 0, 0, 0);
    sys(s, SYS_RECV, 0, 0);
    sys(s, SYS_REPLY, labelWithCap(0, 5), 0, 0, 0, 0);
    expect(status(s)).toBe(E_OK);
    expect(reg(c, 1)).toBe((<u64>21) << 32);
    expect(capAt(capGid(clientIndex, 20)).type).toBe(CAP_ENDPOINT);
    expect(capAt(capGid(clientIndex, 20)).object).toBe(EP_OTHER);
  });
});

describe("notifications and interrupts", () => {
  it("ORs signals together until someone waits", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(c, SYS_SIGNAL, 3, 1);
    sys(c, SYS_SIGNAL, 3, 4);
    sys(s, SYS_WAIT, 1);
    expect(status(s)).toBe(E_OK);
    expect(reg(s, 0)).toBe(5);
    expect(notificationAt(NOTE).word).toBe(0);
  });

  it("blocks a waiter until a signal", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_WAIT, 1);
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_WAIT);
    sys(c, SYS_SIGNAL, 3, 8);
    expect(threadAt(s).state).toBe(THREAD_READY);
    expect(status(s)).toBe(E_OK);
    expect(reg(s, 0)).toBe(8);
    sys(c, SYS_SIGNAL, 3, 0);
    expect(status(c)).toBe(E_BAD_ARG);
  });

  it("turns an interrupt into a notification for the IRQ capability's holder", () => {
    systemReset();
    let driver = mainTid(spawnProcess("driver", [irqGrant(3, RIGHT_RECEIVE, 1)]));
    expect(sys(driver, SYS_WAIT, 3)).toBe(0);            // waits; nothing else to run
    expect(irqDeliver(1)).toBe(driver);                   // the CPU was idle: the driver runs
    expect(status(driver)).toBe(E_OK);
    expect(reg(driver, 0)).toBe(2);                        // bit 1 for source 1
    expect(irqCount(1)).toBe(1);
    expect(irqDeliver(5)).toBe(driver);                   // unbound: nothing, the driver keeps running
    expect(irqCount(5)).toBe(0);
  });

  it("wakes a receive bound to a notification with LABEL_NOTIFIED", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0, 2);                            // bound to slot 1
    expect(threadAt(s).state).toBe(THREAD_BLOCKED_RECV);
    sys(c, SYS_SIGNAL, 3, 0x40);
    expect(threadAt(s).state).toBe(THREAD_READY);
    expectWords(s, 0, LABEL_NOTIFIED, 0x40, 0, 0, 0);
    expect(endpointAt(EP_SERVER).recvHead).toBe(0);       // it left the endpoint's queue
    sys(c, SYS_SIGNAL, 3, 0x80);                          // pending bits win over messages
    sys(c, SYS_SEND, 0, 9, 0, 0, 0, 0);
    sys(s, SYS_RECV, 0, 0, 2);
    expect(reg(s, 1)).toBe(LABEL_NOTIFIED);
    expect(reg(s, 2)).toBe(0x80);
    sys(s, SYS_RECV, 0, 0, 2);
    expect(reg(s, 1)).toBe(9);
  });

  it("allows one bound receiver per notification, and checks the slot", () => {
    systemReset();
    let s = mainTid(server());
    let t = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0, 2);
    sys(t, SYS_RECV, 0, 0, 2);
    expect(status(t)).toBe(E_BAD_ARG);
    sys(t, SYS_RECV, 0, 0, 65);
    expect(status(t)).toBe(E_BAD_SLOT);
    sys(c, SYS_RECV, 0, 0, 0);                            // CALL|SEND, no RECEIVE
    expect(status(c)).toBe(E_NO_RIGHTS);
  });
});

describe("the fast path", () => {
  it("allocates nothing", () => {
    systemReset();
    let s = mainTid(server());
    let c = mainTid(client());
    sys(s, SYS_RECV, 0, 0);
    sys(c, SYS_CALL, 0, 1, 0, 0, 0, 0);                    // warm up
    sys(s, SYS_REPLY_RECV, 0, 1, 0, 0, 0, 0);
    let before = allocation_count();
    let wrong = 0; // no expect() inside: it allocates
    for (let i = 0; i < 100; i++) {
      if (sys(c, SYS_CALL, 0, 1, 2, 3, 4, 5) != s) wrong++;
      if (sys(s, SYS_REPLY_RECV, 0, 6, 7, 8, 9, 10) != c) wrong++;
      sys(c, SYS_NULL);
      sys(c, SYS_SIGNAL, 3, 1);
    }
    for (let i = 0; i < 100; i++) {
      if (sys(c, SYS_SEND, 0, 1, 0, 0, 0, 0) != c) wrong++;  // to the waiting server
      if (sys(s, SYS_RECV, 0, 0) != c) wrong++;             // it waits again
    }
    let after = allocation_count();
    expect(wrong).toBe(0);
    expect(after).toBe(before);
    expect(endpointAt(EP_SERVER).calls).toBe(101);
    expect(endpointAt(EP_SERVER).sends).toBe(100);
  });
});
