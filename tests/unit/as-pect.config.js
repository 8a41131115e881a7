// as-pect 8 configuration for the host unit tests (ESM: the repo's
// package.json says "type": "module"). Run from the repo root:
//
//   npx asp --config tests/unit/as-pect.config.js --as-config tests/unit/as-pect.asconfig.json
//
// The kernel's `arch` imports are mocked here. `peek(src, dst, len)` treats
// `src` as an address in the test module's own linear memory, so a spec
// builds a loader structure in a buffer and hands its address to the parser
// as if it were a kernel-virtual address.

let exports = null;      // the test module's exports, once instantiated
let allocations = 0;     // managed allocations seen by rtrace (testhooks)

function linearMemory() {
  return new Uint8Array(exports.memory.buffer);
}

// ---- user space (kernel/arch.ts space_*, thread_start, context_set, ports) ----
// A fake machine for kernel/proc.ts, ipc.ts and syscall.ts:
//   - physical memory: 4 KiB frames in a Map, made (zeroed) on first touch;
//     phys_to_virt(p) = HHDM + p, and peek/poke at such addresses reach it
//   - page tables: root -> (virtual page -> { phys, flags }); space_read of
//     an unmapped page fails (-1), space_write also of a read-only one; W+X,
//     device+X, unaligned and kernel-half mappings are refused (-1), like
//     arch/x86_64/paging.c
//   - thread contexts: tid -> registers (REG_STATUS, REG_RESULT0..5)
//   - I/O ports: values a spec sets, and a log of writes
const HHDM = 0xffff800000000000n;
const USER_TOP = 0x0000800000000000n;
const PAGE = 4096n;
const MAP_WRITE = 1;
const MAP_EXECUTE = 2;
const MAP_DEVICE = 4;

// u64 arguments arrive as signed BigInts: read them unsigned.
const u64 = (value) => BigInt.asUintN(64, BigInt(value));

const user = {};
function userReset() {
  user.frames = new Map();      // frame address (BigInt) -> Uint8Array(4096)
  user.spaces = new Map();      // root -> Map(virtual page -> { phys, flags })
  user.nextRoot = 0x7f000000n;  // fake roots, outside any memory map a spec builds
  user.destroyed = 0;
  user.failCreates = 0;         // the next n space_create calls fail
  user.mapsLeft = -1;           // space_map calls left before they fail with -2 (-1: unlimited)
  user.started = new Map();     // tid -> { root, entry, stack, arg }
  user.contexts = new Map();    // tid -> BigInt[7]
  user.ports = new Map();       // port -> value port_in answers
  user.portLog = [];            // [port, width, value] of each port_out
  user.mmio = new Map();        // physical address (BigInt) -> value mmio_read answers
  user.mmioLog = [];            // [address, width, value] of each mmio_write
  user.irqAcks = [];            // sources irq_ack was called for
  user.capture = null;          // console text while captured
  user.power = [];              // [operation, method] of reset (0) / power_off (1)
  user.cpu = 0;                 // what cpu_id answers
  user.cpuStarts = [];          // [cpu, method, hwid, handle] of each cpu_start
  user.cpuStartResult = 0;      // what cpu_start answers
  user.kicks = [];              // CPUs cpu_kick was called for
}
userReset();

function physFrame(address) {
  const key = address & ~(PAGE - 1n);
  let frame = user.frames.get(key);
  if (!frame) {
    frame = new Uint8Array(4096);
    user.frames.set(key, frame);
  }
  return frame;
}

// Copies between physical memory (at `phys`) and linear memory (at `linear`).
function physCopy(phys, linear, len, toPhys) {
  const bytes = linearMemory();
  let done = 0;
  while (done < len) {
    const at = phys + BigInt(done);
    const offset = Number(at & (PAGE - 1n));
    const chunk = Math.min(len - done, 4096 - offset);
    const frame = physFrame(at);
    if (toPhys) frame.set(bytes.subarray(linear + done, linear + done + chunk), offset);
    else bytes.set(frame.subarray(offset, offset + chunk), linear + done);
    done += chunk;
  }
}

