// BootInfo: the one description of the machine that every boot adapter
// produces, whatever the loader said and however it said it.
//
// The kernel never reads a loader structure itself. An adapter (multiboot2.ts,
// limine.ts, later the DTB reader) copies what it needs out of foreign memory
// into the plain managed objects below, once, at boot, before anything is
// reused. After that the loader's memory may be reclaimed, with one exception
// spelled out on `rsdp`.
//
// Addresses: `physical` means a machine address (what page tables map);
// `kernel-virtual` means an address the kernel can hand to arch.peek, i.e.
// physical + hhdmOffset for RAM and ACPI tables.

// ---------------------------------------------------------------------------
// Memory kinds. Only Usable ever becomes free frames (kernel/frames.ts).

export namespace MemoryKind {
  export const Usable: u32 = 0;
  export const Reserved: u32 = 1;
  export const AcpiReclaimable: u32 = 2;
  export const AcpiNvs: u32 = 3;
  export const BadMemory: u32 = 4;
  export const BootloaderReclaimable: u32 = 5;
  export const KernelAndModules: u32 = 6;
  export const Framebuffer: u32 = 7;
}

// ---------------------------------------------------------------------------
// Power-off methods, handed verbatim to arch.power_off(method, arg0, arg1).

export const POWER_NONE: u32 = 0;
// arg0 = PM1a control block I/O port, arg1 = the u16 to write there
// (SLP_TYPa << 10 | SLP_EN).
export const POWER_ACPI_PORT: u32 = 1;
// AArch64: PSCI SYSTEM_OFF / SYSTEM_RESET; arg0 = conduit (0 HVC, 1 SMC), from the DTB.
export const POWER_PSCI: u32 = 2;

// ---------------------------------------------------------------------------
// Errors. Adapters never trap on bad input: they return one of these with a
// message the kernel prints before it stops.

export const BOOT_OK: i32 = 0;
export const E_BOOT_BAD_HANDOFF: i32 = 1;   // trampoline handoff unreadable
export const E_BOOT_BAD_MAGIC: i32 = 2;     // loader magic is not the protocol's
export const E_BOOT_BAD_POINTER: i32 = 3;   // null or misaligned structure
export const E_BOOT_BAD_SIZE: i32 = 4;      // total size absurd or misaligned
export const E_BOOT_BAD_TAG: i32 = 5;       // a tag/entry runs past its container
export const E_BOOT_BAD_MMAP: i32 = 6;      // memory map malformed
export const E_BOOT_TOO_MANY: i32 = 7;      // a count above the sane maxima below
export const E_BOOT_MISSING: i32 = 8;       // a required answer is absent
export const E_BOOT_UNSUPPORTED: i32 = 9;   // protocol not handled (yet)
export const E_BOOT_BAD_TABLE: i32 = 10;    // Limine request table slot mismatch

// Sane maxima: a bigger count is garbage, not a big machine.
export const MAX_MEMORY_REGIONS: i32 = 1024;
export const MAX_MODULES: i32 = 64;
export const MAX_CPUS: u32 = 4096;
export const MAX_STRING_BYTES: u32 = 4096;

// ---------------------------------------------------------------------------

export class MemoryRegion {
  constructor(
    public base: u64,       // physical
    public length: u64,     // bytes
    public kind: u32,       // MemoryKind.*
  ) {}

  // Exclusive physical end; saturates rather than wrapping on garbage input.
  end(): u64 {
    let e = this.base + this.length;
    return e < this.base ? U64.MAX_VALUE : e;
  }
}

export class BootModule {
  constructor(
    public base: u64,       // physical
    public size: u64,       // bytes
    public cmdline: string, // the loader's string for it ("" if none)
    public path: string,    // file path when the loader reports one (Limine)
  ) {}
}

export class Framebuffer {
  constructor(
    public address: u64,    // physical
    public width: u32,      // pixels
    public height: u32,     // pixels
    public pitch: u32,      // bytes per row
    public bpp: u32,        // bits per pixel
  ) {}
}

// One processor the loader or the firmware tables list, and how to start
// it: method is kernel/arch.ts CPU_START_* (0: no way known), hwid the LAPIC
// id (x86_64) or MPIDR affinity (AArch64), handle the method's extra word
// (Limine: the CPU's limine_mp_info, kernel virtual; else 0).
export class CpuEntry {
  constructor(
    public hwid: u64,
    public method: u32,
    public handle: u64,
  ) {}
}

