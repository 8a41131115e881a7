// The arch boundary: the only way the kernel touches the machine.
//
// Every function here is implemented by the per-architecture trampoline
// (arch/<arch>/), which makes no policy decision. Nothing in kernel/ or boot/
// may know which CPU it runs on; everything arch-specific arrives either
// through these calls or through the BootInfo built by boot/.
//
// In the host unit tests these imports are mocked (tests/unit/as-pect.config.js).

// Writes `len` bytes of kernel linear memory, starting at `ptr`, to the console.
@external("arch", "console_write")
export declare function console_write(ptr: usize, len: u32): void;

// Returns the next byte received on the console, or -1 when none is waiting.
@external("arch", "console_read")
export declare function console_read(): i32;

// Copies `len` bytes from kernel virtual address `src` (outside linear memory:
// loader structures, ACPI tables, the DTB) into linear memory at `dst`.
@external("arch", "peek")
export declare function peek(src: u64, dst: usize, len: u32): void;

// Nanoseconds since the trampoline started its clock (monotonic).
@external("arch", "time_ns")
export declare function time_ns(): u64;

// The CPU's cycle counter (rdtsc / CNTVCT_EL0), for benchmarks.
@external("arch", "cycles")
export declare function cycles(): u64;

// Arms the periodic timer of this CPU at `hz` ticks per second; each tick
// enters the kernel through kernel_irq(IRQ_TIMER).
@external("arch", "timer_start")
export declare function timer_start(hz: u32): void;

// Resets the machine, given the power method boot/ found (BootInfo.power*:
// PSCI needs its conduit; x86 resets through the chipset whatever the
// method). Does not return.
@external("arch", "reset")
export declare function reset(method: u32, arg0: u64, arg1: u64): void;

// Powers the machine off with the method boot/ found (BootInfo.power*);
// when the method is POWER_NONE or fails, stops every CPU. Does not return.
@external("arch", "power_off")
export declare function power_off(method: u32, arg0: u64, arg1: u64): void;

// Kernel entry sources for kernel_irq(source).
export const IRQ_TIMER: u32 = 0;
export const IRQ_CONSOLE: u32 = 1;

// Boot protocols for kernel_main(protocol, info, handoff).
export const BOOT_MULTIBOOT2: u32 = 1;
export const BOOT_LIMINE: u32 = 2;
export const BOOT_LINUX_ARM64: u32 = 3;
