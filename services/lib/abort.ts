// What a service does when AssemblyScript code aborts (a failed assertion,
// a thrown error, an index out of range): log where, then trap, so libsys
// exits with EXIT_TRAP_BASE + TRAP_UNREACHABLE and the supervisor hears of it.
// services/asconfig.json routes `abort` here.
//
// The compiler builds this handler last. asc 0.27 cannot add static data or
// the allocator that late ("Module::addGlobal: ~lib/memory/__heap_base
// already exists"), so a service must already allocate and log elsewhere;
// every real one does, only a toy main() that does neither hits it.

import { log } from "./log";

let aborting = false;

export function service_abort(message: string | null, file: string | null, line: u32, column: u32): void {
  // An abort while building the message (out of memory) must not recurse.
  if (!aborting) {
    aborting = true;
    let text = "abort: " + (message !== null ? message : "(no message)");
    if (file !== null) text += " at " + file + ":" + line.toString() + ":" + column.toString();
    log(text);
  }
  unreachable();
}
