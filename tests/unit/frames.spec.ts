import { MemoryRegion, MemoryKind } from "../../boot/bootinfo";
import {
  frames_init, frame_alloc, frame_free,
  frames_total_count, frames_free_count, frames_used_count,
  frames_total_bytes, frames_free_bytes, frames_used_bytes,
  E_OK, E_BAD_ARG, E_DOUBLE_FREE, E_NO_MEMORY, FRAME_BYTES, LOW_MEMORY_LIMIT,
} from "../../kernel/frames";

@external("testhooks", "allocation_count")
declare function allocation_count(): i32;

// A map with low memory, a hole, an unaligned region and a non-usable region
// overlapping a usable one:
//
//   [0,        0x9f000)   usable, below 1 MiB: never handed out
//   [0x9f000,  0x100000)  reserved
//   [0x100000, 0x200000)  usable, 256 frames; the kernel holds the first 64,
//                          a module straddles frames 0x1f0000 and 0x1f1000
//   [0x200000, 0x400000)  hole
//   [0x400000, 0x480000)  usable, 128 frames; 16 overlapped by ACPI NVS
//   [0x500800, 0x503800)  usable but unaligned: 2 whole frames
//
// Free frames: (256 - 64 - 2) + (128 - 16) + 2 = 304.
const EXPECTED_FRAMES: u64 = 304;
const GiB: u64 = 1 << 30;

function fakeMap(): MemoryRegion[] {
  return [
    new MemoryRegion(0x400000, 0x80000, MemoryKind.Usable), // unsorted on purpose
    new MemoryRegion(0, 0x9f000, MemoryKind.Usable),
    new MemoryRegion(0x9f000, 0x61000, MemoryKind.Reserved),
    new MemoryRegion(0x100000, 0x100000, MemoryKind.Usable),
    new MemoryRegion(0x440000, 0x10000, MemoryKind.AcpiNvs),
    new MemoryRegion(0x500800, 0x3000, MemoryKind.Usable),
  ];
}

function fakeReserved(): MemoryRegion[] {
  return [
    new MemoryRegion(0x100000, 0x40000, MemoryKind.KernelAndModules), // kernel image
    new MemoryRegion(0x1f0800, 0x1000, MemoryKind.KernelAndModules),  // module, unaligned
  ];
}

function initFake(): i32 {
  return frames_init(fakeMap(), fakeReserved());
}

// True when [addr, addr + 4 KiB) lies wholly in a Usable region and touches
// no non-Usable region and no reserved range.
function frameAllowed(addr: u64): bool {
  let map = fakeMap();
  let inUsable = false;
  for (let i = 0; i < map.length; i++) {
    let r = map[i];
    let overlaps = addr < r.end() && addr + FRAME_BYTES > r.base;
    if (r.kind == MemoryKind.Usable && addr >= r.base && addr + FRAME_BYTES <= r.end()) inUsable = true;
    if (r.kind != MemoryKind.Usable && overlaps) return false;
  }
  let reserved = fakeReserved();
  for (let i = 0; i < reserved.length; i++) {
    let r = reserved[i];
    if (addr < r.end() && addr + FRAME_BYTES > r.base) return false;
  }
  return inUsable;
}

function drain(): u64[] {
  let got: u64[] = [];
  for (let i = 0; i < 100000; i++) {
    let addr = frame_alloc();
    if (addr == 0) break;
    got.push(addr);
  }
  return got;
}

describe("frames_init", () => {
  it("counts only whole usable frames above 1 MiB outside reserved ranges", () => {
    expect(initFake()).toBe(E_OK);
    expect(frames_total_count()).toBe(EXPECTED_FRAMES);
    expect(frames_free_count()).toBe(EXPECTED_FRAMES);
    expect(frames_used_count()).toBe(0);
  });

  it("reports byte counts consistent with frame counts", () => {
    initFake();
    frame_alloc();
    frame_alloc();
    expect(frames_total_bytes()).toBe(EXPECTED_FRAMES * FRAME_BYTES);
    expect(frames_used_bytes()).toBe(2 * FRAME_BYTES);
    expect(frames_free_bytes()).toBe((EXPECTED_FRAMES - 2) * FRAME_BYTES);
  });

  it("refuses a map with no usable memory", () => {
    let map = [new MemoryRegion(0x100000, 0x100000, MemoryKind.Reserved)];
    expect(frames_init(map, [])).toBe(E_NO_MEMORY);
    expect(frames_total_count()).toBe(0);
    expect(frame_alloc()).toBe(0);
  });

  it("refuses a map whose only usable memory is below 1 MiB", () => {
    let map = [new MemoryRegion(0x1000, 0x9e000, MemoryKind.Usable)];
    expect(frames_init(map, [])).toBe(E_NO_MEMORY);
    expect(frame_alloc()).toBe(0);
  });

  it("refuses a map whose usable memory is all reserved", () => {
    let map = [new MemoryRegion(0x100000, 0x10000, MemoryKind.Usable)];
    let reserved = [new MemoryRegion(0x100000, 0x10000, MemoryKind.KernelAndModules)];
    expect(frames_init(map, reserved)).toBe(E_NO_MEMORY);
    expect(frame_alloc()).toBe(0);
  });

  it("discards the previous state when called again", () => {
    initFake();
    drain();
    let map = [new MemoryRegion(0x100000, 0x4000, MemoryKind.Usable)];
    expect(frames_init(map, [])).toBe(E_OK);
    expect(frames_total_count()).toBe(4);
    expect(frames_free_count()).toBe(4);
  });

  it("covers a large region word by word", () => {
    // 4 GiB: every frame from 1 MiB up, minus a reserved MiB in the middle.
    let map = [new MemoryRegion(0, 4 * GiB, MemoryKind.Usable)];
    let reserved = [new MemoryRegion(0x40000000, 0x100000, MemoryKind.KernelAndModules)];
    expect(frames_init(map, reserved)).toBe(E_OK);
    expect(frames_total_count()).toBe((4 * GiB - LOW_MEMORY_LIMIT - 0x100000) / FRAME_BYTES);
    expect(frame_alloc()).toBe(LOW_MEMORY_LIMIT);
    expect(frame_free(0x40000000)).toBe(E_BAD_ARG);
    expect(frame_free(0x40100000)).toBe(E_DOUBLE_FREE);
  });
});

