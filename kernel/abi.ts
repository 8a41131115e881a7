// The system-call ABI: numbers, errors, capability types and rights, the
// message label layout, the user address-space layout. One definition,
// shared by the kernel and by services (services/lib imports this file;
// nothing else of kernel/ is theirs). docs/abi.md explains each call and
// every corner case.
//
// Registers (x86_64 `syscall`; AArch64 `svc #0` uses x8 and x0..x5, x0..x6):
//
//   in:   number  rax | a0 rdi  a1 rsi  a2 rdx  a3 r10  a4 r8  a5 r9
//   out:  status  rax | r0 rdi  r1 rsi  r2 rdx  r3 r10  r4 r8  r5 r9
//
// status is E_OK (0) or a negative error below; r0..r5 are the call's
// results (for a received message: badge, label, w0..w3). Registers a call
// does not name as results are left as they were.
//
// Message label word, as sent (a1 of call/send, a0 of reply, a1 of reply_recv):
//
//   63          48 47           32 31                              0
//  ┌──────────────┬───────────────┬─────────────────────────────────┐
//  │ recv slot + 1│ cap slot + 1  │  label (the protocol's opcode)  │
//  └──────────────┴───────────────┴─────────────────────────────────┘
//   cap slot + 1 = 0: no capability travels with the message.
//   recv slot + 1: where a capability arriving with the answer goes (the
//   reply of a call; the next message of a reply_recv); 0: take none.
//   Ignored by send and reply.
//
// Message label word, as received (r1):
//
//   63       49  48  47           32 31                              0
//  ┌───────────┬────┬───────────────┬─────────────────────────────────┐
//  │  zero     │LOST│ got slot + 1  │  label                          │
//  └───────────┴────┴───────────────┴─────────────────────────────────┘
//   got slot + 1: the slot the transferred capability now occupies; 0: none.
//   LOST: a capability was sent but not delivered (no receive slot, the slot
//   was occupied, or the capability was deleted while the message waited).
//   The message itself is always delivered.
//
// SYS_RECV's third argument binds a notification (or an IRQ capability) to
// the receive: when it has bits set, or gets them while the receiver waits,
// the receive returns with badge 0, label LABEL_NOTIFIED and w0 = the bits
// (taken). Pending bits win over pending messages. One receiver may wait
// bound to a notification at a time (a second gets E_BAD_ARG).

