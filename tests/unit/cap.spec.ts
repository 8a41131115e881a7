// kernel/cap.ts: per-process capability tables, the rights check,
// derivation with fewer rights, badges, delete, revoke through copies of
// copies, transfer, and the tree invariants behind them.

import {
  capAt, capDelete, capDerive, capFind, capGid, capInstall, capLookup, capRevoke, capTableClear,
  capTransfer, capTreeConsistent,
} from "../../kernel/cap";
import { endpointAt } from "../../kernel/ipc";
import {
  CAP_ENDPOINT, CAP_LOG, CAP_NONE, CAP_NOTIFICATION, CAP_SLOTS, E_BAD_ARG, E_BAD_SLOT, E_NO_CAP, E_NO_RIGHTS,
  E_OK, E_SLOT_FULL, LABEL_CAP_LOST, LABEL_CAP_SHIFT, RIGHT_CALL, RIGHT_GRANT, RIGHT_READ, RIGHT_RECEIVE,
  RIGHT_SEND, RIGHTS_ALL,
} from "../../kernel/abi";
import { EP_SERVER, NOTE, systemReset } from "./process_fixtures";

const A: u32 = 0; // process table indices; tables exist whether or not a process does
const B: u32 = 1;
const C: u32 = 2;

function endpointCap(index: u32, slot: u32, rights: u8, badge: u64 = 0): void {
  expect(capInstall(index, slot, CAP_ENDPOINT, rights, badge, EP_SERVER, 0, 0)).toBe(E_OK);
}

function typeAt(index: u32, slot: u32): u8 {
  return capAt(capGid(index, slot)).type;
}

describe("capLookup (the interceptor's rights check)", () => {
  it("finds a capability of the right type with the rights asked", () => {
    systemReset();
    endpointCap(A, 3, RIGHT_CALL | RIGHT_SEND);
    expect(capLookup(A, 3, CAP_ENDPOINT, RIGHT_CALL)).toBe(<i32>capGid(A, 3));
    expect(capLookup(A, 3, CAP_ENDPOINT, RIGHT_CALL | RIGHT_SEND)).toBe(<i32>capGid(A, 3));
  });

  it("names each failure", () => {
    systemReset();
    endpointCap(A, 3, RIGHT_CALL);
    expect(capLookup(A, 64, CAP_ENDPOINT, RIGHT_CALL)).toBe(E_BAD_SLOT);           // out of range
    expect(capLookup(A, 0xffffffffffff, CAP_ENDPOINT, RIGHT_CALL)).toBe(E_BAD_SLOT);
    expect(capLookup(A, 4, CAP_ENDPOINT, RIGHT_CALL)).toBe(E_BAD_SLOT);            // empty
    expect(capLookup(A, 3, CAP_NOTIFICATION, 0)).toBe(E_NO_CAP);                  // wrong type
    expect(capLookup(A, 3, CAP_ENDPOINT, RIGHT_SEND)).toBe(E_NO_RIGHTS);          // missing right
    expect(capLookup(A, 3, CAP_ENDPOINT, RIGHT_CALL | RIGHT_RECEIVE)).toBe(E_NO_RIGHTS);
  });

  it("keeps tables apart: another process's slot is not mine", () => {
    systemReset();
    endpointCap(B, 3, RIGHTS_ALL);
    expect(capLookup(A, 3, CAP_ENDPOINT, 0)).toBe(E_BAD_SLOT);
  });

  it("refuses to install over an occupied slot or out of range", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_SEND);
    expect(capInstall(A, 0, CAP_LOG, RIGHTS_ALL, 0, 0, 0, 0)).toBe(E_SLOT_FULL);
    expect(capInstall(A, CAP_SLOTS, CAP_LOG, RIGHTS_ALL, 0, 0, 0, 0)).toBe(E_BAD_SLOT);
    expect(typeAt(A, 0)).toBe(CAP_ENDPOINT);
  });
});

