// console, the serial shell as a service. It owns the UART through its
// capabilities (slots.ts): waits for the UART's interrupt, drains the
// received bytes into the shell, and answers on the UART.
//
//   drain, ack, drain again, wait: a byte that lands after the second drain
//   raises a fresh interrupt (the line is acked), so none is left waiting.

import { KERNEL_INFO_UPTIME } from "../../kernel/abi";
import { irqAck, kernelInfo, log, result, setLogSlot, sysYield, wait } from "../lib";
import { addCommands } from "./commands";
import { Shell } from "./shell";
import { SLOT_IRQ, SLOT_LOG } from "./slots";
import { Uart } from "./uart";

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  let uart = new Uart();
  let shell = new Shell(uart);
  addCommands(shell);
  // The cycle counter at the prompt: tools/figures.ts measures the boot to here.
  kernelInfo(KERNEL_INFO_UPTIME);
  log("console: serial shell on " + uart.name + ", prompt at cycle " + result(3).toString());
  shell.start();
  while (true) {
    drain(uart, shell);
    irqAck(SLOT_IRQ);
    drain(uart, shell);
    // Without the interrupt capability the shell still works, polling.
    if (wait(SLOT_IRQ) < 0) sysYield();
  }
  return 0;
}

function drain(uart: Uart, shell: Shell): void {
  for (let byte = uart.read(); byte >= 0; byte = uart.read()) shell.feed(<u8>byte);
}
