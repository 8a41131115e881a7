// What the kernel does when AssemblyScript code aborts (a failed assertion, a
// thrown error, an array index out of range): print where, then trap, so the
// trampoline's panic report (trap kind, running export) follows.

import { print } from "./console";

export function kernel_abort(message: string | null, file: string | null, line: u32, column: u32): void {
  print("\nkernel abort: ");
  print(message !== null ? message : "(no message)");
  if (file !== null) print(" at " + file + ":" + line.toString() + ":" + column.toString());
  print("\n");
  unreachable();
}
