// The console's capability slots, as services/console/manifest.json grants
// them (slots are the manifest's to choose; these must follow it). Free:
// 9 and up.

export const SLOT_ENDPOINT: u32 = 0;  // "console" [receive]: reports from other services (no protocol yet: unread)
export const SLOT_INIT: u32 = 1;      // "init" [call]: ps, kill, caps (services/lib/protocol.ts)
export const SLOT_UART: u32 = 2;      // x86_64: I/O ports 0x3F8..0x3FF [read, write]; AArch64: the PL011's MMIO page
export const SLOT_IRQ: u32 = 3;       // irq "console" [receive]: wait on it, then drain the UART
export const SLOT_AUDIT: u32 = 4;     // [read]: audit ring, IPC counters
export const SLOT_LOG: u32 = 5;       // [write]
export const SLOT_POWER: u32 = 6;     // [write]: reboot, halt
export const SLOT_SCHED: u32 = 7;     // sched [read]: sched, explain, cpus, tune without arguments
export const SLOT_SCHED_TUNE: u32 = 8; // sched-tune [write]: tune
