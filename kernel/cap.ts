// Capability tables: one per process, CAP_SLOTS slots each, held by the
// kernel. User space names slots only; the kernel finds the object.
//
// All tables sit in one static pool. A slot's global id (gid) is
//   gid = process index × CAP_SLOTS + slot
// and links between slots store gid + 1 (0: none).
//
// Slot layout (CapSlot, 48 bytes):
//
//   0      1       2         4          8          12
//  ┌──────┬────────┬─────────┬──────────┬──────────┬────────────┐
//  │ type │ rights │ (zero)  │ object   │ extra    │ generation │
//  ├──────┴────────┴─┬───────┴────────┬─┴──────────┴─┬──────────┴───┐
//  │ parent          │ firstChild     │ nextSibling  │ prevSibling  │  16..31
//  ├─────────────────┴────────────────┼──────────────┴──────────────┤
//  │ badge                            │ base                        │  32..47
//  └──────────────────────────────────┴─────────────────────────────┘
//
//   object  endpoint / notification index, IRQ source, process index
//   extra   process: its pid; I/O ports, MMIO, memory: count (ports, bytes)
//   base    I/O ports: first port; MMIO, memory: physical base
//   generation  bumped each time the slot empties: a capability travelling
//           in a queued message is delivered only if its slot still holds
//           the same occupant, so deletion and revocation win over messages
//
// The derivation tree: every capability made from another (derive, or
// transfer in a message) is its child. Invariants:
//   - links join occupied slots only; children of a slot form a doubly
//     linked sibling list; the tree has no cycle (a child is always newer
//     than its parent when linked, and re-parenting only moves a subtree up)
//   - revoke(c) deletes every descendant of c and nothing else
//   - delete(c) moves c's children up to c's parent (roots when c had none),
//     so revoking an ancestor still reaches them

import {
  CAP_ENDPOINT, CAP_MEMORY, CAP_MMIO, CAP_NONE, CAP_SLOTS, E_BAD_ARG, E_BAD_SLOT, E_NO_CAP, E_NO_RIGHTS, E_OK, E_SLOT_FULL,
  LABEL_CAP_LOST, LABEL_CAP_SHIFT, MAX_PROCESSES, RIGHT_GRANT, RIGHT_RECEIVE, RIGHTS_ALL,
} from "./abi";
import { endpointReceiveCapAdded, endpointReceiveCapRemoved } from "./ipc";
import { deviceUnmapCap } from "./proc";

@unmanaged export class CapSlot {
  type: u8;
  rights: u8;
  reserved: u16;
  object: u32;
  extra: u32;
  generation: u32;
  parent: u32;
  firstChild: u32;
  nextSibling: u32;
  prevSibling: u32;
  badge: u64;
  base: u64;
}

const SLOT_BYTES: usize = offsetof<CapSlot>();
const TOTAL_SLOTS: u32 = MAX_PROCESSES * CAP_SLOTS;
const slotPool = memory.data(<i32>(offsetof<CapSlot>() * MAX_PROCESSES * CAP_SLOTS), 16);

@inline export function capGid(index: u32, slot: u32): u32 {
  return index * CAP_SLOTS + slot;
}

@inline export function capAt(gid: u32): CapSlot {
  return changetype<CapSlot>(slotPool + <usize>gid * SLOT_BYTES);
}

@inline export function capOwner(gid: u32): u32 {
  return gid / CAP_SLOTS;
}

export function capReset(): void {
  memory.fill(slotPool, 0, SLOT_BYTES * TOTAL_SLOTS);
}

// The interceptor's rights check: the global id of slot `slot` of process
// `index` when it holds a `type` capability with every right in `rights`;
// otherwise E_BAD_SLOT (out of range or empty), E_NO_CAP (another type),
// E_NO_RIGHTS.
@inline export function capLookup(index: u32, slot: u64, type: u8, rights: u8): i32 {
  if (slot >= <u64>CAP_SLOTS) return E_BAD_SLOT;
  let gid = capGid(index, <u32>slot);
  let c = capAt(gid);
  if (c.type == CAP_NONE) return E_BAD_SLOT;
  if (c.type != type) return E_NO_CAP;
  if ((c.rights & rights) != rights) return E_NO_RIGHTS;
  return <i32>gid;
}

