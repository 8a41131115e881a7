// Kernel-wide facts that several subsystems read.

export const KERNEL_VERSION = "0.1.0";

// The periodic tick the kernel asks the trampoline for.
export const TIMER_HZ: u32 = 100;

let ticks: u64 = 0;

export function timerTick(): void {
  ticks++;
}

export function timerTicks(): u64 {
  return ticks;
}