// ---- system calls ----
// (arguments) -> results. "x slot" names a capability slot of the caller;
// every call that takes one fails with E_BAD_SLOT / E_NO_CAP / E_NO_RIGHTS.
export const SYS_NULL: u32 = 0;          // () does nothing: for benchmarks
export const SYS_EXIT: u32 = 1;          // (code) never returns; code >= EXIT_TRAP_BASE: a wasm trap
export const SYS_YIELD: u32 = 2;         // ()
export const SYS_CALL: u32 = 3;          // (endpoint slot [CALL], label, w0, w1, w2, w3) -> badge, label, w0..w3 of the reply
export const SYS_SEND: u32 = 4;          // (endpoint slot [SEND], label, w0, w1, w2, w3) asynchronous; E_QUEUE_FULL
export const SYS_RECV: u32 = 5;          // (endpoint slot [RECEIVE], recv slot + 1, notification slot + 1) -> badge, label, w0..w3
export const SYS_REPLY: u32 = 6;         // (label, w0, w1, w2, w3) to the caller being served
export const SYS_REPLY_RECV: u32 = 7;    // (endpoint slot [RECEIVE], label, w0, w1, w2, w3): reply, then receive bound as the last SYS_RECV
export const SYS_SIGNAL: u32 = 8;        // (notification slot [SEND], bits != 0)
export const SYS_WAIT: u32 = 9;          // (notification or irq slot [RECEIVE]) -> bits
export const SYS_CAP_DERIVE: u32 = 10;   // (source slot, target slot, rights mask, badge)
export const SYS_CAP_DELETE: u32 = 11;   // (slot)
export const SYS_CAP_REVOKE: u32 = 12;   // (slot): delete every capability derived from it
export const SYS_CAP_INFO: u32 = 13;     // (process slot [READ] or SLOT_SELF, slot) -> type, rights, badge, object, base, count
export const SYS_MEM_GROW: u32 = 14;     // (pages of 64 KiB) -> previous pages: the caller's linear memory
export const SYS_PORT_IN: u32 = 15;      // (io-port slot [READ], port, width 1/2/4) -> value
export const SYS_PORT_OUT: u32 = 16;     // (io-port slot [WRITE], port, width, value)
export const SYS_IRQ_ACK: u32 = 17;      // (irq slot [RECEIVE])
export const SYS_SPAWN: u32 = 18;        // (spawn slot [WRITE], boot service index, target slot) -> pid; the child's CAP_PROCESS lands in target slot
export const SYS_KILL: u32 = 19;         // (process slot [WRITE])
export const SYS_PROC_INFO: u32 = 20;    // (audit slot [READ], process index, buffer, length) -> see PROC_INFO below
export const SYS_AUDIT_READ: u32 = 21;   // (audit slot [READ], sequence, flags) -> see AUDIT_READ below
export const SYS_IPC_STATS: u32 = 22;    // (audit slot [READ], endpoint index, buffer, length) -> calls, sends, replies, denials, queued | depth << 32, name length
export const SYS_LOG: u32 = 23;          // (log slot [WRITE], pointer, length <= LOG_MAX_BYTES): a line "[name] text" in the kernel log
export const SYS_BOOT_INFO: u32 = 24;    // (spawn slot [READ], service index, buffer, length) -> see BOOT_INFO below
export const SYS_SLEEP: u32 = 25;        // (milliseconds): blocks that long, rounded up to timer ticks; 0 returns at once
export const SYS_KERNEL_INFO: u32 = 26;  // (KERNEL_INFO_*) -> see KERNEL_INFO below; needs no capability (nothing secret)
export const SYS_POWER: u32 = 27;        // (power slot [WRITE], POWER_RESET or POWER_OFF): does not return on success
export const SYS_MAP: u32 = 28;          // (mmio or memory slot [MAP], user address, offset, bytes): see MAP below
export const SYS_MMIO_READ: u32 = 29;     // (mmio slot [READ], offset, width 1/2/4) -> value: one device register read
export const SYS_MMIO_WRITE: u32 = 30;    // (mmio slot [WRITE], offset, width 1/2/4, value): one device register write
export const SYS_SCHED_INFO: u32 = 31;   // (sched slot [READ], tid, buffer, length) -> see SCHED_INFO below
export const SYS_SCHED_SET: u32 = 32;    // (sched slot [WRITE], process slot [WRITE] or SLOT_SELF, SCHED_*, value): a score or the pin
export const SYS_SCHED_TUNE: u32 = 33;   // (tune slot [WRITE], w0, w1, w2, w3, w4): the weights, thousandths summing to 1000
export const SYS_CPU_INFO: u32 = 34;     // (sched slot [READ], cpu) -> see CPU_INFO below
export const SYS_COUNT: u32 = 35;

// ---- errors (negative in the status register) ----
export const E_OK: i32 = 0;
export const E_BAD_SYSCALL: i32 = -1;    // no such system call
export const E_BAD_SLOT: i32 = -2;       // slot out of range, or empty
export const E_NO_CAP: i32 = -3;         // the slot holds the wrong type of capability
export const E_NO_RIGHTS: i32 = -4;      // the capability lacks a right the call needs, or does not cover the port
export const E_BAD_ARG: i32 = -5;        // an argument is out of its range
export const E_FAULT: i32 = -6;          // a pointer or length outside the caller's mappings
export const E_QUEUE_FULL: i32 = -7;     // asynchronous send: the endpoint's queue is full
export const E_PEER_DEAD: i32 = -8;      // the other side of an IPC died before it completed, or nobody can receive
export const E_NO_MEMORY: i32 = -9;      // out of frames or kernel objects, or over the caller's quota
export const E_RATE_LIMITED: i32 = -10;  // the caller's IPC rate limit is spent
export const E_DENIED: i32 = -11;        // the policy verdict is no
export const E_NOT_FOUND: i32 = -12;     // no such process, module or record
export const E_SLOT_FULL: i32 = -13;     // the target slot is occupied
export const E_NO_CALLER: i32 = -14;     // reply with nobody to reply to
export const E_BAD_MODULE: i32 = -15;    // a boot module failed verification (the boot log says why)
export const E_ABANDONED: i32 = -16;     // the server received again without replying to this call

