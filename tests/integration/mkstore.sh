#!/usr/bin/env bash
# The image-store test disk (scenario directive "# qemu-store: KIND"):
#   mkstore.sh create IMG   a 96 MiB GPT disk (195 cylinders of 16 heads and 63
#                           sectors, so Bochs' ATA disk geometry fits it): partition 1 FAT32 "TVFAT"
#                           (mkfs.vfat + mtools: /README.TXT, /images/fixed.vhd,
#                           a fixed 4 MiB VHD, and /images/base.vhd, a dynamic
#                           16 MiB one, both made by qemu-img create -f vpc);
#                           partition 2 exFAT "TVEXFAT" (mkfs.exfat, files copied
#                           in through exfat-fuse over a loop device: /dyn.vhd, a
#                           dynamic 32 MiB VHD, /Long name directory/notes.txt and
#                           /many/file01.txt .. file10.txt);
#                           partition 3 exFAT without a label (named by its
#                           partition GUID, fixed here: 0FC63DAF-...-0001).
#                           /images/child.vhd is a differencing child of base.vhd
#                           made by build/bin/tvdisk (1 KiB written in block 1).
#                           TVEXFAT also holds /merge/base.vhd (qemu-img, data
#                           written by qemu-io) and /merge/child.vhd, its child
#                           (tvdisk, data written by tvdisk over parent data and
#                           in a block the parent lacks), for a merge inside the
#                           monitor; IMG.merge.raw is the chain's contents built
#                           independently (qemu-img convert of the parent, the
#                           child's writes applied with dd).
#                           IMG.vhds gets one line per VHD: "PATH TYPE VIRTUAL
#                           FILE" (qemu-img info's virtual size, the file's size).
#   mkstore.sh add-vm IMG   adds TVFAT:/vm/disk.vhd (a guest's disk, below)
#   mkstore.sh check-vm IMG the volumes clean and what the vblk guest wrote
#                           there (see the commands below)
#   mkstore.sh check IMG [LOG]
#                           after the run: fsck.fat -n and fsck.exfat -n clean on
#                           every volume, VolumeDirty clear (a clean unmount);
#                           with the run's serial log, the values the control
#                           console printed (disk info of every VHD in IMG.vhds,
#                           the README's size and time stamp, the listings'
#                           counts, the volume list) must be the ones above;
#                           the merged /merge/base.vhd must equal IMG.merge.raw
#                           (qemu-img compare) and /merge/child.vhd be gone.
set -euo pipefail
cmd=$1 img=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P1=2048 N1=$((40 * 2048))            # sectors
P2=$((P1 + N1)) N2=$((32 * 2048))
P3=$((P2 + N2)) N3=$((16 * 2048))
GUID3=0FC63DAF-8483-4772-8E79-3D69D8470001

part() { dd if="$img" of="$tmp/p$1" bs=512 skip="$2" count="$3" status=none; }

# Every volume passes fsck, exFAT's VolumeDirty is clear (a clean unmount).
fsck_all() {
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
}

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