// Copies between a user space and linear memory page by page; -1 at the
// first page that is unmapped (or, writing, read-only).
function spaceCopy(root, virt, linear, len, toUser) {
  const space = user.spaces.get(root);
  if (!space) return -1;
  let done = 0;
  while (done < len) {
    const at = virt + BigInt(done);
    if (at >= USER_TOP) return -1;
    const entry = space.get(at / PAGE);
    if (!entry || (toUser && !(entry.flags & MAP_WRITE))) return -1;
    const offset = Number(at & (PAGE - 1n));
    const chunk = Math.min(len - done, 4096 - offset);
    physCopy(entry.phys + BigInt(offset), linear + done, chunk, toUser);
    done += chunk;
  }
  return 0;
}

function context(tid) {
  let registers = user.contexts.get(tid);
  if (!registers) {
    registers = new Array(7).fill(0n);
    user.contexts.set(tid, registers);
  }
  return registers;
}

const arch = {
  console_write(ptr, len) {
    const text = Buffer.from(linearMemory().subarray(ptr >>> 0, (ptr >>> 0) + len));
    if (user.capture !== null) user.capture += text.toString("latin1");
    else process.stdout.write(text);
  },
  console_read() {
    return -1;
  },
  peek(src, dst, len) {
    if (u64(src) >= HHDM) {
      physCopy(u64(src) - HHDM, dst >>> 0, len, false);
      return;
    }
    const bytes = linearMemory();
    const from = Number(src);
    const to = dst >>> 0;
    // A real peek of unmapped memory faults; a spec reading past its
    // buffer's memory is a bug, so fail loudly rather than read zeros.
    if (from + len > bytes.length || to + len > bytes.length) {
      throw new RangeError(`peek(${from}, ${to}, ${len}) outside linear memory`);
    }
    bytes.copyWithin(to, from, from + len);
  },
  time_ns() {
    return process.hrtime.bigint();
  },
  cycles() {
    return process.hrtime.bigint();
  },
  timer_start(_hz) {},
  reset(method) {
    user.power.push([0, method]);
  },
  power_off(method, _arg0, _arg1) {
    user.power.push([1, method]);
  },

  space_create() {
    if (user.failCreates > 0) {
      user.failCreates--;
      return 0n;
    }
    const root = user.nextRoot;
    user.nextRoot += PAGE;
    user.spaces.set(root, new Map());
    return root;
  },
  space_map(root, virt, phys, flags) {
    virt = u64(virt);
    const space = user.spaces.get(root);
    if (!space || virt >= USER_TOP || (virt & (PAGE - 1n)) || (phys & (PAGE - 1n))) return -1;
    if ((flags & MAP_WRITE) && (flags & MAP_EXECUTE)) return -1;
    if ((flags & MAP_DEVICE) && (flags & MAP_EXECUTE)) return -1;
    if (user.mapsLeft == 0) return -2;
    if (user.mapsLeft > 0) user.mapsLeft--;
    space.set(virt / PAGE, { phys, flags });
    return 0;
  },
  space_unmap(root, virt) {
    virt = u64(virt);
    const space = user.spaces.get(root);
    if (!space) return 0n;
    const entry = space.get(virt / PAGE);
    if (!entry) return 0n;
    space.delete(virt / PAGE);
    return entry.phys;
  },
  space_destroy(root) {
    if (user.spaces.delete(root)) user.destroyed++;
  },
  space_read(root, virt, dst, len) {
    return spaceCopy(root, u64(virt), dst >>> 0, len >>> 0, false);
  },
  space_write(root, virt, src, len) {
    return spaceCopy(root, u64(virt), src >>> 0, len >>> 0, true);
  },
  poke(dst, src, len) {
    if (u64(dst) < HHDM) throw new RangeError(`poke(${u64(dst)}) outside the direct map`);
    physCopy(u64(dst) - HHDM, src >>> 0, len >>> 0, true);
  },
  phys_to_virt(phys) {
    return HHDM + u64(phys);
  },
  thread_start(tid, root, entry, stack, arg) {
    user.started.set(tid >>> 0, { root, entry, stack, arg });
    user.contexts.delete(tid >>> 0);
  },
  context_set(tid, reg, value) {
    context(tid >>> 0)[reg >>> 0] = BigInt.asUintN(64, BigInt(value));
  },
  port_in(port, width) {
    const value = user.ports.has(port >>> 0) ? user.ports.get(port >>> 0) : 0xffffffff;
    return width >= 4 ? value | 0 : value & ((1 << (8 * width)) - 1);
  },
  port_out(port, width, value) {
    user.portLog.push([port >>> 0, width >>> 0, value >>> 0]);
  },
  // The trampoline refuses (-1) what no device is: here, any address the
  // spec did not put in user.mmio.
  mmio_read(phys, width) {
    const address = BigInt.asUintN(64, BigInt(phys));
    if (!user.mmio.has(address)) return -1n;
    return BigInt(user.mmio.get(address) & (width >= 4 ? 0xffffffff : (1 << (8 * width)) - 1));
  },
  mmio_write(phys, width, value) {
    const address = BigInt.asUintN(64, BigInt(phys));
    if (!user.mmio.has(address)) return -1;
    user.mmioLog.push([address, width >>> 0, value >>> 0]);
    return 0;
  },
  irq_ack(source) {
    user.irqAcks.push(source >>> 0);
  },
  cpu_id() {
    return user.cpu;
  },
  cpu_start(cpu, method, hwid, handle) {
    user.cpuStarts.push([cpu >>> 0, method >>> 0, u64(hwid), u64(handle)]);
    return user.cpuStartResult;
  },
  cpu_kick(cpu) {
    user.kicks.push(cpu >>> 0);
  },
};

