#!/usr/bin/env bash
# Installs whatever CAM-OS needs and the machine lacks: Debian packages with
# apt, npm packages with `npm ci`. Idempotent, and fast when nothing is
# missing, so `make run` and `make test` call it every time.
# docs/building.md says why each package is here.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  wabt clang lld                                   # wasm2c, the compiler, the linker
  llvm                                             # llvm-objcopy: the AArch64 Image (clang does not pull it in)
  qemu-system-x86 qemu-system-arm qemu-utils       # the machines
  xorriso mtools grub-pc-bin grub-efi-amd64-bin    # GRUB ISO (BIOS + UEFI)
  ovmf qemu-efi-aarch64                            # UEFI firmware for QEMU
  gdb-multiarch                                    # make debug
)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ] || [ package.json -nt node_modules/.installed ]; then
  echo "deps: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