describe("capDerive", () => {
  it("copies with fewer rights", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_SEND | RIGHT_CALL | RIGHT_GRANT);
    expect(capDerive(A, 0, 1, RIGHT_CALL, 0)).toBe(E_OK);
    let copy = capAt(capGid(A, 1));
    expect(copy.type).toBe(CAP_ENDPOINT);
    expect(copy.rights).toBe(RIGHT_CALL);
    expect(copy.object).toBe(EP_SERVER);
    expect(copy.parent).toBe(capGid(A, 0) + 1);
    expect(capTreeConsistent()).toBe(true);
  });

  it("never adds a right", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_SEND);
    expect(capDerive(A, 0, 1, RIGHT_SEND | RIGHT_RECEIVE, 0)).toBe(E_NO_RIGHTS);
    expect(capDerive(A, 0, 1, RIGHT_GRANT, 0)).toBe(E_NO_RIGHTS);
    expect(capDerive(A, 0, 1, 0x80, 0)).toBe(E_BAD_ARG);       // no such right
    expect(typeAt(A, 1)).toBe(CAP_NONE);
  });

  it("derives a copy of a copy with still fewer rights, not more", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_SEND | RIGHT_CALL);
    expect(capDerive(A, 0, 1, RIGHT_CALL, 0)).toBe(E_OK);
    expect(capDerive(A, 1, 2, RIGHT_SEND, 0)).toBe(E_NO_RIGHTS);
    expect(capDerive(A, 1, 2, 0, 0)).toBe(E_OK);
    expect(capAt(capGid(A, 2)).rights).toBe(0);
  });

  it("sets a badge only on an unbadged endpoint capability", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL);
    expect(capDerive(A, 0, 1, RIGHT_CALL, 42)).toBe(E_OK);
    expect(capAt(capGid(A, 1)).badge).toBe(42);
    expect(capDerive(A, 1, 2, RIGHT_CALL, 43)).toBe(E_BAD_ARG);  // already badged
    expect(capDerive(A, 1, 2, RIGHT_CALL, 0)).toBe(E_OK);        // badge 0 keeps it
    expect(capAt(capGid(A, 2)).badge).toBe(42);
    expect(capInstall(A, 5, CAP_NOTIFICATION, RIGHTS_ALL, 0, NOTE, 0, 0)).toBe(E_OK);
    expect(capDerive(A, 5, 6, RIGHT_SEND, 7)).toBe(E_BAD_ARG);   // not an endpoint
    expect(typeAt(A, 6)).toBe(CAP_NONE);
  });

  it("needs an empty target slot in range, and an occupied source", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL);
    endpointCap(A, 1, RIGHT_SEND);
    expect(capDerive(A, 0, 1, RIGHT_CALL, 0)).toBe(E_SLOT_FULL);
    expect(capAt(capGid(A, 1)).rights).toBe(RIGHT_SEND);
    expect(capDerive(A, 0, 64, RIGHT_CALL, 0)).toBe(E_BAD_SLOT);
    expect(capDerive(A, 9, 2, 0, 0)).toBe(E_BAD_SLOT);
    expect(capDerive(A, 64, 2, 0, 0)).toBe(E_BAD_SLOT);
    expect(capDerive(A, 0, 0, RIGHT_CALL, 0)).toBe(E_SLOT_FULL);
  });
});

describe("capDelete", () => {
  it("empties the slot; an empty or bad slot is E_BAD_SLOT", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL);
    expect(capDelete(A, 0)).toBe(E_OK);
    expect(typeAt(A, 0)).toBe(CAP_NONE);
    expect(capDelete(A, 0)).toBe(E_BAD_SLOT);
    expect(capDelete(A, 100)).toBe(E_BAD_SLOT);
  });

  it("moves the children up, so the grandparent's revoke still reaches them", () => {
    systemReset();
    endpointCap(A, 0, RIGHTS_ALL);
    expect(capDerive(A, 0, 1, RIGHTS_ALL, 0)).toBe(E_OK);
    expect(capTransfer(capGid(A, 1) + 1, capAt(capGid(A, 1)).generation, B, 5)).toBe((<u64>5) << LABEL_CAP_SHIFT);
    expect(capDelete(A, 1)).toBe(E_OK);
    expect(capAt(capGid(B, 4)).parent).toBe(capGid(A, 0) + 1);
    expect(capTreeConsistent()).toBe(true);
    expect(capRevoke(A, 0)).toBe(1);
    expect(typeAt(B, 4)).toBe(CAP_NONE);
  });

  it("changes the slot's generation", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL);
    let before = capAt(capGid(A, 0)).generation;
    capDelete(A, 0);
    expect(capAt(capGid(A, 0)).generation).not.toBe(before);
  });
});

