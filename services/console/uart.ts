// The COM1 16550 UART through the console's I/O-port capability (x86_64).
// The kernel set it up at boot (115200 8N1, FIFOs on, receive interrupt
// on); the console only moves bytes. AArch64's PL011 is an MMIO page: that
// waits for a way to map it (the manifest already grants it in SLOT_UART).
//
//   offset 0  data (read: received byte; write: byte to send)
//   offset 5  line status: bit 0 data ready, bit 5 transmit FIFO empty

import { portIn, portOut, portValue } from "../lib";
import { Terminal } from "./shell";
import { SLOT_UART } from "./slots";

const COM1: u32 = 0x3f8;
const UART_DATA: u32 = 0;
const UART_LINE_STATUS: u32 = 5;
const LSR_DATA_READY: u32 = 0x01;
const LSR_TRANSMIT_EMPTY: u32 = 0x20;
const TRANSMIT_FIFO_BYTES: i32 = 16;

export class Uart extends Terminal {
  // Bytes that may go out before the line status must be asked again:
  // an empty FIFO takes 16, so that is one port read per 16 bytes sent.
  private room: i32 = 0;

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      let code = <u32>text.charCodeAt(i);
      if (code == 10) this.put(13);
      this.put(code < 128 ? code : 0x3f);
    }
  }

  // The next received byte, or -1 when none waits (or the port is refused).
  read(): i32 {
    if (portIn(SLOT_UART, COM1 + UART_LINE_STATUS, 1) < 0 || (portValue() & LSR_DATA_READY) == 0) return -1;
    if (portIn(SLOT_UART, COM1 + UART_DATA, 1) < 0) return -1;
    return <i32>(portValue() & 0xff);
  }

  private put(byte: u32): void {
    if (this.room == 0 && !this.waitTransmitEmpty()) return;
    portOut(SLOT_UART, COM1 + UART_DATA, 1, byte);
    this.room--;
  }

  // Spins until the transmit FIFO is empty; false when the port is refused
  // (then output is dropped: there is nowhere else to say so).
  private waitTransmitEmpty(): bool {
    while (true) {
      if (portIn(SLOT_UART, COM1 + UART_LINE_STATUS, 1) < 0) return false;
      if ((portValue() & LSR_TRANSMIT_EMPTY) != 0) {
        this.room = TRANSMIT_FIFO_BYTES;
        return true;
      }
    }
    return false;
  }
}
