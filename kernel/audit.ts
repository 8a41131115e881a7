// The zero-trust interceptor's memory: the audit record of every decision,
// and the per-process IPC rate limit.
//
// Two rings of AUDIT_RING records each, in static memory:
//   denials  every denied syscall; never overwritten by allowed operations
//   allowed  allowed operations (the quiet ones aside, see syscall.ts)
// Trace ids (sequence numbers) come from one counter, so the two rings
// merge back into one history (SYS_AUDIT_READ walks them by trace id).
//
// Coalescing: a record identical to one of the newest AUDIT_COALESCE
// records of its ring (same caller, operation, target, verdict) adds to
// that record's count instead of taking a new entry. A flood of the same
// denial (a rate-limited loop, a forged slot tried a million times) is one
// record with a count, so it cannot push older denials out. Denials leave
// the ring only when AUDIT_RING newer distinct denials exist;
// auditDenialsOverwritten() counts them.
//
// Record layout (AuditRecord, 32 bytes):
//
//   0              8              16       20       24  25   26      28
//  ┌──────────────┬──────────────┬────────┬────────┬───┬────┬───────┬───────┐
//  │ trace id     │ tick (first) │ caller │ target │op │kind│verdict│ count │
//  └──────────────┴──────────────┴────────┴────────┴───┴────┴───────┴───────┘
//                                 └── "who": one u64 ──┘└─ "what": one u32 ┘
// Coalescing compares "who" and "what": two loads per record.

import { AUDIT_TARGET_ENDPOINT, MAX_PROCESSES, RATE_BURST, RATE_REFILL_PER_TICK } from "./abi";
import { timerTicks } from "./state";

export const AUDIT_RING: u32 = 1024;      // records per ring; a power of two
export const AUDIT_COALESCE: u32 = 4;     // newest records a new one may merge into

@unmanaged export class AuditRecord {
  trace: u64;
  tick: u64;
  caller: u32;    // pid
  target: u32;    // meaning by kind (kernel/abi.ts AUDIT_TARGET_*)
  op: u8;         // syscall number
  kind: u8;
  verdict: i16;   // E_OK or the error
  count: u32;
}

const RECORD_BYTES: usize = offsetof<AuditRecord>();
const deniedRing = memory.data(<i32>(offsetof<AuditRecord>() * AUDIT_RING), 16);
const allowedRing = memory.data(<i32>(offsetof<AuditRecord>() * AUDIT_RING), 16);

let nextTrace: u64 = 1;       // 0 is "no record"
let deniedWritten: u64 = 0;   // records ever put in each ring
let allowedWritten: u64 = 0;
let deniedEvents: u64 = 0;    // denials seen, coalesced ones included
let allowedEvents: u64 = 0;

@inline function recordAt(ring: usize, n: u64): AuditRecord {
  return changetype<AuditRecord>(ring + <usize>(n & <u64>(AUDIT_RING - 1)) * RECORD_BYTES);
}

export function auditReset(): void {
  memory.fill(deniedRing, 0, RECORD_BYTES * AUDIT_RING);
  memory.fill(allowedRing, 0, RECORD_BYTES * AUDIT_RING);
  memory.fill(rateTokens, 0, 4 * MAX_PROCESSES);
  memory.fill(rateTicks, 0, 8 * MAX_PROCESSES);
  nextTrace = 1;
  deniedWritten = 0;
  allowedWritten = 0;
  deniedEvents = 0;
  allowedEvents = 0;
}

const WHO_OFFSET: usize = 16;   // caller, target
const WHAT_OFFSET: usize = 24;  // op, kind, verdict

@inline function who(caller: u32, target: u32): u64 {
  return (<u64>target << 32) | <u64>caller;
}

@inline function what(op: u32, kind: u8, verdict: i32): u32 {
  return (op & 0xff) | (<u32>kind << 8) | (<u32>(verdict & 0xffff) << 16);
}

// The record among the newest `look` of `ring` that matches; 0 when none.
@inline function coalescing(ring: usize, written: u64, look: u64, whoKey: u64, whatKey: u32): usize {
  if (look > written) look = written;
  for (let back: u64 = 1; back <= look; back++) {
    let r = changetype<usize>(recordAt(ring, written - back));
    if (load<u64>(r + WHO_OFFSET) == whoKey && load<u32>(r + WHAT_OFFSET) == whatKey) return r;
  }
  return 0;
}

@inline function countOne(r: usize): u64 {
  let record = changetype<AuditRecord>(r);
  if (record.count != U32.MAX_VALUE) record.count++;
  return record.trace;
}

