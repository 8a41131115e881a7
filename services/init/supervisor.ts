// init's bookkeeping, pure (no system calls), so tests/unit/init.spec.ts
// runs it on the host: the services of the boot manifest, the order to
// start them in, and what to do when one dies.
//
// A service's life as init sees it (SERVICE_* in services/lib/protocol.ts):
//
//   NOT_STARTED ──spawn──► RUNNING ──dies, code 0──► STOPPED
//        ▲                   │  ▲
//        │ (dependency       │  └──────── back-off over, respawned
//        │  not running,     ├──dies, restarts < limit──► RESTARTING
//        │  spawn failed)    └──dies, restarts = limit──► FAILED (init gives up)
//
// Back-off: the n-th restart (n = 0, 1, 2, ...) waits first << n ms, at
// most MAX_BACKOFF_MS. The restart count is for the life of the system.

import {
  SERVICE_NOT_STARTED, SERVICE_RUNNING, SERVICE_RESTARTING, SERVICE_STOPPED, SERVICE_FAILED,
} from "../lib/protocol";

export const MAX_BACKOFF_MS: u32 = 60_000;
export const MAX_SERVICES: i32 = 32;   // the boot manifest's limit, and bits of a dependency mask we read

export const AFTER_DEATH_RESTART: i32 = 0;
export const AFTER_DEATH_STOP: i32 = 1;      // exited with code 0
export const AFTER_DEATH_GIVE_UP: i32 = 2;   // restart limit spent

export class Service {
  constructor(
    public index: i32,
    public name: string,
    public depends: u64,       // bit j: depends on service j
    public restartLimit: u32,
    public backoffMs: u32,
    public isInit: bool = false,
    public available: bool = true, // its module verified
  ) {}
  pid: u64 = 0;                // 0: not running
  state: u32 = SERVICE_NOT_STARTED;
  restarts: u32 = 0;
  lastExit: u64 = 0;

  dependsOn(index: i32): bool {
    return index < 64 && (this.depends & (<u64>1 << <u64>index)) != 0;
  }
}

// The indices of `services` in an order that starts every service after
// the services it depends on; among those ready at once, the lower index
// first (the manifest's order). A service in a dependency cycle, or that
// depends on an index outside the list, is left out (and so is everything
// that depends on it): missing(services, order) lists them.
export function startOrder(services: Service[]): i32[] {
  let n = services.length;
  let placed = new StaticArray<bool>(n);
  let order: i32[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (let i = 0; i < n; i++) {
      if (placed[i] || !dependenciesPlaced(services[i], placed, n)) continue;
      placed[i] = true;
      order.push(i);
      progress = true;
      break; // rescan from the lowest index
    }
  }
  return order;
}

function dependenciesPlaced(service: Service, placed: StaticArray<bool>, n: i32): bool {
  if (n < 64 && (service.depends >> <u64>n) != 0) return false; // names a service that does not exist
  for (let j = 0; j < n; j++) {
    if (service.dependsOn(j) && !placed[j]) return false;
  }
  return true;
}

// The services startOrder left out.
export function missing(services: Service[], order: i32[]): i32[] {
  let left: i32[] = [];
  for (let i = 0; i < services.length; i++) {
    if (!order.includes(i)) left.push(i);
  }
  return left;
}

// The first dependency of `service` that is not running, or -1 when it may
// start.
export function blockingDependency(service: Service, services: Service[]): i32 {
  for (let j = 0; j < services.length; j++) {
    if (service.dependsOn(j) && services[j].state != SERVICE_RUNNING) return j;
  }
  return -1;
}

// How long to wait before restart number `restarts` (0 for the first).
export function restartDelayMs(firstMs: u32, restarts: u32): u32 {
  if (firstMs == 0) return 0;
  if (restarts >= 32) return MAX_BACKOFF_MS;
  let delay = <u64>firstMs << <u64>restarts;
  return delay > <u64>MAX_BACKOFF_MS ? MAX_BACKOFF_MS : <u32>delay;
}

// Records that `service` died with `exitCode` and decides what comes next
// (AFTER_DEATH_*). The caller waits restartDelayMs(backoffMs, restarts),
// then calls restarted() and spawns it.
export function afterDeath(service: Service, exitCode: u64): i32 {
  service.pid = 0;
  service.lastExit = exitCode;
  if (exitCode == 0) {
    service.state = SERVICE_STOPPED;
    return AFTER_DEATH_STOP;
  }
  if (service.restarts >= service.restartLimit) {
    service.state = SERVICE_FAILED;
    return AFTER_DEATH_GIVE_UP;
  }
  service.state = SERVICE_RESTARTING;
  return AFTER_DEATH_RESTART;
}

export function restarted(service: Service): void {
  service.restarts++;
}

// The service running as `pid`, or null.
export function serviceByPid(services: Service[], pid: u64): Service | null {
  if (pid == 0) return null;
  for (let i = 0; i < services.length; i++) {
    if (services[i].pid == pid) return services[i];
  }
  return null;
}