// An occupied slot's gid, of any type; E_BAD_SLOT otherwise.
export function capFind(index: u32, slot: u64): i32 {
  if (slot >= <u64>CAP_SLOTS) return E_BAD_SLOT;
  let gid = capGid(index, <u32>slot);
  return capAt(gid).type == CAP_NONE ? E_BAD_SLOT : <i32>gid;
}

// Fills the empty slot `gid` (no links yet) and tells IPC about a new way to
// receive on an endpoint.
function capFill(gid: u32, type: u8, rights: u8, badge: u64, object: u32, extra: u32, base: u64): void {
  let c = capAt(gid);
  c.type = type;
  c.rights = rights;
  c.object = object;
  c.extra = extra;
  c.badge = badge;
  c.base = base;
  c.parent = 0;
  c.firstChild = 0;
  c.nextSibling = 0;
  c.prevSibling = 0;
  if (type == CAP_ENDPOINT && (rights & RIGHT_RECEIVE) != 0) endpointReceiveCapAdded(object);
}

// A root capability (from a manifest or the kernel): E_BAD_SLOT when `slot`
// is out of range, E_SLOT_FULL when it is occupied.
export function capInstall(index: u32, slot: u32, type: u8, rights: u8, badge: u64, object: u32, extra: u32, base: u64): i32 {
  if (slot >= CAP_SLOTS || index >= MAX_PROCESSES) return E_BAD_SLOT;
  let gid = capGid(index, slot);
  if (capAt(gid).type != CAP_NONE) return E_SLOT_FULL;
  capFill(gid, type, rights & RIGHTS_ALL, badge, object, extra, base);
  return E_OK;
}

// Puts a copy of `src` with `rights` and `badge` into the empty slot `dst`,
// as the first child of `src`.
function capCopyInto(src: u32, dst: u32, rights: u8, badge: u64): void {
  let s = capAt(src);
  capFill(dst, s.type, rights, badge, s.object, s.extra, s.base);
  let d = capAt(dst);
  d.parent = src + 1;
  d.nextSibling = s.firstChild;
  if (s.firstChild != 0) capAt(s.firstChild - 1).prevSibling = dst + 1;
  s.firstChild = dst + 1;
}

// SYS_CAP_DERIVE within one table. Rights only shrink: asking for a right
// the source lacks is E_NO_RIGHTS (not silently dropped), bits outside
// RIGHTS_ALL E_BAD_ARG. A badge may be set only on an unbadged endpoint
// capability (E_BAD_ARG otherwise); badge 0 keeps the source's badge.
export function capDerive(index: u32, src: u64, dst: u64, rightsMask: u64, badge: u64): i32 {
  let from = capFind(index, src);
  if (from < 0) return from;
  if (dst >= <u64>CAP_SLOTS) return E_BAD_SLOT;
  let s = capAt(<u32>from);
  if ((rightsMask & ~(<u64>RIGHTS_ALL)) != 0) return E_BAD_ARG;
  if ((rightsMask & ~(<u64>s.rights)) != 0) return E_NO_RIGHTS;
  if (badge != 0 && (s.type != CAP_ENDPOINT || s.badge != 0)) return E_BAD_ARG;
  let to = capGid(index, <u32>dst);
  if (capAt(to).type != CAP_NONE) return E_SLOT_FULL;
  capCopyInto(<u32>from, to, <u8>rightsMask, badge != 0 ? badge : s.badge);
  return E_OK;
}

// Delivers a capability that travelled in a message: `srcRef` is the
// sender's gid + 1 and `srcGen` that slot's generation when it was sent;
// `dstSlotRef` the receiver's receive slot + 1. Returns the label bits of
// the outcome: (slot + 1) << 32 when it arrived, LABEL_CAP_LOST when not
// (no receive slot, occupied, or the sender's slot changed since).
export function capTransfer(srcRef: u32, srcGen: u32, dstIndex: u32, dstSlotRef: u32): u64 {
  let src = srcRef - 1;
  let s = capAt(src);
  if (s.type == CAP_NONE || s.generation != srcGen || (s.rights & RIGHT_GRANT) == 0) return LABEL_CAP_LOST;
  if (dstSlotRef == 0 || dstSlotRef > CAP_SLOTS) return LABEL_CAP_LOST;
  let dst = capGid(dstIndex, dstSlotRef - 1);
  if (capAt(dst).type != CAP_NONE) return LABEL_CAP_LOST;
  capCopyInto(src, dst, s.rights, s.badge);
  return (<u64>dstSlotRef) << LABEL_CAP_SHIFT;
}

