// pingd: a test-only IPC server (services/boot.json test_only), the far end
// of ping's round trips. It pins itself to the last CPU online, so that
// ping can call it from the same CPU or from another one, and answers
// every call at once (services/pingd/protocol.ts) with reply_recv.
//
// Slots (services/pingd/manifest.json): 0 "ping" [receive], 1 the
// scheduler [read, write] (the CPUs online, its own pin), 2 the log.

import { E_BAD_ARG, E_OK, SCHED_INFO_SELF, SCHED_PIN, SLOT_SELF, SYS_SCHED_INFO, SYS_SCHED_SET } from "../../kernel/abi";
import { Message, errorName, log, recv, replyRecv, result, setLogSlot, sleep, syscall } from "../lib";
import { PING_ECHO, PING_WHERE } from "./protocol";

const SLOT_PING: u32 = 0;
const SLOT_SCHED: u32 = 1;
const SLOT_LOG: u32 = 2;

const message = new Message();

export function main(): i32 {
  setLogSlot(SLOT_LOG);
  let status = syscall(SYS_SCHED_INFO, SLOT_SCHED, SCHED_INFO_SELF);
  let cpus = status == E_OK ? <u32>result(3) : 1;
  let cpu = cpus - 1;
  status = syscall(SYS_SCHED_SET, SLOT_SCHED, SLOT_SELF, SCHED_PIN, cpu);
  if (status != E_OK) log("cannot pin itself to cpu " + cpu.toString() + ": " + errorName(status));
  else log("serving on cpu " + cpu.toString() + " of " + cpus.toString());

  status = recv(SLOT_PING, message);
  for (;;) {
    if (status < 0) {
      log("receive failed: " + errorName(status));
      sleep(1000);
      status = recv(SLOT_PING, message);
      continue;
    }
    let label = <u64><u32>E_BAD_ARG;
    let w0: u64 = 0;
    if (message.opcode == PING_ECHO) {
      label = E_OK;
      w0 = message.w0;
    } else if (message.opcode == PING_WHERE) {
      label = E_OK;
      w0 = cpu;
    }
    status = replyRecv(SLOT_PING, label, w0, 0, 0, 0, message);
  }
  return 0; // never reached
}
