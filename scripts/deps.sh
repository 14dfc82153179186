#!/usr/bin/env bash
# Idempotent set-up: installs the Debian packages the project needs.
# Quick (a dpkg query) when everything is already present.
set -eu
packages=(
    build-essential gnu-efi nasm clang libclang-rt-14-dev
    qemu-system-x86 ovmf mtools dosfstools exfatprogs exfat-fuse fdisk gdisk
    libcmocka-dev
    qemu-utils libvhdi-utils python3-libvhdi
    bochs bochs-term bochsbios vgabios grub-pc-bin grub-common xorriso
    linux-image-amd64 linux-headers-amd64 busybox-static
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# Node.js (for the vhd-lib interop peer): any install will do; take Debian's if none.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
