// Devices: x86 I/O ports (CAP_IO_PORTS: a port range with READ / WRITE)
// and interrupts (CAP_IRQ: wait on it like a notification, then ack).

import { SYS_PORT_IN, SYS_PORT_OUT, SYS_IRQ_ACK, SYS_MMIO_READ, SYS_MMIO_WRITE } from "../../kernel/abi";
import { result, syscall } from "./sys";

// Reads `width` (1, 2 or 4) bytes from `port`; portValue() is the value.
export function portIn(slot: u32, port: u32, width: u32): i32 {
  return syscall(SYS_PORT_IN, slot, port, width);
}

@inline export function portValue(): u32 {
  return <u32>result(0);
}

export function portOut(slot: u32, port: u32, width: u32, value: u32): i32 {
  return syscall(SYS_PORT_OUT, slot, port, width, value);
}

// Lets the interrupt behind `slot` fire again.
export function irqAck(slot: u32): i32 {
  return syscall(SYS_IRQ_ACK, slot);
}

// Device registers (CAP_MMIO): `width` (1, 2 or 4) bytes at `offset` in the
// capability's range; mmioValue() is what a read found.
export function mmioRead(slot: u32, offset: u32, width: u32): i32 {
  return syscall(SYS_MMIO_READ, slot, offset, width);
}

@inline export function mmioValue(): u32 {
  return <u32>result(0);
}

export function mmioWrite(slot: u32, offset: u32, width: u32, value: u32): i32 {
  return syscall(SYS_MMIO_WRITE, slot, offset, width, value);
}
