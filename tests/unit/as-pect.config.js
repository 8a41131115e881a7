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

const arch = {
  console_write(ptr, len) {
    process.stdout.write(Buffer.from(linearMemory().subarray(ptr >>> 0, (ptr >>> 0) + len)));
  },
  console_read() {
    return -1;
  },
  peek(src, dst, len) {
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
  reset() {},
  power_off(_method, _arg0, _arg1) {},
};

// Hooks only the specs use, e.g. to check that the frame allocator's hot
// path never allocates managed memory.
const testhooks = {
  allocation_count() {
    return allocations;
  },
};

export default {
  entries: ["tests/unit/**/*.spec.ts"],
  include: ["tests/unit/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const imports = createImports({ env: { memory }, arch, testhooks });
    const onalloc = imports.rtrace.onalloc;
    imports.rtrace.onalloc = (...args) => {
      allocations++;
      return onalloc(...args);
    };
    const module = await instantiate(binary, imports);
    exports = module.exports;
    return module;
  },
  outputBinary: false,
};