// Hooks only the specs use, e.g. to check that the frame allocator's hot
// path never allocates managed memory.
const testhooks = {
  allocation_count() {
    return allocations;
  },

  // The fake machine of the user-space mocks (above).
  mock_reset() {
    userReset();
  },
  context_get(tid, reg) {
    return context(tid >>> 0)[reg >>> 0];
  },
  context_clear(tid) {
    user.contexts.delete(tid >>> 0);
  },
  thread_started(tid) {
    return user.started.has(tid >>> 0) ? 1 : 0;
  },
  // field: 0 root, 1 entry, 2 stack, 3 arg
  thread_start_arg(tid, field) {
    const s = user.started.get(tid >>> 0);
    if (!s) return 0n;
    return [s.root, s.entry, s.stack, s.arg][field];
  },
  space_count() {
    return user.spaces.size;
  },
  space_destroyed() {
    return user.destroyed;
  },
  // Flags of the mapping of `virt` in `root`, or -1 when unmapped.
  space_flags(root, virt) {
    const space = user.spaces.get(root);
    const entry = space && space.get(u64(virt) / PAGE);
    return entry ? entry.flags : -1;
  },
  space_pages(root) {
    const space = user.spaces.get(root);
    return space ? space.size : -1;
  },
  space_fail_creates(n) {
    user.failCreates = n;
  },
  space_maps_left(n) {
    user.mapsLeft = n;
  },
  port_set(port, value) {
    user.ports.set(port >>> 0, value >>> 0);
  },
  port_log_count() {
    return user.portLog.length;
  },
  mmio_set(phys, value) {
    user.mmio.set(BigInt.asUintN(64, BigInt(phys)), value >>> 0);
  },
  mmio_log_count() {
    return user.mmioLog.length;
  },
  // field: 0 address (low 32 bits), 1 width, 2 value
  mmio_log_entry(i, field) {
    const e = user.mmioLog[i];
    return field == 0 ? Number(e[0] & 0xffffffffn) : e[field];
  },
  irq_acks() {
    return user.irqAcks.length;
  },
  // field: 0 port, 1 width, 2 value
  port_log_entry(i, field) {
    return user.portLog[i][field];
  },
  console_capture(on) {
    user.capture = on ? "" : null;
  },
  // Copies the captured console text (latin1) to `dst`, at most `capacity`
  // bytes; returns its full length.
  console_captured(dst, capacity) {
    const text = Buffer.from(user.capture || "", "latin1");
    linearMemory().set(text.subarray(0, Math.min(text.length, capacity)), dst >>> 0);
    return text.length;
  },
  power_count() {
    return user.power.length;
  },
  // SMP: which CPU the next kernel entry runs on, and what the kernel asked.
  cpu_set(cpu) {
    user.cpu = cpu >>> 0;
  },
  cpu_start_result(result) {
    user.cpuStartResult = result | 0;
  },
  cpu_start_count() {
    return user.cpuStarts.length;
  },
  // field: 0 cpu, 1 method, 2 hwid, 3 handle
  cpu_start_arg(i, field) {
    return BigInt(user.cpuStarts[i][field]);
  },
  kick_count() {
    return user.kicks.length;
  },
  kick_cpu(i) {
    return user.kicks[i];
  },
};

