// What a verified boot module is: the loader (kernel/module.ts) produces
// these from a signed module; the process code (kernel/proc.ts) builds a
// process from them. Plain data, checked before it gets here.

// A capability a manifest asks for (a service manifest) or allows (the boot
// manifest's grant for that service). `name` names a boot-manifest object
// (an endpoint or notification); `base`/`count` give an I/O port range or an
// MMIO range; `irq` an interrupt source (kernel/arch.ts IRQ_*).
export class CapGrant {
  slot: u32 = 0;
  type: u8 = 0;      // CAP_* (kernel/abi.ts)
  rights: u8 = 0;    // RIGHT_* mask
  badge: u64 = 0;
  name: string = "";
  base: u64 = 0;
  count: u64 = 0;
  irq: u32 = 0;
}

// One ELF PT_LOAD segment, already checked: page-aligned, inside the user
// image range, not writable and executable at once, no overlap with another.
export class Segment {
  virt: u64 = 0;        // page-aligned user address
  memoryBytes: u64 = 0; // bytes mapped (rounded up to pages when mapped)
  fileOffset: u64 = 0;  // where its bytes start inside the ELF
  fileBytes: u64 = 0;   // bytes copied; the rest is zero
  writable: bool = false;
  executable: bool = false;
}

export class ServiceManifest {
  name: string = "";
  version: string = "";
  memoryPages: u32 = 0;      // the most 64 KiB wasm pages its linear memory may grow to
  caps: CapGrant[] = [];
  // The scheduler's view of it (kernel/abi.ts SCHED_*): five scores in
  // thousandths, SCHED_URGENCY .. SCHED_TRUST order, and a CPU to pin its
  // thread to (SCHED_UNPINNED: any). The manifest's "sched" block; 500 each
  // when it has none.
  scores: u32[] = [500, 500, 500, 500, 500];
  pin: u32 = 0xffff;
}

// A module whose signature, manifest and ELF all checked out.
export class VerifiedModule {
  index: u32 = 0;            // which boot module
  file: string = "";         // its file name (the loader's command line for it)
  service: u32 = 0;          // its entry in BootManifest.services
  elfVirt: u64 = 0;          // kernel-virtual address of the ELF bytes
  elfBytes: u64 = 0;
  entry: u64 = 0;
  segments: Segment[] = [];
  manifest: ServiceManifest = new ServiceManifest();
}

// The boot manifest: the services of this image, the kernel objects they
// share, and for each service the most it may be granted.
export class BootService {
  name: string = "";
  module: string = "";       // module file name (its Multiboot2/Limine command line)
  depends: string[] = [];
  grants: CapGrant[] = [];   // upper bound for the service manifest's caps (slot 0)
  memoryPages: u32 = 0;      // upper bound for the service manifest's memoryPages
  restartLimit: u32 = 0;     // restarts before init gives up
  restartBackoffMs: u32 = 0; // first back-off; doubles on each restart
}

export class BootObject {
  name: string = "";
  type: u8 = 0;              // CAP_ENDPOINT or CAP_NOTIFICATION
  queueDepth: u32 = 0;       // endpoints: asynchronous messages held
}

export class BootManifest {
  services: BootService[] = [];  // boot.json order with init first; dependencies have no cycle
  objects: BootObject[] = [];
  init: u32 = 0;                 // index of init in services (the signer puts it first)
}
