// The console's UART, through its capability in SLOT_UART: the COM1 16550
// through I/O ports on x86_64 (CAP_IO_PORTS), the PL011 through
// SYS_MMIO_READ / SYS_MMIO_WRITE on AArch64 (CAP_MMIO) — the slot's type
// says which. The kernel and the trampoline set the UART up at boot; the
// console only moves bytes.
//
//   16550  offset 0 data; offset 5 line status: bit 0 data ready, bit 5 transmit FIFO empty
//   PL011  0x00 DR data; 0x18 FR flags: bit 4 receive FIFO empty, bit 5 transmit FIFO full

import { CAP_MMIO, SLOT_SELF } from "../../kernel/abi";
import { CapInfo, capInfo, mmioRead, mmioValue, mmioWrite, portIn, portOut, portValue } from "../lib";
import { Terminal } from "./shell";
import { SLOT_UART } from "./slots";

const COM1: u32 = 0x3f8;
const UART_DATA: u32 = 0;
const UART_LINE_STATUS: u32 = 5;
const LSR_DATA_READY: u32 = 0x01;
const LSR_TRANSMIT_EMPTY: u32 = 0x20;
const TRANSMIT_FIFO_BYTES: i32 = 16;

const PL011_DR: u32 = 0x00;
const PL011_FR: u32 = 0x18;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;

export class Uart extends Terminal {
  // 16550: bytes that may go out before the line status must be asked
  // again (an empty FIFO takes 16: one port read per 16 bytes sent).
  private room: i32 = 0;
  private pl011: bool = false;

  // "COM1" or "PL011": for the console's start-up line.
  get name(): string {
    return this.pl011 ? "PL011" : "COM1";
  }

  constructor() {
    super();
    let info = new CapInfo();
    this.pl011 = capInfo(SLOT_SELF, SLOT_UART, info) == 0 && info.type == CAP_MMIO;
  }

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      let code = <u32>text.charCodeAt(i);
      if (code == 10) this.put(13);
      this.put(code < 128 ? code : 0x3f);
    }
  }

  // The next received byte, or -1 when none waits (or the device is refused).
  read(): i32 {
    if (this.pl011) {
      if (mmioRead(SLOT_UART, PL011_FR, 4) < 0 || (mmioValue() & FR_RXFE) != 0) return -1;
      if (mmioRead(SLOT_UART, PL011_DR, 4) < 0) return -1;
      return <i32>(mmioValue() & 0xff);
    }
    if (portIn(SLOT_UART, COM1 + UART_LINE_STATUS, 1) < 0 || (portValue() & LSR_DATA_READY) == 0) return -1;
    if (portIn(SLOT_UART, COM1 + UART_DATA, 1) < 0) return -1;
    return <i32>(portValue() & 0xff);
  }

  private put(byte: u32): void {
    if (this.pl011) {
      while (true) {
        if (mmioRead(SLOT_UART, PL011_FR, 4) < 0) return;
        if ((mmioValue() & FR_TXFF) == 0) break;
      }
      mmioWrite(SLOT_UART, PL011_DR, 4, byte);
      return;
    }
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