// ---- capabilities ----
export const CAP_NONE: u8 = 0;
export const CAP_ENDPOINT: u8 = 1;
export const CAP_NOTIFICATION: u8 = 2;
export const CAP_IRQ: u8 = 3;
export const CAP_IO_PORTS: u8 = 4;       // a range of x86 I/O ports
export const CAP_MMIO: u8 = 5;           // a physical device range (AArch64, later x86)
export const CAP_MEMORY: u8 = 6;         // a shared region
export const CAP_PROCESS: u8 = 7;        // control of one process (kill, caps)
export const CAP_SPAWN: u8 = 8;          // authority to start boot modules
export const CAP_AUDIT: u8 = 9;          // read the audit ring, process and IPC statistics
export const CAP_LOG: u8 = 10;           // write the kernel log
export const CAP_POWER: u8 = 11;         // reset or power off the machine
export const CAP_SCHED: u8 = 12;         // the scheduler: READ its state, WRITE scores and pins
export const CAP_SCHED_TUNE: u8 = 13;    // WRITE the weight vector (SYS_SCHED_TUNE)
export const CAP_TYPE_COUNT: u8 = 14;

export const RIGHT_SEND: u8 = 1 << 0;
export const RIGHT_RECEIVE: u8 = 1 << 1;
export const RIGHT_CALL: u8 = 1 << 2;
export const RIGHT_GRANT: u8 = 1 << 3;   // may pass the capability on in a message
export const RIGHT_READ: u8 = 1 << 4;
export const RIGHT_WRITE: u8 = 1 << 5;
export const RIGHT_MAP: u8 = 1 << 6;
export const RIGHTS_ALL: u8 = 0x7f;

export const CAP_SLOTS: u32 = 64;        // per process
export const SLOT_SELF: u32 = 0xffff;    // "the calling process" where a process slot is asked for

// The capabilities the kernel gives init besides its manifest's (init's
// manifest must leave these slots free).
export const INIT_SLOT_DEATHS: u32 = 60; // CAP_NOTIFICATION [RECEIVE]: bit i = process index i died
export const INIT_SLOT_LOG: u32 = 61;    // CAP_LOG [WRITE, GRANT]
export const INIT_SLOT_AUDIT: u32 = 62;  // CAP_AUDIT [READ, GRANT]
export const INIT_SLOT_SPAWN: u32 = 63;  // CAP_SPAWN [READ, WRITE, GRANT]: every service of the boot manifest

// ---- message label ----
export const LABEL_MASK: u64 = 0xffffffff;
export const LABEL_CAP_SHIFT: u64 = 32;
export const LABEL_CAP_MASK: u64 = 0xffff;
export const LABEL_RECV_SHIFT: u64 = 48;
export const LABEL_CAP_LOST: u64 = 1 << 48;
export const LABEL_NOTIFIED: u32 = 0xffff_fff0; // a bound notification, not a message

// The slot whose capability travels with a sent label; -1 when none.
export function labelCapSlot(label: u64): i32 {
  return <i32>((label >> LABEL_CAP_SHIFT) & LABEL_CAP_MASK) - 1;
}

// The receive slot a sent label names; -1 when none.
export function labelRecvSlot(label: u64): i32 {
  return <i32>((label >> LABEL_RECV_SHIFT) & LABEL_CAP_MASK) - 1;
}

export function labelWithCap(label: u32, slot: u32): u64 {
  return (<u64>label) | ((<u64>(slot + 1)) << LABEL_CAP_SHIFT);
}

export function labelWithRecv(label: u64, slot: u32): u64 {
  return (label & ~(LABEL_CAP_MASK << LABEL_RECV_SHIFT)) | ((<u64>(slot + 1)) << LABEL_RECV_SHIFT);
}

