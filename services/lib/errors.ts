// Error names, for messages people read: "denied (E_NO_RIGHTS)".

import {
  E_OK, E_BAD_SYSCALL, E_BAD_SLOT, E_NO_CAP, E_NO_RIGHTS, E_BAD_ARG, E_FAULT, E_QUEUE_FULL,
  E_PEER_DEAD, E_NO_MEMORY, E_RATE_LIMITED, E_DENIED, E_NOT_FOUND, E_SLOT_FULL, E_NO_CALLER,
  E_BAD_MODULE, E_ABANDONED,
} from "../../kernel/abi";

export function errorName(status: i32): string {
  switch (status) {
    case E_OK: return "E_OK";
    case E_BAD_SYSCALL: return "E_BAD_SYSCALL";
    case E_BAD_SLOT: return "E_BAD_SLOT";
    case E_NO_CAP: return "E_NO_CAP";
    case E_NO_RIGHTS: return "E_NO_RIGHTS";
    case E_BAD_ARG: return "E_BAD_ARG";
    case E_FAULT: return "E_FAULT";
    case E_QUEUE_FULL: return "E_QUEUE_FULL";
    case E_PEER_DEAD: return "E_PEER_DEAD";
    case E_NO_MEMORY: return "E_NO_MEMORY";
    case E_RATE_LIMITED: return "E_RATE_LIMITED";
    case E_DENIED: return "E_DENIED";
    case E_NOT_FOUND: return "E_NOT_FOUND";
    case E_SLOT_FULL: return "E_SLOT_FULL";
    case E_NO_CALLER: return "E_NO_CALLER";
    case E_BAD_MODULE: return "E_BAD_MODULE";
    case E_ABANDONED: return "E_ABANDONED";
  }
  return "error " + status.toString();
}
