// init, the supervisor: starts the boot manifest's services in dependency
// order, restarts one that dies (with back-off, up to its limit), and
// answers the requests of services/lib/protocol.ts on its endpoint.
//
// Slots: its manifest's endpoint, and what the kernel gives init besides
// (kernel/abi.ts INIT_SLOT_*). Each child's CAP_PROCESS lands in
// CHILD_SLOT_BASE + its service index.
//
// One loop: receive on the endpoint with the death notification bound to
// the receive, so requests and deaths wake init alike. A death is read from
// the process table, never from a message. init also looks for dead
// children before listing (INIT_PS) and after a kill, so `ps` and `kill`
// show the truth at once.

import {
  INIT_SLOT_AUDIT, INIT_SLOT_DEATHS, INIT_SLOT_LOG, INIT_SLOT_SPAWN, E_BAD_ARG, E_DENIED, E_NOT_FOUND, E_OK,
  MAX_PROCESSES, PROC_DEAD, SERVICE_NONE, SLOT_SELF,
} from "../../kernel/abi";
import {
  BootServiceInfo, CapInfo, Message, ProcInfo, bootInfo, capDelete, capInfo, errorName, exitText, isNotified,
  kill, log, nameWord, procInfo, recv, reply, replyRecv, setLogSlot, sleep, spawn, spawnedPid, wait,
  INIT_PS, INIT_KILL, INIT_CAPS, INIT_PING, SERVICE_RUNNING, SERVICE_NOT_STARTED, psStateWord, capsTypeWord,
  serviceStateName,
} from "../lib";
import {
  Service, AFTER_DEATH_RESTART, AFTER_DEATH_STOP, MAX_SERVICES,
  afterDeath, blockingDependency, missing, restartDelayMs, restarted, serviceByPid, startOrder,
} from "./supervisor";

const SLOT_ENDPOINT: u32 = 0;       // services/init/manifest.json: "init" [receive]
const CHILD_SLOT_BASE: u32 = 16;    // .. + MAX_SERVICES - 1, below the INIT_SLOT_*s

let services: Service[] = [];
let ownPid: u64 = 0;
const message = new Message();
const proc = new ProcInfo();
const cap = new CapInfo();

export function main(): i32 {
  setLogSlot(INIT_SLOT_LOG);
  if (!readBootManifest()) return 1;
  ownPid = findOwnPid();
  startAll();
  serve();
  return 1; // serve() returns only when init can neither receive nor wait
}

// ---- the boot manifest, through SYS_BOOT_INFO ----

function readBootManifest(): bool {
  let info = new BootServiceInfo();
  for (let index = 0; index < MAX_SERVICES; index++) {
    let status = bootInfo(INIT_SLOT_SPAWN, <u32>index, info);
    if (status == E_NOT_FOUND) break;
    if (status < 0) {
      log("init: cannot read boot service " + index.toString() + ": " + errorName(status));
      return false;
    }
    services.push(new Service(index, info.name, info.depends, info.restartLimit, info.backoffMs,
      info.isInit, info.available));
  }
  log("init: " + services.length.toString() + " boot services");
  return true;
}

// init's own pid: the live process of init's boot entry (SERVICE_NONE when
// the manifest has none) that has no supervisor; 0 if not found.
function findOwnPid(): u64 {
  let service = SERVICE_NONE;
  for (let i = 0; i < services.length; i++) {
    if (services[i].isInit) service = <u32>i;
  }
  for (let index: u32 = 0; index < MAX_PROCESSES; index++) {
    let status = procInfo(INIT_SLOT_AUDIT, index, proc);
    if (status == E_BAD_ARG) break;
    if (status == E_OK && proc.state != PROC_DEAD && proc.supervisor == 0 && proc.service == service) return proc.pid;
  }
  return 0;
}

// ---- starting ----

function startAll(): void {
  let order = startOrder(services);
  for (let i = 0; i < order.length; i++) start(services[order[i]]);
  let left = missing(services, order);
  for (let i = 0; i < left.length; i++) {
    log("init: not starting " + services[left[i]].name + ": its dependencies form a cycle or name no service");
  }
}

@inline function childSlot(service: Service): u32 {
  return CHILD_SLOT_BASE + <u32>service.index;
}

function start(service: Service): void {
  if (service.isInit) {
    service.state = SERVICE_RUNNING;
    service.pid = ownPid;
    return;
  }
  service.state = SERVICE_NOT_STARTED;
  if (!service.available) {
    log("init: not starting " + service.name + ": its module did not verify (the boot log says why)");
    return;
  }
  let blocker = blockingDependency(service, services);
  if (blocker >= 0) {
    log("init: not starting " + service.name + ": it depends on " + services[blocker].name + ", which is "
      + serviceStateName(services[blocker].state));
    return;
  }
  let status = spawn(INIT_SLOT_SPAWN, <u32>service.index, childSlot(service));
  if (status < 0) {
    log("init: cannot start " + service.name + ": " + errorName(status));
    return;
  }
  service.pid = spawnedPid();
  service.state = SERVICE_RUNNING;
  log("init: started " + service.name + " (pid " + service.pid.toString() + ")");
}

// ---- deaths ----