// ---- exit codes ----
// SYS_EXIT(code): code < EXIT_TRAP_BASE is the program's own exit code;
// EXIT_TRAP_BASE + kind reports a wasm trap (kinds as wasm2c's wasm_rt_trap_t).
export const EXIT_TRAP_BASE: u64 = 0x100;
export const TRAP_OOB: u32 = 1;                // out-of-bounds memory (or table) access
export const TRAP_INT_OVERFLOW: u32 = 2;
export const TRAP_DIV_BY_ZERO: u32 = 3;
export const TRAP_INVALID_CONVERSION: u32 = 4;
export const TRAP_UNREACHABLE: u32 = 5;
export const TRAP_CALL_INDIRECT: u32 = 6;
export const TRAP_UNCAUGHT_EXCEPTION: u32 = 7;
export const TRAP_EXHAUSTION: u32 = 8;         // call stack exhausted

// ---- the user address space ----
//
//   0x0000_0000_0040_0000  program image (ELF segments)
//   0x0000_0001_0000_0000  wasm linear memory, grown by SYS_MEM_GROW; the
//                          rest of its 8 GiB reservation stays unmapped, so
//                          any out-of-bounds wasm access faults
//   0x0000_0010_0000_0000  SYS_MAP window: device pages and shared regions,
//   .. 0x0000_7000_0000_0000  placed where the caller asks (libsys's native
//                          code reaches them; wasm code cannot)
//   0x0000_7fff_fffe_f000  guard page (never mapped)
//   0x0000_7fff_ffff_0000  top of the 64 KiB user stack
//   0x0000_8000_0000_0000  end of the user half
export const USER_IMAGE_BASE: u64 = 0x0000_0000_0040_0000;
export const USER_WASM_BASE: u64 = 0x0000_0001_0000_0000;
export const USER_WASM_RESERVE_BYTES: u64 = 8 << 30;
export const WASM_PAGE_BYTES: u64 = 64 << 10;
export const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
export const USER_STACK_BYTES: u64 = 64 << 10;
export const USER_SPACE_END: u64 = 0x0000_8000_0000_0000;
export const USER_MAP_BASE: u64 = 0x0000_0010_0000_0000;
export const USER_MAP_END: u64 = 0x0000_7000_0000_0000;

// ---- SYS_PROC_INFO(audit slot, index, buffer, length) ----
// index: a process table index, 0 .. MAX_PROCESSES - 1 (E_BAD_ARG beyond;
// E_NOT_FOUND for an unused entry). Results:
//   r0  pid
//   r1  state (PROC_*) | exit code << 32 (dead processes; the code SYS_EXIT got, or EXIT_KILLED / EXIT_FAULT)
//   r2  faults of this process | faults of its service since boot << 32
//   r3  boot service index (SERVICE_NONE for init) | times the service was started << 32
//   r4  supervisor pid (0: none) | linear memory pages << 32
//   r5  text bytes: the buffer receives "name\0reason\0" (reason empty while it lives),
//       truncated to `length`; r5 is the full size, so a short buffer shows.
export const PROC_FREE: u32 = 0;
export const PROC_RUNNING: u32 = 1;       // its thread runs or is ready
export const PROC_BLOCKED: u32 = 2;       // its thread waits in IPC
export const PROC_DEAD: u32 = 3;
export const EXIT_KILLED: u64 = 0xffff_0001;  // SYS_KILL
export const EXIT_FAULT: u64 = 0xffff_0002;   // a CPU fault
export const SERVICE_NONE: u32 = 0xffff;

// ---- SYS_AUDIT_READ(audit slot, sequence, flags) ----
// The record with the smallest trace id >= sequence (AUDIT_BACKWARD: the
// largest <= sequence); E_NOT_FOUND when there is none. Results:
//   r0  trace id          r1  caller pid
//   r2  target | target kind (AUDIT_TARGET_*) << 32
//   r3  syscall number | verdict (E_*, as u32) << 32
//   r4  times it happened (identical denials in a row are coalesced)
//   r5  timer tick of the first one
export const AUDIT_DENIALS_ONLY: u64 = 1 << 0;
export const AUDIT_BACKWARD: u64 = 1 << 1;
export const AUDIT_TARGET_NONE: u8 = 0;
export const AUDIT_TARGET_SLOT: u8 = 1;          // a slot of the caller (its lookup failed)
export const AUDIT_TARGET_ENDPOINT: u8 = 2;      // endpoint index
export const AUDIT_TARGET_NOTIFICATION: u8 = 3;  // notification index
export const AUDIT_TARGET_PROCESS: u8 = 4;       // pid
export const AUDIT_TARGET_PORT: u8 = 5;          // I/O port
export const AUDIT_TARGET_IRQ: u8 = 6;           // interrupt source
export const AUDIT_TARGET_SERVICE: u8 = 7;       // boot service index
export const AUDIT_TARGET_SYSCALL: u8 = 8;       // the (bad) syscall number
export const AUDIT_TARGET_MMIO: u8 = 9;          // physical address (low 32 bits) of a device register

