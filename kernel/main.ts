import { println } from "./console";
// The abort handler (asconfig.json: use abort=kernel/panic/kernel_abort).
import "./panic";

export function kernel_main(protocol: u32, info: u64, handoff: u64): u32 {
  println("CAM-OS pipeline probe, protocol " + protocol.toString());
  return 0;
}

export function kernel_irq(source: u32): u32 {
  return 0;
}

export function kernel_frame_alloc(): u64 {
  return 0;
}