// Takes `gid` out of its parent's child list.
function detach(gid: u32): void {
  let c = capAt(gid);
  if (c.prevSibling != 0) capAt(c.prevSibling - 1).nextSibling = c.nextSibling;
  else if (c.parent != 0) capAt(c.parent - 1).firstChild = c.nextSibling;
  if (c.nextSibling != 0) capAt(c.nextSibling - 1).prevSibling = c.prevSibling;
  c.parent = 0;
  c.nextSibling = 0;
  c.prevSibling = 0;
}

// Empties `gid`: its children move up to its parent, the slot's generation
// changes, IPC hears of a RECEIVE capability gone, and pages mapped through
// an MMIO or memory capability are unmapped.
function capClear(gid: u32): void {
  let c = capAt(gid);
  let parent = c.parent;
  detach(gid);
  let child = c.firstChild;
  while (child != 0) {
    let k = capAt(child - 1);
    let next = k.nextSibling;
    k.parent = 0;
    k.nextSibling = 0;
    k.prevSibling = 0;
    if (parent != 0) {
      let p = capAt(parent - 1);
      k.parent = parent;
      k.nextSibling = p.firstChild;
      if (p.firstChild != 0) capAt(p.firstChild - 1).prevSibling = child;
      p.firstChild = child;
    }
    child = next;
  }
  let type = c.type;
  let rights = c.rights;
  let object = c.object;
  c.type = CAP_NONE;
  c.rights = 0;
  c.object = 0;
  c.extra = 0;
  c.badge = 0;
  c.base = 0;
  c.firstChild = 0;
  c.generation++;
  if (type == CAP_ENDPOINT && (rights & RIGHT_RECEIVE) != 0) endpointReceiveCapRemoved(object, gid);
  if (type == CAP_MMIO || type == CAP_MEMORY) deviceUnmapCap(gid);
}

// SYS_CAP_DELETE: E_BAD_SLOT when out of range or empty.
export function capDelete(index: u32, slot: u64): i32 {
  let gid = capFind(index, slot);
  if (gid < 0) return gid;
  capClear(<u32>gid);
  return E_OK;
}

// SYS_CAP_REVOKE: deletes every descendant of the slot, wherever it lives,
// leaving the slot itself. Returns how many went, or E_BAD_SLOT.
// Terminates: each turn of the outer loop deletes one leaf below `gid`, and
// nothing adds to the subtree meanwhile; the inner walk follows first-child
// links down an acyclic tree.
export function capRevoke(index: u32, slot: u64): i32 {
  let gid = capFind(index, slot);
  if (gid < 0) return gid;
  let root = capAt(<u32>gid);
  let removed = 0;
  while (root.firstChild != 0) {
    let leaf = root.firstChild - 1;
    while (capAt(leaf).firstChild != 0) leaf = capAt(leaf).firstChild - 1;
    capClear(leaf);
    removed++;
  }
  return removed;
}

// Empties a dead process's table. What others derived from its capabilities
// stays, attached to the nearest surviving ancestor.
export function capTableClear(index: u32): void {
  for (let slot: u32 = 0; slot < CAP_SLOTS; slot++) {
    let gid = capGid(index, slot);
    if (capAt(gid).type != CAP_NONE) capClear(gid);
  }
}

// Checks the tree invariants of the whole pool: for the unit tests.
export function capTreeConsistent(): bool {
  for (let gid: u32 = 0; gid < TOTAL_SLOTS; gid++) {
    let c = capAt(gid);
    if (c.type == CAP_NONE) {
      if (c.parent != 0 || c.firstChild != 0 || c.nextSibling != 0 || c.prevSibling != 0) return false;
      continue;
    }
    if (c.firstChild != 0) {
      let k = capAt(c.firstChild - 1);
      if (k.type == CAP_NONE || k.parent != gid + 1 || k.prevSibling != 0) return false;
    }
    if (c.nextSibling != 0) {
      let n = capAt(c.nextSibling - 1);
      if (n.prevSibling != gid + 1 || n.parent != c.parent) return false;
    }
    if (c.parent != 0 && c.prevSibling == 0 && capAt(c.parent - 1).firstChild != gid + 1) return false;
  }
  return true;
}