// ---- SYS_BOOT_INFO(spawn slot, service index, buffer, length) ----
// One boot-manifest service per call (E_NOT_FOUND past the last). Results:
//   r0  dependency mask: bit j = depends on service j
//   r1  restart limit     r2  first restart back-off, ms (doubles each time)
//   r3  BOOT_INFO_* flags r4  service count
//   r5  name bytes; the buffer receives the name, truncated to `length`
export const BOOT_INFO_IS_INIT: u64 = 1 << 0;     // this entry is init itself (already running)
export const BOOT_INFO_AVAILABLE: u64 = 1 << 1;   // its module verified and can be spawned

// ---- SYS_KERNEL_INFO(key) ----
// Names travel as two words each, little endian, NUL-padded (16 bytes).
//   KERNEL_INFO_VERSION  r0, r1 version   r2, r3 architecture
//   KERNEL_INFO_UPTIME   r0 ns since the trampoline's clock started   r1 timer ticks   r2 ticks per second
//                        r3 the cycle counter (rdtsc / CNTVCT_EL0), for benchmarks
//   KERNEL_INFO_MEMORY   r0 physical bytes   r1 used   r2 free   r3 kernel heap (linear memory) bytes
export const KERNEL_INFO_VERSION: u32 = 0;
export const KERNEL_INFO_UPTIME: u32 = 1;
export const KERNEL_INFO_MEMORY: u32 = 2;
// (KERNEL_INFO_BOOT, line, buffer, length): line `line` of the boot report
// (protocol, memory map, modules: the `bootinfo` command) into the buffer;
// r0 its full length. E_NOT_FOUND past the last line.
export const KERNEL_INFO_BOOT: u32 = 3;

// ---- SYS_POWER(power slot [WRITE], operation) ----
export const POWER_RESET: u32 = 0;
export const POWER_OFF: u32 = 1;

// ---- SYS_MAP(slot [MAP], user address, offset, bytes) ----
// Maps bytes [offset, offset + bytes) of a CAP_MMIO (uncached, device) or
// CAP_MEMORY range at the user address, inside [USER_MAP_BASE, USER_MAP_END).
// All three page-aligned, bytes > 0, the range inside the capability's
// (E_BAD_ARG otherwise), not overlapping an earlier SYS_MAP of the caller's
// (E_BAD_ARG); writable only with RIGHT_WRITE; never executable. At most
// MAX_MAPS per process (E_NO_MEMORY). Deleting or revoking the capability
// unmaps what was mapped through it; so does death.
export const MAX_MAPS: u32 = 8;

// ---- the scheduler (docs/scheduler.md) ----
// Scores and weights are thousandths: 0 .. 1000 stands for 0 .. 1. The
// priority is sum(weight_i * score_i) / 1000, also 0 .. 1000; it puts the
// thread in a band by the cut-offs (priority >= 800 high, >= 500 medium).
export const SCHED_URGENCY: u32 = 0;
export const SCHED_IMPORTANCE: u32 = 1;
export const SCHED_EFFICIENCY: u32 = 2;
export const SCHED_ENERGY: u32 = 3;
export const SCHED_TRUST: u32 = 4;
export const SCHED_SCORES: u32 = 5;
export const SCHED_PIN: u32 = 5;         // SYS_SCHED_SET: value = CPU number, or SCHED_UNPINNED
export const SCHED_UNPINNED: u32 = 0xffff;
export const SCHED_ONE: u32 = 1000;      // a score or weight of 1
export const BAND_LOW: u32 = 0;
export const BAND_MEDIUM: u32 = 1;
export const BAND_HIGH: u32 = 2;
// SYS_SCHED_SET refuses (E_DENIED) a caller raising its own trust, with
// any capability; E_BAD_ARG: a value over SCHED_ONE, an unknown SCHED_*, a
// CPU that is not online. SYS_SCHED_TUNE: each weight <= 1000 and the sum
// exactly 1000, else E_BAD_ARG and nothing changes.

