// kernel/audit.ts: the interceptor's record and the rate limit. Denials are
// always recorded and never pushed out by allowed operations; a flood of
// one denial is one record with a count; the rings wrap keeping the newest;
// the token bucket empties and refills on the tick.

import {
  AUDIT_RING, auditAllowedEvents, auditAllowedRecords, auditDeniedEvents, auditDeniedRecords,
  auditDenialsOverwritten, auditFind, auditLastTrace, auditRecord, rateTokensLeft,
} from "../../kernel/audit";
import { processAt } from "../../kernel/proc";
import {
  AUDIT_TARGET_ENDPOINT, AUDIT_TARGET_NOTIFICATION, AUDIT_TARGET_SLOT, CAP_ENDPOINT, CAP_NOTIFICATION,
  E_BAD_SLOT, E_NO_RIGHTS, E_OK, E_RATE_LIMITED, RATE_BURST, RATE_REFILL_PER_TICK, RIGHT_SEND, RIGHTS_ALL,
  SYS_CALL, SYS_CAP_DELETE, SYS_CAP_DERIVE, SYS_NULL, SYS_SEND, SYS_SIGNAL,
} from "../../kernel/abi";
import { timerTick } from "../../kernel/state";
import { EP_SERVER, grant, mainTid, NOTE, spawnProcess, status, sys, systemReset } from "./process_fixtures";

function signaller(): u32 {
  return spawnProcess("signaller", [
    grant(0, CAP_NOTIFICATION, RIGHT_SEND, "note"),
    grant(1, CAP_ENDPOINT, RIGHT_SEND, "server"),
    grant(2, CAP_ENDPOINT, RIGHTS_ALL, "other"),
  ]);
}

describe("the audit record", () => {
  it("records a denial: caller, target, operation, verdict", () => {
    systemReset();
    let index = signaller();
    let tid = mainTid(index);
    sys(tid, SYS_CALL, 5, 0, 0, 0, 0, 0);
    expect(status(tid)).toBe(E_BAD_SLOT);
    let r = auditFind(U64.MAX_VALUE, true, true);
    expect(r).not.toBeNull();
    expect(r!.caller).toBe(processAt(index).pid);
    expect(r!.op).toBe(<u8>SYS_CALL);
    expect(r!.kind).toBe(AUDIT_TARGET_SLOT);
    expect(r!.target).toBe(5);
    expect(r!.verdict).toBe(<i16>E_BAD_SLOT);
    expect(r!.count).toBe(1);
  });

  it("records allowed IPC, and nothing for the quiet calls", () => {
    systemReset();
    let tid = mainTid(signaller());
    let before = auditAllowedEvents(); // the scheduler's placement of the new thread
    sys(tid, SYS_NULL);
    expect(auditAllowedEvents()).toBe(before);
    sys(tid, SYS_SEND, 1, 0, 0, 0, 0, 0);
    expect(status(tid)).toBe(E_OK);
    expect(auditAllowedEvents()).toBe(before + 1);
    let r = auditFind(U64.MAX_VALUE, false, true)!;
    expect(r.op).toBe(<u8>SYS_SEND);
    expect(r.kind).toBe(AUDIT_TARGET_ENDPOINT);
    expect(r.target).toBe(EP_SERVER);
    expect(r.verdict).toBe(0);
    expect(auditDeniedRecords()).toBe(0);
  });

  it("coalesces a flood of one denial into one record with a count", () => {
    systemReset();
    let tid = mainTid(signaller());
    for (let i = 0; i < 10000; i++) sys(tid, SYS_CALL, 40, 0, 0, 0, 0, 0);
    expect(auditDeniedEvents()).toBe(10000);
    expect(auditDeniedRecords()).toBe(1);
    expect(auditFind(0, true, false)!.count).toBe(10000);
  });

  it("coalesces alternating denials too (within the newest few)", () => {
    systemReset();
    let tid = mainTid(signaller());
    for (let i = 0; i < 100; i++) {
      sys(tid, SYS_CALL, 40, 0, 0, 0, 0, 0);
      sys(tid, SYS_CALL, 41, 0, 0, 0, 0, 0);
      sys(tid, SYS_CALL, 1, 0, 0, 0, 0, 0);   // SEND only: E_NO_RIGHTS
    }
    expect(auditDeniedRecords()).toBe(3);
    expect(auditFind(U64.MAX_VALUE, true, true)!.verdict).toBe(<i16>E_NO_RIGHTS);
  });

  it("keeps the newest AUDIT_RING distinct denials and counts what went", () => {
    systemReset();
    let tid = mainTid(signaller());
    for (let i: u64 = 0; i < 1500; i++) sys(tid, SYS_CALL, 100 + i, 0, 0, 0, 0, 0);
    expect(auditDeniedRecords()).toBe(<u64>AUDIT_RING);
    expect(auditDenialsOverwritten()).toBe(1500 - <u64>AUDIT_RING);
    expect(auditFind(0, true, false)!.target).toBe(100 + 1500 - AUDIT_RING);   // the oldest kept
    expect(auditFind(U64.MAX_VALUE, true, true)!.target).toBe(100 + 1499);      // the newest
  });

  it("never lets allowed operations push a denial out", () => {
    systemReset();
    let tid = mainTid(signaller());
    sys(tid, SYS_CALL, 50, 0, 0, 0, 0, 0);
    let denial = auditLastTrace();
    for (let round = 0; round < 20; round++) {
      for (let slot: u64 = 3; slot < 64; slot++) {
        sys(tid, SYS_CAP_DERIVE, 2, slot, RIGHT_SEND, 0);
        sys(tid, SYS_CAP_DELETE, slot);
      }
    }
    expect(auditAllowedRecords()).toBe(<u64>AUDIT_RING);
    let kept = auditFind(0, true, false)!;
    expect(kept.trace).toBe(denial);
    expect(kept.target).toBe(50);
    expect(auditFind(0, false, false)!.trace).toBe(denial); // the oldest of all is the denial now
  });

  it("finds by trace id forward, backward, and among denials only", () => {
    systemReset();
    let a = auditRecord(1, SYS_SEND, AUDIT_TARGET_ENDPOINT, 0, E_OK);
    let b = auditRecord(1, SYS_SEND, AUDIT_TARGET_ENDPOINT, 0, E_BAD_SLOT);
    let c = auditRecord(2, SYS_SEND, AUDIT_TARGET_ENDPOINT, 1, E_OK);
    expect(b).toBe(a + 1);
    expect(c).toBe(b + 1);
    expect(auditFind(a, false, false)!.trace).toBe(a);
    expect(auditFind(a + 1, false, false)!.trace).toBe(b);
    expect(auditFind(c + 1, false, false)).toBeNull();
    expect(auditFind(c, true, true)!.trace).toBe(b);
    expect(auditFind(a, true, false)!.trace).toBe(b);
    expect(auditFind(c, false, true)!.trace).toBe(c);
    expect(auditFind(a - 1, false, true)).toBeNull();
    expect(auditRecord(1, SYS_SEND, AUDIT_TARGET_ENDPOINT, 0, E_OK)).toBe(a); // coalesced into a
    expect(auditFind(a, false, false)!.count).toBe(2);
  });
});

