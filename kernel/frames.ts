// Physical frame allocator: 4 KiB frames, one bit each.
//
// Two bitmaps cover the frames from the lowest to the highest usable frame:
//
//   managed  bit i = 1: frame (baseFrame + i) belongs to the allocator
//   free     bit i = 1: ... and is free right now
//
//   bitmap memory (one heap block, allocated by frames_init):
//   ┌──────────── managed: words × u64 ────────────┬──────── free: words × u64 ────────┐
//   bit i of word w  <->  frame baseFrame + 64·w + i  <->  physical (frame << 12)
//
// Invariants
//   - free ⊆ managed; freeCount = popcount(free); totalCount = popcount(managed).
//   - Managed frames lie wholly inside a Usable region, at or above 1 MiB
//     (real-mode AP start-up code and firmware live below), outside every
//     non-Usable region and every reserved range given to frames_init.
//   - Frame 0 is never managed, so 0 means "no frame".
//   - Bits past the last frame of the last word are 0 in both maps.
//
// Re-entrancy rule
//   frame_alloc is called from inside the AssemblyScript allocator: growing
//   linear memory (memory.grow) enters native code, which calls the kernel
//   export kernel_frame_alloc, which calls frame_alloc, while the AS heap is
//   half-way through an allocation. So frame_alloc and frame_free touch only
//   the globals below and the raw bitmap memory: no managed object, no
//   string, no array, nothing that allocates or collects. Only frames_init
//   allocates (the bitmap, once), and until it is done frame_alloc answers 0.

import { MemoryRegion, MemoryKind } from "../boot/bootinfo";

export const FRAME_SHIFT: u64 = 12;
export const FRAME_BYTES: u64 = 1 << FRAME_SHIFT;

// Below this nothing is handed out (AP trampoline, BIOS data, firmware).
export const LOW_MEMORY_LIMIT: u64 = 1 << 20;

// Memory above baseFrame + MAX_FRAMES is left unmanaged: 2^28 frames = 1 TiB,
// a 64 MiB pair of bitmaps at most.
export const MAX_FRAMES: u64 = 1 << 28;

export const E_OK: i32 = 0;
export const E_BAD_ARG: i32 = -1;       // unaligned, or not a frame we manage
export const E_NO_MEMORY: i32 = -2;     // no usable frame at all (frames_init)
export const E_DOUBLE_FREE: i32 = -3;   // the frame is already free

// Allocator state: plain globals, never managed objects (re-entrancy rule).
let ready: bool = false;
let bitmap: usize = 0;          // heap block holding both maps
let managedMap: usize = 0;
let freeMap: usize = 0;
let words: u32 = 0;             // u64 words per map
let baseFrame: u64 = 0;         // frame number of bit 0
let spanFrames: u64 = 0;        // frames covered by the maps
let totalCount: u64 = 0;
let freeCount: u64 = 0;
let hintWord: u32 = 0;          // no free frame in words below this one

// ---------------------------------------------------------------------------
// Bit helpers over a map of u64 words.

@inline function wordAt(map: usize, w: u32): usize {
  return map + (<usize>w << 3);
}

@inline function testBit(map: usize, i: u64): bool {
  return ((load<u64>(wordAt(map, <u32>(i >> 6))) >> (i & 63)) & 1) != 0;
}

@inline function setBit(map: usize, i: u64, on: bool): void {
  let at = wordAt(map, <u32>(i >> 6));
  let mask: u64 = <u64>1 << (i & 63);
  let word = load<u64>(at);
  store<u64>(at, on ? word | mask : word & ~mask);
}

// Sets or clears bits [from, to) of `map`, a word at a time in the middle.
function setRange(map: usize, from: u64, to: u64, on: bool): void {
  let i = from;
  while (i < to && (i & 63) != 0) { setBit(map, i, on); i++; }
  while (i + 64 <= to) {
    store<u64>(wordAt(map, <u32>(i >> 6)), on ? U64.MAX_VALUE : 0);
    i += 64;
  }
  while (i < to) { setBit(map, i, on); i++; }
}

function countBits(map: usize): u64 {
  let n: u64 = 0;
  for (let w: u32 = 0; w < words; w++) n += popcnt<u64>(load<u64>(wordAt(map, w)));
  return n;
}

// ---------------------------------------------------------------------------
// Range arithmetic, in frame numbers relative to baseFrame, clipped to the
// maps. "Inner" keeps only whole frames (for Usable memory); "outer" takes
// every frame touched (for everything that must stay out).

function innerFrom(base: u64): u64 {
  if (base > U64.MAX_VALUE - FRAME_BYTES) return spanFrames; // nothing whole
  return clipFrame((base + FRAME_BYTES - 1) >> FRAME_SHIFT);
}

function outerTo(end: u64): u64 {
  let last = end >> FRAME_SHIFT;
  if ((end & (FRAME_BYTES - 1)) != 0) last++;
  return clipFrame(last);
}

@inline function clipFrame(frame: u64): u64 {
  if (frame <= baseFrame) return 0;
  let rel = frame - baseFrame;
  return rel < spanFrames ? rel : spanFrames;
}

// ---------------------------------------------------------------------------

