#!/usr/bin/env bash
# The image-store test disk (scenario directive "# qemu-store: KIND"):
#   mkstore.sh create IMG   a 96 MiB GPT disk: partition 1 FAT32 "TVFAT"
#                           (mkfs.vfat + mtools: /README.TXT, /images/fixed.vhd,
#                           a fixed 4 MiB VHD, and /images/base.vhd, a dynamic
#                           16 MiB one, both made by qemu-img create -f vpc);
#                           partition 2 exFAT "TVEXFAT" (mkfs.exfat, files copied
#                           in through exfat-fuse over a loop device: /dyn.vhd, a
#                           dynamic 32 MiB VHD, and /Long name directory/notes.txt);
#                           partition 3 exFAT without a label (named by its
#                           partition GUID, fixed here: 0FC63DAF-...-0001).
#                           IMG.vhds gets one line per VHD: "PATH VIRTUAL FILE"
#                           (qemu-img info's virtual size, the file's size).
#   mkstore.sh check IMG    after the run: fsck.fat -n and fsck.exfat -n clean on
#                           every volume, VolumeDirty clear (a clean unmount).
set -euo pipefail
cmd=$1 img=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P1=2048 N1=$((40 * 2048))            # sectors
P2=$((P1 + N1)) N2=$((32 * 2048))
P3=$((P2 + N2)) N3=$((16 * 2048))
GUID3=0FC63DAF-8483-4772-8E79-3D69D8470001

part() { dd if="$img" of="$tmp/p$1" bs=512 skip="$2" count="$3" status=none; }

exfat_copy() {   # image, then "src dst" pairs relative to the mount
    local f=$1; shift
    local L M=$tmp/mnt
    mkdir -p "$M"
    L=$(losetup -f --show "$f")
    mount.exfat-fuse "$L" "$M" >/dev/null 2>&1 || { losetup -d "$L"; exit 1; }
    while [ $# -gt 0 ]; do mkdir -p "$M/$(dirname "$2")"; cp "$1" "$M/$2"; shift 2; done
    umount "$M"
    losetup -d "$L"
}

case $cmd in
create)
    rm -f "$img"
    truncate -s 96M "$img"
    sgdisk -n1:$P1:+40M -t1:0700 -c1:fat -n2:$P2:+32M -t2:0700 -c2:exfat \
        -n3:$P3:+16M -t3:0700 -u3:$GUID3 "$img" >/dev/null
    truncate -s $((N1 * 512)) "$tmp/p1"
    mkfs.vfat -F 32 -n TVFAT "$tmp/p1" >/dev/null
    printf 'Taskvisor image store test volume\n' >"$tmp/readme"
    qemu-img create -q -f vpc -o subformat=fixed "$tmp/fixed.vhd" 4M
    qemu-img create -q -f vpc "$tmp/base.vhd" 16M
    mmd -i "$tmp/p1" ::/images
    mcopy -i "$tmp/p1" "$tmp/readme" ::/README.TXT
    mcopy -i "$tmp/p1" "$tmp/fixed.vhd" ::/images/fixed.vhd
    mcopy -i "$tmp/p1" "$tmp/base.vhd" ::/images/base.vhd
    truncate -s $((N2 * 512)) "$tmp/p2"
    mkfs.exfat -L TVEXFAT "$tmp/p2" >/dev/null
    qemu-img create -q -f vpc "$tmp/dyn.vhd" 32M
    : >"$img.vhds"
    for v in TVFAT:/images/fixed.vhd:fixed.vhd TVFAT:/images/base.vhd:base.vhd TVEXFAT:/dyn.vhd:dyn.vhd; do
        f=$tmp/${v##*:}
        vs=$(qemu-img info -f vpc --output=json "$f" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p')
        echo "${v%:*} $vs $(stat -c %s "$f")" >>"$img.vhds"
    done
    printf 'notes on exFAT\n' >"$tmp/notes"
    exfat_copy "$tmp/p2" "$tmp/dyn.vhd" dyn.vhd "$tmp/notes" "Long name directory/notes.txt"
    truncate -s $((N3 * 512)) "$tmp/p3"
    mkfs.exfat "$tmp/p3" >/dev/null
    dd if="$tmp/p1" of="$img" bs=512 seek=$P1 conv=notrunc status=none
    dd if="$tmp/p2" of="$img" bs=512 seek=$P2 conv=notrunc status=none
    dd if="$tmp/p3" of="$img" bs=512 seek=$P3 conv=notrunc status=none
    ;;
check)
    part 1 $P1 $N1
    part 2 $P2 $N2
    part 3 $P3 $N3
    out=$(fsck.fat -n "$tmp/p1" 2>&1) || { echo "fsck.fat -n on TVFAT: $out" | tr '\n' ' '; exit 1; }
    for i in 2 3; do
        out=$(fsck.exfat -n "$tmp/p$i" 2>&1) || { echo "fsck.exfat -n on partition $i: $out" | tr '\n' ' '; exit 1; }
        # VolumeFlags (boot sector offset 106), bit 1 = VolumeDirty.
        flags=$(od -An -tu2 -j106 -N2 "$tmp/p$i" | tr -d ' ')
        if [ $((flags & 2)) -ne 0 ]; then echo "partition $i: exFAT VolumeDirty still set"; exit 1; fi
    done
    ;;
*) echo "usage: $0 create|check IMG" >&2; exit 2 ;;
esac
