// The protocol of init's endpoint, shared by init (the server) and the
// console (its client). One call per question; every reply's label is the
// status (E_OK or a negative E_*), and its words are the answer.
//
//   opcode     call words               reply words (when E_OK)
//   INIT_PS    w0 entry index           w0 pid (0: not running)
//                                       w1, w2 name (text.ts nameWord; 16 bytes at most)
//                                       w3 state (SERVICE_*) | restarts << 32
//                                       E_NOT_FOUND past the last entry
//   INIT_KILL  w0 pid                   none; E_NOT_FOUND: no service of init's has it
//   INIT_CAPS  w0 pid, w1 slot          w0 type | rights << 8 | object << 32
//                                       w1 badge   w2 base   w3 count   (as SYS_CAP_INFO)
//                                       E_NOT_FOUND: no such pid; the slot's own error else
//   INIT_PING  none                     none: answered at once (the IPC benchmark)
//
// An unknown opcode gets E_BAD_ARG. Entries of INIT_PS are the boot
// manifest's services in its order, init's own included.

export const INIT_PS: u32 = 1;
export const INIT_KILL: u32 = 2;
export const INIT_CAPS: u32 = 3;
export const INIT_PING: u32 = 4;

// A service's state as init sees it (INIT_PS w3, low half).
export const SERVICE_NOT_STARTED: u32 = 0;  // not yet, or never: a dependency failed, its module did not verify
export const SERVICE_RUNNING: u32 = 1;
export const SERVICE_RESTARTING: u32 = 2;   // died; waiting out its back-off
export const SERVICE_STOPPED: u32 = 3;      // exited with code 0: not restarted
export const SERVICE_FAILED: u32 = 4;       // died with its restart limit spent: init gave up

export function serviceStateName(state: u32): string {
  switch (state) {
    case SERVICE_NOT_STARTED: return "not started";
    case SERVICE_RUNNING: return "running";
    case SERVICE_RESTARTING: return "restarting";
    case SERVICE_STOPPED: return "stopped";
    case SERVICE_FAILED: return "failed";
  }
  return "state " + state.toString();
}

// INIT_PS w3 and INIT_CAPS w0, packed and unpacked in one place.
@inline export function psStateWord(state: u32, restarts: u32): u64 {
  return <u64>state | (<u64>restarts << 32);
}

@inline export function capsTypeWord(type: u8, rights: u8, object: u64): u64 {
  return <u64>type | (<u64>rights << 8) | (object << 32);
}