describe("capRevoke", () => {
  it("reaches copies of copies in other processes and keeps the capability itself", () => {
    systemReset();
    endpointCap(A, 0, RIGHTS_ALL);
    // A:0 -> A:1 -> B:2 -> C:3, and A:0 -> B:7
    expect(capDerive(A, 0, 1, RIGHT_CALL | RIGHT_GRANT, 0)).toBe(E_OK);
    expect(capTransfer(capGid(A, 1) + 1, capAt(capGid(A, 1)).generation, B, 3)).not.toBe(LABEL_CAP_LOST);
    expect(capTransfer(capGid(B, 2) + 1, capAt(capGid(B, 2)).generation, C, 4)).not.toBe(LABEL_CAP_LOST);
    expect(capDerive(A, 0, 2, RIGHT_SEND | RIGHT_GRANT, 0)).toBe(E_OK);
    expect(capTransfer(capGid(A, 2) + 1, capAt(capGid(A, 2)).generation, B, 8)).not.toBe(LABEL_CAP_LOST);
    endpointCap(C, 9, RIGHT_CALL); // unrelated: a root of its own
    expect(typeAt(C, 3)).toBe(CAP_ENDPOINT);
    expect(capRevoke(A, 0)).toBe(5);
    expect(typeAt(A, 0)).toBe(CAP_ENDPOINT);
    expect(typeAt(A, 1)).toBe(CAP_NONE);
    expect(typeAt(A, 2)).toBe(CAP_NONE);
    expect(typeAt(B, 2)).toBe(CAP_NONE);
    expect(typeAt(B, 7)).toBe(CAP_NONE);
    expect(typeAt(C, 3)).toBe(CAP_NONE);
    expect(typeAt(C, 9)).toBe(CAP_ENDPOINT);
    expect(capTreeConsistent()).toBe(true);
  });

  it("revokes only below the capability named", () => {
    systemReset();
    endpointCap(A, 0, RIGHTS_ALL);
    capDerive(A, 0, 1, RIGHTS_ALL, 0);
    capDerive(A, 1, 2, RIGHTS_ALL, 0);
    capDerive(A, 0, 3, RIGHTS_ALL, 0);
    expect(capRevoke(A, 1)).toBe(1);
    expect(typeAt(A, 1)).toBe(CAP_ENDPOINT);
    expect(typeAt(A, 2)).toBe(CAP_NONE);
    expect(typeAt(A, 3)).toBe(CAP_ENDPOINT);
  });

  it("terminates on a deep chain and a wide fan", () => {
    systemReset();
    endpointCap(A, 0, RIGHTS_ALL);
    for (let s: u32 = 1; s < CAP_SLOTS; s++) expect(capDerive(A, s - 1, s, RIGHTS_ALL, 0)).toBe(E_OK);
    for (let s: u32 = 0; s < CAP_SLOTS; s++) expect(capDerive(A, 0, 0, 0, 0)).toBe(E_SLOT_FULL);
    for (let s: u32 = 0; s < CAP_SLOTS; s++) {
      expect(capTransfer(capGid(A, 0) + 1, capAt(capGid(A, 0)).generation, B, s + 1)).not.toBe(LABEL_CAP_LOST);
    }
    expect(capRevoke(A, 0)).toBe(<i32>(CAP_SLOTS - 1 + CAP_SLOTS));
    expect(capTreeConsistent()).toBe(true);
  });

  it("is E_BAD_SLOT on an empty slot", () => {
    systemReset();
    expect(capRevoke(A, 5)).toBe(E_BAD_SLOT);
    expect(capRevoke(A, 64)).toBe(E_BAD_SLOT);
  });
});