// The fast path's record of an allowed IPC operation on an endpoint: a
// round trip alternates two records (the call, the reply), so the newest
// two are all it looks at before the general case.
@inline export function auditAllowedIpc(caller: u32, op: u32, endpoint: u32): void {
  let whoKey = who(caller, endpoint);
  let whatKey = what(op, AUDIT_TARGET_ENDPOINT, 0);
  let r = coalescing(allowedRing, allowedWritten, 2, whoKey, whatKey);
  if (r != 0) {
    allowedEvents++;
    countOne(r);
    return;
  }
  auditRecord(caller, op, AUDIT_TARGET_ENDPOINT, endpoint, 0);
}

// Records one decision; returns its trace id (a coalesced one returns the
// id of the record it joined).
export function auditRecord(caller: u32, op: u32, kind: u8, target: u32, verdict: i32): u64 {
  let denied = verdict != 0;
  let ring = denied ? deniedRing : allowedRing;
  let written = denied ? deniedWritten : allowedWritten;
  if (denied) deniedEvents++;
  else allowedEvents++;
  let match = coalescing(ring, written, <u64>AUDIT_COALESCE, who(caller, target), what(op, kind, verdict));
  if (match != 0) return countOne(match);
  let r = recordAt(ring, written);
  let trace = nextTrace++;
  r.trace = trace;
  r.tick = timerTicks();
  r.caller = caller;
  r.target = target;
  r.op = <u8>op;
  r.kind = kind;
  r.verdict = <i16>verdict;
  r.count = 1;
  if (denied) deniedWritten = written + 1;
  else allowedWritten = written + 1;
  return trace;
}

// The retained record of `ring` with the smallest trace id >= `trace`
// (`backward`: the largest <= `trace`); null when none.
function ringFind(ring: usize, written: u64, trace: u64, backward: bool): AuditRecord | null {
  let kept = min<u64>(written, <u64>AUDIT_RING);
  let best: AuditRecord | null = null;
  for (let n = written - kept; n < written; n++) {
    let r = recordAt(ring, n);
    if (backward ? r.trace <= trace : r.trace >= trace) {
      if (best === null) best = r;
      else if (backward ? r.trace > best.trace : r.trace < best.trace) best = r;
    }
  }
  return best;
}

// SYS_AUDIT_READ's search over both rings (or the denials alone).
export function auditFind(trace: u64, deniedOnly: bool, backward: bool): AuditRecord | null {
  let d = ringFind(deniedRing, deniedWritten, trace, backward);
  if (deniedOnly) return d;
  let a = ringFind(allowedRing, allowedWritten, trace, backward);
  if (d === null) return a;
  if (a === null) return d;
  if (backward) return a.trace > d.trace ? a : d;
  return a.trace < d.trace ? a : d;
}

export function auditLastTrace(): u64 { return nextTrace - 1; }
export function auditDeniedRecords(): u64 { return min<u64>(deniedWritten, <u64>AUDIT_RING); }
export function auditAllowedRecords(): u64 { return min<u64>(allowedWritten, <u64>AUDIT_RING); }
export function auditDeniedEvents(): u64 { return deniedEvents; }
export function auditAllowedEvents(): u64 { return allowedEvents; }
export function auditDenialsOverwritten(): u64 {
  return deniedWritten > <u64>AUDIT_RING ? deniedWritten - <u64>AUDIT_RING : 0;
}

// ---------------------------------------------------------------------------
// Rate limit: a token bucket per process, refilled by timer ticks.
//   tokens ≤ RATE_BURST; each tick since the last refill adds RATE_REFILL_PER_TICK.

const rateTokens = memory.data(<i32>(4 * MAX_PROCESSES), 4);
const rateTicks = memory.data(<i32>(8 * MAX_PROCESSES), 8);

// A new process starts with a full bucket.
export function rateReset(index: u32): void {
  store<u32>(rateTokens + (<usize>index << 2), RATE_BURST);
  store<u64>(rateTicks + (<usize>index << 3), timerTicks());
}

// Takes one token; false (and takes nothing) when the bucket is empty.
@inline export function rateTake(index: u32): bool {
  let at = rateTokens + (<usize>index << 2);
  let tokens = load<u32>(at);
  let now = timerTicks();
  let last = load<u64>(rateTicks + (<usize>index << 3));
  if (now != last) {
    let refill = (now - last) * <u64>RATE_REFILL_PER_TICK;
    tokens = <u32>min<u64>(<u64>RATE_BURST, <u64>tokens + refill);
    store<u64>(rateTicks + (<usize>index << 3), now);
  }
  if (tokens == 0) {
    store<u32>(at, 0);
    return false;
  }
  store<u32>(at, tokens - 1);
  return true;
}

export function rateTokensLeft(index: u32): u32 {
  return load<u32>(rateTokens + (<usize>index << 2));
}