describe("frame_alloc", () => {
  it("hands out every free frame once, then 0", () => {
    initFake();
    let got = drain();
    expect(<u64>got.length).toBe(EXPECTED_FRAMES);
    expect(frame_alloc()).toBe(0);
    expect(frames_free_count()).toBe(0);
    expect(frames_used_count()).toBe(EXPECTED_FRAMES);
    let seen = new Set<u64>();
    for (let i = 0; i < got.length; i++) seen.add(got[i]);
    expect(seen.size).toBe(got.length);
  });

  it("never hands out low memory, reserved ranges or non-usable memory", () => {
    initFake();
    let got = drain();
    let bad = 0;
    for (let i = 0; i < got.length; i++) {
      let addr = got[i];
      if ((addr & (FRAME_BYTES - 1)) != 0 || addr < LOW_MEMORY_LIMIT || !frameAllowed(addr)) bad++;
    }
    expect(bad).toBe(0);
    expect(got.includes(0x100000)).toBe(false);  // kernel image
    expect(got.includes(0x1f0000)).toBe(false);  // module, first frame touched
    expect(got.includes(0x1f1000)).toBe(false);  // module, last frame touched
    expect(got.includes(0x440000)).toBe(false);  // ACPI NVS overlap
    expect(got.includes(0x500000)).toBe(false);  // partial frame of unaligned region
    expect(got.includes(0x501000)).toBe(true);
    expect(got.includes(0x502000)).toBe(true);
    expect(got.includes(0x503000)).toBe(false);  // partial frame at its end
  });

  it("gives the lowest free frame first", () => {
    initFake();
    expect(frame_alloc()).toBe(0x140000);
    expect(frame_alloc()).toBe(0x141000);
  });

  it("has an allocation counter that sees managed allocations", () => {
    let before = allocation_count();
    let scratch = new ArrayBuffer(64);
    expect(scratch.byteLength).toBe(64);
    expect(allocation_count()).toBeGreaterThan(before);
  });

  it("never allocates managed memory (it runs inside memory.grow)", () => {
    initFake();
    let before = allocation_count();
    for (let i = 0; i < 200; i++) {
      let addr = frame_alloc();
      frame_free(addr);
      frame_free(addr);
      frame_free(addr + 1);
    }
    let after = allocation_count();
    expect(after).toBe(before);
  });
});

describe("frame_free", () => {
  it("returns a frame that the next allocation hands out again", () => {
    initFake();
    let got = drain();
    let victim = got[got.length / 2];
    expect(frame_free(victim)).toBe(E_OK);
    expect(frames_free_count()).toBe(1);
    expect(frame_alloc()).toBe(victim);
    expect(frame_alloc()).toBe(0);
  });

  it("finds a freed frame below the search hint", () => {
    initFake();
    let first = frame_alloc();
    for (let i = 0; i < 200; i++) frame_alloc();
    expect(frame_free(first)).toBe(E_OK);
    expect(frame_alloc()).toBe(first);
  });

  it("reports a double free and leaves the counters alone", () => {
    initFake();
    let addr = frame_alloc();
    expect(frame_free(addr)).toBe(E_OK);
    let free = frames_free_count();
    expect(frame_free(addr)).toBe(E_DOUBLE_FREE);
    expect(frames_free_count()).toBe(free);
  });

  it("reports a never-allocated frame as a double free", () => {
    initFake();
    expect(frame_free(0x480000 - FRAME_BYTES)).toBe(E_DOUBLE_FREE);
  });

  it("rejects unaligned addresses", () => {
    initFake();
    let addr = frame_alloc();
    expect(frame_free(addr + 8)).toBe(E_BAD_ARG);
    expect(frame_free(addr + 0x800)).toBe(E_BAD_ARG);
    expect(frames_used_count()).toBe(1);
  });

  it("rejects frames it does not manage", () => {
    initFake();
    drain();
    expect(frame_free(0)).toBe(E_BAD_ARG);            // frame 0
    expect(frame_free(0x9000)).toBe(E_BAD_ARG);       // low memory
    expect(frame_free(0x100000)).toBe(E_BAD_ARG);     // kernel image
    expect(frame_free(0x1f1000)).toBe(E_BAD_ARG);     // module
    expect(frame_free(0x300000)).toBe(E_BAD_ARG);     // hole
    expect(frame_free(0x440000)).toBe(E_BAD_ARG);     // ACPI NVS
    expect(frame_free(0x500000)).toBe(E_BAD_ARG);     // partial frame
    expect(frame_free(0x10000000)).toBe(E_BAD_ARG);   // beyond the map
    expect(frame_free(0xfffffffffffff000)).toBe(E_BAD_ARG);
    expect(frames_free_count()).toBe(0);
  });

  it("keeps total = free + used through a mix of operations", () => {
    initFake();
    let held: u64[] = [];
    for (let i = 0; i < 50; i++) held.push(frame_alloc());
    for (let i = 0; i < 50; i += 3) frame_free(held[i]);
    expect(frames_free_count() + frames_used_count()).toBe(frames_total_count());
    expect(frames_used_count()).toBe(50 - 17);
  });
});