// ---- SYS_SCHED_INFO(sched slot [READ], tid, buffer, length) ----
// tid 1 .. MAX_THREADS - 1, one thread (E_NOT_FOUND when free, E_BAD_ARG past):
//   r0  pid | state << 32 | cpu << 40 | band << 48 | base band << 52 | pin + 1 << 56 (0: not pinned)
//   r1  scores: SCHED_* i in bits 12i .. 12i + 11
//   r2  priority | ticks since it last ran << 32
//   r3  run time, microseconds      r4  time ready but waiting for a CPU, microseconds
//   r5  name bytes: the buffer receives its process's name, truncated to `length`
// state: SCHED_STATE_*; the band is where it is queued or runs now (aging
// may have lifted it above its base band, the one its priority gives).
// tid 0, the scheduler itself:
//   r0  weights, packed as r1 above      r1  high cut-off | medium cut-off << 16
//   r2  slice ticks | aging ticks << 16 | timer Hz << 32
//   r3  CPUs online                       r4  decisions taken (IPC hand-overs count, adding no cycles)   r5  cycles spent in the picks
export const SCHED_INFO_SELF: u32 = 0;
export const SCHED_STATE_READY: u32 = 1;
export const SCHED_STATE_RUNNING: u32 = 2;
export const SCHED_STATE_CALLING: u32 = 3;    // queued on an endpoint with a call
export const SCHED_STATE_REPLY_WAIT: u32 = 4; // its call was taken: waits for the reply
export const SCHED_STATE_RECEIVING: u32 = 5;
export const SCHED_STATE_WAITING: u32 = 6;    // on a notification
export const SCHED_STATE_NEW: u32 = 7;
export const SCHED_STATE_SLEEPING: u32 = 8;
export const SCHED_STATE_DYING: u32 = 9;      // killed while running on another CPU

// ---- SYS_CPU_INFO(sched slot [READ], cpu) ----
// cpu < CPUs online (E_NOT_FOUND beyond, E_BAD_ARG past MAX_CPUS):
//   r0  running tid (0: idle) | hardware id (LAPIC id, MPIDR affinity) << 32
//   r1  ready threads queued: high | medium << 16 | low << 32
//   r2  timer ticks on it    r3  of those, ticks it was idle
//   r4  context switches     r5  threads it took from other CPUs (balancing)
export const MAX_CPUS: u32 = 16;

// ---- scheduler decisions in the audit ring ----
// Besides syscalls, the audit ring records the scheduler's decisions about
// a thread: op = AUDIT_OP_SCHED_*, caller = its pid, kind AUDIT_TARGET_SCHED,
// verdict E_OK, target as below. `explain` reads them back.
export const AUDIT_OP_SCHED_BAND: u8 = 0x40;     // placed in a band: band | priority << 8 (a score, tune or start changed it)
export const AUDIT_OP_SCHED_AGE: u8 = 0x41;      // aged up one band: new band | ticks it had waited << 8
export const AUDIT_OP_SCHED_PREEMPT: u8 = 0x42;  // it took a CPU from a lower band: the preempted pid
export const AUDIT_OP_SCHED_MIGRATE: u8 = 0x43;  // moved between run queues: from cpu | to cpu << 8
export const AUDIT_TARGET_SCHED: u8 = 10;

// ---- limits every service can rely on ----
export const MAX_PROCESSES: u32 = 64;    // SYS_PROC_INFO indices 0 .. MAX_PROCESSES - 1
export const MAX_THREADS: u32 = 128;     // SYS_SCHED_INFO tids 1 .. MAX_THREADS - 1 (0 is the idle thread)
export const MAX_ENDPOINTS: u32 = 64;    // SYS_IPC_STATS indices 0 .. MAX_ENDPOINTS - 1
export const MAX_IRQ_SOURCES: u32 = 64;  // interrupt sources an IRQ grant may name
export const LOG_MAX_BYTES: u32 = 256;
// Per-process token bucket for IPC (call, send, signal, log): RATE_BURST
// operations at once, refilled by RATE_REFILL_PER_TICK each timer tick.
export const RATE_BURST: u32 = 4096;
export const RATE_REFILL_PER_TICK: u32 = 4096;