describe("capTransfer (a capability in a message)", () => {
  it("puts a copy in the receive slot, as a child of the sender's", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL | RIGHT_GRANT, 9);
    let outcome = capTransfer(capGid(A, 0) + 1, capAt(capGid(A, 0)).generation, B, 6);
    expect(outcome).toBe((<u64>6) << LABEL_CAP_SHIFT);
    let copy = capAt(capGid(B, 5));
    expect(copy.type).toBe(CAP_ENDPOINT);
    expect(copy.rights).toBe(RIGHT_CALL | RIGHT_GRANT);
    expect(copy.badge).toBe(9);
    expect(copy.parent).toBe(capGid(A, 0) + 1);
  });

  it("is lost without GRANT, without a receive slot, into an occupied one, or after the sender's slot changed", () => {
    systemReset();
    endpointCap(A, 0, RIGHT_CALL);
    expect(capTransfer(capGid(A, 0) + 1, capAt(capGid(A, 0)).generation, B, 1)).toBe(LABEL_CAP_LOST);
    endpointCap(A, 1, RIGHT_CALL | RIGHT_GRANT);
    let generation = capAt(capGid(A, 1)).generation;
    expect(capTransfer(capGid(A, 1) + 1, generation, B, 0)).toBe(LABEL_CAP_LOST);
    endpointCap(B, 2, RIGHT_SEND);
    expect(capTransfer(capGid(A, 1) + 1, generation, B, 3)).toBe(LABEL_CAP_LOST);
    capDelete(A, 1);
    endpointCap(A, 1, RIGHT_CALL | RIGHT_GRANT); // a new occupant of the same slot
    expect(capTransfer(capGid(A, 1) + 1, generation, B, 4)).toBe(LABEL_CAP_LOST);
    expect(typeAt(B, 0)).toBe(CAP_NONE);
    expect(typeAt(B, 3)).toBe(CAP_NONE);
  });
});

describe("capTableClear (a process died)", () => {
  it("empties its table; what others derived survives under the nearest ancestor", () => {
    systemReset();
    endpointCap(A, 0, RIGHTS_ALL);
    capTransfer(capGid(A, 0) + 1, capAt(capGid(A, 0)).generation, B, 1);
    capTransfer(capGid(B, 0) + 1, capAt(capGid(B, 0)).generation, C, 1);
    capTableClear(B);
    for (let s: u32 = 0; s < CAP_SLOTS; s++) expect(typeAt(B, s)).toBe(CAP_NONE);
    expect(typeAt(C, 0)).toBe(CAP_ENDPOINT);
    expect(capAt(capGid(C, 0)).parent).toBe(capGid(A, 0) + 1);
    expect(capRevoke(A, 0)).toBe(1);
    expect(capTreeConsistent()).toBe(true);
  });
});

describe("RECEIVE capabilities, as IPC counts them", () => {
  it("counts live capabilities that can receive on an endpoint", () => {
    systemReset();
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(0);
    endpointCap(A, 0, RIGHT_RECEIVE | RIGHT_SEND);
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(1);
    capDerive(A, 0, 1, RIGHT_RECEIVE, 0);
    capDerive(A, 0, 2, RIGHT_SEND, 0);
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(2);
    capRevoke(A, 0);
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(1);
    capDelete(A, 0);
    expect(endpointAt(EP_SERVER).receiverCaps).toBe(0);
  });

  it("finds occupied slots of any type", () => {
    systemReset();
    expect(capInstall(A, 4, CAP_LOG, RIGHT_READ, 0, 0, 0, 0)).toBe(E_OK);
    expect(capFind(A, 4)).toBe(<i32>capGid(A, 4));
    expect(capFind(A, 5)).toBe(E_BAD_SLOT);
  });
});