// Builds the maps from the loader's memory map. `regions` is the BootInfo
// map (any order); `reserved` lists ranges inside Usable memory that are
// taken already (kernel image, modules, DTB, loader data). May allocate; any
// earlier state is discarded. Returns E_OK or E_NO_MEMORY.
export function frames_init(regions: MemoryRegion[], reserved: MemoryRegion[]): i32 {
  ready = false;
  if (bitmap != 0) { heap.free(bitmap); bitmap = 0; }
  totalCount = 0;
  freeCount = 0;
  hintWord = 0;
  if (!coverUsable(regions)) return E_NO_MEMORY;

  words = <u32>((spanFrames + 63) >> 6);
  let mapBytes = <usize>words << 3;
  bitmap = heap.alloc(mapBytes << 1);
  managedMap = bitmap;
  freeMap = bitmap + mapBytes;
  memory.fill(bitmap, 0, mapBytes << 1);

  for (let i = 0; i < regions.length; i++) {
    let r = regions[i];
    if (r.kind == MemoryKind.Usable) markUsable(r);
  }
  for (let i = 0; i < regions.length; i++) {
    let r = regions[i];
    if (r.kind != MemoryKind.Usable) markTaken(r);
  }
  for (let i = 0; i < reserved.length; i++) markTaken(reserved[i]);

  totalCount = countBits(managedMap);
  freeCount = countBits(freeMap);
  ready = true;
  return totalCount > 0 ? E_OK : E_NO_MEMORY;
}

// Sets baseFrame/spanFrames to the whole usable frames at or above 1 MiB;
// false when there are none.
function coverUsable(regions: MemoryRegion[]): bool {
  let low: u64 = U64.MAX_VALUE;
  let high: u64 = 0;
  for (let i = 0; i < regions.length; i++) {
    let r = regions[i];
    if (r.kind != MemoryKind.Usable) continue;
    let start = max<u64>(r.base, LOW_MEMORY_LIMIT);
    let end = r.end();
    if (end <= start) continue;
    let first = (start + FRAME_BYTES - 1) >> FRAME_SHIFT;
    let last = end >> FRAME_SHIFT; // exclusive
    if (last <= first) continue;
    if (first < low) low = first;
    if (last > high) high = last;
  }
  if (high == 0) {
    baseFrame = 0;
    spanFrames = 0;
    words = 0;
    return false;
  }
  baseFrame = low;
  spanFrames = min<u64>(high - low, MAX_FRAMES);
  return true;
}

function markUsable(r: MemoryRegion): void {
  let from = innerFrom(max<u64>(r.base, LOW_MEMORY_LIMIT));
  let to = clipFrame(r.end() >> FRAME_SHIFT);
  if (to <= from) return;
  setRange(managedMap, from, to, true);
  setRange(freeMap, from, to, true);
}

function markTaken(r: MemoryRegion): void {
  if (r.length == 0) return;
  let from = clipFrame(r.base >> FRAME_SHIFT);
  let to = outerTo(r.end());
  if (to <= from) return;
  setRange(managedMap, from, to, false);
  setRange(freeMap, from, to, false);
}

// ---------------------------------------------------------------------------
// The hot path. Re-entrancy rule applies: globals and raw memory only.

// Physical address of a free frame, now taken; 0 when none is left.
export function frame_alloc(): u64 {
  if (!ready || freeCount == 0) return 0;
  for (let n: u32 = 0; n < words; n++) {
    let w = hintWord + n;
    if (w >= words) w -= words;
    let at = wordAt(freeMap, w);
    let word = load<u64>(at);
    if (word == 0) continue;
    let bit = ctz<u64>(word);
    store<u64>(at, word & (word - 1)); // clears the lowest set bit
    freeCount--;
    hintWord = w;
    return (baseFrame + (<u64>w << 6) + bit) << FRAME_SHIFT;
  }
  return 0; // unreachable while freeCount is right
}

// Gives the frame at physical `addr` back. E_BAD_ARG when unaligned or not
// a frame this allocator manages; E_DOUBLE_FREE when it is already free.
export function frame_free(addr: u64): i32 {
  if (!ready || (addr & (FRAME_BYTES - 1)) != 0) return E_BAD_ARG;
  let frame = addr >> FRAME_SHIFT;
  if (frame < baseFrame || frame - baseFrame >= spanFrames) return E_BAD_ARG;
  let i = frame - baseFrame;
  if (!testBit(managedMap, i)) return E_BAD_ARG;
  if (testBit(freeMap, i)) return E_DOUBLE_FREE;
  setBit(freeMap, i, true);
  freeCount++;
  let w = <u32>(i >> 6);
  if (w < hintWord) hintWord = w;
  return E_OK;
}

// ---------------------------------------------------------------------------
// Counters (frames and bytes). Safe on the re-entrant path too.

export function frames_total_count(): u64 { return totalCount; }
export function frames_free_count(): u64 { return freeCount; }
export function frames_used_count(): u64 { return totalCount - freeCount; }
export function frames_total_bytes(): u64 { return totalCount << FRAME_SHIFT; }
export function frames_free_bytes(): u64 { return freeCount << FRAME_SHIFT; }
export function frames_used_bytes(): u64 { return (totalCount - freeCount) << FRAME_SHIFT; }