// Walks the process table for children that died (the kernel's word, not
// a message's: a forged report changes nothing) and handles each.
function reapDead(): void {
  for (let index: u32 = 0; index < MAX_PROCESSES; index++) {
    let status = procInfo(INIT_SLOT_AUDIT, index, proc);
    if (status == E_BAD_ARG) break;
    if (status < 0 || proc.state != PROC_DEAD) continue;
    let service = serviceByPid(services, proc.pid);
    if (service !== null && !service.isInit) died(service, proc.exitCode, proc.reason);
  }
}

function died(service: Service, exitCode: u64, kernelReason: string): void {
  let pid = service.pid;
  let reason = kernelReason.length > 0 ? kernelReason : exitText(exitCode);
  capDelete(childSlot(service)); // empties the slot for the next spawn
  let decision = afterDeath(service, exitCode);
  let who = service.name + " (pid " + pid.toString() + ")";
  if (decision == AFTER_DEATH_STOP) {
    log("init: " + who + " exited with code 0; not restarting it");
  } else if (decision == AFTER_DEATH_RESTART) {
    let delay = restartDelayMs(service.backoffMs, service.restarts);
    log("init: " + who + " died: " + reason + "; restart " + (service.restarts + 1).toString() + " of "
      + service.restartLimit.toString() + " in " + delay.toString() + " ms");
    // init sleeps through the back-off: requests and other deaths wait
    // (queued, and in the notification's bits) until it is over.
    if (delay > 0) sleep(delay);
    restarted(service);
    start(service);
  } else {
    log("init: " + who + " died: " + reason + "; giving up after " + service.restarts.toString()
      + " restarts (restart limit " + service.restartLimit.toString() + ")");
  }
}

// ---- requests ----

// Requests come with the deaths notification bound to the receive; an
// answer goes back with reply_recv, so init is never runnable between a
// reply and its next receive (the caller it wakes may be in a higher band).
function serve(): void {
  let status = recv(SLOT_ENDPOINT, message, -1, <i32>INIT_SLOT_DEATHS);
  while (true) {
    if (status < 0) {
      log("init: cannot receive on slot " + SLOT_ENDPOINT.toString() + " (" + errorName(status)
        + "); supervising without answering requests");
      superviseOnly();
      return;
    }
    if (isNotified(message)) {
      reapDead();
      status = recv(SLOT_ENDPOINT, message, -1, <i32>INIT_SLOT_DEATHS);
    } else if (answer(message)) {
      status = replyRecv(SLOT_ENDPOINT, <u64><u32>answerStatus, answerWords[0], answerWords[1], answerWords[2],
        answerWords[3], message);
    } else {
      status = recv(SLOT_ENDPOINT, message, -1, <i32>INIT_SLOT_DEATHS);
    }
  }
}

function superviseOnly(): void {
  while (true) {
    let status = wait(INIT_SLOT_DEATHS);
    if (status < 0) {
      log("init: cannot wait for deaths either (" + errorName(status) + "); init stops");
      return;
    }
    reapDead();
  }
}

// The answer serve() sends with reply_recv.
let answerStatus: i32 = E_OK;
const answerWords = new StaticArray<u64>(4);

function replyStatus(status: i32, w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0): void {
  answerStatus = status;
  answerWords[0] = w0;
  answerWords[1] = w1;
  answerWords[2] = w2;
  answerWords[3] = w3;
}

// Sets the answer to `request`; false when it has replied already itself
// (a kill, which reaps after its reply so the caller does not wait).
function answer(request: Message): bool {
  let opcode = request.opcode;
  if (opcode == INIT_PING) replyStatus(E_OK);
  else if (opcode == INIT_PS) answerPs(request.w0);
  else if (opcode == INIT_KILL) return answerKill(request.w0);
  else if (opcode == INIT_CAPS) answerCaps(request.w0, request.w1);
  else replyStatus(E_BAD_ARG);
  return true;
}

function answerPs(index: u64): void {
  if (index == 0) reapDead(); // a fresh picture for each listing
  if (index >= <u64>services.length) {
    replyStatus(E_NOT_FOUND);
    return;
  }
  let service = services[<i32>index];
  replyStatus(E_OK, service.pid, nameWord(service.name, 0), nameWord(service.name, 1),
    psStateWord(service.state, service.restarts));
}

function answerKill(pid: u64): bool {
  if (pid != 0 && pid == ownPid) {
    replyStatus(E_DENIED);
    return true;
  }
  let service = serviceByPid(services, pid);
  if (service === null) {
    replyStatus(E_NOT_FOUND);
    return true;
  }
  let status = kill(childSlot(service));
  reply(<u64><u32>status);
  if (status == E_OK) {
    log("init: killed " + service.name + " (pid " + pid.toString() + ") on request");
    reapDead(); // after the reply: the caller does not wait out the back-off
  }
  return false;
}

function answerCaps(pid: u64, slot: u64): void {
  let processSlot: u32 = SLOT_SELF;
  if (pid != ownPid || pid == 0) {
    let service = serviceByPid(services, pid);
    if (service === null) {
      replyStatus(E_NOT_FOUND);
      return;
    }
    processSlot = childSlot(service);
  }
  let status = capInfo(processSlot, <u32>slot, cap);
  if (status < 0) replyStatus(status);
  else replyStatus(E_OK, capsTypeWord(cap.type, cap.rights, cap.object), cap.badge, cap.base, cap.count);
}
