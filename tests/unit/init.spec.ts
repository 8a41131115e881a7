import {
  Service, AFTER_DEATH_GIVE_UP, AFTER_DEATH_RESTART, AFTER_DEATH_STOP, MAX_BACKOFF_MS,
  afterDeath, blockingDependency, missing, restartDelayMs, restarted, serviceByPid, startOrder,
} from "../../services/init/supervisor";
import {
  SERVICE_FAILED, SERVICE_NOT_STARTED, SERVICE_RESTARTING, SERVICE_RUNNING, SERVICE_STOPPED,
} from "../../services/lib/protocol";
import { EXIT_KILLED, EXIT_TRAP_BASE, TRAP_OOB } from "../../kernel/abi";

// depends: a list of indices, as the boot manifest's names resolve to.
function service(index: i32, name: string, depends: i32[] = [], limit: u32 = 3, backoff: u32 = 100): Service {
  let mask: u64 = 0;
  for (let i = 0; i < depends.length; i++) mask |= <u64>1 << <u64>depends[i];
  return new Service(index, name, mask, limit, backoff);
}

function orderText(services: Service[], order: i32[]): string {
  let names: string[] = [];
  for (let i = 0; i < order.length; i++) names.push(services[order[i]].name);
  return names.join(" ");
}

describe("init: start order", () => {
  it("keeps the manifest's order when nothing depends on anything", () => {
    let s = [service(0, "init"), service(1, "console"), service(2, "vfs")];
    expect(orderText(s, startOrder(s))).toBe("init console vfs");
  });

  it("starts a service after what it depends on, even when listed first", () => {
    let s = [service(0, "hostile", [2]), service(1, "init"), service(2, "console")];
    expect(orderText(s, startOrder(s))).toBe("init console hostile");
  });

  it("orders a diamond: the shared dependency first, the join last", () => {
    // net -> (vfs, policy) -> identity
    let s = [service(0, "net", [1, 2]), service(1, "vfs", [3]), service(2, "policy", [3]), service(3, "identity")];
    expect(orderText(s, startOrder(s))).toBe("identity vfs policy net");
  });

  it("leaves out a cycle and everything that depends on it", () => {
    let s = [service(0, "init"), service(1, "a", [2]), service(2, "b", [1]), service(3, "c", [1]), service(4, "d")];
    let order = startOrder(s);
    expect(orderText(s, order)).toBe("init d");
    expect(missing(s, order)).toStrictEqual([1, 2, 3]);
  });

  it("leaves out a service that depends on itself", () => {
    let s = [service(0, "init"), service(1, "selfish", [1])];
    expect(missing(s, startOrder(s))).toStrictEqual([1]);
  });

  it("leaves out a service that depends on an index past the list", () => {
    let s = [service(0, "init"), service(1, "orphan", [5])];
    let order = startOrder(s);
    expect(orderText(s, order)).toBe("init");
    expect(missing(s, order)).toStrictEqual([1]);
  });

  it("handles an empty manifest", () => {
    let s: Service[] = [];
    expect(startOrder(s).length).toBe(0);
  });
});

describe("init: dependencies at start time", () => {
  it("lets a service start when every dependency runs", () => {
    let s = [service(0, "init"), service(1, "console"), service(2, "hostile", [0, 1])];
    s[0].state = SERVICE_RUNNING;
    s[1].state = SERVICE_RUNNING;
    expect(blockingDependency(s[2], s)).toBe(-1);
  });

  it("names the first dependency that is not running", () => {
    let s = [service(0, "init"), service(1, "console"), service(2, "hostile", [0, 1])];
    s[0].state = SERVICE_RUNNING;
    s[1].state = SERVICE_FAILED;
    expect(blockingDependency(s[2], s)).toBe(1);
  });
});

describe("init: back-off", () => {
  it("waits the first back-off, then doubles it", () => {
    expect(restartDelayMs(100, 0)).toBe(100);
    expect(restartDelayMs(100, 1)).toBe(200);
    expect(restartDelayMs(100, 4)).toBe(1600);
  });

  it("never waits longer than MAX_BACKOFF_MS", () => {
    expect(restartDelayMs(100, 10)).toBe(MAX_BACKOFF_MS);
    expect(restartDelayMs(3_600_000, 0)).toBe(MAX_BACKOFF_MS);
  });

  it("does not overflow after many restarts", () => {
    expect(restartDelayMs(1, 31)).toBe(MAX_BACKOFF_MS);
    expect(restartDelayMs(1, 32)).toBe(MAX_BACKOFF_MS);
    expect(restartDelayMs(0xffff_ffff, 1000)).toBe(MAX_BACKOFF_MS);
  });

  it("restarts at once when the back-off is 0", () => {
    expect(restartDelayMs(0, 0)).toBe(0);
    expect(restartDelayMs(0, 20)).toBe(0);
  });
});

describe("init: after a death", () => {
  it("restarts a crashed service until its limit, then gives up", () => {
    let s = service(1, "hostile", [], 2, 50);
    s.pid = 7;
    s.state = SERVICE_RUNNING;
    let trap = EXIT_TRAP_BASE + TRAP_OOB;

    expect(afterDeath(s, trap)).toBe(AFTER_DEATH_RESTART);
    expect(s.state).toBe(SERVICE_RESTARTING);
    expect(s.pid).toBe(0);
    expect(s.lastExit).toBe(trap);
    expect(restartDelayMs(s.backoffMs, s.restarts)).toBe(50);
    restarted(s);

    expect(afterDeath(s, trap)).toBe(AFTER_DEATH_RESTART);
    expect(restartDelayMs(s.backoffMs, s.restarts)).toBe(100);
    restarted(s);

    expect(afterDeath(s, trap)).toBe(AFTER_DEATH_GIVE_UP);
    expect(s.state).toBe(SERVICE_FAILED);
    expect(s.restarts).toBe(2);
  });

  it("restarts a killed service", () => {
    let s = service(1, "console");
    expect(afterDeath(s, EXIT_KILLED)).toBe(AFTER_DEATH_RESTART);
  });

  it("leaves a service that exited with code 0 stopped", () => {
    let s = service(1, "oneshot");
    expect(afterDeath(s, 0)).toBe(AFTER_DEATH_STOP);
    expect(s.state).toBe(SERVICE_STOPPED);
    expect(s.restarts).toBe(0);
  });

  it("never restarts a service whose limit is 0", () => {
    let s = service(1, "fragile", [], 0);
    expect(afterDeath(s, 1)).toBe(AFTER_DEATH_GIVE_UP);
  });
});

describe("init: finding a child", () => {
  it("finds the service running as a pid, and nothing for pid 0", () => {
    let s = [service(0, "init"), service(1, "console"), service(2, "hostile")];
    s[1].pid = 2;
    s[2].pid = 3;
    expect(serviceByPid(s, 3)!.name).toBe("hostile");
    expect(serviceByPid(s, 9)).toBeNull();
    expect(serviceByPid(s, 0)).toBeNull(); // services not running have pid 0
    expect(s[0].state).toBe(SERVICE_NOT_STARTED);
  });
});