// ---- services: the `sys.syscall` import (services/lib/sys.ts) ----
// A scripted kernel for the service specs (init, console, services/lib).
// Every call is recorded; it gets the next answer a spec queued with
// sysmock.answer / answer_text, else E_BAD_SYSCALL with zero results. The
// six result words go to linear memory at `results`, as libsys puts them;
// answer_text also writes its bytes where the call's buffer argument (a2,
// a user address: USER_WASM_BASE + offset) points, at most a3 of them.
const SERVICE_E_BAD_SYSCALL = -1n;
const SERVICE_WASM_BASE = 0x100000000n;
const services = {};
function servicesReset() {
  services.calls = [];    // [number, a0 .. a5]
  services.answers = [];  // { status, words, text }
}
servicesReset();

const sys = {
  syscall(number, a0, a1, a2, a3, a4, a5, results) {
    services.calls.push([number >>> 0, a0, a1, a2, a3, a4, a5]);
    const answer = services.answers.shift() ?? { status: SERVICE_E_BAD_SYSCALL, words: new Array(6).fill(0n), text: null };
    const view = new DataView(exports.memory.buffer);
    answer.words.forEach((word, i) => view.setBigUint64((results >>> 0) + 8 * i, word, true));
    if (answer.text !== null) {
      const at = Number(BigInt.asUintN(64, BigInt(a2)) - SERVICE_WASM_BASE);
      linearMemory().set(answer.text.subarray(0, Math.min(answer.text.length, Number(a3))), at);
    }
    return answer.status;
  },
};

function serviceAnswer(status, words, text) {
  services.answers.push({ status: BigInt(status), words: words.map((w) => BigInt.asUintN(64, BigInt(w))), text });
}

const sysmock = {
  reset() {
    servicesReset();
  },
  answer(status, r0, r1, r2, r3, r4, r5) {
    serviceAnswer(status, [r0, r1, r2, r3, r4, r5], null);
  },
  // As answer, plus `length` bytes of linear memory at `text` for the buffer.
  answer_text(status, r0, r1, r2, r3, r4, r5, text, length) {
    const bytes = linearMemory().slice(text >>> 0, (text >>> 0) + (length >>> 0));
    serviceAnswer(status, [r0, r1, r2, r3, r4, r5], bytes);
  },
  answers_left() {
    return services.answers.length;
  },
  call_count() {
    return services.calls.length;
  },
  call_number(i) {
    return services.calls[i][0];
  },
  call_arg(i, j) {
    return BigInt.asUintN(64, BigInt(services.calls[i][1 + j]));
  },
};

export default {
  entries: ["tests/unit/**/*.spec.ts"],
  include: ["tests/unit/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const imports = createImports({ env: { memory }, arch, testhooks, sys, sysmock });
    const onalloc = imports.rtrace.onalloc;
    imports.rtrace.onalloc = (...args) => {
      allocations++;
      return onalloc(...args);
    };
    const module = await instantiate(binary, imports);
    exports = module.exports;
    userReset();
    servicesReset();
    return module;
  },
  outputBinary: false,
};