export class BootInfo {
  protocol: string = "";            // "multiboot2" | "limine"
  loader: string = "";              // loader name (and version when given)
  cmdline: string = "";             // the kernel's command line
  arch: string = "";                // "x86_64" | "aarch64"

  memory: MemoryRegion[] = [];      // sorted by base (sortRegions)
  modules: BootModule[] = [];

  // Kernel-virtual address of the RSDP, 0 if none. Under Multiboot2 this
  // points at the loader's COPY of the RSDP inside the boot information
  // structure, so that structure (bootDataBase/Size) stays reserved.
  rsdp: u64 = 0;
  dtb: u64 = 0;                     // kernel-virtual, 0 if none
  framebuffer: Framebuffer | null = null;

  cpuCount: u32 = 0;                // 0 until a loader or ACPI says
  cpus: CpuEntry[] = [];            // the processors to start, boot CPU included; may be empty (one CPU)
  bootCpuHwid: u64 = U64.MAX_VALUE; // the boot CPU's hardware id when the loader says (Limine); else unknown
  hhdmOffset: u64 = 0;              // virtual = physical + hhdmOffset
  kernelPhysStart: u64 = 0;
  kernelPhysEnd: u64 = 0;           // exclusive
  kernelVirtBase: u64 = 0;          // when the loader reports it (Limine)
  entryCycles: u64 = 0;             // cycle counter when the trampoline started

  // Physical range of loader data the kernel still points into (the
  // Multiboot2 information structure); 0/0 when none.
  bootDataBase: u64 = 0;
  bootDataSize: u64 = 0;

  powerMethod: u32 = POWER_NONE;
  powerArg0: u64 = 0;
  powerArg1: u64 = 0;

  // Non-fatal findings (e.g. "acpi: bad MADT checksum"), for the boot log.
  warnings: string[] = [];

  // Bytes of memory the frame allocator may hand out before exclusions.
  usableBytes(): u64 {
    let total: u64 = 0;
    for (let i = 0; i < this.memory.length; i++) {
      let r = this.memory[i];
      if (r.kind == MemoryKind.Usable) total += r.length;
    }
    return total;
  }

  // Physical ranges inside Usable memory that must not become free frames:
  // the kernel image, the modules, loader data still referenced. This is
  // what the kernel passes as `reserved` to frames_init.
  reservedRanges(): MemoryRegion[] {
    let out: MemoryRegion[] = [];
    if (this.kernelPhysEnd > this.kernelPhysStart) {
      out.push(new MemoryRegion(this.kernelPhysStart,
        this.kernelPhysEnd - this.kernelPhysStart, MemoryKind.KernelAndModules));
    }
    for (let i = 0; i < this.modules.length; i++) {
      let m = this.modules[i];
      if (m.size > 0) out.push(new MemoryRegion(m.base, m.size, MemoryKind.KernelAndModules));
    }
    if (this.bootDataSize > 0) {
      out.push(new MemoryRegion(this.bootDataBase, this.bootDataSize,
        MemoryKind.BootloaderReclaimable));
    }
    return out;
  }
}

// The answer of every adapter: a BootInfo, or an error code and a message.
export class BootResult {
  constructor(
    public info: BootInfo | null,
    public error: i32,
    public message: string,
  ) {}

  get ok(): bool { return this.error == BOOT_OK; }
}

export function bootOk(info: BootInfo): BootResult {
  return new BootResult(info, BOOT_OK, "");
}

export function bootFail(error: i32, message: string): BootResult {
  return new BootResult(null, error, message);
}

// Insertion sort by base: maps are short (<= MAX_MEMORY_REGIONS) and usually
// already sorted, where this is linear.
export function sortRegions(regions: MemoryRegion[]): void {
  for (let i = 1; i < regions.length; i++) {
    let r = regions[i];
    let j = i - 1;
    while (j >= 0 && regions[j].base > r.base) {
      regions[j + 1] = regions[j];
      j--;
    }
    regions[j + 1] = r;
  }
}

// "0x1f" style hex for error messages (no allocation-heavy formatting).
export function hex(value: u64): string {
  return "0x" + value.toString(16);
}
