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
export const IRQ_RESCHEDULE: u32 = 2;   // another CPU kicked this one (cpu_kick)

// Boot protocols for kernel_main(protocol, info, handoff).
export const BOOT_MULTIBOOT2: u32 = 1;
export const BOOT_LIMINE: u32 = 2;
export const BOOT_LINUX_ARM64: u32 = 3;

// ---- user space: address spaces, threads, device access ----
//
// An address space is named by its root page-table frame (physical). The
// kernel half is shared by every space; these calls touch only the user half.

// Mapping flags for space_map.
export const MAP_WRITE: u32 = 1 << 0;
export const MAP_EXECUTE: u32 = 1 << 1;
export const MAP_DEVICE: u32 = 1 << 2;   // device memory: uncached, never executable

// A new, empty user address space; 0 when no frame could be had.
@external("arch", "space_create")
export declare function space_create(): u64;

// Maps one 4 KiB page, user-accessible. W and X together are refused
// (returns -1), as is a kernel-half address; -2 when a page-table frame
// could not be had. An existing mapping is replaced.
@external("arch", "space_map")
export declare function space_map(root: u64, virt: u64, phys: u64, flags: u32): i32;

// Removes one page's mapping; returns the physical frame it held, or 0.
@external("arch", "space_unmap")
export declare function space_unmap(root: u64, virt: u64): u64;

// Frees the page tables of a space (not the frames it maps: the kernel
// owns and frees those). Its tables go back through kernel_frame_free.
@external("arch", "space_destroy")
export declare function space_destroy(root: u64): void;

// Copies between a user space and linear memory, walking the page tables:
// 0 on success, -1 when any byte is not mapped user-readable (read) or
// user-writable (write). Never faults.
@external("arch", "space_read")
export declare function space_read(root: u64, virt: u64, dst: usize, len: u32): i32;
@external("arch", "space_write")
export declare function space_write(root: u64, virt: u64, src: usize, len: u32): i32;

// Copies `len` bytes of linear memory to kernel-virtual address `dst` (the
// direct map of a frame the kernel owns): peek's mirror, for loading images.
@external("arch", "poke")
export declare function poke(dst: u64, src: usize, len: u32): void;

// Kernel-virtual address of a physical address (the direct map).
@external("arch", "phys_to_virt")
export declare function phys_to_virt(phys: u64): u64;

// Prepares thread `tid` to enter user mode in space `root` at `entry` with
// stack pointer `stack` and its first argument register set to `arg`.
@external("arch", "thread_start")
export declare function thread_start(tid: u32, root: u64, entry: u64, stack: u64, arg: u64): void;

// Sets a result register of a thread that entered the kernel (REG_STATUS,
// REG_RESULT0 + i): what it finds when it runs again.
@external("arch", "context_set")
export declare function context_set(tid: u32, reg: u32, value: u64): void;

export const REG_STATUS: u32 = 0;
export const REG_RESULT0: u32 = 1; // REG_RESULT0 .. REG_RESULT0 + 5

// x86 I/O ports (an AArch64 trampoline answers 0xFFFFFFFF and ignores out).
@external("arch", "port_in")
export declare function port_in(port: u32, width: u32): u32;
@external("arch", "port_out")
export declare function port_out(port: u32, width: u32, value: u32): void;

// Device registers for user-mode drivers (the console's PL011 on AArch64):
// reads or writes `width` (1, 2 or 4) bytes at physical address `phys`,
// uncached, with exactly that access size. The kernel checks the caller's
// CAP_MMIO capability first (range and rights); the trampoline refuses
// (mmio_read -1, mmio_write -1; 0 when done) what no capability can make
// sound: another width, an address not aligned to it, RAM, the interrupt
// controller it drives itself, or no MMIO mechanism at all (x86_64, which
// has port_in / port_out). A value wider than `width` is refused too.
@external("arch", "mmio_read")
export declare function mmio_read(phys: u64, width: u32): i64;
@external("arch", "mmio_write")
export declare function mmio_write(phys: u64, width: u32, value: u32): i32;

// The holder of interrupt source `source` (IRQ_*) has serviced it
// (SYS_IRQ_ACK): the trampoline may let it fire again. A level-triggered
// line still up after the kernel entry for it (the kernel signalled its
// holder instead of draining the device) is masked until then, so it
// cannot storm; and the source is looked at on every tick meanwhile, so an
// ack that never comes strands nothing. A source that is never masked
// (the timer; x86_64's polled UART) ignores it.
@external("arch", "irq_ack")
export declare function irq_ack(source: u32): void;

// ---- SMP ----
//
// The kernel numbers CPUs: 0 is the boot CPU, 1 .. in the order it starts
// them with cpu_start. Every kernel entry holds the trampoline's big kernel
// lock, so one CPU runs kernel code at a time. A timer (timer_start) is per
// CPU. space_unmap and space_destroy return only once no CPU can still use
// the old translation (x86_64: a shootdown IPI to the CPUs that have the
// space loaded; AArch64: broadcast TLB maintenance).

// How cpu_start reaches a CPU (from BootInfo.cpus).
export const CPU_START_SIPI: u32 = 1;      // x86_64: INIT-SIPI-SIPI to LAPIC id `hwid`
export const CPU_START_LIMINE: u32 = 2;    // Limine MP: `handle` = its limine_mp_info (kernel virtual)
export const CPU_START_PSCI_HVC: u32 = 3;  // AArch64: PSCI CPU_ON(MPIDR `hwid`) through HVC
export const CPU_START_PSCI_SMC: u32 = 4;  // ... through SMC
export const ARCH_MAX_CPUS: u32 = 16;      // the trampoline's per-CPU state: cpu < ARCH_MAX_CPUS

// The number of the CPU running this entry.
@external("arch", "cpu_id")
export declare function cpu_id(): u32;

// Starts CPU `cpu` and waits, bounded, until it runs: 0 online (it enters
// kernel_cpu_online(cpu) once this entry returns), 1 `hwid` is the calling
// CPU, -1 it did not come up, -2 the method is not supported here.
@external("arch", "cpu_start")
export declare function cpu_start(cpu: u32, method: u32, hwid: u64, handle: u64): i32;

// Interrupts CPU `cpu` so that it enters kernel_irq(IRQ_RESCHEDULE) soon.
@external("arch", "cpu_kick")
export declare function cpu_kick(cpu: u32): void;

// Fault kinds for kernel_fault(tid, kind, address, ip, code).
export const FAULT_PAGE: u32 = 1;          // address = faulting address, code = arch error bits
export const FAULT_PROTECTION: u32 = 2;    // general protection / permission
export const FAULT_ILLEGAL: u32 = 3;       // undefined instruction
export const FAULT_ARITHMETIC: u32 = 4;    // divide error, FP exception
export const FAULT_ALIGNMENT: u32 = 5;
export const FAULT_BREAKPOINT: u32 = 6;
export const FAULT_OTHER: u32 = 7;