exfat_get() {    # image, then "src dst" pairs (src relative to the mount; a missing one is skipped)
    local f=$1; shift
    local L M=$tmp/mnt
    mkdir -p "$M"
    L=$(losetup -r -f --show "$f")
    mount.exfat-fuse -o ro "$L" "$M" >/dev/null 2>&1 || { losetup -d "$L"; exit 1; }
    while [ $# -gt 0 ]; do [ -e "$M/$1" ] && cp "$M/$1" "$2"; shift 2; done
    umount "$M"
    losetup -d "$L"
}

# The merge pair: an 8 MiB dynamic parent with data at 0 (1 MiB) and at
# 3 MiB (64 KiB), written by qemu-io; its child (tvdisk) with 96 KiB over
# the parent's first block and 64 KiB in block 2, which the parent lacks.
# The reference is built without our engine: qemu-img reads the parent, dd
# applies the child's writes (offsets below in 512-byte sectors).
make_merge_pair() {   # dir (base.vhd, child.vhd made there) reference
    local d=$1 ref=$2 tvdisk
    mkdir -p "$d"
    tvdisk=$(realpath "${TVDISK:-build/bin/tvdisk}")
    qemu-img create -q -f vpc "$d/base.vhd" 8M
    qemu-io -f vpc -c 'write -q -P 0x5a 0 1M' -c 'write -q -P 0xa5 3M 64k' "$d/base.vhd" >/dev/null
    qemu-img convert -f vpc -O raw "$d/base.vhd" "$ref"
    (cd "$d" && "$tvdisk" --quiet create --diff child.vhd base.vhd)
    head -c $((96 * 1024)) /dev/urandom >"$d/w1"
    head -c $((64 * 1024)) /dev/urandom >"$d/w2"
    for w in w1:1990 w2:10240; do
        "$tvdisk" --quiet write "$d/child.vhd" $((${w#*:} * 512)) "$d/${w%:*}"
        dd if="$d/${w%:*}" of="$ref" bs=512 seek="${w#*:}" conv=notrunc status=none
    done
    # The child's chain as our engine reads it must already be the reference.
    "$tvdisk" read "$d/child.vhd" 0 "$(stat -c %s "$ref")" | cmp -s - "$ref" ||
        { echo "mkstore: the merge pair does not read as its reference" >&2; exit 1; }
}

case $cmd in
create)
    rm -f "$img"
    truncate -s $((195 * 516096)) "$img"
    sgdisk -n1:$P1:+40M -t1:0700 -c1:fat -n2:$P2:+32M -t2:0700 -c2:exfat \
        -n3:$P3:+16M -t3:0700 -u3:$GUID3 "$img" >/dev/null
    truncate -s $((N1 * 512)) "$tmp/p1"
    mkfs.vfat -F 32 -n TVFAT "$tmp/p1" >/dev/null
    printf 'Taskvisor image store test volume\n' >"$tmp/readme"
    qemu-img create -q -f vpc -o subformat=fixed "$tmp/fixed.vhd" 4M
    qemu-img create -q -f vpc "$tmp/base.vhd" 16M
    # A differencing child of base.vhd (qemu-img cannot make one): our own
    # tvdisk, the parent beside it, 1 KiB written at 3 MiB (block 1).
    tvdisk=$(realpath "${TVDISK:-build/bin/tvdisk}")
    (cd "$tmp" && "$tvdisk" --quiet create --diff child.vhd base.vhd)
    head -c 1024 /dev/urandom >"$tmp/data"
    "$tvdisk" --quiet write "$tmp/child.vhd" 6144 "$tmp/data"
    mmd -i "$tmp/p1" ::/images
    touch -d '2024-02-29 13:37:42 UTC' "$tmp/readme"
    TZ=UTC mcopy -m -i "$tmp/p1" "$tmp/readme" ::/README.TXT
    mcopy -i "$tmp/p1" "$tmp/fixed.vhd" ::/images/fixed.vhd
    mcopy -i "$tmp/p1" "$tmp/base.vhd" ::/images/base.vhd
    mcopy -i "$tmp/p1" "$tmp/child.vhd" ::/images/child.vhd
    truncate -s $((N2 * 512)) "$tmp/p2"
    mkfs.exfat -L TVEXFAT "$tmp/p2" >/dev/null
    qemu-img create -q -f vpc "$tmp/dyn.vhd" 32M
    : >"$img.vhds"
    for v in TVFAT:/images/fixed.vhd:fixed:fixed.vhd TVFAT:/images/base.vhd:dynamic:base.vhd \
             TVFAT:/images/child.vhd:differencing:child.vhd TVEXFAT:/dyn.vhd:dynamic:dyn.vhd; do
        f=$tmp/${v##*:}
        rest=${v%:*}
        vs=$(qemu-img info -f vpc --output=json "$f" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p')
        echo "${rest%:*} ${rest##*:} $vs $(stat -c %s "$f")" >>"$img.vhds"
    done
    printf 'notes on exFAT\n' >"$tmp/notes"
    many=()
    for i in $(seq -w 1 10); do printf 'file %s\n' "$i" >"$tmp/f$i"; many+=("$tmp/f$i" "many/file$i.txt"); done
    make_merge_pair "$tmp/merge" "$img.merge.raw"
    exfat_copy "$tmp/p2" "$tmp/dyn.vhd" dyn.vhd "$tmp/notes" "Long name directory/notes.txt" "${many[@]}" \
        "$tmp/merge/base.vhd" merge/base.vhd "$tmp/merge/child.vhd" merge/child.vhd
    truncate -s $((N3 * 512)) "$tmp/p3"
    mkfs.exfat "$tmp/p3" >/dev/null
    dd if="$tmp/p1" of="$img" bs=512 seek=$P1 conv=notrunc status=none
    dd if="$tmp/p2" of="$img" bs=512 seek=$P2 conv=notrunc status=none
    dd if="$tmp/p3" of="$img" bs=512 seek=$P3 conv=notrunc status=none
    ;;
check)
    fsck_all
    log=${3:-}
    [ -n "$log" ] || exit 0
    need() {   # a fixed string the log must hold
        grep -aqF -- "$1" "$log" || { echo "the console did not print: $1"; exit 1; }
    }
    while read -r path kind vs fs; do
        need "$path: $kind, virtual size $vs bytes, file size $fs bytes"
    done <"$img.vhds"
    need "parent 1: TVFAT:/images/base.vhd"
    need "parent 1: TVEXFAT:/merge/base.vhd"
    # DISK_START inside the monitor: the converted image reads as its source.
    mcopy -n -i "$tmp/p1" ::/images/fixed.vhd "$tmp/src.vhd" &&
        mcopy -n -i "$tmp/p1" ::/images/conv.vhd "$tmp/conv.vhd" ||
        { echo "TVFAT:/images/conv.vhd was not written"; exit 1; }
    # qemu-img has no check for vpc: our host tool checks the structure.
    tvdisk=$(dirname "$0")/../../build/bin/tvdisk
    out=$("$tvdisk" check "$tmp/conv.vhd" 2>&1) || { echo "tvdisk check conv.vhd: $out" | tr '\n' ' '; exit 1; }
    out=$(qemu-img compare -f vpc -F vpc "$tmp/src.vhd" "$tmp/conv.vhd" 2>&1) ||
        { echo "qemu-img compare fixed.vhd conv.vhd: $out" | tr '\n' ' '; exit 1; }
    need "TVEXFAT:/made.vhd: dynamic, virtual size "
    # mkdir (DIR_CREATE) made the folder, the create went into it.
    mcopy -n -i "$tmp/p1" "::/vms/a.vhd" "$tmp/a.vhd" ||
        { echo "TVFAT:/vms/a.vhd was not written"; exit 1; }
    out=$("$tvdisk" check "$tmp/a.vhd" 2>&1) || { echo "tvdisk check vms/a.vhd: $out" | tr '\n' ' '; exit 1; }
    need "made folder TVFAT:/vms"
    mdir -b -i "$tmp/p1" "::/vms/old disks" >/dev/null 2>&1 || { echo "no folder TVFAT:/vms/old disks"; exit 1; }
    need "disk create: refused: NOT_FOUND"
    # DISK_START merge inside the monitor: the parent now reads as the
    # chain did (reference built on the host), the child is gone.
    exfat_get "$tmp/p2" merge/base.vhd "$tmp/mbase.vhd" merge/child.vhd "$tmp/mchild.vhd"
    [ -f "$tmp/mbase.vhd" ] || { echo "TVEXFAT:/merge/base.vhd is missing"; exit 1; }
    [ ! -e "$tmp/mchild.vhd" ] || { echo "TVEXFAT:/merge/child.vhd is still there after the merge"; exit 1; }
    out=$("$tvdisk" check "$tmp/mbase.vhd" 2>&1) || { echo "tvdisk check merge/base.vhd: $out" | tr '\n' ' '; exit 1; }
    out=$(qemu-img compare -f vpc -F raw "$tmp/mbase.vhd" "$img.merge.raw" 2>&1) ||
        { echo "qemu-img compare merge/base.vhd with the chain's reference: $out" | tr '\n' ' '; exit 1; }
    need "blocks of 2097152 bytes: 1 of 9 allocated"
    # FAT keeps 2-second stamps: 13:37:42 stays exact.
    grep -aqE -- '- +34  2024-02-29 13:37:42  README.TXT.?$' "$log" ||
        { echo "the console did not list README.TXT (34 bytes, 2024-02-29 13:37:42)"; exit 1; }
    grep -aqE -- 'd +0  [0-9-]+ [0-9:]+  images.?$' "$log" || { echo "no directory 'images' listed"; exit 1; }
    need "10 entries"
    need "notes.txt"
    # The disk's three volumes, and under QEMU the ESP Taskvisor booted from
    # (scripts/mkesp.sh's whole-disk FAT16 "TASKVISOR" on ata0m; Bochs boots
    # from an ISO, which is no volume of ours).
    if grep -aqF 'volume TASKVISOR: FAT16 on ata0m partition 0,' "$log"; then
        need 'TASKVISOR: FAT16, '
        need "4 volume(s)"
    else
        need "3 volume(s)"
    fi
    need "TVFAT: FAT32, "
    need "TVEXFAT: exFAT, "
    need '0FC63DAF-8483-4772-8E79-3D69D8470001: exFAT, '
    need 'partition 3, label ""'
    ;;
add-vm)
    # After create: TVFAT:/vm/disk.vhd, a dynamic 8 MiB VHD (qemu-img: 16388
    # sectors) whose first 64 KiB hold 0x77 (qemu-io), for a guest's disk.
    part 1 $P1 $N1
    qemu-img create -q -f vpc "$tmp/disk.vhd" 8M
    qemu-io -f vpc -c "write -P 0x77 0 64k" "$tmp/disk.vhd" >/dev/null
    mmd -i "$tmp/p1" ::/vm
    mcopy -i "$tmp/p1" "$tmp/disk.vhd" ::/vm/disk.vhd
    dd if="$tmp/p1" of="$img" bs=512 seek=$P1 conv=notrunc status=none
    ;;
check-vm)
    # After the vblk guest's run: clean volumes, a sound VHD (tvdisk check)
    # holding what the guest wrote through its virtio-blk disk (qemu-io
    # reads the patterns: 0x77 kept, 0xA5 at sectors 200-215, zeros after
    # them, 0x3C in the last sector).
    fsck_all
    mcopy -n -i "$tmp/p1" ::/vm/disk.vhd "$tmp/disk.vhd" || { echo "TVFAT:/vm/disk.vhd is gone"; exit 1; }
    tvdisk=$(dirname "$0")/../../build/bin/tvdisk
    out=$("$tvdisk" check "$tmp/disk.vhd" 2>&1) || { echo "tvdisk check disk.vhd: $out" | tr '\n' ' '; exit 1; }
    last=$(( $(qemu-img info -f vpc --output=json "$tmp/disk.vhd" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p') - 512 ))
    for r in "0x77 0 65536" "0xa5 102400 8192" "0 110592 512" "0x3c $last 512"; do
        set -- $r
        out=$(qemu-io -r -f vpc -c "read -P $1 $2 $3" "$tmp/disk.vhd" 2>&1) || true
        if ! grep -q "^read $3/$3 bytes" <<<"$out" || grep -qi "fail" <<<"$out"; then
            echo "disk.vhd: $3 bytes at $2 are not all $1: $out" | tr '\n' ' '
            exit 1
        fi
    done
    ;;
*) echo "usage: $0 create|check|add-vm|check-vm IMG" >&2; exit 2 ;;
esac