describe("the rate limit", () => {
  it("allows a burst, then E_RATE_LIMITED (one record), until the tick refills", () => {
    systemReset();
    let index = signaller();
    let tid = mainTid(index);
    timerTick();
    let wrong = 0;
    for (let i: u32 = 0; i < RATE_BURST; i++) {
      sys(tid, SYS_SIGNAL, 0, 1);
      if (status(tid) != E_OK) wrong++;
    }
    expect(wrong).toBe(0);
    expect(rateTokensLeft(index)).toBe(0);
    for (let i = 0; i < 1000; i++) sys(tid, SYS_SIGNAL, 0, 1);
    expect(status(tid)).toBe(E_RATE_LIMITED);
    expect(auditDeniedRecords()).toBe(1);
    let r = auditFind(0, true, false)!;
    expect(r.verdict).toBe(<i16>E_RATE_LIMITED);
    expect(r.kind).toBe(AUDIT_TARGET_NOTIFICATION);
    expect(r.target).toBe(NOTE);
    expect(r.count).toBe(1000);
    timerTick();
    sys(tid, SYS_SIGNAL, 0, 1);
    expect(status(tid)).toBe(E_OK);
    expect(rateTokensLeft(index)).toBe(RATE_REFILL_PER_TICK - 1);
  });

  it("limits each process on its own", () => {
    systemReset();
    let a = mainTid(signaller());
    let b = mainTid(signaller());
    timerTick();
    for (let i: u32 = 0; i <= RATE_BURST; i++) sys(a, SYS_SIGNAL, 0, 1);
    expect(status(a)).toBe(E_RATE_LIMITED);
    sys(b, SYS_SIGNAL, 0, 1);
    expect(status(b)).toBe(E_OK);
  });

  it("charges nothing for a call denied before it reached anyone", () => {
    systemReset();
    let index = signaller();
    let tid = mainTid(index);
    timerTick();
    let before = rateTokensLeft(index);
    sys(tid, SYS_CALL, 40, 0, 0, 0, 0, 0);
    sys(tid, SYS_SIGNAL, 0, 0);                 // bits 0: E_BAD_ARG
    expect(rateTokensLeft(index)).toBe(before);
  });
});
