// From boot modules to running services: the boot manifest, every service
// module verified once at boot (failures go to the boot log and the boot goes
// on without them), the kernel objects the manifest names, then init.
//
//   BootInfo.modules ──bundles split──► boot-manifest.mod ─► bootManifestParse
//                                   └─► <service>.mod ─► verifyModule ─► verified[service]
//   bootObjectsCreate(manifest); setModuleSource(verified); initStart(verified[init])

import { BootInfo, BootModule } from "../boot/bootinfo";
import { TRUSTED_KEY } from "../build/kernel/trusted_key";
import { println } from "./console";
import { BootManifest, VerifiedModule } from "./image";
import {
  BOOT_MANIFEST_FILE, bootManifestParse, bundleSplit, isBundle, moduleArch, verifyModule,
} from "./module";
import { bootObjectsCreate, initStart, setModuleSource } from "./proc";

// Indexed by boot-manifest service; null where the module is missing or
// failed verification. SYS_SPAWN reads it through setModuleSource.
let verified: Array<VerifiedModule | null> = [];

function verifiedModule(service: u32): VerifiedModule | null {
  return service < <u32>verified.length ? verified[service] : null;
}

// The loader's modules, with any bundle (the AArch64 -initrd path) opened.
function modulesOf(boot: BootInfo): BootModule[] {
  let out: BootModule[] = [];
  for (let i = 0; i < boot.modules.length; i++) {
    let m = boot.modules[i];
    let virt = m.base + boot.hhdmOffset;
    if (!isBundle(virt, m.size)) {
      out.push(m);
      continue;
    }
    let bundle = bundleSplit(virt, m.base, m.size);
    if (!bundle.ok) println("boot: module bundle " + m.cmdline + ": " + bundle.message);
    else for (let j = 0; j < bundle.modules.length; j++) out.push(bundle.modules[j]);
  }
  return out;
}

// The loader's name for a module: its command line's first word.
function fileName(m: BootModule): string {
  let name = m.cmdline;
  let space = name.indexOf(" ");
  return space >= 0 ? name.substring(0, space) : name;
}

function bootManifestFind(boot: BootInfo, modules: BootModule[], arch: u32): BootManifest | null {
  let found: BootManifest | null = null;
  for (let i = 0; i < modules.length; i++) {
    let m = modules[i];
    if (fileName(m) != BOOT_MANIFEST_FILE) continue;
    if (found !== null) {
      println("boot: a second " + BOOT_MANIFEST_FILE + " is ignored");
      continue;
    }
    let result = bootManifestParse(BOOT_MANIFEST_FILE, m.base + boot.hhdmOffset, m.size, arch, TRUSTED_KEY);
    if (!result.ok) println("boot: " + result.message);
    else found = result.manifest;
  }
  return found;
}

// Verifies each module the manifest lists, once. Two modules with the same
// file name are both refused: the manifest could not say which it meant.
function servicesVerify(boot: BootInfo, modules: BootModule[], manifest: BootManifest, arch: u32): void {
  verified = new Array<VerifiedModule | null>(manifest.services.length);
  for (let s = 0; s < manifest.services.length; s++) {
    let file = manifest.services[s].module;
    let match = -1;
    let copies = 0;
    for (let i = 0; i < modules.length; i++) {
      if (fileName(modules[i]) == file) {
        match = i;
        copies++;
      }
    }
    verified[s] = null;
    if (copies == 0) {
      println("boot: " + file + ": not among the boot modules; " + manifest.services[s].name + " will not run");
    } else if (copies > 1) {
      println("boot: " + file + ": " + copies.toString() + " boot modules carry this name; none is used");
    } else {
      let m = modules[match];
      let result = verifyModule(<u32>match, file, m.base + boot.hhdmOffset, m.size, manifest, arch, TRUSTED_KEY);
      if (result.ok) verified[s] = result.module;
      else println("boot: " + result.message + "; " + manifest.services[s].name + " will not run");
    }
  }
}

// Returns the first thread to run (init's), or 0 when there is no service
// to run; the boot log says why.
export function servicesStart(boot: BootInfo): u32 {
  let arch = moduleArch(boot.arch);
  let modules = modulesOf(boot);
  let manifest = bootManifestFind(boot, modules, arch);
  if (manifest === null) {
    println("boot: no verified " + BOOT_MANIFEST_FILE + " among " + modules.length.toString() + " boot modules: no services");
    return 0;
  }
  servicesVerify(boot, modules, manifest, arch);
  bootObjectsCreate(manifest);
  setModuleSource(verifiedModule);
  let init = verifiedModule(manifest.init);
  if (init === null) {
    println("boot: init did not verify: no services");
    return 0;
  }
  return initStart(init);
}
